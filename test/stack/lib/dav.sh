# shellcheck shell=bash
# Radicale (multi-user, htpasswd auth) and Xandikos (single principal, no auth) for CalDAV/CardDAV.
# Both run as the unprivileged stack user under start-stop-daemon, which writes their pid files.

RADICALE_COLLECTIONS="$RADICALE_DIR/collections/collection-root"
STACK_HOME_DIR="$STACK_DIR/home"

configure_radicale() {
  mkdir -p "$RADICALE_DIR" "$RADICALE_COLLECTIONS"
  render radicale.conf "$RADICALE_CONF"
  # Each user starts with one calendar and one address book, like a hosted account would (Xandikos
  # --defaults makes the same pair). Radicale keeps a collection's type in .Radicale.props.
  local name user
  for name in "${STACK_USER_NAMES[@]}"; do
    user="$(user_address "$name")"
    mkdir -p "$RADICALE_COLLECTIONS/$user/calendar" "$RADICALE_COLLECTIONS/$user/addressbook"
    [ -f "$RADICALE_COLLECTIONS/$user/calendar/.Radicale.props" ] ||
      printf '%s' '{"C:supported-calendar-component-set": "VEVENT,VTODO", "D:displayname": "Calendar", "tag": "VCALENDAR"}' \
        >"$RADICALE_COLLECTIONS/$user/calendar/.Radicale.props"
    [ -f "$RADICALE_COLLECTIONS/$user/addressbook/.Radicale.props" ] ||
      printf '%s' '{"D:displayname": "Contacts", "tag": "VADDRESSBOOK"}' \
        >"$RADICALE_COLLECTIONS/$user/addressbook/.Radicale.props"
  done
  chown -R "$STACK_SYSTEM_USER:$STACK_SYSTEM_USER" "$RADICALE_DIR/collections"
}

configure_xandikos() {
  mkdir -p "$XANDIKOS_DIR/data"
  chown -R "$STACK_SYSTEM_USER:$STACK_SYSTEM_USER" "$XANDIKOS_DIR/data"
}

# daemonize NAME PIDFILE COMMAND ARGS...: background, own pid file, unprivileged user, log file.
daemonize() {
  local name="$1" pidfile="$2"
  shift 2
  mkdir -p "$STACK_RUN_DIR" "$STACK_HOME_DIR"
  chown "$STACK_SYSTEM_USER:$STACK_SYSTEM_USER" "$STACK_HOME_DIR"
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
