# shellcheck shell=bash
# Test users. Passwords are random, made once per STACK_DIR (secrets.env) and kept, so a warm up.sh
# never invalidates credentials a running test or a developer's mail client holds.
#
# One password file serves every server: users.htpasswd (bcrypt, "$2y$") is read by Dovecot's
# passwd-file passdb (default scheme CRYPT: libxcrypt verifies $2y$) and by Radicale's htpasswd auth.
# The Dovecot master user lives in a separate file so that it is not a CalDAV/CardDAV login.

ensure_secrets() {
  local name var changed=0
  touch "$STACK_SECRETS_FILE"
  chmod 644 "$STACK_SECRETS_FILE"
  for name in "${STACK_USER_NAMES[@]}" MASTER; do
    var="STACK_PASS_$name"
    [ "$name" = MASTER ] && var=STACK_MASTER_PASSWORD
    if ! grep -q "^$var=" "$STACK_SECRETS_FILE"; then
      printf '%s=%s\n' "$var" "$(openssl rand -hex 16)" >>"$STACK_SECRETS_FILE"
      changed=1
    fi
  done
  # OAuth 2.0: the client's secret and one refresh token per user (test/stack/oauth/server.py).
  for var in STACK_OAUTH_CLIENT_SECRET "${STACK_USER_NAMES[@]/#/STACK_REFRESH_}"; do
    if ! grep -q "^$var=" "$STACK_SECRETS_FILE"; then
      printf '%s=%s\n' "$var" "$(openssl rand -hex 24)" >>"$STACK_SECRETS_FILE"
      changed=1
    fi
  done
  # shellcheck disable=SC1090
  source "$STACK_SECRETS_FILE"
  [ "$changed" -eq 1 ] && log "generated passwords in $STACK_SECRETS_FILE"
  return 0
}

# set_htpasswd FILE USER PASSWORD: bcrypt cost 5 keeps each IMAP/SMTP/DAV login around 2 ms.
set_htpasswd() {
  local file="$1" user="$2" pass="$3"
  [ -f "$file" ] && htpasswd -vb "$file" "$user" "$pass" >/dev/null 2>&1 && return 0
  if [ -f "$file" ]; then
    htpasswd -bB -C 5 "$file" "$user" "$pass" >/dev/null 2>&1
  else
    htpasswd -cbB -C 5 "$file" "$user" "$pass" >/dev/null 2>&1
  fi
}

ensure_users() {
  local name pass
  for name in "${STACK_USER_NAMES[@]}"; do
    pass="STACK_PASS_$name"
    set_htpasswd "$STACK_USERS_FILE" "$(user_address "$name")" "${!pass}"
  done
  chmod 644 "$STACK_USERS_FILE"

  mkdir -p "$DOVECOT_DIR"
  set_htpasswd "$DOVECOT_DIR/master-users" "$STACK_MASTER_USER" "$STACK_MASTER_PASSWORD"
  # Read by Dovecot's auth process, which runs as the dovecot user.
  chown root:dovecot "$DOVECOT_DIR/master-users"
  chmod 640 "$DOVECOT_DIR/master-users"

  # Postfix's recipient table: anything not listed is refused at RCPT TO with 550 5.1.1.
  local table="" addr
  for name in "${STACK_USER_NAMES[@]}"; do
    addr="$(user_address "$name")"
    table+="$addr OK"$'\n'
  done
  mkdir -p "$POSTFIX_CONF_DIR"
  write_if_changed "$POSTFIX_CONF_DIR/vmailbox" "${table%$'\n'}" >/dev/null
}
