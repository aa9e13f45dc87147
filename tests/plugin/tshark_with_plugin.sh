#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tshark_with_plugin.sh PLUGIN_SO [tshark args...]
# Runs tshark with the plugin loaded straight from the build tree. tshark
# ignores WIRESHARK_PLUGIN_DIR and the personal plugin folder when run as
# root, so the plugin is copied to a world-readable temporary folder laid out
# as DIR/<major.minor>/epan/hmtp.so and, as root, tshark runs as nobody.
# Fails (exit 90) when `tshark -G plugins` does not list the plugin: a test
# that silently runs without it would prove nothing.
# HMTP_TSHARK_ENV may hold extra VAR=value words (e.g. LD_PRELOAD for ASan).
# WIRESHARK_EXTCAP_DIR points at an empty folder: `tshark -G plugins` (and
# capture-interface listing) otherwise starts every extcap helper
# (androiddump, sshdump, ...), which inherit LD_PRELOAD; with the ASan runtime
# preloaded androiddump blocks forever on a futex, which is what made
# `-G plugins` hang in the sanitizer build. No test needs extcap.
set -euo pipefail
so=$1
shift
[ -f "$so" ] || { echo "tshark_with_plugin: no plugin at $so" >&2; exit 90; }
abi=$(tshark --version 2>/dev/null | sed -n '1s/.* \([0-9]*\.[0-9]*\)\.[0-9]*.*/\1/p')
[ -n "$abi" ] || { echo "tshark_with_plugin: cannot read tshark's version" >&2; exit 90; }

dir=$(mktemp -d /tmp/hmtp-plugin.XXXXXX)
trap 'rm -rf "$dir"' EXIT
mkdir -p "$dir/plugins/$abi/epan" "$dir/home" "$dir/extcap"
cp "$so" "$dir/plugins/$abi/epan/hmtp.so"
chmod -R a+rX "$dir"
chmod a+rwx "$dir/home"

run=(env HOME="$dir/home" WIRESHARK_PLUGIN_DIR="$dir/plugins" WIRESHARK_EXTCAP_DIR="$dir/extcap"
     ${HMTP_TSHARK_ENV:-})
if [ "$(id -u)" -eq 0 ]; then
  run=(setpriv --reuid=nobody --regid=nogroup --clear-groups "${run[@]}")
fi

# Every tshark run is bounded, so a hang fails a test instead of leaving
# orphaned processes behind.
limit=(timeout -s KILL "${HMTP_TSHARK_TIMEOUT:-200}")
if ! "${limit[@]}" "${run[@]}" tshark -G plugins 2>/dev/null | grep -q "^hmtp\.so[[:space:]]"; then
  echo "tshark_with_plugin: tshark did not load $so (tshark -G plugins does not list it)" >&2
  exit 90
fi
# Files handed to tshark must be readable by the unprivileged user.
"${limit[@]}" "${run[@]}" tshark "$@"
