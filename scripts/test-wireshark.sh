#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# test-wireshark.sh [--prepare] bookworm|trixie|sid
#
# The plugin and the packages against another Debian release's Wireshark
# (bookworm 4.0, trixie 4.4, sid 4.6), in chroots made with mmdebstrap:
#   1. in a build chroot (that release's libwireshark-dev, wireshark-dev,
#      tshark and the build dependencies): a plain gcc build of this source
#      tree (bind-mounted read-only), the plugin and capture tests with that
#      release's tshark, `cmake --install --component hmtp_plugin` by a
#      normal user into their personal plugin folder (tshark -G plugins as
#      that user lists it), and the .deb packages (cpack);
#   2. in a fresh chroot of the same release (the bare base, no -dev
#      packages): `apt-get install ./<the .debs>` alone, which must bring the
#      libwireshark package the plugin was built against and every library a
#      tool needs (each tool runs); then with tshark and man-db installed,
#      tshark -G plugins as a normal user lists the plugin from the system
#      folder and `man hmtp-replay` shows the generated page.
# The chroots are cached under $HMTP_CHROOT_CACHE (default
# /var/cache/hmtp-chroot/<release>, see scripts/lib-chroot.sh); each run
# works on throwaway overlays of them. The .debs are copied to
# $HMTP_DEB_OUT (default /tmp/hmtp-debs/<release>).
# --prepare only makes (or refreshes) the cached chroots: CI starts that in
# the background while scripts/test.sh compiles.
# Needs root, mmdebstrap (installed when missing) and the Debian mirror.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/scripts/lib-chroot.sh"

prepare_only=
if [ "${1:-}" = --prepare ]; then
  prepare_only=1
  shift
fi
hmtp_release=${1:-}
case "$hmtp_release" in
  bookworm | trixie | sid) ;;
  *) echo "usage: $0 [--prepare] bookworm|trixie|sid" >&2; exit 2 ;;
esac

# What the build chroot has on top of minbase: the release's Wireshark
# development files and tshark, what the build and the plugin/capture tests
# use (python3, setpriv, xxd, openssl), help2man for the man pages and file
# for CPack's dpkg-shlibdeps step.
build_packages=(
  build-essential cmake pkg-config libglib2.0-dev libpcap-dev libssl-dev libjson-glib-dev
  libwireshark-dev wireshark-dev tshark
  python3 util-linux procps openssl xxd passwd help2man file dpkg-dev
)
# What the fresh chroot gets besides the two .debs: the Wireshark that uses
# the plugin, man to read the pages, useradd for the normal user.
run_packages=(tshark man-db passwd)

# HMTP_TW_TESTS narrows the ctest regex (for working on this script).
tests=${HMTP_TW_TESTS:-'^(plugin_|captures\.)'}
plugin_deb_glob="wireshark-hmtp-plugin_*_${hmtp_release}_*.deb"
tools_deb_glob="hmtp-tools_*_${hmtp_release}_*.deb"

outer() {
  chroot_need_root
  local t0 build_root base_root rc out
  scratch= # global: the EXIT trap reads it after outer returns
  t0=$(date +%s)
  out=${HMTP_DEB_OUT:-/tmp/hmtp-debs/$hmtp_release}
  step "cached build chroot (mmdebstrap when missing or stale)"
  build_root=$(chroot_cached "$hmtp_release" build "${build_packages[@]}") \
    || die "step '$hmtp_step' failed"
  step "cached base chroot (mmdebstrap when missing or stale)"
  base_root=$(chroot_cached "$hmtp_release" base) || die "step '$hmtp_step' failed"
  if [ -n "$prepare_only" ]; then
    echo "test-wireshark: $hmtp_release: chroots ready in $(( $(date +%s) - t0 )) s" >&2
    return 0
  fi
  chroot_hold "$build_root"
  chroot_hold "$base_root"

  scratch=$(mktemp -d "/var/tmp/hmtp-wireshark-$hmtp_release.XXXXXX")
  # The mounts live only in the inner namespace, so this rm never sees them;
  # --one-file-system anyway, should one ever be visible here.
  trap 'rm -rf --one-file-system "$scratch"' EXIT
  mkdir -p "$scratch/debs"
  rc=0
  HMTP_TW_INNER=1 unshare --mount --propagation private \
    bash "$src/scripts/test-wireshark.sh" "$hmtp_release" "$build_root" "$base_root" "$scratch" || rc=$?
  if ls "$scratch/debs/"*.deb >/dev/null 2>&1; then
    mkdir -p "$out"
    rm -f "$out/"*.deb
    cp "$scratch/debs/"*.deb "$out/"
    echo "test-wireshark: packages in $out" >&2
  fi
  echo "test-wireshark: $hmtp_release: $([ $rc -eq 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - t0 )) s" >&2
  return $rc
}

inner() {
  local build_root=$1 base_root=$2 scratch=$3
  local b="$scratch/build/root" f="$scratch/fresh/root"
  # Global: the EXIT trap runs after this function's locals are gone.
  hmtp_failed=1
  trap 'chroot_umount_all; [ $hmtp_failed -eq 0 ] || echo "test-wireshark: $hmtp_release: FAILED at step: $hmtp_step" >&2' EXIT

  step "build chroot: overlay, source read-only at /src"
  chroot_overlay "$build_root" "$scratch/build"
  chroot_bind "$src" "$b" /src ro
  local ws
  ws=$(in_chroot "$b" dpkg-query -W -f='${Version}' tshark)
  echo "tshark $ws" >&2

  step "configure (gcc)"
  in_chroot "$b" cmake -S /src -B /build -DHMTP_DEB_RELEASE="$hmtp_release" >"$scratch/configure.log" 2>&1 \
    || { tail -40 "$scratch/configure.log" >&2; exit 1; }
  grep -i 'hmtp plugin\|man pages\|packag' "$scratch/configure.log" >&2 || true

  step "build"
  in_chroot "$b" cmake --build /build -j "$(nproc)" >"$scratch/build.log" 2>&1 \
    || { grep -E -B2 -A8 'error|Error' "$scratch/build.log" | head -80 >&2; exit 1; }

  step "plugin and capture tests (ctest) with tshark $ws"
  in_chroot "$b" ctest --test-dir /build -R "$tests" --no-tests=error \
    --output-on-failure -j "$(nproc)"

  step "personal-folder install by a normal user, tshark -G plugins as that user"
  chroot_add_user "$b" hmtpuser
  # cmake --install writes its manifest into the build tree (the
  # plugin_install test, run as root, may have left one).
  chmod o+w "$b/build"
  rm -f "$b/build/install_manifest_hmtp_plugin.txt"
  as_user "$b" hmtpuser cmake --install /build --component hmtp_plugin
  local listed
  listed=$(as_user "$b" hmtpuser tshark -G plugins 2>&1) || { echo "$listed" >&2; exit 1; }
  grep -E '^hmtp\.so[[:space:]].*[[:space:]]/home/hmtpuser/\.local/lib/wireshark/plugins/[0-9.]+/epan/hmtp\.so$' <<<"$listed" >&2 \
    || { echo "$listed" >&2; die "tshark -G plugins (as hmtpuser) does not list hmtp.so from the personal folder"; }

  step "packages (cpack -G DEB)"
  in_chroot "$b" sh -c 'cd /build && cpack -G DEB' >"$scratch/cpack.log" 2>&1 \
    || { tail -40 "$scratch/cpack.log" >&2; exit 1; }
  cp "$b"/build/$plugin_deb_glob "$b"/build/$tools_deb_glob "$scratch/debs/" \
    || die "cpack made no $plugin_deb_glob / $tools_deb_glob"
  local deb
  for deb in "$scratch/debs/"*.deb; do
    printf '%s  %s bytes\n' "$(basename "$deb")" "$(stat -c %s "$deb")" >&2
    dpkg-deb -f "$deb" Package Version Depends >&2
    dpkg-deb -c "$deb" | awk '{print "  " $NF}' | grep -v '/$' >&2
  done

  step "fresh chroot: apt-get install ./the .debs (their Depends only)"
  chroot_overlay "$base_root" "$scratch/fresh"
  chroot_bind "$scratch/debs" "$f" /debs ro
  local apt=(apt-get -y --no-install-recommends -o Dpkg::Options::=--force-unsafe-io)
  in_chroot "$f" apt-get update >"$scratch/apt.log" 2>&1 || { tail -20 "$scratch/apt.log" >&2; exit 1; }
  in_chroot "$f" sh -c "cd /debs && ${apt[*]} install ./$plugin_deb_glob ./$tools_deb_glob" \
    >>"$scratch/apt.log" 2>&1 || { tail -30 "$scratch/apt.log" >&2; exit 1; }
  # The plugin's Depends must have brought the libwireshark it was built
  # against (nothing else here asks for it yet), the tools' Depends their
  # libraries: each tool runs before anything else is installed.
  local libws
  libws=$(dpkg-deb -f "$scratch/debs/"$plugin_deb_glob Depends | grep -o 'libwireshark[0-9]*' | head -1)
  [ -n "$libws" ] || die "the plugin package does not depend on a libwireshark package"
  in_chroot "$f" dpkg-query -W "$libws" wireshark-hmtp-plugin hmtp-tools >&2 \
    || die "$libws was not installed with the plugin package"
  local tool
  for tool in hmtp-replay hmtp-broker hmtp-client hmtp-decode; do
    in_chroot "$f" "$tool" --help >/dev/null || die "$tool --help failed in the fresh chroot (missing Depends?)"
  done
  step "fresh chroot: apt-get install ${run_packages[*]}"
  in_chroot "$f" "${apt[@]}" install "${run_packages[@]}" >>"$scratch/apt.log" 2>&1 \
    || { tail -30 "$scratch/apt.log" >&2; exit 1; }
  in_chroot "$f" dpkg-query -W tshark >&2

  step "fresh chroot: tshark -G plugins as a normal user"
  chroot_add_user "$f" hmtpuser
  listed=$(as_user "$f" hmtpuser tshark -G plugins 2>&1) || { echo "$listed" >&2; exit 1; }
  grep -E '^hmtp\.so[[:space:]].*[[:space:]]/usr/lib/[^ ]*/wireshark/plugins/[0-9.]+/epan/hmtp\.so$' <<<"$listed" >&2 \
    || { echo "$listed" >&2; die "tshark -G plugins does not list hmtp.so from the system plugin folder"; }

  step "fresh chroot: man pages, man hmtp-replay"
  for tool in hmtp-replay hmtp-broker hmtp-client hmtp-decode; do
    in_chroot "$f" man -w "$tool" >/dev/null || die "no man page for $tool"
  done
  local page
  page=$(in_chroot "$f" env MANPAGER=cat MANWIDTH=200 man hmtp-replay 2>&1) || { echo "$page" >&2; die "man hmtp-replay failed"; }
  grep -q 'replay the client side of recorded HMTP sessions' <<<"$page" \
    || { echo "$page" >&2; die "man hmtp-replay lacks the tool's description"; }
  grep -q -- '--target' <<<"$page" || die "man hmtp-replay lacks the options"
  sed -n '1,6p' <<<"$page" >&2
  hmtp_failed=0
}

if [ -n "${HMTP_TW_INNER:-}" ]; then
  inner "${@:2}"
else
  outer
fi
