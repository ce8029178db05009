# shellcheck shell=bash
# One entry point per action and service, shared by up.sh, down.sh and ctl.sh.

service_running() {
  case "$1" in
  dovecot) dovecot_running ;;
  postfix) postfix_running ;;
  radicale) radicale_running ;;
  xandikos) xandikos_running ;;
  *) die "unknown service '$1' (expected one of: ${STACK_SERVICES[*]})" ;;
  esac
}

service_start() {
  case "$1" in
  dovecot) start_dovecot ;;
  postfix) start_postfix ;;
  radicale) start_radicale ;;
  xandikos) start_xandikos ;;
  *) die "unknown service '$1' (expected one of: ${STACK_SERVICES[*]})" ;;
  esac
}

service_stop() {
  case "$1" in
  dovecot) stop_dovecot ;;
  postfix) stop_postfix ;;
  radicale) stop_radicale ;;
  xandikos) stop_xandikos ;;
  *) die "unknown service '$1' (expected one of: ${STACK_SERVICES[*]})" ;;
  esac
}

# Serialises up.sh / down.sh / ctl.sh on the same STACK_DIR (two test runs starting at once).
take_stack_lock() {
  mkdir -p "$STACK_DIR"
  exec 9>"$STACK_DIR/.lock"
  flock -w 300 9 || die "another stack script holds $STACK_DIR/.lock for more than 5 minutes"
}
