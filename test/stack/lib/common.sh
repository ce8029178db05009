# shellcheck shell=bash
# shellcheck disable=SC2034 # constants for the scripts that source this file
# Shared constants and helpers for the loopback test stack (sourced by up.sh, down.sh, ctl.sh).
# Everything the stack owns lives under STACK_DIR; nothing here touches the system services of the
# Debian packages (they stay stopped) or any port below 1024.

# bash 5.2 would otherwise treat "&" in ${var//pattern/replacement} as the matched text.
shopt -u patsub_replacement 2>/dev/null || true

STACK_LIB_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STACK_SRC_DIR="$(cd "$STACK_LIB_DIR/.." && pwd)"
STACK_TEMPLATE_DIR="$STACK_SRC_DIR/templates"

STACK_DIR="${STACK_DIR:-/tmp/email-channel-stack}"
STACK_HOST=127.0.0.1
STACK_DOMAIN=example.test
# A domain whose mail Postfix accepts and then cannot deliver (Dovecot's LMTP refuses every address
# of it): the way to get a real delivery-status notification (RFC 3464) without mail leaving the machine.
STACK_BOUNCE_DOMAIN=bounce.example.test
# An address the submission ports answer 450 at RCPT TO (a temporary refusal of one recipient, the
# way a server defers a domain it cannot resolve just now), while they take the message for others.
STACK_DEFERRED_RECIPIENT=deferred@example.test
STACK_MAIL_HOSTNAME=mail.example.test

# STACK_PORT_OFFSET (default 0) shifts every port, so that a second stack (another STACK_DIR) can run
# beside the first one, e.g. for a developer whose tests stop daemons while a colleague's tests run.
# Once written to stack.env, the offset sticks to that STACK_DIR.
if [ -z "${STACK_PORT_OFFSET:-}" ] && [ -r "$STACK_DIR/stack.env" ]; then
  STACK_PORT_OFFSET="$(sed -n 's/^STACK_PORT_OFFSET=//p' "$STACK_DIR/stack.env")"
fi
STACK_PORT_OFFSET="${STACK_PORT_OFFSET:-0}"
if ! [[ "$STACK_PORT_OFFSET" =~ ^[0-9]+$ ]] || ((STACK_PORT_OFFSET > 60000)); then
  printf '[stack] error: STACK_PORT_OFFSET=%s is not a number from 0 to 60000\n' "$STACK_PORT_OFFSET" >&2
  exit 1
fi
STACK_IMAP_PORT=$((3143 + STACK_PORT_OFFSET))
STACK_IMAPS_PORT=$((3993 + STACK_PORT_OFFSET))
STACK_LMTP_PORT=$((3024 + STACK_PORT_OFFSET))
STACK_SMTP_INBOUND_PORT=$((3025 + STACK_PORT_OFFSET))
STACK_SUBMISSION_PORT=$((3587 + STACK_PORT_OFFSET))
STACK_SMTPS_PORT=$((3465 + STACK_PORT_OFFSET))
STACK_RADICALE_PORT=$((5232 + STACK_PORT_OFFSET))
STACK_XANDIKOS_PORT=$((5233 + STACK_PORT_OFFSET))
STACK_OAUTH_PORT=$((5234 + STACK_PORT_OFFSET))
# CalDAV/CardDAV with OAuth 2.0: the bearer-token proxy (clients) and the Radicale behind it.
STACK_RADICALE_OAUTH_PORT=$((5235 + STACK_PORT_OFFSET))
STACK_RADICALE_OAUTH_BACKEND_PORT=$((5236 + STACK_PORT_OFFSET))

# Unprivileged system user that owns the mail store and runs Radicale and Xandikos.
STACK_SYSTEM_USER=emailstack
STACK_MASTER_USER=master
STACK_MASTER_SEPARATOR='*'
# Xandikos serves a single principal; every account that logs in sees this one.
STACK_XANDIKOS_PRINCIPAL=/user/

# NAME (env suffix) -> local part. Assistant accounts first, then the people who write to them.
STACK_USER_NAMES=(ASSISTANT HELLO SUPPORT ALICE BOB MALLORY)

STACK_TLS_DIR="$STACK_DIR/tls"
STACK_CA_FILE="$STACK_TLS_DIR/ca.crt"
STACK_USERS_FILE="$STACK_DIR/users.htpasswd"
STACK_SECRETS_FILE="$STACK_DIR/secrets.env"
STACK_ENV_FILE="$STACK_DIR/stack.env"
STACK_LOG_DIR="$STACK_DIR/log"
STACK_RUN_DIR="$STACK_DIR/run"

DOVECOT_DIR="$STACK_DIR/dovecot"
DOVECOT_CONF="$DOVECOT_DIR/dovecot.conf"
DOVECOT_BASE_DIR="$STACK_RUN_DIR/dovecot"
DOVECOT_PID_FILE="$DOVECOT_BASE_DIR/master.pid"
STACK_MAIL_DIR="$STACK_DIR/mail"

POSTFIX_CONF_DIR="$STACK_DIR/postfix/conf"
POSTFIX_QUEUE_DIR="$STACK_DIR/postfix/spool"
POSTFIX_DATA_DIR="$STACK_DIR/postfix/data"
POSTFIX_PID_FILE="$POSTFIX_QUEUE_DIR/pid/master.pid"

RADICALE_DIR="$STACK_DIR/radicale"
RADICALE_CONF="$RADICALE_DIR/config"
RADICALE_PID_FILE="$STACK_RUN_DIR/radicale.pid"
RADICALE_OAUTH_DIR="$STACK_DIR/radicale-oauth"
RADICALE_OAUTH_CONF="$RADICALE_OAUTH_DIR/config"
RADICALE_OAUTH_PID_FILE="$STACK_RUN_DIR/radicale-oauth.pid"
DAV_PROXY_CONF="$RADICALE_OAUTH_DIR/proxy.json"
DAV_PROXY_SCRIPT="$RADICALE_OAUTH_DIR/dav_proxy.py"
DAV_PROXY_PID_FILE="$STACK_RUN_DIR/dav-proxy.pid"

XANDIKOS_DIR="$STACK_DIR/xandikos"
XANDIKOS_PID_FILE="$STACK_RUN_DIR/xandikos.pid"

OAUTH_DIR="$STACK_DIR/oauth"
OAUTH_PID_FILE="$STACK_RUN_DIR/oauth.pid"
# The OAuth 2.0 client the channel is registered as (its secret and the users' refresh tokens are in
# secrets.env).
STACK_OAUTH_CLIENT_ID=email-channel-tests

# Started in this order: Dovecot asks the OAuth server at XOAUTH2/OAUTHBEARER logins, Postfix
# authenticates through Dovecot's socket and delivers to its LMTP port; radicale-oauth (Radicale
# behind a bearer-token proxy) asks the OAuth server too.
STACK_SERVICES=(oauth dovecot postfix radicale radicale-oauth xandikos)

log() { printf '[stack] %s\n' "$*" >&2; }
die() {
  printf '[stack] error: %s\n' "$*" >&2
  exit 1
}

require_root() {
  [ "$(id -u)" -eq 0 ] || die "$1 needs root (the stack's daemons start as root and drop privileges); run it with sudo, or point the tests at a running stack with STACK=external"
}

lower() { printf '%s' "$1" | tr '[:upper:]' '[:lower:]'; }

# user_address NAME -> alice@example.test
user_address() { printf '%s@%s' "$(lower "$1")" "$STACK_DOMAIN"; }

# render TEMPLATE DEST: replaces @VAR@ tokens with the values of the shell variables of that name.
# Prints "changed" when DEST did not exist or its content differs (callers restart the service then).
render() {
  local template="$1" dest="$2" content var
  content="$(cat "$STACK_TEMPLATE_DIR/$template")"
  for var in $(grep -o '@[A-Z_][A-Z0-9_]*@' "$STACK_TEMPLATE_DIR/$template" | sort -u | tr -d '@'); do
    [ -n "${!var+x}" ] || die "template $template uses @$var@, which is not set"
    content="${content//@$var@/${!var}}"
  done
  write_if_changed "$dest" "$content"
}

# write_if_changed DEST CONTENT: atomic write; prints "changed" when the content changed.
write_if_changed() {
  local dest="$1" content="$2"
  if [ -f "$dest" ] && [ "$(cat "$dest")" = "$content" ]; then
    return 0
  fi
  printf '%s\n' "$content" >"$dest.tmp"
  mv -f "$dest.tmp" "$dest"
  echo changed
}

# pid_of PIDFILE EXE_PATTERN: prints the pid when the pid file names a live process whose command line
# matches the pattern (a stale pid file left by a crash, or a recycled pid, does not count).
pid_of() {
  local pidfile="$1" pattern="$2" pid cmdline
  [ -r "$pidfile" ] || return 1
  pid="$(tr -dc '0-9' <"$pidfile")"
  [ -n "$pid" ] && alive "$pid" || return 1
  cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline")"
  [[ "$cmdline" == *$pattern* ]] || return 1
  printf '%s' "$pid"
}

# alive PID: true while the process exists and is not a zombie (a daemon's parent is init, which may
# take a while to reap it; the daemon has stopped serving by then).
alive() {
  local stat
  stat="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  stat="${stat##*) }"
  [ "${stat:0:1}" != Z ]
}

# children_of PID: "pid:starttime" of each process whose parent is PID, read from /proc (procps may
# not be installed). The start time tells a surviving child from a later process that reuses its pid.
children_of() {
  local stat pid rest fields
  for stat in /proc/[0-9]*/stat; do
    rest="$(cat "$stat" 2>/dev/null)" || continue
    pid="${rest%% *}"
    read -r -a fields <<<"${rest##*) }"
    # fields[0] is the state, [1] the parent pid, [19] the start time (fields 3, 4 and 22 of stat).
    [ "${fields[1]}" = "$1" ] && printf '%s:%s\n' "$pid" "${fields[19]}"
  done
  return 0
}

start_time_of() {
  local rest fields
  rest="$(cat "/proc/$1/stat" 2>/dev/null)" || return 1
  read -r -a fields <<<"${rest##*) }"
  printf '%s' "${fields[19]}"
}

# stop_pid PIDFILE EXE_PATTERN NAME: SIGTERM, wait up to 15 s, then SIGKILL. Idempotent.
# Children that outlive their master are stopped too: Dovecot's imap-login processes, which proxy
# TLS sessions, otherwise keep clients connected for seconds after the server has "stopped".
stop_pid() {
  local pidfile="$1" pattern="$2" name="$3" pid i
  if ! pid="$(pid_of "$pidfile" "$pattern")"; then
    rm -f "$pidfile"
    return 0
  fi
  local children child
  children="$(children_of "$pid")"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    alive "$pid" || break
    sleep 0.05
  done
  if alive "$pid"; then
    log "$name (pid $pid) ignored SIGTERM for 15 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  for child in $children; do
    if alive "${child%%:*}" && [ "$(start_time_of "${child%%:*}")" = "${child#*:}" ]; then
      kill -KILL "${child%%:*}" 2>/dev/null || true
    fi
  done
  rm -f "$pidfile"
  log "$name stopped"
}

port_open() { (exec 3<>"/dev/tcp/$STACK_HOST/$1") 2>/dev/null; }

# wait_ports NAME PORT...: waits up to 30 s for every port to accept a TCP connection.
wait_ports() {
  local name="$1" port i
  shift
  for port in "$@"; do
    for ((i = 0; i < 300; i++)); do
      port_open "$port" && break
      # A daemon that died while starting will never answer: say so now rather than after 30 s.
      if ((i % 10 == 9)) && declare -F service_running >/dev/null && ! service_running "$name"; then
        die "$name exited while starting; see $STACK_LOG_DIR/$name.log"
      fi
      sleep 0.1
    done
    port_open "$port" || die "$name does not answer on $STACK_HOST:$port after 30 s (see $STACK_LOG_DIR)"
  done
}

# wait_ports_closed PORT...: after a stop, the ports must be free before a restart can bind them.
wait_ports_closed() {
  local port i
  for port in "$@"; do
    for ((i = 0; i < 100; i++)); do
      port_open "$port" || break
      sleep 0.1
    done
  done
}

service_ports() {
  case "$1" in
  dovecot) echo "$STACK_IMAP_PORT $STACK_IMAPS_PORT $STACK_LMTP_PORT" ;;
  postfix) echo "$STACK_SMTP_INBOUND_PORT $STACK_SUBMISSION_PORT $STACK_SMTPS_PORT" ;;
  radicale) echo "$STACK_RADICALE_PORT" ;;
  radicale-oauth) echo "$STACK_RADICALE_OAUTH_PORT $STACK_RADICALE_OAUTH_BACKEND_PORT" ;;
  xandikos) echo "$STACK_XANDIKOS_PORT" ;;
  oauth) echo "$STACK_OAUTH_PORT" ;;
  *) die "unknown service '$1' (expected one of: ${STACK_SERVICES[*]})" ;;
  esac
}
