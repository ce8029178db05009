#!/usr/bin/env bash
# Stops every daemon of the test stack by its pid file. Keeps STACK_DIR (mail, calendars, passwords,
# certificates), so the next up.sh starts where this one left off. To start from scratch:
#   sudo bash test/stack/down.sh && sudo rm -rf /tmp/email-channel-stack
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$here/lib/common.sh"
for part in dovecot postfix dav oauth services; do
  # shellcheck disable=SC1090
  source "$here/lib/$part.sh"
done

[ -d "$STACK_DIR" ] || exit 0
require_root "test/stack/down.sh"
take_stack_lock
# Postfix first, so that it does not defer mail into a Dovecot that is going away.
for service in postfix dovecot radicale radicale-oauth xandikos oauth; do
  service_stop "$service"
done
