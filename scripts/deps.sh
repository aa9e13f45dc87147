#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the Debian 12 packages the build and the tests need, only those
# that are missing. Runs apt-get as root (through sudo when not root).
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang libclang-rt-dev llvm
  libglib2.0-dev libpcap-dev libssl-dev libjson-glib-dev
  libwireshark-dev wireshark-dev tshark
  python3 util-linux procps openssl xxd
  help2man file mmdebstrap
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "deps: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
# A brand-new machine has no package lists yet; refresh only when needed.
if ! $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/tmp/hmtp-deps.log 2>&1; then
  $sudo apt-get update >>/tmp/hmtp-deps.log 2>&1
  $sudo apt-get install -y --no-install-recommends "${missing[@]}" >>/tmp/hmtp-deps.log 2>&1 || {
    echo "deps: apt-get install failed, see /tmp/hmtp-deps.log" >&2
    tail -20 /tmp/hmtp-deps.log >&2
    exit 1
  }
fi
