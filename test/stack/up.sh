#!/usr/bin/env bash
# Brings up the loopback test stack: Dovecot, Postfix, Radicale and Xandikos from Debian packages,
# with an OAuth 2.0 authorization server and a bearer-token front for Radicale (Python scripts),
# each from its own config files under STACK_DIR (default /tmp/email-channel-stack), on unprivileged
# ports of 127.0.0.1. Installs missing packages first. Idempotent: a second run restarts only the
# services whose configuration changed and otherwise just checks that every port answers.
#
#   sudo bash test/stack/up.sh          # then: cat /tmp/email-channel-stack/stack.env
#
# See test/stack/README.md for ports, users and how to point the tests at another server.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=lib/common.sh
source "$here/lib/common.sh"
for part in install tls users dovecot postfix dav oauth env services; do
  # shellcheck disable=SC1090
  source "$here/lib/$part.sh"
done

require_root "test/stack/up.sh"
started_at=$(date +%s%N)
take_stack_lock
mkdir -p "$STACK_DIR" "$STACK_LOG_DIR" "$STACK_RUN_DIR"
chmod 755 "$STACK_DIR" "$STACK_LOG_DIR" "$STACK_RUN_DIR"

install_packages
ensure_system_user
ensure_secrets
ensure_users

# Each configure_* prints "changed" when it rewrote a file; a failure inside $(...) must still stop
# the script, hence one plain assignment per call (set -e ignores failures inside `declare`).
declare -A changed
tls_changed="$(ensure_tls)"
out="$(configure_dovecot)"
changed[dovecot]="$out$tls_changed"
out="$(configure_postfix)"
changed[postfix]="$out$tls_changed"
out="$(configure_radicale)"
changed[radicale]="$out"
out="$(configure_radicale_oauth)"
changed[radicale-oauth]="$out"
out="$(configure_xandikos)"
changed[xandikos]="$out"
out="$(configure_oauth)"
changed[oauth]="$out"

# Dovecot first: Postfix authenticates through its socket and delivers to its LMTP port.
for service in "${STACK_SERVICES[@]}"; do
  if [ -n "${changed[$service]}" ] && service_running "$service"; then
    log "$service: configuration changed, restarting"
    service_stop "$service"
  fi
  service_start "$service"
  # shellcheck disable=SC2046
  wait_ports "$service" $(service_ports "$service")
done

write_stack_env
log "stack ready in $((($(date +%s%N) - started_at) / 1000000)) ms; environment in $STACK_ENV_FILE"
