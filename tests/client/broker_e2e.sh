#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hmtp-client against the real hmtp-broker: every example scenario passes,
# and failures come out with the right exit code and a message naming the
# scenario line, what was expected and what arrived.
# Usage: broker_e2e.sh HMTP_CLIENT HMTP_BROKER EXAMPLES_DIR
set -u
client=$1 broker=$2 examples=$3
. "$(dirname "$0")/test_lib.sh"

start_broker() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -f "$work/port"
  "$broker" --listen 127.0.0.1:0 --port-file "$work/port" --domain localhost "$@" 2>"$work/broker.log" &
  server_pid=$!
  for _ in $(seq 100); do [ -s "$work/port" ] && return 0; sleep 0.05; done
  echo "broker did not start:" >&2; cat "$work/broker.log" >&2; exit 1
}

# run NAME WANT_EXIT SCENARIO [client options]: output in $work/NAME.out/.err
run() {
  local name=$1 want=$2 scenario=$3; shift 3
  timeout 60 "$client" --port-file "$work/port" "$@" "$scenario" >"$work/$name.out" 2>"$work/$name.err"
  local got=$?
  if [ "$got" != "$want" ]; then
    fail "$name: exit $got, expected $want"; sed 's/^/  | /' "$work/$name.err" >&2
  fi
}

expect_text() { # NAME FILE TEXT
  grep -qF -- "$3" "$work/$1.$2" || { fail "$1: $2 lacks: $3"; sed 's/^/  | /' "$work/$1.$2" >&2; }
}

start_broker --allow-any-user --max-packet 4M
for ex in pubsub all-types queries big unicode misbehave; do
  run "$ex" 0 "$examples/$ex.hmtp" -v
done
expect_text pubsub out "alice < presenceSubscribed from=news@localhost to=alice@localhost/phone"
expect_text pubsub out "bob > message from=null to=news@localhost value=example.NewsItem{...}"
expect_text queries out "queries: all answered"

# --json: one object per received packet, with the connection's name
cat >"$work/json.hmtp" <<'S'
connect j user=json password=pw resource=r
send j queryGet to=service@localhost value={"$class":"hmtp.PingQuery","_payload":{"$long":5},"_server":null}
expect j queryResult id=last
S
run json 0 "$work/json.hmtp" --json
expect_text json out '{"conn":"j","type":4,"type_name":"queryResult","to":"json@localhost/r","from":"service@localhost","id":3,"value":{"$class":"hmtp.PingQuery","_payload":5,"_server":"hmtp-broker"},"error":null}'

# an expectation that fails: exit 1, file:line, what was expected, what came
cat >"$work/wrong.hmtp" <<'S'
connect w user=w password=pw
send w queryGet to=service@localhost value={"$class":"hmtp.PingQuery","_payload":"a","_server":null}
expect w queryResult id=last value={"$class":"hmtp.PingQuery","_payload":"b"} timeout=300ms
S
run wrong 1 "$work/wrong.hmtp"
expect_text wrong err "wrong.hmtp:3: expect w: expected queryResult id=last value=... within 300 ms, it did not come"
expect_text wrong err 'queryResult from=service@localhost to=w@localhost/'
expect_text wrong err 'id=3 value=hmtp.PingQuery{...}  <- value._payload: expected "b", got "a"'

# one class name with two field lists: each gets its own definition, and a
# subscriber receives both objects with their own fields
cat >"$work/fields.hmtp" <<'S'
connect g user=g password=pw
send g presenceSubscribe to=news@localhost
expect g presenceSubscribed from=news@localhost
connect f user=f password=pw
send f message to=news@localhost value={"$class":"C","a":1}
send f message to=news@localhost value={"$class":"C","b":"two","c":3}
expect g message value={"$class":"C","a":1}
expect g message value={"$class":"C","b":"two","c":3}
S
run fields 0 "$work/fields.hmtp"

# scenario syntax errors stop before connecting
printf 'connect a\nsend a presense\n' >"$work/syntax.hmtp"
run syntax 2 "$work/syntax.hmtp"
expect_text syntax err "syntax.hmtp:2:8: unknown packet type 'presense'"

# the examples also pass with the plain login of early 2009
for ex in pubsub all-types queries; do
  run "$ex-plain" 0 "$examples/$ex.hmtp" --plain
done

# logins against a broker that knows one user: encrypted by default (key
# query id 1, login id 2, as Resin's late-January-2009 client), plain with
# --plain or login=plain (login id 0, as the early client)
start_broker --user alice:secret
run login 0 "$examples/login.hmtp" -v
expect_text login out "good > queryGet from=null to=null id=1 value=com.caucho.bam.hmtp.GetPublicKeyQuery{...}"
expect_text login out "good < queryResult from=null to=null id=1 value=com.caucho.bam.hmtp.GetPublicKeyQuery{...}"
expect_text login out "good > querySet from=null to=null id=2 value=com.caucho.bam.hmtp.AuthQuery{...}"
expect_text login out "good < queryResult from=null to=alice@localhost/phone id=2"
expect_text login out "old > querySet from=null to=null id=0 value=com.caucho.bam.hmtp.AuthQuery{...}"
expect_text login out 'wrong < queryError from=null to=null id=2 error=auth/forbidden'
expect_text login out 'stranger < queryError from=null to=null id=0 error=auth/forbidden'
grep -q "^old > queryGet" "$work/login.out" && fail "login: the plain login asked for the key"
printf 'connect x user=alice password=nope\n' >"$work/refused.hmtp"
run refused 1 "$work/refused.hmtp"
expect_text refused err "refused.hmtp:1: connect x: the login as alice was refused: queryError"
run refused-plain 1 "$work/refused.hmtp" --plain
expect_text refused-plain err "the login as alice was refused: queryError from=null to=null id=0"

# a broker that requires encryption: the default login passes, --plain is refused
start_broker --user alice:secret --require-encrypted
printf 'connect x user=alice password=secret\n' >"$work/req.hmtp"
run required 0 "$work/req.hmtp"
run required-plain 1 "$work/req.hmtp" --plain
expect_text required-plain err 'error=auth/forbidden text="passwords must be encrypted"'
printf 'connect x\nlogin x user=alice password=secret login=plain expect=error error=auth/forbidden text="passwords must be encrypted"\nlogin x user=alice password=secret login=encrypted\n' >"$work/req2.hmtp"
run required-switch 0 "$work/req2.hmtp" -v
expect_text required-switch out "x > querySet from=null to=null id=0"
expect_text required-switch out "x > queryGet from=null to=null id=1 value=com.caucho.bam.hmtp.GetPublicKeyQuery{...}"
expect_text required-switch out "x < queryResult from=null to=alice@localhost/"

# nobody listening: exit 3
kill "$server_pid"; wait "$server_pid" 2>/dev/null; server_pid=
printf 'connect x\n' >"$work/down.hmtp"
run down 3 "$work/down.hmtp"
expect_text down err "down.hmtp:1: connect x: connect x to 127.0.0.1:"

[ "$failures" = 0 ] && echo "broker_e2e: all passed"
exit $((failures > 0))
