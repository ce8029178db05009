# shellcheck shell=bash
# Postfix as an instance of its own: config, queue and data directories all under STACK_DIR.

configure_postfix() {
  mkdir -p "$POSTFIX_CONF_DIR" "$POSTFIX_QUEUE_DIR" "$POSTFIX_DATA_DIR"
  # Postfix insists on root owning the queue directory and on postfix owning its data directory.
  chown root:root "$POSTFIX_QUEUE_DIR"
  chmod 755 "$POSTFIX_QUEUE_DIR"
  chown postfix:postfix "$POSTFIX_DATA_DIR"
  chmod 700 "$POSTFIX_DATA_DIR"
  # The bounce domain is accepted at RCPT TO, then handed to Dovecot's LMTP, which has no such users
  # and answers 550 5.1.1: Postfix returns a real DSN to the sender. (An error(8) transport would not
  # do: smtpd refuses such recipients already at RCPT TO.)
  write_if_changed "$POSTFIX_CONF_DIR/transport" \
    "$STACK_BOUNCE_DOMAIN lmtp:inet:127.0.0.1:$STACK_LMTP_PORT"
  write_if_changed "$POSTFIX_CONF_DIR/deferred_recipients" \
    "$STACK_DEFERRED_RECIPIENT 450 4.2.1 deferred by the test stack, try again later"
  render postfix-main.cf "$POSTFIX_CONF_DIR/main.cf"
  render postfix-master.cf "$POSTFIX_CONF_DIR/master.cf"
  # `postfix check` creates the missing queue subdirectories with the right owners and modes.
  postfix -c "$POSTFIX_CONF_DIR" check >>"$STACK_LOG_DIR/postfix.log" 2>&1 ||
    die "postfix check failed; see $STACK_LOG_DIR/postfix.log"
}

postfix_running() { pid_of "$POSTFIX_PID_FILE" master >/dev/null; }

start_postfix() {
  if postfix_running; then
    return 0
  fi
  [ -f "$POSTFIX_CONF_DIR/main.cf" ] || die "no Postfix config in $POSTFIX_CONF_DIR; run test/stack/up.sh first"
  postfix -c "$POSTFIX_CONF_DIR" start </dev/null >>"$STACK_LOG_DIR/postfix.log" 2>&1 9>&- ||
    die "Postfix did not start; see $STACK_LOG_DIR/postfix.log"
  # shellcheck disable=SC2046
  wait_ports postfix $(service_ports postfix)
  log "postfix running (inbound $STACK_SMTP_INBOUND_PORT, submission $STACK_SUBMISSION_PORT, smtps $STACK_SMTPS_PORT)"
}

stop_postfix() {
  # SIGTERM to the master is what `postfix stop` does; the queue files stay where they are, so mail
  # accepted before the stop is delivered after the next start.
  stop_pid "$POSTFIX_PID_FILE" master postfix
  # shellcheck disable=SC2046
  wait_ports_closed $(service_ports postfix)
}

# Deliver deferred mail now instead of at the next queue run (e.g. right after Dovecot came back).
flush_postfix() {
  postfix_running || die "postfix is not running"
  postfix -c "$POSTFIX_CONF_DIR" flush
}
