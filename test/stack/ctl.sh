#!/usr/bin/env bash
# Controls one service of a stack that up.sh has set up, for fault-injection tests.
#
#   ctl.sh stop|start|restart|status <oauth|dovecot|postfix|radicale|radicale-oauth|xandikos>
#       stop really stops the daemon (connections drop, ports close); start brings it back from the
#       same config and data, so mail delivered or queued before the stop is still there.
#       status exits 0 when the service runs, 3 when it does not (LSB convention).
#   ctl.sh status
#       one line per service.
#   ctl.sh reset-uidvalidity <user[@example.test]> [mailbox] [--renumber]
#       gives the mailbox (default INBOX) a new UIDVALIDITY and prints it. --renumber also drops
#       Dovecot's UID list and indexes, so the messages get new UIDs starting at 1 (after a kick of
#       the user's sessions).
#   ctl.sh flush
#       asks Postfix to retry deferred mail now.
#   ctl.sh ping
#       exits 0 when every port of the stack answers (works without root).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$here/lib/common.sh"
for part in dovecot postfix dav oauth services; do
  # shellcheck disable=SC1090
  source "$here/lib/$part.sh"
done

usage() {
  sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

action="${1:-}"
service="${2:-}"

case "$action" in
status)
  if [ -z "$service" ]; then
    for s in "${STACK_SERVICES[@]}"; do
      if service_running "$s"; then echo "$s running"; else echo "$s stopped"; fi
    done
    exit 0
  fi
  service_ports "$service" >/dev/null
  if service_running "$service"; then
    echo "$service running"
  else
    echo "$service stopped"
    exit 3
  fi
  ;;
start | stop | restart)
  [ -n "$service" ] || usage
  service_ports "$service" >/dev/null
  require_root "ctl.sh $action"
  [ -f "$STACK_ENV_FILE" ] || die "no stack in $STACK_DIR; run test/stack/up.sh first"
  take_stack_lock
  case "$action" in
  start) service_start "$service" ;;
  stop) service_stop "$service" ;;
  restart)
    service_stop "$service"
    service_start "$service"
    ;;
  esac
  ;;
reset-uidvalidity)
  require_root "ctl.sh reset-uidvalidity"
  shift
  reset_uidvalidity "$@"
  ;;
flush)
  require_root "ctl.sh flush"
  flush_postfix
  ;;
ping)
  down=()
  for s in "${STACK_SERVICES[@]}"; do
    for port in $(service_ports "$s"); do
      port_open "$port" || down+=("$s:$port")
    done
  done
  if [ "${#down[@]}" -gt 0 ]; then
    echo "not answering: ${down[*]}"
    exit 1
  fi
  echo "all services answer"
  ;;
*) usage ;;
esac
