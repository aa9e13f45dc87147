#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""check_capture.py: does a sample capture hold what captures/manifest.json says?

Both decoders are asked: the replayer (`hmtp-replay dump --json`) and the
Wireshark plugin (tshark with the plugin loaded from the build tree). Each
must find, per direction, the same number of packets of each type, the same
JIDs and the same error groups as the manifest, which was written from the
scenarios that recorded the captures. A regression in either decoder, or a
re-recording that lost something, shows here.

usage: check_capture.py --manifest M --capture FILE --replay BIN
                        [--plugin SO --tshark-wrapper SH]
       check_capture.py --manifest M --capture FILE --replay BIN --print
         (prints the replayer's summary as a manifest entry, for review)
"""
import argparse
import collections
import json
import os
import re
import subprocess
import sys
import tempfile

TYPE_NAMES = ["message", "messageError", "queryGet", "querySet", "queryResult", "queryError",
              "presence", "presenceUnavailable", "presenceProbe", "presenceSubscribe",
              "presenceSubscribed", "presenceUnsubscribe", "presenceUnsubscribed", "presenceError"]


def new_summary():
    return {"c2s": collections.Counter(), "s2c": collections.Counter(), "jids": set(),
            "errors": {"c2s": collections.Counter(), "s2c": collections.Counter()}}


def canonical(s):
    return {"c2s": dict(sorted(s["c2s"].items())), "s2c": dict(sorted(s["s2c"].items())),
            "jids": sorted(s["jids"]),
            "errors": {d: dict(sorted(s["errors"][d].items())) for d in ("c2s", "s2c")}}


def from_replay(replay, capture, entry):
    cmd = [replay, "dump", "--json"]
    if entry.get("port_only"):
        cmd += ["--port", str(entry["server_port"])]
    out = subprocess.run(cmd + [capture], capture_output=True, text=True, timeout=120)
    if out.returncode != 0:
        sys.exit(f"hmtp-replay dump failed ({out.returncode}): {out.stderr}")
    s = new_summary()
    sessions = set()
    for line in out.stdout.splitlines():
        p = json.loads(line)
        sessions.add(p["session"])
        d = p["direction"]
        s[d][p["type_name"]] += 1
        for k in ("to", "from"):
            if p[k] is not None:
                s["jids"].add(p[k])
        if p["error"] is not None:
            s["errors"][d][f'{p["error"]["type"]}/{p["error"]["group"]}'] += 1
    return s, len(sessions)


def tshark_version():
    out = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout
    m = re.search(r"(\d+\.\d+)\.\d+", out)
    return m.group(1) if m else ""


def tshark_entry(entry):
    """The manifest entry as this tshark sees it: Wireshark's TCP layer differs
    between versions (what it hands to dissectors after retransmissions), so
    an entry may name, per major.minor, other preferences and the packets
    that version's TCP never delivers (tshark_misses). Only the plugin's
    expectation changes; hmtp-replay reassembles TCP itself."""
    return dict(entry, **entry.get("tshark_by_version", {}).get(tshark_version(), {}))


def plugin_want(entry, want):
    misses = tshark_entry(entry).get("tshark_misses", {})
    got = json.loads(json.dumps(want))
    for d, types in misses.items():
        for t, n in types.items():
            got[d][t] -= n
            if got[d][t] == 0:
                del got[d][t]
    return got


def from_plugin(wrapper, plugin, capture, entry):
    # The unprivileged tshark must be able to read the capture.
    with tempfile.TemporaryDirectory() as tmp:
        os.chmod(tmp, 0o755)
        copy = os.path.join(tmp, os.path.basename(capture))
        with open(capture, "rb") as src, open(copy, "wb") as dst:
            dst.write(src.read())
        os.chmod(copy, 0o644)
        cmd = ["bash", wrapper, plugin, "-r", copy, "-Y", "hmtp"]
        if entry.get("port_only"):
            cmd += ["-d", f"tcp.port=={entry['server_port']},hmtp"]
        for pref in tshark_entry(entry).get("tshark_prefs", []):
            cmd += ["-o", pref]
        cmd += ["-T", "fields", "-E", "occurrence=a", "-E", "aggregator=\x1f", "-E", "separator=\x1e"]
        for f in ("tcp.srcport", "hmtp.type", "hmtp.to", "hmtp.from", "hmtp.error.type", "hmtp.error.group"):
            cmd += ["-e", f]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        sys.exit(f"tshark with the plugin failed ({out.returncode}): {out.stderr}")
    s = new_summary()
    # not splitlines(): it also breaks at \x1e and \x1f
    for line in filter(None, out.stdout.split("\n")):
        cols = line.split("\x1e")
        srcport, types, tos, froms, etypes, egroups = (c.split("\x1f") if c else [] for c in cols)
        d = "s2c" if srcport[0] == str(entry["server_port"]) else "c2s"
        for t in types:
            s[d][TYPE_NAMES[int(t)]] += 1
        for j in tos + froms:
            if j:
                s["jids"].add(j)
        # error.type and error.group appear once per error packet, in order
        for et, eg in zip(etypes, egroups):
            s["errors"][d][f"{et}/{eg}"] += 1
    return s


def compare(label, got, want):
    problems = []
    for key in ("c2s", "s2c", "jids", "errors"):
        if got[key] != want[key]:
            problems.append(f"{label}: {key}: got {json.dumps(got[key], ensure_ascii=False)}, "
                            f"manifest says {json.dumps(want[key], ensure_ascii=False)}")
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--capture", required=True)
    ap.add_argument("--replay", required=True)
    ap.add_argument("--plugin")
    ap.add_argument("--tshark-wrapper")
    ap.add_argument("--print", action="store_true")
    args = ap.parse_args()
    name = os.path.basename(args.capture)
    manifest = json.load(open(args.manifest, encoding="utf-8"))
    entry = manifest.get(name)
    if entry is None:
        sys.exit(f"{name}: not described in {args.manifest}")
    replay_summary, sessions = from_replay(args.replay, args.capture, entry)
    if args.print:
        print(json.dumps({name: dict(entry, sessions=sessions, **canonical(replay_summary))},
                         ensure_ascii=False, indent=2))
        return
    want = {k: entry[k] for k in ("c2s", "s2c", "jids", "errors")}
    problems = compare("hmtp-replay dump", canonical(replay_summary), want)
    if sessions != entry["sessions"]:
        problems.append(f"hmtp-replay dump: {sessions} sessions, manifest says {entry['sessions']}")
    if args.plugin:
        problems += compare("tshark + plugin", canonical(from_plugin(args.tshark_wrapper, args.plugin,
                                                                     args.capture, entry)),
                            plugin_want(entry, want))
    if problems:
        print(f"FAIL {name}:\n  " + "\n  ".join(problems))
        sys.exit(1)
    total = sum(entry["c2s"].values()) + sum(entry["s2c"].values())
    print(f"ok {name}: {total} packets, {entry['sessions']} sessions, both decoders agree with the manifest")


if __name__ == "__main__":
    main()
