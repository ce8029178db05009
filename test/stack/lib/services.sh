# shellcheck shell=bash
# One entry point per action and service, shared by up.sh, down.sh and ctl.sh.

service_running() {
  # Without root the pid files (Dovecot's is mode 0600) cannot be read: judge by the ports instead.
  if [ "$(id -u)" -ne 0 ]; then
    local port
    for port in $(service_ports "$1"); do port_open "$port" || return 1; done
    return 0
  fi
  case "$1" in
  dovecot) dovecot_running ;;
  postfix) postfix_running ;;
  radicale) radicale_running ;;
  radicale-oauth) radicale_oauth_running ;;
  xandikos) xandikos_running ;;
  oauth) oauth_running ;;
  *) die "unknown service '$1' (expected one of: ${STACK_SERVICES[*]})" ;;
  esac
}

# Before starting a service: its ports must be free. Taken ports usually mean a second stack with the
# same STACK_PORT_OFFSET, or a system daemon; the daemon's own "address in use" hides in its log.
ensure_ports_free() {
  local port
  for port in $(service_ports "$1"); do
    port_open "$port" &&
      die "$1 cannot start: $STACK_HOST:$port is already in use by another process (another stack with STACK_PORT_OFFSET=$STACK_PORT_OFFSET? a system service?)"
  done
  return 0
}

service_start() {
  service_running "$1" || ensure_ports_free "$1"
  case "$1" in
  dovecot) start_dovecot ;;
  postfix) start_postfix ;;
  radicale) start_radicale ;;
  radicale-oauth) start_radicale_oauth ;;
  xandikos) start_xandikos ;;
  oauth) start_oauth ;;
  *) die "unknown service '$1' (expected one of: ${STACK_SERVICES[*]})" ;;
  esac
}

service_stop() {
  case "$1" in
  dovecot) stop_dovecot ;;
  postfix) stop_postfix ;;
  radicale) stop_radicale ;;
  radicale-oauth) stop_radicale_oauth ;;
  xandikos) stop_xandikos ;;
  oauth) stop_oauth ;;
  *) die "unknown service '$1' (expected one of: ${STACK_SERVICES[*]})" ;;
  esac
}

# Serialises up.sh / down.sh / ctl.sh on the same STACK_DIR (two test runs starting at once).
take_stack_lock() {
  mkdir -p "$STACK_DIR"
  exec 9>"$STACK_DIR/.lock"
  flock -w 300 9 || die "another stack script holds $STACK_DIR/.lock for more than 5 minutes"
}
