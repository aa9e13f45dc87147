#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hmtp-decode as a user meets it: the worked example of the protocol
# description, an HTTP head to skip, bad and truncated input, bad usage.
set -euo pipefail
decode=$1 sample=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
want='{"index":0,"offset":0,"length":38,"chunks":1,"type":9,"type_name":"presenceSubscribe","to":"news@cnn.com","from":"ferg@hmtp.caucho.com","id":null,"value":null,"error":null}'

got=$("$decode" "$sample")
[ "$got" = "$want" ] || fail "worked example: got $got"
got=$("$decode" - < "$sample")
[ "$got" = "$want" ] || fail "worked example on stdin: got $got"

# The server's side of an upgrade, then two packets and an empty packet.
{ printf 'HTTP/1.1 101 Switching Protocols\r\nServer: Resin/4.0.0\r\nContent-Length: 0\r\n\r\n'
  cat "$sample"; printf '\x00'; cat "$sample"; } > "$work/with-http"
got=$("$decode" --skip-http "$work/with-http" | wc -l)
[ "$got" = 2 ] || fail "--skip-http: $got packets, want 2"
"$decode" --skip-http "$work/with-http" | sed -n 2p | grep -q '"index":1,"offset":39,' ||
  fail "--skip-http: the second packet's offset counts from the first HMTP byte"
if "$decode" "$work/with-http" > /dev/null 2> "$work/err"; then fail "an HTTP head was decoded as HMTP"; fi

# A queryGet whose id is a string: the line still comes, with decode_error;
# one stderr line names the packet and offset; exit 1.
printf '\x07\x92\x4e\x4e\x02ab\x4e\x00' > "$work/bad-id"
if "$decode" "$work/bad-id" > "$work/out" 2> "$work/err"; then fail "bad id accepted"; fi
grep -q '"decode_error":{"code":"bad-packet","offset":3' "$work/out" || fail "bad id: $(cat "$work/out")"
grep -q 'packet 0 at stream offset 0' "$work/err" || fail "bad id stderr: $(cat "$work/err")"

# U+0000 in a JID, at the start, middle and end of to and from (issue 15):
# never a shortened value; the field and offset are named; exit 1.
for jid in '\x00a@b' 'a\x00@b' 'a@b\x00'; do
  printf "\x09\x90\x04$jid\x01xN\x00" > "$work/nul-to"
  printf "\x09\x90\x01x\x04${jid}N\x00" > "$work/nul-from"
  for f in to from; do
    if "$decode" "$work/nul-$f" > "$work/out" 2> "$work/err"; then fail "U+0000 in $f ($jid) accepted"; fi
    want_off=$([ $f = to ] && echo 1 || echo 3)
    grep -q "\"decode_error\":{\"code\":\"bad-string\",\"offset\":$want_off,\"message\":\"packet $f at body offset $want_off is not a JID: U+0000" "$work/out" ||
      fail "U+0000 in $f ($jid): $(cat "$work/out")"
    grep -q "\"$f\":null" "$work/out" || fail "U+0000 in $f ($jid): a value was printed: $(cat "$work/out")"
    grep -q "packet 0 at stream offset 0: packet $f at body offset $want_off is not a JID" "$work/err" ||
      fail "U+0000 in $f stderr: $(cat "$work/err")"
  done
done

# Truncated in the middle of the second packet: the first is printed.
{ cat "$sample"; head -c 20 "$sample"; } > "$work/cut"
if "$decode" "$work/cut" > "$work/out" 2> "$work/err"; then fail "truncated stream accepted"; fi
[ "$(wc -l < "$work/out")" = 1 ] || fail "truncated: the complete packet should still be printed"
grep -q 'ends inside packet 1 (stream offset 58)' "$work/err" || fail "truncated stderr: $(cat "$work/err")"

# A chunk longer than --max-packet stops decoding with a framing error.
if "$decode" --max-packet 10 "$sample" > /dev/null 2> "$work/err"; then fail "oversized accepted"; fi
grep -q 'framing error at stream offset 0' "$work/err" || fail "oversized stderr: $(cat "$work/err")"

# Usage errors: exit 2 with a message.
set +e
"$decode" --no-such-flag "$sample" > /dev/null 2> "$work/err"; rc=$?
[ $rc = 2 ] && grep -q "unknown option '--no-such-flag'" "$work/err" || fail "bad flag: exit $rc"
"$decode" "$work/missing" > /dev/null 2> "$work/err"; rc=$?
[ $rc = 2 ] && grep -q "cannot open" "$work/err" || fail "missing file: exit $rc"
"$decode" --max-packet x "$sample" > /dev/null 2> "$work/err"; rc=$?
[ $rc = 2 ] || fail "bad --max-packet: exit $rc"
# A full disk: output to /dev/full fails with exit 2.
"$decode" "$sample" > /dev/full 2> "$work/err"; rc=$?
[ $rc = 2 ] && grep -q 'writing output' "$work/err" || fail "/dev/full: exit $rc: $(cat "$work/err")"
echo "hmtp-decode CLI: all checks passed"
