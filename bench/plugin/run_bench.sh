#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# run_bench.sh BUILD_DIR [PAIRS] [RUNS] [BEFORE_SO]: what the HMTP plugin
# costs tshark, next to what Wireshark's own MQTT dissector costs on a
# capture of the same shape. With BEFORE_SO (a copy of hmtp.so built before
# a change), that plugin runs too, in turn with the others, and the table
# gains its two ratios and after/before.
#
# Captures: 3*PAIRS HMTP packets, one per frame, after a Resin-style upgrade
# on port 8080 (default 70000 pairs -> 210,000 packets; every tenth item's
# title is "Markets close higher"), and 3*PAIRS MQTT packets on port 1883
# (make_mqtt_pcap.py). Each configuration runs RUNS times (default 5), all of
# them in turn so that a drift of the machine's speed hits every one alike;
# the table gives median wall seconds and each ratio's median taken run by
# run:
#   no filter        tshark -r HMTP with the plugin / without it
#   filter           -Y 'hessian.string contains "Markets"' with the plugin
#                    / -Y 'tcp.len>0' without it
#   MQTT (the peer)  -Y 'mqtt.msg contains "Markets"' / -Y 'tcp.len>0'
# tshark runs as nobody (when we are root) with an empty HOME, extcap off,
# and the plugin folder either holding hmtp.so or empty; output to /dev/null.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:?usage: run_bench.sh BUILD_DIR [PAIRS] [RUNS]}
pairs=${2:-70000}
runs=${3:-5}
before_so=${4:-}
so="$build/plugin/hmtp.so"
fixtures="$build/tests/plugin/hmtp-plugin-fixtures"
for f in "$so" "$fixtures"; do
  [ -f "$f" ] || { echo "run_bench: $f missing (build targets hmtp_plugin and hmtp-plugin-fixtures)" >&2; exit 2; }
done
work=$(mktemp -d /tmp/hmtp-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
abi=$(tshark --version 2>/dev/null | sed -n '1s/.* \([0-9]*\.[0-9]*\)\.[0-9]*.*/\1/p')
[ -n "$abi" ] || { echo "run_bench: cannot read tshark's version" >&2; exit 2; }
mkdir -p "$work/with/$abi/epan" "$work/without/$abi/epan" "$work/home" "$work/extcap"
cp "$so" "$work/with/$abi/epan/hmtp.so"
if [ -n "$before_so" ]; then
  [ -f "$before_so" ] || { echo "run_bench: $before_so missing" >&2; exit 2; }
  mkdir -p "$work/before/$abi/epan"
  cp "$before_so" "$work/before/$abi/epan/hmtp.so"
fi

"$fixtures" flood "$pairs" "$work/flood.rec"
python3 "$root/tests/plugin/make_pcap.py" "$work/flood.rec" "$work/hmtp.pcap"
python3 "$here/make_mqtt_pcap.py" "$pairs" "$work/mqtt.pcap"
chmod -R a+rX "$work"
chmod a+rwx "$work/home"

as_user=()
[ "$(id -u)" -eq 0 ] && as_user=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
ts() { # PLUGINS(with|without) tshark args...
  local plugins=$1; shift
  "${as_user[@]}" env HOME="$work/home" WIRESHARK_PLUGIN_DIR="$work/$plugins" \
    WIRESHARK_EXTCAP_DIR="$work/extcap" tshark "$@"
}
ts with -G plugins 2>/dev/null | grep -q '^hmtp\.so' || { echo "run_bench: tshark did not load $so" >&2; exit 1; }
if [ -n "$before_so" ]; then
  ts before -G plugins 2>/dev/null | grep -q '^hmtp\.so' || { echo "run_bench: tshark did not load $before_so" >&2; exit 1; }
fi
ts without -G plugins 2>/dev/null | grep -q '^hmtp\.so' && { echo "run_bench: hmtp.so loads from elsewhere" >&2; exit 1; }

# Sanity: each filter selects the same PAIRS/10 items in both protocols.
want=$(( (pairs + 9) / 10 ))
got_h=$(ts with -r "$work/hmtp.pcap" -Y 'hessian.string contains "Markets"' | wc -l)
got_m=$(ts without -r "$work/mqtt.pcap" -Y 'mqtt.msg contains "Markets"' | wc -l)
[ "$got_h" -eq "$want" ] && [ "$got_m" -eq "$want" ] ||
  { echo "run_bench: filters matched $got_h HMTP / $got_m MQTT frames, expected $want each" >&2; exit 1; }

names=(hmtp_plain_without hmtp_plain_with hmtp_filter_without hmtp_filter_with mqtt_filter_tcp mqtt_filter_mqtt)
[ -n "$before_so" ] && names+=(hmtp_plain_before hmtp_filter_before)
run_config() {
  case $1 in
    hmtp_plain_without) ts without -r "$work/hmtp.pcap" ;;
    hmtp_plain_with) ts with -r "$work/hmtp.pcap" ;;
    hmtp_filter_without) ts without -r "$work/hmtp.pcap" -Y 'tcp.len>0' ;;
    hmtp_filter_with) ts with -r "$work/hmtp.pcap" -Y 'hessian.string contains "Markets"' ;;
    hmtp_plain_before) ts before -r "$work/hmtp.pcap" ;;
    hmtp_filter_before) ts before -r "$work/hmtp.pcap" -Y 'hessian.string contains "Markets"' ;;
    mqtt_filter_tcp) ts without -r "$work/mqtt.pcap" -Y 'tcp.len>0' ;;
    mqtt_filter_mqtt) ts without -r "$work/mqtt.pcap" -Y 'mqtt.msg contains "Markets"' ;;
  esac
}
: > "$work/times"
for ((r = 1; r <= runs; r++)); do
  for name in "${names[@]}"; do
    start=$(date +%s.%N)
    /usr/bin/time -f "%U %S" -o "$work/cpu" bash -c "$(declare -f ts run_config); $(declare -p work as_user); run_config $name" \
      > /dev/null 2> "$work/err" || { echo "run_bench: $name failed: $(tail -3 "$work/err")" >&2; exit 1; }
    end=$(date +%s.%N)
    echo "$r $name $start $end $(tail -1 "$work/cpu")" >> "$work/times"
  done
done

python3 - "$work/times" "$pairs" "$runs" <<'EOF'
import statistics, sys
wall, cpu = {}, {}
for line in open(sys.argv[1]):
    r, name, start, end, user, system = line.split()
    wall.setdefault(name, []).append(float(end) - float(start))
    cpu.setdefault(name, []).append(float(user) + float(system))
pairs, runs = int(sys.argv[2]), int(sys.argv[3])
med = statistics.median
def cell(t, a, b):
    ratios = [x / y for x, y in zip(t[a], t[b])]
    return "%.2f / %.2f s = %.2f (%.2f - %.2f)" % (med(t[a]), med(t[b]), med(ratios), min(ratios), max(ratios))
print("%d packets per capture, %d runs of each; medians, ratio A/B taken run by run (min - max)" % (3 * pairs, runs))
print("| A / B | wall A / B = ratio | CPU (user+sys) A / B = ratio |")
print("|---|---|---|")
for label, a, b in [("HMTP, no filter: plugin / no plugin", "hmtp_plain_with", "hmtp_plain_without"),
                    ("HMTP: `hessian.string contains \"Markets\"` with plugin / `tcp.len>0` without",
                     "hmtp_filter_with", "hmtp_filter_without"),
                    ("MQTT (peer): `mqtt.msg contains \"Markets\"` / `tcp.len>0`", "mqtt_filter_mqtt",
                     "mqtt_filter_tcp")]:
    print("| %s | %s | %s |" % (label, cell(wall, a, b), cell(cpu, a, b)))
if "hmtp_plain_before" in cpu:
    for label, a, b in [("before the change, no filter: plugin / no plugin", "hmtp_plain_before", "hmtp_plain_without"),
                        ("before the change, filter: plugin / `tcp.len>0` without", "hmtp_filter_before",
                         "hmtp_filter_without"),
                        ("no filter: after / before", "hmtp_plain_with", "hmtp_plain_before"),
                        ("filter: after / before", "hmtp_filter_with", "hmtp_filter_before")]:
        print("| %s | %s | %s |" % (label, cell(wall, a, b), cell(cpu, a, b)))
EOF
