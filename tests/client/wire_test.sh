#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hmtp-client's bytes on the wire, checked by fake_server.py against bytes
# written by hand from PROTOCOL.md; and how the client reports a refused
# upgrade and a server that sends garbage.
# Usage: wire_test.sh HMTP_CLIENT FAKE_SERVER_PY
set -u
client=$1 server=$2
. "$(dirname "$0")/test_lib.sh"

# case MODE WANT_CLIENT_EXIT SCENARIO_TEXT: runs the server and the client
case_run() {
  local mode=$1 want=$2
  printf '%s' "$3" >"$work/$mode.hmtp"
  rm -f "$work/port"
  python3 "$server" "$mode" "$work/port" 2>"$work/$mode.server" &
  server_pid=$!
  for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
  timeout 30 "$client" -v --port-file "$work/port" "$work/$mode.hmtp" >"$work/$mode.out" 2>"$work/$mode.err"
  local got=$?
  [ "$got" = "$want" ] || { fail "$mode: client exit $got, expected $want"; cat "$work/$mode.err" >&2; }
  wait "$server_pid"; local sgot=$?; server_pid=
  [ "$sgot" = 0 ] || { fail "$mode: the server saw wrong bytes"; cat "$work/$mode.server" >&2; }
}

case_run session 0 'connect alice user=alice password=pw login=plain
send alice message to=bob@localhost value="hi"
send alice queryGet to=svc@localhost
expect alice queryResult id=last from=svc@localhost value=1
auto-answer alice presenceProbe with {"$class":"Caps","f":"x"}
expect alice presenceProbe from=news@localhost
send alice message to=news@localhost value={"$class":"Caps","f":"y"}
send alice message to=a@b truncate=3
raw alice hex="00ff10"
'
grep -qF "alice < presenceProbe from=news@localhost to=alice@localhost" "$work/session.out" ||
  fail "session: no -v line for the probe"
grep -qF "alice > message from=null to=a@b (only 3 of its 9 bytes)" "$work/session.out" ||
  fail "session: no -v line for the truncated packet"

case_run get 0 'connect g method=GET path=/other host=h.example:1
expect-close g timeout=5s
'

case_run refuse 3 'connect r
'
grep -qF "refuse.hmtp:1: connect r: the server refused the upgrade: HTTP/1.1 404 Not Found" "$work/refuse.err" &&
  grep -qF "no HMTP servlet here" "$work/refuse.err" || { fail "refuse: message"; cat "$work/refuse.err" >&2; }

case_run garbage 1 'connect x
expect x message
'
grep -qF "garbage.hmtp:2: expect x: expected message within" "$work/garbage.err" &&
  grep -qF "undecodable packet from the server" "$work/garbage.err" || { fail "garbage: message"; cat "$work/garbage.err" >&2; }

[ "$failures" = 0 ] && echo "wire_test: all passed"
exit $((failures > 0))
