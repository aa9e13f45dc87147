#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job on a bundled sample: installs what is missing, builds, then
#   1. decodes captures/presence-pubsub.pcapng with the Wireshark plugin
#      (tshark, plugin loaded straight from the build tree), and
#   2. replays the same capture against the bundled hmtp-broker and verifies
#      every reply.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build
capture=$root/captures/presence-pubsub.pcapng
"$root/scripts/deps.sh"
"$root/scripts/build.sh" "$build"

echo
echo "== 1. tshark + HMTP plugin: captures/presence-pubsub.pcapng"
# tshark ignores plugin folders when run as root; the wrapper copies the
# plugin to a temporary folder and, as root, runs tshark as nobody.
work=$(mktemp -d)
broker_pid=
cleanup() {
  [ -n "$broker_pid" ] && kill "$broker_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
chmod 755 "$work"
cp "$capture" "$work/" && chmod 644 "$work/$(basename "$capture")"
bash "$root/tests/plugin/tshark_with_plugin.sh" "$build/plugin/hmtp.so" \
  -r "$work/$(basename "$capture")" -Y hmtp -T fields -e frame.number -e _ws.col.Info

echo
echo "== 2. hmtp-replay against hmtp-broker"
"$build/broker/hmtp-broker" --listen 127.0.0.1:0 --port-file "$work/port" --allow-any-user \
  2>"$work/broker.log" &
broker_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || { cat "$work/broker.log" >&2; echo "demo: the broker did not start" >&2; exit 1; }
"$build/replay/hmtp-replay" --no-progress --target "127.0.0.1:$(cat "$work/port")" "$capture"
