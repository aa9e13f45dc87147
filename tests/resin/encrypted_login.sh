#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The encrypted login (GetPublicKeyQuery, then an AuthQuery carrying an
# EncryptedObject) against Resin's own server side of 2009-01-23, built by
# build-resin-server-enc.sh: hmtp-client logs in with it, hmtp-replay redoes
# the recorded encrypted login of captures/resin-client-encrypted.pcapng for
# Resin's key, and (when built) Resin's own late-January-2009 client logs in.
# By hand only, like differential.py; exit 77 (skipped) without Java or the
# server.
#
#   tests/resin/encrypted_login.sh [BUILD_DIR [SERVER [CAUCHO_CLIENT_ENC]]]
set -uo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
server=${2:-${HMTP_RESIN_SERVER_ENC:-/tmp/resin-server-enc/resin-hmtp-server}}
caucho=${3:-/tmp/caucho-client-enc/hmtp-drive}
command -v java >/dev/null || { echo "encrypted_login: skipped: no java (apt-get install default-jdk-headless)"; exit 77; }
[ -x "$server" ] || { echo "encrypted_login: skipped: no server at $server (tests/resin/build-resin-server-enc.sh)"; exit 77; }
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$server" --pubsub news@localhost "$port" >"$work/server.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$work"' EXIT
for _ in $(seq 100); do (exec 3<>/dev/tcp/127.0.0.1/$port) 2>/dev/null && break; sleep 0.1; done
fail=0
no() { echo "encrypted_login: FAIL: $*" >&2; fail=1; }

# hmtp-client: its default login is the encrypted one
cat >"$work/login.hmtp" <<'EOF'
connect alice user=alice password=pw
close alice
EOF
"$build/client/hmtp-client" -v --server "127.0.0.1:$port" "$work/login.hmtp" >"$work/client.out" 2>&1 || no "hmtp-client: $(cat "$work/client.out")"
grep -q 'alice < queryResult .* id=1 value=com.caucho.bam.hmtp.GetPublicKeyQuery' "$work/client.out" || no "hmtp-client: no key answer"
grep -q 'alice > querySet .* id=2 value=com.caucho.bam.hmtp.AuthQuery' "$work/client.out" &&
  grep -q 'alice < queryResult .* id=2 value=com.caucho.bam.hmtp.AuthResult' "$work/client.out" || no "hmtp-client: login not answered"

# hmtp-replay: the recorded encrypted login redone for Resin's key; only the
# queries are replayed (the presence packets with null payloads make this
# revision's MemoryPubSub throw, and it routes nothing between links here)
"$build/replay/hmtp-replay" --no-progress --target "127.0.0.1:$port" --login resin:secret --types query \
  --timeout 3000 --report-json "$work/replay.json" "$root/captures/resin-client-encrypted.pcapng" >"$work/replay.out" 2>&1
python3 - "$work/replay.json" <<'EOF' || no "hmtp-replay: $(cat "$work/replay.out")"
import json, sys
s = json.load(open(sys.argv[1]))['sessions'][0]
login = [d for d in s['differences'] if d['packet'].startswith('queryResult id=1 ') or d['packet'].startswith('queryResult id=2 ')]
sys.exit(1 if s['result'] == 'failed' or login or s['matched'] < 2 else 0)
EOF

# Resin's own late client, when built by caucho-client.sh --encrypted
if [ -x "$caucho" ]; then
  printf 'sleep 200\n' >"$work/drive.txt"
  "$caucho" -t 20 "http://127.0.0.1:$port/hmtp" resin secret "$work/drive.txt" >"$work/caucho.out" 2>&1
  grep -q '^RECV queryResult id=1 .*GetPublicKeyQuery' "$work/caucho.out" && grep -q '^LOGIN ok' "$work/caucho.out" ||
    no "Resin's client: $(cat "$work/caucho.out")"
else
  echo "encrypted_login: no Resin client at $caucho: its login not tried" >&2
fi
[ $fail = 0 ] && echo "encrypted_login: the encrypted logins work against the 2009-01-23 server"
exit $fail
