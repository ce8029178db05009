# shellcheck shell=bash
# shellcheck disable=SC2034 # variables read by render() through ${!var}
# Dovecot: IMAP (plain + STARTTLS, implicit TLS), LMTP for Postfix, SASL for Postfix, Maildir store.

DOVECOT_STATE_DIR="$STACK_DIR/lib/dovecot"

configure_dovecot() {
  mkdir -p "$DOVECOT_DIR" "$DOVECOT_BASE_DIR" "$DOVECOT_STATE_DIR" "$STACK_MAIL_DIR"
  chmod 755 "$STACK_RUN_DIR" "$DOVECOT_BASE_DIR"
  chown "$STACK_SYSTEM_USER:$STACK_SYSTEM_USER" "$STACK_MAIL_DIR"
  chmod 700 "$STACK_MAIL_DIR"
  STACK_SYSTEM_UID="$(id -u "$STACK_SYSTEM_USER")"
  STACK_SYSTEM_GID="$(id -g "$STACK_SYSTEM_USER")"
  DOVECOT_SSL_DH=""
  # Only DHE cipher suites need it; Debian ships one so that Dovecot does not generate its own.
  [ -r /usr/share/dovecot/dh.pem ] && DOVECOT_SSL_DH="ssl_dh = </usr/share/dovecot/dh.pem"
  local out
  out="$(render dovecot-oauth2.conf.ext "$DOVECOT_DIR/oauth2.conf.ext")"
  render dovecot.conf "$DOVECOT_CONF"
  printf '%s' "$out"
}

dovecot_running() { pid_of "$DOVECOT_PID_FILE" dovecot >/dev/null; }

start_dovecot() {
  if dovecot_running; then
    return 0
  fi
  [ -f "$DOVECOT_CONF" ] || die "no Dovecot config at $DOVECOT_CONF; run test/stack/up.sh first"
  dovecot -c "$DOVECOT_CONF" -n >/dev/null 2>"$STACK_LOG_DIR/dovecot-config.err" ||
    die "Dovecot rejects $DOVECOT_CONF: $(cat "$STACK_LOG_DIR/dovecot-config.err")"
  # A leftover socket would make the auth process retry it for 5 s instead of disabling the auth
  # penalty at once (see the anvil service in dovecot.conf).
  rm -f "$DOVECOT_BASE_DIR/anvil-auth-penalty"
  # The master forks into the background itself and writes base_dir/master.pid. It must not inherit
  # the stack lock (fd 9) or the caller's stdout/stderr (a test runner would wait on that pipe forever).
  dovecot -c "$DOVECOT_CONF" </dev/null >>"$STACK_LOG_DIR/dovecot.log" 2>&1 9>&- ||
    die "Dovecot did not start; see $STACK_LOG_DIR/dovecot.log"
  # shellcheck disable=SC2046
  wait_ports dovecot $(service_ports dovecot)
  log "dovecot running (IMAP $STACK_IMAP_PORT, IMAPS $STACK_IMAPS_PORT, LMTP $STACK_LMTP_PORT)"
}

stop_dovecot() {
  stop_pid "$DOVECOT_PID_FILE" dovecot dovecot
  # shellcheck disable=SC2046
  wait_ports_closed $(service_ports dovecot)
}

mailbox_uidvalidity() {
  doveadm -c "$DOVECOT_CONF" -f flow mailbox status -u "$1" uidvalidity "$2" | sed 's/.*uidvalidity=//'
}

# reset_uidvalidity USER [MAILBOX] [--renumber]
#   default:    `doveadm mailbox update --uid-validity` gives the mailbox a new, larger UIDVALIDITY;
#               messages keep their UIDs, which is exactly what a client must not trust any more.
#   --renumber: kicks the user, then deletes the mailbox's dovecot-uidlist and index files, as when
#               a server's mail store is restored or migrated: new UIDVALIDITY and UIDs from 1 again.
# Prints the new UIDVALIDITY.
reset_uidvalidity() {
  local user="" mailbox="" mode="" arg old new dir i
  for arg in "$@"; do
    case "$arg" in
    --renumber) mode=--renumber ;;
    -*) die "unknown option $arg" ;;
    *) if [ -z "$user" ]; then user="$arg"; elif [ -z "$mailbox" ]; then mailbox="$arg"; else die "too many arguments"; fi ;;
    esac
  done
  mailbox="${mailbox:-INBOX}"
  [ -n "$user" ] || die "usage: ctl.sh reset-uidvalidity <user@domain> [mailbox] [--renumber]"
  [[ "$user" == *@* ]] || user="$user@$STACK_DOMAIN"
  dovecot_running || die "dovecot is not running"
  old="$(mailbox_uidvalidity "$user" "$mailbox")"
  [ -n "$old" ] || die "cannot read the UIDVALIDITY of $user/$mailbox"
  if [ "$mode" = --renumber ]; then
    # The user's imap processes write their index back when they exit: wait until they are gone.
    doveadm -c "$DOVECOT_CONF" kick "$user" >/dev/null 2>&1 || true
    for ((i = 0; i < 50; i++)); do
      doveadm -c "$DOVECOT_CONF" who -1 2>/dev/null | grep -q "^$user " || break
      sleep 0.1
    done
    dir="$(doveadm -c "$DOVECOT_CONF" mailbox path -u "$user" "$mailbox")"
    [ -d "$dir" ] || die "no Maildir for $user/$mailbox at $dir"
    rm -f "$dir/dovecot-uidlist" "$dir"/dovecot.index*
    doveadm -c "$DOVECOT_CONF" force-resync -u "$user" "$mailbox"
  fi
  new="$(mailbox_uidvalidity "$user" "$mailbox")"
  # Dovecot takes a rebuilt mailbox's UIDVALIDITY from the clock, which can repeat the old value
  # within the same second; set one that is certainly new (and larger, as RFC 3501 §2.3.1.1 advises).
  if [ "$new" = "$old" ]; then
    new=$(($(date +%s) > old ? $(date +%s) : old + 1))
    doveadm -c "$DOVECOT_CONF" mailbox update -u "$user" --uid-validity "$new" "$mailbox"
  fi
  new="$(mailbox_uidvalidity "$user" "$mailbox")"
  [ "$new" != "$old" ] || die "UIDVALIDITY of $user/$mailbox did not change ($old)"
  log "UIDVALIDITY of $user/$mailbox: $old -> $new"
  printf '%s\n' "$new"
}
