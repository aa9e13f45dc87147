#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job on a bundled sample: installs what is missing, builds, then
#   1. decodes captures/presence-pubsub.pcapng with the Wireshark plugin
#      (tshark, plugin loaded straight from the build tree): one line per
#      HMTP packet, then one packet's whole tree, and
#   2. replays the same capture against the bundled hmtp-broker and verifies
#      every reply.
# Exits non-zero when any step fails, and also when the replay verified
# nothing: a demo that replays zero packets is a broken demo, not a pass.
# HMTP_DEMO_BUILD=DIR uses (and builds) DIR instead of build/; the suite's
# demo test sets it to its own build tree.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${HMTP_DEMO_BUILD:-$root/build}
capture=${HMTP_DEMO_CAPTURE:-$root/captures/presence-pubsub.pcapng}
key=$root/captures/broker-key.pem
[ -f "$capture" ] || { echo "demo: no capture at $capture" >&2; exit 1; }
"$root/scripts/deps.sh"
"$root/scripts/build.sh" "$build"

work=$(mktemp -d)
broker_pid=
cleanup() {
  if [ -n "$broker_pid" ]; then kill "$broker_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
# tshark ignores plugin folders when run as root; the wrapper copies the
# plugin to a temporary folder and, as root, runs tshark as nobody, who must
# be able to read the capture.
chmod 755 "$work"
cap=$work/$(basename "$capture")
cp "$capture" "$cap" && chmod 644 "$cap"
tshark_hmtp() { bash "$root/tests/plugin/tshark_with_plugin.sh" "$build/plugin/hmtp.so" -r "$cap" "$@"; }

echo
echo "== 1. tshark + HMTP plugin: $(basename "$capture"), one line per frame with HMTP"
tshark_hmtp -Y hmtp -T fields -e frame.number -e _ws.col.Info | tee "$work/info.txt"
[ -s "$work/info.txt" ] || { echo "demo: the plugin found no HMTP packet" >&2; exit 1; }

# One packet in full: the first presence carrying a payload object (the
# client's capabilities, answering the news service's presenceProbe).
filter='hmtp.type == 6 && hessian.object'
frame=$(tshark_hmtp -Y "$filter" -T fields -e frame.number | head -n 1)
[ -n "$frame" ] || { echo "demo: no packet matches '$filter'" >&2; exit 1; }
echo
echo "== 1b. frame $frame in full (tshark -V -O hmtp -Y 'frame.number == $frame')"
tshark_hmtp -V -O hmtp -Y "frame.number == $frame" | sed -n '/^Hessian Message Transport Protocol/,$p'

echo
echo "== 2. hmtp-replay against hmtp-broker"
# The capture's logins are encrypted (a GetPublicKeyQuery, then the password
# in an EncryptedObject wrapped with the recording broker's RSA key). The
# replayer is given that key (captures/broker-key.pem, a throwaway test key
# committed beside the captures), decrypts each recorded password and logs in
# again with the target's own key. The broker here checks those passwords:
# the scenario's users are alice and bob, password "pw".
echo "logins: encrypted in the capture; recorded passwords recovered with captures/broker-key.pem"
"$build/broker/hmtp-broker" --listen 127.0.0.1:0 --port-file "$work/port" \
  --user alice:pw --user bob:pw 2>"$work/broker.log" &
broker_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
[ -s "$work/port" ] || { cat "$work/broker.log" >&2; echo "demo: the broker did not start" >&2; exit 1; }
rc=0
"$build/replay/hmtp-replay" --no-progress --target "127.0.0.1:$(cat "$work/port")" \
  --recorded-key "$key" --report-json "$work/report.json" "$capture" || rc=$?
if [ "$rc" -ne 0 ]; then
  echo "demo: hmtp-replay exited $rc" >&2
  exit "$rc"
fi
# Exit 0 alone is not enough: every session must be ok and replies matched.
python3 - "$work/report.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))["summary"]
if s["sessions"] == 0 or s["ok"] != s["sessions"] or s["matched"] == 0 or s["matched"] != s["replies"]:
    sys.exit("demo: the replay verified nothing or not everything: %s" % json.dumps(s))
print("demo: %d/%d sessions ok, %d of %d replies matched" % (s["ok"], s["sessions"], s["matched"], s["replies"]))
EOF
