# shellcheck shell=bash
# Radicale (multi-user, htpasswd auth) and Xandikos (single principal, no auth) for CalDAV/CardDAV.
# Both run as the unprivileged stack user under start-stop-daemon, which writes their pid files.

RADICALE_COLLECTIONS="$RADICALE_DIR/collections/collection-root"
STACK_HOME_DIR="$STACK_DIR/home"

# stack_dir PATH...: directories owned by the stack user. Never a recursive chown: the daemons may be
# writing below (Xandikos' git lock files come and go) and own everything they create anyway.
stack_dir() {
  install -d -o "$STACK_SYSTEM_USER" -g "$STACK_SYSTEM_USER" -m 750 "$@"
}

# seed_collection DIR PROPS: a Radicale collection, created only when it does not exist yet (a user
# may have deleted or changed it; up.sh does not undo that).
seed_collection() {
  [ -e "$1" ] && return 0
  stack_dir "$1"
  printf '%s' "$2" >"$1/.Radicale.props"
  chown "$STACK_SYSTEM_USER:$STACK_SYSTEM_USER" "$1/.Radicale.props"
}

configure_radicale() {
  mkdir -p "$RADICALE_DIR"
  stack_dir "$RADICALE_DIR/collections" "$RADICALE_COLLECTIONS"
  render radicale.conf "$RADICALE_CONF"
  # Each user starts with one calendar and one address book, like a hosted account would (Xandikos
  # --defaults makes the same pair). Radicale keeps a collection's type in .Radicale.props.
  local name user
  for name in "${STACK_USER_NAMES[@]}"; do
    user="$(user_address "$name")"
    [ -d "$RADICALE_COLLECTIONS/$user" ] || stack_dir "$RADICALE_COLLECTIONS/$user"
    seed_collection "$RADICALE_COLLECTIONS/$user/calendar" \
      '{"C:supported-calendar-component-set": "VEVENT,VTODO", "D:displayname": "Calendar", "tag": "VCALENDAR"}'
    seed_collection "$RADICALE_COLLECTIONS/$user/addressbook" '{"D:displayname": "Contacts", "tag": "VADDRESSBOOK"}'
  done
}

configure_xandikos() {
  mkdir -p "$XANDIKOS_DIR"
  [ -d "$XANDIKOS_DIR/data" ] || stack_dir "$XANDIKOS_DIR/data"
}

# daemonize NAME PIDFILE COMMAND ARGS...: background, own pid file, unprivileged user, log file.
daemonize() {
  local name="$1" pidfile="$2"
  shift 2
  mkdir -p "$STACK_RUN_DIR"
  [ -d "$STACK_HOME_DIR" ] || stack_dir "$STACK_HOME_DIR"
  # --chuid does not change HOME; Xandikos' git library reads ~/.gitconfig, so give it a home of its
  # own (env execs, so the pid file still names the daemon itself).
  start-stop-daemon --start --quiet --background --make-pidfile --pidfile "$pidfile" \
    --chuid "$STACK_SYSTEM_USER:$STACK_SYSTEM_USER" --chdir "$STACK_HOME_DIR" \
    --output "$STACK_LOG_DIR/$name.log" --startas /usr/bin/env -- \
    HOME="$STACK_HOME_DIR" XDG_CONFIG_HOME="$STACK_HOME_DIR/.config" "$@" 9>&- ||
    die "$name did not start; see $STACK_LOG_DIR/$name.log"
}

radicale_running() { pid_of "$RADICALE_PID_FILE" radicale >/dev/null; }
xandikos_running() { pid_of "$XANDIKOS_PID_FILE" xandikos >/dev/null; }

start_radicale() {
  radicale_running && return 0
  [ -f "$RADICALE_CONF" ] || die "no Radicale config at $RADICALE_CONF; run test/stack/up.sh first"
  daemonize radicale "$RADICALE_PID_FILE" /usr/bin/radicale --config "$RADICALE_CONF"
  wait_ports radicale "$STACK_RADICALE_PORT"
  log "radicale running (http://$STACK_HOST:$STACK_RADICALE_PORT/)"
}

start_xandikos() {
  xandikos_running && return 0
  [ -d "$XANDIKOS_DIR/data" ] || die "no Xandikos data dir at $XANDIKOS_DIR/data; run test/stack/up.sh first"
  # --defaults creates <principal>/calendars/calendar and <principal>/contacts/addressbook.
  daemonize xandikos "$XANDIKOS_PID_FILE" /usr/bin/xandikos -d "$XANDIKOS_DIR/data" \
    -l "$STACK_HOST" -p "$STACK_XANDIKOS_PORT" --defaults \
    --current-user-principal "$STACK_XANDIKOS_PRINCIPAL"
  wait_ports xandikos "$STACK_XANDIKOS_PORT"
  log "xandikos running (http://$STACK_HOST:$STACK_XANDIKOS_PORT/, principal $STACK_XANDIKOS_PRINCIPAL)"
}

stop_radicale() {
  stop_pid "$RADICALE_PID_FILE" radicale radicale
  wait_ports_closed "$STACK_RADICALE_PORT"
}

stop_xandikos() {
  stop_pid "$XANDIKOS_PID_FILE" xandikos xandikos
  wait_ports_closed "$STACK_XANDIKOS_PORT"
}

# radicale-oauth: CalDAV/CardDAV for bearer tokens (RFC 6750), as Google serves them. Two daemons:
# test/stack/oauth/dav_proxy.py on STACK_RADICALE_OAUTH_PORT checks each token at the OAuth server
# and passes the token's user to a Radicale (auth http_x_remote_user) on the backend port, which
# serves the same collections as the password Radicale.
configure_radicale_oauth() {
  mkdir -p "$RADICALE_OAUTH_DIR"
  local out
  out="$(render radicale-oauth.conf "$RADICALE_OAUTH_CONF")"
  out+="$(write_if_changed "$DAV_PROXY_CONF" "{\"host\": \"$STACK_HOST\", \"port\": $STACK_RADICALE_OAUTH_PORT, \"upstream_host\": \"$STACK_HOST\", \"upstream_port\": $STACK_RADICALE_OAUTH_BACKEND_PORT, \"introspect_url\": \"http://$STACK_HOST:$STACK_OAUTH_PORT/introspect\"}")"
  # A copy the stack user can read wherever the repository lives; a changed script restarts it.
  out+="$(write_if_changed "$DAV_PROXY_SCRIPT" "$(cat "$STACK_SRC_DIR/oauth/dav_proxy.py")")"
  chmod 644 "$RADICALE_OAUTH_CONF" "$DAV_PROXY_CONF" "$DAV_PROXY_SCRIPT"
  printf '%s' "$out"
}

radicale_oauth_running() {
  pid_of "$RADICALE_OAUTH_PID_FILE" radicale >/dev/null && pid_of "$DAV_PROXY_PID_FILE" "$DAV_PROXY_SCRIPT" >/dev/null
}

start_radicale_oauth() {
  radicale_oauth_running && return 0
  [ -f "$RADICALE_OAUTH_CONF" ] || die "no Radicale (OAuth) config at $RADICALE_OAUTH_CONF; run test/stack/up.sh first"
  if ! pid_of "$RADICALE_OAUTH_PID_FILE" radicale >/dev/null; then
    daemonize radicale-oauth "$RADICALE_OAUTH_PID_FILE" /usr/bin/radicale --config "$RADICALE_OAUTH_CONF"
  fi
  if ! pid_of "$DAV_PROXY_PID_FILE" "$DAV_PROXY_SCRIPT" >/dev/null; then
    daemonize dav-proxy "$DAV_PROXY_PID_FILE" /usr/bin/python3 "$DAV_PROXY_SCRIPT" "$DAV_PROXY_CONF"
  fi
  wait_ports radicale-oauth "$STACK_RADICALE_OAUTH_BACKEND_PORT" "$STACK_RADICALE_OAUTH_PORT"
  log "radicale-oauth running (http://$STACK_HOST:$STACK_RADICALE_OAUTH_PORT/, bearer tokens only)"
}

stop_radicale_oauth() {
  stop_pid "$DAV_PROXY_PID_FILE" "$DAV_PROXY_SCRIPT" dav-proxy
  stop_pid "$RADICALE_OAUTH_PID_FILE" radicale radicale-oauth
  wait_ports_closed "$STACK_RADICALE_OAUTH_PORT" "$STACK_RADICALE_OAUTH_BACKEND_PORT"
}
