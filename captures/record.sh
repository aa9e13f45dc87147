#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Re-records the sample captures: hmtp-broker and the scripted hmtp-client
# talk over the loopback of a private network namespace while tcpdump
# records. Needs root (network namespace, tcpdump), iproute2, nftables,
# tcpdump, editcap (wireshark-common) and python3.
#
#   captures/record.sh [BUILD_DIR]          (default: build/)
#
# With RESIN_CLIENT=/tmp/caucho-client/hmtp-drive and
# RESIN_CLIENT_ENCRYPTED=/tmp/caucho-client-enc/hmtp-drive (built by
# ../shared/tools/caucho-client.sh, plain and --encrypted) it also records
# the sessions of Resin's own clients; without them the existing
# resin-client captures are kept. The scripted client logs in encrypted, as
# Resin's late client does, except where a scenario says login=plain.
# Running it twice gives captures that decode to the same HMTP packets
# (timestamps, ports and TCP details differ).
#
# ONLY="errors.pcapng midstream.pcap ..." records just those captures (the
# others stay as they are). With RESIN_SERVER=/tmp/resin-server/resin-hmtp-server
# (Resin's own 2009 server side, built by ../shared/tools/resin-server.sh) it
# also records the resin-server-*.pcapng captures against that server instead
# of hmtp-broker: Resin's early client (needs RESIN_CLIENT) and hmtp-client
# with plain logins (Resin has no encrypted login at that revision).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=$(cd "${1:-$root/build}" && pwd)
broker=$build/broker/hmtp-broker
client=$build/client/hmtp-client
examples=$root/client/examples
scenarios=$here/scenarios
for tool in "$broker" "$client"; do
  [ -x "$tool" ] || { echo "record.sh: $tool is missing: build first" >&2; exit 2; }
done
[ "$(id -u)" = 0 ] || { echo "record.sh: needs root (network namespace, tcpdump)" >&2; exit 2; }
for cmd in ip tcpdump editcap python3; do
  command -v $cmd >/dev/null || { echo "record.sh: $cmd is missing" >&2; exit 2; }
done

ns=hmtp-record-$$
work=$(mktemp -d)
chmod 755 "$work" # tcpdump drops root and writes its file as user tcpdump
cleanup() {
  ip netns pids "$ns" 2>/dev/null | xargs -r kill 2>/dev/null || true
  ip netns del "$ns" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
ip netns add "$ns"
in_ns() { ip netns exec "$ns" "$@"; }
in_ns ip link set lo up

# record OUT PORT "BROKER ARGS" CLIENT-COMMAND...
# Starts the broker on 127.0.0.1:PORT and tcpdump, runs the command (which
# may refer to $port), stops both, writes OUT (.pcap or .pcapng).
# With BROKER ARGS "resin" the server is Resin's own (RESIN_SERVER), with
# its MemoryPubSub at news@localhost.
wanted() {
  [ -z "${ONLY:-}" ] && return 0
  case " $ONLY " in *" ${1/-full/} "*) return 0 ;; esac
  return 1
}
record() {
  local out=$1 port=$2 broker_args=$3
  shift 3
  wanted "$out" || return 0
  rm -f "$work/port" "$work/raw.pcap" "$work/tcpdump.log" "$work/broker.log"
  if [ "$broker_args" = resin ]; then
    # Resin's server writes no port file: wait until the port answers.
    ip netns exec "$ns" "$RESIN_SERVER" --pubsub news@localhost "$port" >"$work/broker.log" 2>&1 &
    local broker_pid=$!
    local up=0
    for _ in $(seq 300); do
      in_ns bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null && { up=1; break; }
      sleep 0.1
    done
    [ $up = 1 ] || { cat "$work/broker.log" >&2; echo "record.sh: Resin's server did not start" >&2; exit 1; }
    # Resin closes the probe's connection only after it gave up reading a
    # request: let that FIN pass before tcpdump starts, so the capture holds
    # only the sessions.
    sleep 2
  else
    # shellcheck disable=SC2086
    # `ip netns exec` execs the command, so $! is the broker's own pid.
    # One fixed key pair (broker-key.pem, a throwaway test key): the key
    # answers are the same in every recording, and Wireshark can decrypt the
    # logins with it.
    ip netns exec "$ns" "$broker" --listen "127.0.0.1:$port" --port-file "$work/port" \
      --key "$here/broker-key.pem" $broker_args \
      2>"$work/broker.log" &
    local broker_pid=$!
    for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.05; done
    [ -s "$work/port" ] || { cat "$work/broker.log" >&2; echo "record.sh: broker did not start" >&2; exit 1; }
  fi
  ip netns exec "$ns" tcpdump -i lo --immediate-mode -B 65536 -U -s 0 -w "$work/raw.pcap" "tcp port $port" 2>"$work/tcpdump.log" &
  local dump_pid=$!
  for _ in $(seq 100); do grep -qs 'listening on' "$work/tcpdump.log" && break; sleep 0.05; done
  if ! "$@" >"$work/client.log" 2>&1; then
    cat "$work/client.log" >&2
    echo "record.sh: the client failed while recording $out" >&2
    exit 1
  fi
  sleep 1 # let tcpdump take the last segments from the kernel
  kill -INT "$dump_pid"; wait "$dump_pid" 2>/dev/null || true
  # A capture with holes is not a sample: tcpdump must not have dropped any.
  if ! grep -q '^0 packets dropped by kernel' "$work/tcpdump.log"; then
    cat "$work/tcpdump.log" >&2
    echo "record.sh: tcpdump dropped packets while recording $out" >&2
    exit 1
  fi
  kill -TERM "$broker_pid"; wait "$broker_pid" 2>/dev/null || true
  finish "$work/raw.pcap" "$out"
}

# Writes IN to captures/OUT in the format its extension names.
finish() {
  case $2 in
    *.pcapng) editcap -F pcapng "$1" "$here/$2" ;;
    *.pcap) cp "$1" "$here/$2" ;;
  esac
  echo "recorded $2 ($(stat -c %s "$here/$2") bytes)" >&2
}

run_client() { in_ns "$client" --server "127.0.0.1:$1" "${@:2}"; }

# The everyday sessions, on Resin's default HTTP port.
record presence-pubsub.pcapng 8080 "--allow-any-user" \
  run_client 8080 "$examples/pubsub.hmtp"
record all-types.pcapng 8080 "--allow-any-user" \
  run_client 8080 "$examples/all-types.hmtp"
record errors.pcapng 8080 "--allow-any-user" \
  run_client 8080 "$scenarios/errors.hmtp"
record unicode.pcapng 8080 "--allow-any-user" \
  run_client 8080 "$examples/unicode.hmtp"
logins_and_queries() {
  run_client 8080 "$examples/login.hmtp" && run_client 8080 "$examples/queries.hmtp"
}
record logins-queries.pcap 8080 "--user alice:secret --user carol:pw" logins_and_queries
record large-payloads.pcap 8080 "--allow-any-user --max-packet 4M" \
  run_client 8080 -t 20s "$scenarios/large.hmtp"
# GET upgrade with the Upgrade header echoed, on a Resin cluster port.
record upgrade-get.pcapng 6801 "--allow-any-user --upgrade-header" \
  run_client 6801 -D SERVER=127.0.0.1:6801 "$scenarios/upgrade-get.hmtp"

# A capture that starts after the upgrade, the logins and the first class
# definitions: the scenario pauses where the cut goes.
if wanted midstream.pcap; then
  record midstream-full.pcap 8080 "--allow-any-user" \
    run_client 8080 "$scenarios/midstream.hmtp"
  python3 "$here/cut_at_pause.py" "$here/midstream-full.pcap" "$here/midstream.pcap"
  rm -f "$here/midstream-full.pcap"
fi

# TCP trouble: MTU 576 (MSS 536), and random drops: before tcpdump sees a
# segment (egress: the capture then shows later data before the resent
# segment, out of order) and after it (ingress: the capture shows the
# segment twice, a retransmission).
if ! wanted tcp-trouble.pcapng; then
  :
elif command -v nft >/dev/null; then
  in_ns ip link set lo mtu 576
  in_ns nft -f - <<'NFT'
table inet trouble {
  chain out { type filter hook output priority 0; tcp sport 8080 tcp flags & (syn|fin|rst) == 0 meta length > 200 numgen random mod 12 == 0 drop; }
  chain in { type filter hook input priority 0; tcp dport 8080 tcp flags & (syn|fin|rst) == 0 meta length > 200 numgen random mod 12 == 0 drop; }
}
NFT
  record tcp-trouble.pcapng 8080 "--allow-any-user" \
    run_client 8080 -t 20s "$scenarios/segmented.hmtp"
  in_ns nft delete table inet trouble
  in_ns ip link set lo mtu 65536
else
  echo "record.sh: nft missing: tcp-trouble.pcapng not re-recorded" >&2
fi

# Resin's own clients, when built: the early one (plain login) and the late
# January 2009 one (encrypted login).
if [ -n "${RESIN_CLIENT:-}" ]; then
  resin() { in_ns "$RESIN_CLIENT" -t 30 "http://127.0.0.1:8080/hmtp" resin secret "$scenarios/resin-client.drive"; }
  record resin-client.pcapng 8080 "--user resin:secret" resin
fi
if [ -n "${RESIN_CLIENT_ENCRYPTED:-}" ]; then
  resin_enc() { in_ns "$RESIN_CLIENT_ENCRYPTED" -t 30 "http://127.0.0.1:8080/hmtp" resin secret "$scenarios/resin-client.drive"; }
  record resin-client-encrypted.pcapng 8080 "--user resin:secret" resin_enc
fi

# Against Resin's own server (the reference the broker is compared with):
# its early client, and hmtp-client with plain logins in scenarios that
# expect Resin's answers.
if [ -n "${RESIN_SERVER:-}" ]; then
  if [ -n "${RESIN_CLIENT:-}" ]; then
    resin_at_resin() { in_ns "$RESIN_CLIENT" -t 30 "http://127.0.0.1:8080/hmtp" resin secret "$scenarios/resin-server.drive"; }
    record resin-server-resin-client.pcapng 8080 resin resin_at_resin
  fi
  record resin-server-pubsub.pcapng 8080 resin \
    run_client 8080 "$scenarios/resin-server-pubsub.hmtp"
  record resin-server-queries.pcapng 8080 resin \
    run_client 8080 "$scenarios/resin-server-queries.hmtp"
fi
