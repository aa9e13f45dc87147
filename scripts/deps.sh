#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Installs the Debian 12 packages the build and the tests need (among them
# python3-junitparser: the JUnit reader tests/replay/test_check.py uses), only those
# that are missing, then the pinned npm packages of tests/deploy when their
# lock file changed. Runs apt-get and npm as root (through sudo when not
# root); prints nothing when everything is there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

packages=(
  build-essential cmake pkg-config clang libclang-rt-dev llvm
  libglib2.0-dev libpcap-dev libssl-dev libjson-glib-dev
  libwireshark-dev wireshark-dev tshark
  python3 util-linux procps openssl xxd
  help2man file mmdebstrap
  python3-junitparser
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
# Node.js and npm run the Kubernetes manifest validators (tests/deploy). Any
# node and npm on the PATH will do (a newer node from elsewhere conflicts
# with Debian's npm package), else Debian's.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  missing+=(nodejs npm)
fi

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}" >&2
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
fi

# The validators' npm packages, at the versions of the committed lock file,
# into a cache folder the tests read offline (tests/deploy/CMakeLists.txt
# names the same folder). Installed again only when the lock file changes.
npm_src="$root/tests/deploy"
npm_dir=${HMTP_NPM_DIR:-/var/cache/hmtp-npm/k8s-validate}
if ! cmp -s "$npm_src/package-lock.json" "$npm_dir/installed-lock.json"; then
  echo "deps: installing the npm packages of tests/deploy into $npm_dir" >&2
  $sudo rm -rf "$npm_dir"
  $sudo mkdir -p "$npm_dir"
  $sudo cp "$npm_src/package.json" "$npm_src/package-lock.json" "$npm_dir/"
  # --ignore-scripts: none of them needs an install script
  $sudo npm ci --prefix "$npm_dir" --ignore-scripts --no-audit --no-fund >/tmp/hmtp-deps-npm.log 2>&1 || {
    echo "deps: npm ci failed, see /tmp/hmtp-deps-npm.log" >&2
    tail -20 /tmp/hmtp-deps-npm.log >&2
    exit 1
  }
  $sudo cp "$npm_src/package-lock.json" "$npm_dir/installed-lock.json"
fi
