#!/usr/bin/env bash
# Brings up Stalwart from docker-compose.stalwart.yml and provisions it like the Debian stack: the
# domain example.test, the same six accounts plus an impersonating "master" account, a certificate
# signed by a CA of our own, no relaying. Writes $STACK_DIR/stack.env (default
# /tmp/email-channel-stalwart) with the same STACK_* keys as test/stack/up.sh, so that
#
#   STACK=stalwart STACK_ENV_FILE=/tmp/email-channel-stalwart/stack.env npx vitest run --project integration
#
# runs the same suite against Stalwart. Idempotent: passwords and the CA are made once and kept; a
# second run updates the accounts' passwords to the kept ones.
#
# NOT exercised by this repository's CI, which has no Docker engine: written against Stalwart's v0.16
# documentation (bootstrap mode, STALWART_RECOVERY_ADMIN, the JMAP management objects x:Bootstrap,
# x:Domain, x:Account, x:Certificate, x:SystemSettings, x:MtaStageRcpt). Needs docker with the
# compose plugin, openssl, Node 20 and this repository's dev dependencies (tsx). No root needed.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../../.." && pwd)"
export STACK_DIR="${STACK_DIR:-/tmp/email-channel-stalwart}"
export STACK_PORT_OFFSET=0
# shellcheck source=../lib/common.sh
source "$here/../lib/common.sh"
# shellcheck source=../lib/tls.sh
source "$here/../lib/tls.sh"
# shellcheck source=../lib/users.sh
source "$here/../lib/users.sh"

command -v docker >/dev/null || die "docker is not installed; Stalwart runs from docker-compose.stalwart.yml"
docker compose version >/dev/null 2>&1 || die "the docker compose plugin is missing"
docker info >/dev/null 2>&1 || die "no Docker engine answers (docker info failed)"

mkdir -p "$STACK_DIR" "$STACK_LOG_DIR"
ensure_secrets
if ! grep -q '^STALWART_ADMIN_PASSWORD=' "$STACK_SECRETS_FILE"; then
  printf 'STALWART_ADMIN_PASSWORD=%s\n' "$(openssl rand -hex 16)" >>"$STACK_SECRETS_FILE"
fi
# provision.ts reads the passwords from its environment.
set -a
# shellcheck disable=SC1090
source "$STACK_SECRETS_FILE"
set +a
ensure_tls >/dev/null

export STALWART_ADMIN_PASSWORD
export STALWART_SMTP_PORT="${STALWART_SMTP_PORT:-4025}"
export STALWART_SUBMISSION_PORT="${STALWART_SUBMISSION_PORT:-4587}"
export STALWART_SMTPS_PORT="${STALWART_SMTPS_PORT:-4465}"
export STALWART_IMAP_PORT="${STALWART_IMAP_PORT:-4143}"
export STALWART_IMAPS_PORT="${STALWART_IMAPS_PORT:-4993}"
export STALWART_HTTP_PORT="${STALWART_HTTP_PORT:-4080}"
export STALWART_URL="http://$STACK_HOST:$STALWART_HTTP_PORT"

compose=(docker compose -f "$repo/docker-compose.stalwart.yml")
log "starting Stalwart (${STALWART_IMAGE:-stalwartlabs/stalwart:latest})"
"${compose[@]}" up -d
wait_ports stalwart "$STALWART_HTTP_PORT"

# The JMAP calls: bootstrap on first start, then domain, accounts, certificate, relay policy.
(cd "$repo" && npx --no-install tsx "$here/provision.ts")

# Listener certificates and MTA stage settings are read at start: restart once so they apply.
log "restarting Stalwart to load the certificate and MTA settings"
"${compose[@]}" restart stalwart
wait_ports stalwart "$STALWART_HTTP_PORT" "$STALWART_IMAP_PORT" "$STALWART_IMAPS_PORT" \
  "$STALWART_SMTP_PORT" "$STALWART_SUBMISSION_PORT" "$STALWART_SMTPS_PORT"
log "Stalwart ready; environment in $STACK_ENV_FILE"
