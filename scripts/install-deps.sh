#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, only when one is missing.
# Runs as root (CI, fresh machines) or through sudo when available.
set -euo pipefail

packages=(
  zlib1g-dev        # message compression (CZlib)
  libsqlite3-dev    # per-tenant and control databases (CSQLite)
  openssl           # TLS tests make a throwaway certificate
  dovecot-imapd     # a real IMAP server the sync tests start on a loopback port (TestSupport/Dovecot.swift)
  libcurl4-openssl-dev  # IMAP over libcurl: connect, TLS, login; then our own IMAP (CCurl)
  python3           # the Python client's tests (Clients/Python; 3.11 or newer, standard library only)
  python3-aiosmtpd  # a real SMTP server the Smart Mail tests start on a loopback port (TestSupport/SMTPServer.swift)
  sqlite3           # the backup benchmark's peer: the CLI's .backup (Benchmarks/Sources/BackupBenchmarks)
  gzip              # … followed by gzip -1
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing missing Debian packages: ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

# Installing must not start system services: a system Dovecot would listen on every interface.
# The tests start their own, on loopback, and stop it. policy-rc.d exit 101 = "do not start".
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
  $sudo chmod +x "$policy"
  trap '$sudo rm -f "$policy"' EXIT
fi

$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
