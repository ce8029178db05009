# shellcheck shell=bash
# STACK_DIR/stack.env: KEY=VALUE lines (no quoting, no spaces in values) that test/support/stack.ts
# reads, and that a shell can source. test/stack/stalwart/provision.sh writes the same keys.

write_stack_env() {
  local name pass refresh lines
  lines="# Written by test/stack/up.sh; rewritten on every run. Passwords come from secrets.env.
STACK_KIND=local
STACK_DIR=$STACK_DIR
STACK_HOST=$STACK_HOST
STACK_DOMAIN=$STACK_DOMAIN
STACK_BOUNCE_DOMAIN=$STACK_BOUNCE_DOMAIN
STACK_MAIL_HOSTNAME=$STACK_MAIL_HOSTNAME
STACK_PORT_OFFSET=$STACK_PORT_OFFSET
STACK_IMAP_PORT=$STACK_IMAP_PORT
STACK_IMAPS_PORT=$STACK_IMAPS_PORT
STACK_SUBMISSION_PORT=$STACK_SUBMISSION_PORT
STACK_SMTPS_PORT=$STACK_SMTPS_PORT
STACK_SMTP_INBOUND_PORT=$STACK_SMTP_INBOUND_PORT
STACK_LMTP_PORT=$STACK_LMTP_PORT
STACK_RADICALE_URL=http://$STACK_HOST:$STACK_RADICALE_PORT/
STACK_XANDIKOS_URL=http://$STACK_HOST:$STACK_XANDIKOS_PORT/
STACK_XANDIKOS_PRINCIPAL=$STACK_XANDIKOS_PRINCIPAL
STACK_CA_FILE=$STACK_CA_FILE
STACK_MASTER_USER=$STACK_MASTER_USER
STACK_MASTER_PASSWORD=$STACK_MASTER_PASSWORD
STACK_MASTER_SEPARATOR=$STACK_MASTER_SEPARATOR
STACK_OAUTH_URL=http://$STACK_HOST:$STACK_OAUTH_PORT/
STACK_RADICALE_OAUTH_URL=http://$STACK_HOST:$STACK_RADICALE_OAUTH_PORT/
STACK_OAUTH_CLIENT_ID=$STACK_OAUTH_CLIENT_ID
STACK_OAUTH_CLIENT_SECRET=$STACK_OAUTH_CLIENT_SECRET"
  for name in "${STACK_USER_NAMES[@]}"; do
    pass="STACK_PASS_$name"
    lines+=$'\n'"STACK_USER_$name=$(user_address "$name")"
    lines+=$'\n'"STACK_PASS_$name=${!pass}"
    refresh="STACK_REFRESH_$name"
    lines+=$'\n'"STACK_REFRESH_$name=${!refresh}"
  done
  write_if_changed "$STACK_ENV_FILE" "$lines" >/dev/null
  # Readable by a non-root test runner (the passwords are test passwords on loopback servers).
  chmod 644 "$STACK_ENV_FILE"
}
