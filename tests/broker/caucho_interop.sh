#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# caucho_interop.sh BROKER_EXE [CLIENT_DIR]: drives hmtp-broker with Caucho
# Resin's own January-2009 HmtpClient (plain login) and checks what it
# receives. A check by hand, not part of CTest: it needs Java 17 and the
# client built by /work/shared/tools/caucho-client.sh (default
# /tmp/caucho-client). Exit 0 pass, 1 fail, 77 when Java or the client is
# missing. The stock-dispatch session runs against a second broker started
# with --presence-payloads.
set -euo pipefail
broker=${1:?usage: caucho_interop.sh BROKER_EXE [CLIENT_DIR]}
client=${2:-/tmp/caucho-client}
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
drive() { # [-s] UID PASSWORD SCRIPT
  local opts=()
  if [ "$1" = -s ]; then opts=(-s); shift; fi
  java --add-opens java.base/java.lang=ALL-UNNAMED --add-opens java.base/java.util=ALL-UNNAMED \
    --add-opens java.base/java.math=ALL-UNNAMED -cp "$client/classes:$client/driver" \
    HmtpDrive "${opts[@]}" -t 30 "http://127.0.0.1:$port/hmtp" "$@"
}

cat >"$work/sub.txt" <<'SCRIPT'
presence @str:hello
subscribe news@localhost @str:sub
sleep 300
presence-to news@localhost @map:formats=text
echo subscribed
sleep 2000
query-get service@localhost @str:notaping
message nobody@localhost @str:lost
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
expect "$work/sub.out" '^RECV messageError .* from="nobody@localhost" value=String:"lost" error=BamError\{type=cancel group=item-not-found'
expect "$work/sub.out" '^RECV presenceUnsubscribed to="ferg@[^"]*" from="news@localhost"'
expect "$work/sub.out" '^RECV presenceUnavailable to="ferg@[^"]*" from="news@localhost"'
expect "$work/pub.out" '^LOGIN ok jid="pub@localhost/hmtp-[0-9]+"'
expect "$work/bad.out" '^RECV queryError id=0 to=null from=null value=com.caucho.bam.hmtp.AuthQuery.* error=BamError\{type=auth group=not-authorized'
expect "$work/bad.out" '^LOGIN failed uid="ferg"'
expect "$work/stock.out" '^RECV presenceUnavailable to="ferg@[^"]*" from="news@localhost"'
if grep -q NullPointerException "$work/stock.out"; then
  echo "caucho_interop: the stock client met a null payload" >&2
  fail=1
fi
if [ "$fail" -ne 0 ]; then
  for f in sub pub bad stock; do echo "--- $f"; cat "$work/$f.out"; done >&2
  for f in default stock; do echo "--- broker $f"; cat "$work/$f.log"; done >&2
  exit 1
fi
echo "caucho_interop: Resin's 2009 HmtpClient works against $(basename "$broker")"
