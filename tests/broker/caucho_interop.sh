#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# caucho_interop.sh BROKER_EXE [CLIENT_DIR [ENC_CLIENT_DIR]]: drives
# hmtp-broker with Caucho Resin's own January-2009 HmtpClient (plain login)
# and checks what it receives; then, when the late-January build with the
# encrypted login is there (default /tmp/caucho-client-enc), logs in with it
# encrypted and plain (-p), also against a broker with --require-encrypted.
# A check by hand, not part of CTest: it needs Java 17 and the clients built
# by /work/shared/tools/caucho-client.sh (default /tmp/caucho-client). Exit 0
# pass, 1 fail, 77 when Java or the client is missing. The stock-dispatch
# session runs against a second broker started with --presence-payloads.
set -euo pipefail
broker=${1:?usage: caucho_interop.sh BROKER_EXE [CLIENT_DIR]}
client=${2:-/tmp/caucho-client}
enc_client=${3:-/tmp/caucho-client-enc}
command -v java >/dev/null || { echo "caucho_interop: no java" >&2; exit 77; }
[ -d "$client/classes" ] && [ -d "$client/driver" ] ||
  { echo "caucho_interop: no client in $client (run caucho-client.sh)" >&2; exit 77; }

work=$(mktemp -d)
broker_pids=()
cleanup() {
  for pid in "${broker_pids[@]}"; do kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

start_broker() { # NAME [OPTIONS...]: starts a broker, sets $port
  local name=$1
  shift
  "$broker" --listen 127.0.0.1:0 --port-file "$work/$name.port" --user ferg:secret --user pub:pw \
    "$@" 2>"$work/$name.log" &
  broker_pids+=($!)
  for _ in $(seq 100); do [ -s "$work/$name.port" ] && break; sleep 0.05; done
  port=$(cat "$work/$name.port")
}
start_broker default
drive_with() { # CLIENT_DIR [-s|-p] UID PASSWORD SCRIPT
  local dir=$1 opts=()
  shift
  while [ "$1" = -s ] || [ "$1" = -p ]; do opts+=("$1"); shift; done
  java --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED \
    --add-opens java.base/java.math=ALL-UNNAMED --add-opens java.base/java.security=ALL-UNNAMED \
    -cp "$dir/classes:$dir/driver" HmtpDrive "${opts[@]}" -t 30 "http://127.0.0.1:$port/hmtp" "$@"
}
drive() { drive_with "$client" "$@"; }

cat >"$work/sub.txt" <<'SCRIPT'
presence @str:hello
subscribe news@localhost @str:sub
sleep 300
presence-to news@localhost @map:formats=text
echo subscribed
sleep 2000
query-get service@localhost @str:notaping
message nobody@localhost @str:lost
query-get nobody@localhost @str:anyone
sleep 300
unsubscribe news@localhost
sleep 300
SCRIPT
cat >"$work/pub.txt" <<'SCRIPT'
sleep 1200
message news@localhost @str:extra-extra
message news@localhost @list:a,b
sleep 300
SCRIPT

drive ferg secret "$work/sub.txt" >"$work/sub.out" 2>&1 &
sub_pid=$!
drive pub pw "$work/pub.txt" >"$work/pub.out" 2>&1
wait "$sub_pid"
drive ferg wrong - </dev/null >"$work/bad.out" 2>&1 || true
# Caucho's stock dispatch (-s) throws on a null payload and closes the link:
# with --presence-payloads the broker must never send it one in this session.
start_broker stock --presence-payloads
drive -s ferg secret "$work/sub.txt" >"$work/stock.out" 2>&1 || true

# The encrypted login of late January 2009 (key query id 1, login id 2),
# its plain mode (-p), and a broker that refuses plain passwords.
have_enc=0
if [ -d "$enc_client/classes" ] && [ -d "$enc_client/driver" ]; then
  have_enc=1
  printf 'query-get service@localhost @str:after-login\nsleep 300\n' >"$work/enc.txt"
  start_broker enc
  drive_with "$enc_client" ferg secret "$work/enc.txt" >"$work/enc.out" 2>&1 || true
  drive_with "$enc_client" ferg Wr0ngPw - </dev/null >"$work/enc-bad.out" 2>&1 || true
  drive_with "$enc_client" -p ferg secret "$work/enc.txt" >"$work/enc-plain.out" 2>&1 || true
  start_broker required --require-encrypted
  drive_with "$enc_client" ferg secret "$work/enc.txt" >"$work/req.out" 2>&1 || true
  drive_with "$enc_client" -p ferg secret - </dev/null >"$work/req-plain.out" 2>&1 || true
else
  echo "caucho_interop: no encrypted client in $enc_client: skipping the encrypted login" >&2
fi

fail=0
expect() { # FILE PATTERN
  if ! grep -qE "$2" "$1"; then
    echo "caucho_interop: missing in $(basename "$1"): $2" >&2
    fail=1
  fi
}
expect "$work/sub.out" '^LOGIN ok jid="ferg@localhost/hmtp-[0-9]+"'
expect "$work/sub.out" '^RECV queryResult id=0 to="ferg@localhost/hmtp-[0-9]+" from=null value=com.caucho.bam.hmtp.AuthResult'
expect "$work/sub.out" '^RECV presenceSubscribed to="ferg@[^"]*" from="news@localhost" value=String:"sub"'
expect "$work/sub.out" '^RECV presence to="ferg@[^"]*" from="news@localhost" value=null'
expect "$work/sub.out" '^RECV presenceProbe to="ferg@[^"]*" from="news@localhost" value=null'
expect "$work/stock.out" '^RECV presence to="ferg@[^"]*" from="news@localhost" value=java.util.HashMap:\{_jid=news@localhost\}'
expect "$work/sub.out" '^RECV message to="ferg@[^"]*" from="news@localhost" value=String:"extra-extra"'
expect "$work/sub.out" '^RECV message to="ferg@[^"]*" from="news@localhost" value=java.util.ArrayList:\[a, b\]'
expect "$work/sub.out" '^RECV queryError id=1 .* from="service@localhost" value=String:"notaping" error=BamError\{type=cancel group=feature-not-implemented'
# as Resin's server: a message to nobody is dropped, a query answered service-unavailable
if grep -q '^RECV messageError' "$work/sub.out"; then
  echo "FAIL: a message to nobody@localhost was answered" >&2
  fail=1
fi
expect "$work/sub.out" '^RECV queryError id=2 .* from="nobody@localhost" value=String:"anyone" error=BamError\{type=cancel group=service-unavailable text="'"'"'nobody@localhost'"'"' is an unknown service for queryGet"'
expect "$work/sub.out" '^RECV presenceUnsubscribed to="ferg@[^"]*" from="news@localhost"'
expect "$work/sub.out" '^RECV presenceUnavailable to="ferg@[^"]*" from="news@localhost"'
expect "$work/pub.out" '^LOGIN ok jid="pub@localhost/hmtp-[0-9]+"'
expect "$work/bad.out" '^RECV queryError id=0 to=null from=null value=com.caucho.bam.hmtp.AuthQuery.* error=BamError\{type=auth group=forbidden'
expect "$work/bad.out" '^LOGIN failed uid="ferg"'
expect "$work/stock.out" '^RECV presenceUnavailable to="ferg@[^"]*" from="news@localhost"'
if [ "$have_enc" = 1 ]; then
  key='value=com.caucho.bam.hmtp.GetPublicKeyQuery:GetPublicKeyQuery\[RSA,X.509\]'
  expect "$work/enc.out" "^RECV queryResult id=1 to=null from=null $key"
  expect "$work/enc.out" '^RECV queryResult id=2 to="ferg@localhost/hmtp-[0-9]+" from=null value=com.caucho.bam.hmtp.AuthResult'
  expect "$work/enc.out" '^LOGIN ok jid="ferg@localhost/hmtp-[0-9]+"'
  expect "$work/enc.out" '^RECV queryError id=3 .* from="service@localhost" value=String:"after-login"'
  expect "$work/enc-bad.out" '^RECV queryError id=2 to=null from=null value=com.caucho.bam.hmtp.AuthQuery:AuthQuery\[ferg,EncryptedObject\] error=BamError\{type=auth group=forbidden'
  expect "$work/enc-bad.out" '^LOGIN failed uid="ferg"'
  expect "$work/enc-plain.out" '^RECV queryResult id=1 to="ferg@localhost/hmtp-[0-9]+" from=null value=com.caucho.bam.hmtp.AuthResult'
  expect "$work/req.out" '^LOGIN ok jid="ferg@localhost/hmtp-[0-9]+"'
  expect "$work/req-plain.out" '^RECV queryError id=1 to=null from=null value=com.caucho.bam.hmtp.AuthQuery:AuthQuery\[ferg,String\] error=BamError\{type=auth group=forbidden text="passwords must be encrypted"'
  expect "$work/req-plain.out" '^LOGIN failed uid="ferg"'
  for log in enc required; do
    if grep -q -e secret -e Wr0ngPw "$work/$log.log"; then
      echo "caucho_interop: a password appears in the $log broker's log" >&2
      fail=1
    fi
  done
fi
if grep -q NullPointerException "$work/stock.out"; then
  echo "caucho_interop: the stock client met a null payload" >&2
  fail=1
fi
if [ "$fail" -ne 0 ]; then
  for f in sub pub bad stock enc enc-bad enc-plain req req-plain; do
    [ -f "$work/$f.out" ] && { echo "--- $f"; cat "$work/$f.out"; }
  done >&2
  for f in default stock enc required; do
    [ -f "$work/$f.log" ] && { echo "--- broker $f"; cat "$work/$f.log"; }
  done >&2
  exit 1
fi
echo "caucho_interop: Resin's 2009 HmtpClient works against $(basename "$broker")$([ "$have_enc" = 1 ] && echo ", plain and encrypted")"
