# shellcheck shell=bash
# The stack's OAuth 2.0 authorization server (test/stack/oauth/server.py, Python standard library):
# the refresh-token grant for the channel, token introspection for Dovecot's oauth2 passdb (IMAP and,
# through Dovecot's SASL socket, Postfix submission). Runs as the unprivileged stack user.

OAUTH_CONF="$OAUTH_DIR/config.json"
OAUTH_SERVER="$OAUTH_DIR/server.py"

configure_oauth() {
  mkdir -p "$OAUTH_DIR"
  local name token tokens="" sep=""
  for name in "${STACK_USER_NAMES[@]}"; do
    token="STACK_REFRESH_$name"
    tokens+="$sep\"${!token}\": \"$(user_address "$name")\""
    sep=", "
  done
  write_if_changed "$OAUTH_CONF" "{\"host\": \"$STACK_HOST\", \"port\": $STACK_OAUTH_PORT, \"client_id\": \"$STACK_OAUTH_CLIENT_ID\", \"client_secret\": \"$STACK_OAUTH_CLIENT_SECRET\", \"refresh_tokens\": {$tokens}}"
  chown "root:$STACK_SYSTEM_USER" "$OAUTH_CONF"
  chmod 640 "$OAUTH_CONF"
  # A copy the stack user can read wherever the repository lives; a changed script restarts the server.
  write_if_changed "$OAUTH_SERVER" "$(cat "$STACK_SRC_DIR/oauth/server.py")"
  chmod 644 "$OAUTH_SERVER"
}

oauth_running() { pid_of "$OAUTH_PID_FILE" "$OAUTH_SERVER" >/dev/null; }

start_oauth() {
  oauth_running && return 0
  [ -f "$OAUTH_CONF" ] || die "no OAuth server config at $OAUTH_CONF; run test/stack/up.sh first"
  daemonize oauth "$OAUTH_PID_FILE" /usr/bin/python3 "$OAUTH_SERVER" "$OAUTH_CONF"
  wait_ports oauth "$STACK_OAUTH_PORT"
  log "oauth running (http://$STACK_HOST:$STACK_OAUTH_PORT/token, /introspect)"
}

stop_oauth() {
  stop_pid "$OAUTH_PID_FILE" "$OAUTH_SERVER" oauth
  wait_ports_closed "$STACK_OAUTH_PORT"
}
