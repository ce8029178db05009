# shellcheck shell=bash
# Installs the Debian packages the stack needs, non-interactively, without ever letting the packages'
# own system services run: policy-rc.d answers 101 ("action forbidden") to every start request
# during the install, and on systemd hosts the units are disabled afterwards. The stack starts its own
# instances from its own config files instead (see dovecot.sh, postfix.sh, dav.sh).

STACK_PACKAGES=(
  dovecot-imapd dovecot-lmtpd # IMAP + LMTP (pulls dovecot-core: doveadm, auth, passwd-file)
  postfix                     # MTA: submission, smtps, inbound; delivers to Dovecot by LMTP
  radicale python3-bcrypt     # CalDAV/CardDAV with htpasswd auth (bcrypt through passlib)
  xandikos                    # CalDAV/CardDAV, git-backed, no auth of its own
  apache2-utils               # htpasswd, to write the shared bcrypt password file
  openssl                     # the stack's CA and server certificate
)

missing_packages() {
  local pkg
  for pkg in "${STACK_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || printf '%s\n' "$pkg"
  done
}

install_packages() {
  local missing created_policy=0
  mapfile -t missing < <(missing_packages)
  [ "${#missing[@]}" -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "missing packages (${missing[*]}) and no apt-get: this script targets Debian 12"
  require_root "installing ${missing[*]}"
  log "installing: ${missing[*]}"

  # "No configuration": the package installs binaries only and writes no /etc/postfix/main.cf, so the
  # system instance has nothing to run even if something tried to start it.
  debconf-set-selections <<EOF
postfix postfix/main_mailer_type select No configuration
postfix postfix/mailname string $STACK_MAIL_HOSTNAME
EOF

  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# written by email-channel test/stack/up.sh while installing packages\nexit 101\n' \
      >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    created_policy=1
  fi

  local rc=0
  (
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
  ) >"$STACK_LOG_DIR/apt.log" 2>&1 || rc=$?
  [ "$created_policy" -eq 1 ] && rm -f /usr/sbin/policy-rc.d
  if [ "$rc" -ne 0 ]; then
    tail -n 30 "$STACK_LOG_DIR/apt.log" >&2
    die "apt-get failed (full log: $STACK_LOG_DIR/apt.log)"
  fi
  disable_system_services
}

# The packages' own units: stopped and disabled so that they never hold 143/993/25/5232 or compete with
# the stack's instances after a reboot. Containers without systemd never started them (policy-rc.d).
disable_system_services() {
  [ -d /run/systemd/system ] || return 0
  local unit
  for unit in dovecot.service dovecot.socket postfix.service radicale.service xandikos.service xandikos.socket; do
    systemctl disable --now "$unit" >/dev/null 2>&1 || true
  done
}

ensure_system_user() {
  id -u "$STACK_SYSTEM_USER" >/dev/null 2>&1 && return 0
  require_root "creating the system user $STACK_SYSTEM_USER"
  useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin \
    --user-group "$STACK_SYSTEM_USER"
}
