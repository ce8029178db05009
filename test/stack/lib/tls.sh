# shellcheck shell=bash
# A private CA and one server certificate for localhost / 127.0.0.1 / mail.example.test, signed by it.
# Tests trust STACK_CA_FILE (ca.crt) and nothing else, so certificate verification stays on everywhere.
# Both are made once per STACK_DIR and kept; the server certificate is re-issued when it is about to
# expire or no longer verifies against the CA.

ensure_tls() {
  mkdir -p "$STACK_TLS_DIR"
  chmod 755 "$STACK_TLS_DIR"
  local ca_key="$STACK_TLS_DIR/ca.key" crt="$STACK_TLS_DIR/server.crt" key="$STACK_TLS_DIR/server.key"

  if [ ! -s "$ca_key" ] || [ ! -s "$STACK_CA_FILE" ] || ! openssl x509 -in "$STACK_CA_FILE" -noout -checkend 86400 >/dev/null 2>&1; then
    log "creating the stack CA"
    openssl req -x509 -new -nodes -newkey rsa:2048 -sha256 -days 3650 \
      -keyout "$ca_key" -out "$STACK_CA_FILE" \
      -subj "/O=email-channel test stack/CN=email-channel test CA" \
      -addext "basicConstraints=critical,CA:TRUE" \
      -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -addext "subjectKeyIdentifier=hash" 2>/dev/null
    rm -f "$crt"
  fi

  if [ -s "$crt" ] && [ -s "$key" ] &&
    openssl x509 -in "$crt" -noout -checkend 604800 >/dev/null 2>&1 &&
    openssl verify -CAfile "$STACK_CA_FILE" "$crt" >/dev/null 2>&1; then
    return 0
  fi
  log "issuing the server certificate"
  local csr="$STACK_TLS_DIR/server.csr" ext="$STACK_TLS_DIR/server.ext"
  cat >"$ext" <<EOF
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,DNS:$STACK_MAIL_HOSTNAME,IP:127.0.0.1
subjectKeyIdentifier=hash
authorityKeyIdentifier=keyid
EOF
  openssl req -new -nodes -newkey rsa:2048 -sha256 -keyout "$key" -out "$csr" \
    -subj "/O=email-channel test stack/CN=localhost" 2>/dev/null
  openssl x509 -req -in "$csr" -CA "$STACK_CA_FILE" -CAkey "$ca_key" -CAcreateserial \
    -days 825 -sha256 -extfile "$ext" -out "$crt" 2>/dev/null
  rm -f "$csr" "$ext"
  chmod 600 "$ca_key" "$key"
  chmod 644 "$crt" "$STACK_CA_FILE"
  # A changed certificate means the TLS daemons must reload it.
  echo changed
}
