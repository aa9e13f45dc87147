#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run_bench.sh BUILD_DIR [PAIRS]: times tshark over a generated capture of
# 3*PAIRS HMTP packets (default 70000 pairs -> 210,000 packets, one per frame,
# after a Resin-style upgrade on port 8080), with and without the plugin, and
# reports wall time, the ratio and tshark's peak memory (max RSS).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:?usage: run_bench.sh BUILD_DIR [PAIRS]}
pairs=${2:-70000}
so="$build/plugin/hmtp.so"
fixtures="$build/tests/plugin/hmtp-plugin-fixtures"
work=$(mktemp -d /tmp/hmtp-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"

"$fixtures" flood "$pairs" "$work/flood.rec"
python3 "$root/tests/plugin/make_pcap.py" "$work/flood.rec" "$work/flood.pcap"
chmod 644 "$work/flood.pcap"
frames=$(capinfos -c -M "$work/flood.pcap" | awk '/Number of packets/ {print $NF}')

measure() { # label, command...
  local label=$1; shift
  local start end
  start=$(date +%s.%N)
  /usr/bin/time -f "%M" -o "$work/rss" "$@" > "$work/out.txt"
  end=$(date +%s.%N)
  local secs rss
  secs=$(echo "$end - $start" | bc)
  rss=$(tail -1 "$work/rss")
  echo "$label: $secs s, peak RSS $rss KiB" >&2
  echo "$secs $rss"
}

# the plugin-less run uses the same unprivileged user and empty HOME
as_user=()
[ "$(id -u)" -eq 0 ] && as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
plain=$(measure "tshark without plugin" "${as_user[@]}" env HOME="$work" tshark -r "$work/flood.pcap")
# (the plugin run includes tshark_with_plugin.sh's `tshark -G plugins` check, ~0.3 s)
with=$(measure "tshark with plugin" "$root/tests/plugin/tshark_with_plugin.sh" "$so" -r "$work/flood.pcap")
hmtp_lines=$(grep -c " HMTP " "$work/out.txt" || true)
set -- $plain; t0=$1; m0=$2
set -- $with; t1=$1; m1=$2
echo "frames: $frames, HMTP frames in the plugin run: $hmtp_lines"
echo "without plugin: ${t0} s, peak RSS ${m0} KiB"
echo "with plugin:    ${t1} s, peak RSS ${m1} KiB"
echo "ratio (with/without): $(echo "scale=2; $t1 / $t0" | bc)"
