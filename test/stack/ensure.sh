#!/usr/bin/env bash
# `npm test` runs this before vitest: makes sure the loopback stack is there, or explains why not.
#   root                 -> up.sh (installs and starts what is missing; about a second when warm)
#   not root, stack up   -> nothing to do (the tests only need the ports and stack.env)
#   not root, stack down -> `sudo -n up.sh` when sudo works without a password, else a clear error
#   STACK=external|stalwart -> nothing: the tests use the STACK_* variables of another server
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STACK_DIR="${STACK_DIR:-/tmp/email-channel-stack}"
export STACK_DIR

case "${STACK:-local}" in
external | stalwart) exit 0 ;;
local) ;;
*)
  echo "[stack] error: STACK=${STACK} is not one of local, external, stalwart" >&2
  exit 1
  ;;
esac

if [ "$(id -u)" -eq 0 ]; then
  exec bash "$here/up.sh"
fi
if [ -r "$STACK_DIR/stack.env" ] && bash "$here/ctl.sh" ping >/dev/null; then
  exit 0
fi
if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  exec sudo -n env STACK_DIR="$STACK_DIR" ${STACK_PORT_OFFSET:+STACK_PORT_OFFSET="$STACK_PORT_OFFSET"} bash "$here/up.sh"
fi
cat >&2 <<EOF
[stack] The integration tests need the loopback mail stack (Dovecot, Postfix, Radicale, Xandikos)
[stack] and starting it needs root. Run once:   sudo bash test/stack/up.sh
[stack] then run the tests as yourself. To use other servers instead: STACK=external (test/stack/README.md).
EOF
exit 1
