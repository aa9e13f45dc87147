#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Peak memory of `hmtp-replay dump` and `hmtp-replay replay` against the
capture's length: generated captures of about SIZE_MB megabytes each
(default 10 100 1024), all of the same shape, so that only the length
changes: sessions of a login and PINGS ping queries (each payload PAYLOAD
characters), INTERLEAVE sessions open at once with their frames taken in
turn. Each capture is replayed with --top-speed --settle 0 against a fresh
hmtp-broker on loopback; /usr/bin/time -v around each run gives the peak
RSS; the replay's JSON report gives sessions, replies, p50/p99 latency.

usage: replay_memory.py BUILD_DIR [--before BIN] [--only dump|replay]
                        [--pace MODE] [SIZE_MB ...]

--pace MODE replays with --pace MODE instead of --top-speed (conversation
is the replayer's default pace).
--before BIN runs the same commands with another hmtp-replay (main's build)
beside BUILD_DIR's, on the same capture. Captures go to TMPDIR (check the
free space: the largest capture, plus as much again for the replayer's spill
file) and are deleted after their runs."""

import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'replay'))
import hmtp_fixture as fx  # noqa: E402
import hmtp_bytes as hb  # noqa: E402  (on the path through hmtp_fixture)

PINGS, PAYLOAD, INTERLEAVE = 40, 300, 16

args = sys.argv[1:]
build = args.pop(0)
before = None
only = None
pace = 'top-speed'
while args and args[0].startswith('--'):
    opt = args.pop(0)
    if opt == '--before':
        before = args.pop(0)
    elif opt == '--only':
        only = args.pop(0)
    elif opt == '--pace':
        pace = args.pop(0)
    else:
        sys.exit('unknown option ' + opt)
sizes = [int(a) for a in args] or [10, 100, 1024]
after_bin = os.path.join(build, 'replay', 'hmtp-replay')
broker_bin = os.path.join(build, 'broker', 'hmtp-broker')
work = tempfile.mkdtemp(prefix='hmtp-replay-mem-')
UID = b'u00000'  # patched per session: same length, so every frame keeps its size


def template():
    """One session's frames; its user name and client port are patched."""
    c = fx.Conversation(True)
    uid = UID.decode()
    jid = uid + '@localhost/r1'
    c.send('c2s', 'querySet', None, None, fx.auth_query(uid, 'pw', 'r1'), id=fx.Long(0))
    c.send('s2c', 'queryResult', jid, None, fx.auth_result(jid), id=fx.Long(0))
    for i in range(1, PINGS + 1):
        payload = ('ping %d ' % i).ljust(PAYLOAD, 'x')
        c.send('c2s', 'queryGet', 'service@localhost', jid, fx.ping_query(payload), id=fx.Long(i))
        c.send('s2c', 'queryResult', jid, 'service@localhost', fx.ping_query(payload, 'hmtp-broker', True),
               id=fx.Long(i))
    segs = fx.tcp_segments(c, mss=1448, isn=(1000, 5000))
    return [data for _, data, _ in fx.frames(segs, fx.Endpoints(client_port=1024), 'ether')]


def session_frames(tpl, k):
    port = struct.pack('>H', 1024 + k % 60000)
    uid = b'u%05d' % (k % 100000)
    out = []
    for data in tpl:
        if data[26:30] == bytes([192, 0, 2, 1]):  # client to server: source port
            data = data[:34] + port + data[36:]
        else:
            data = data[:36] + port + data[38:]
        out.append(data.replace(UID, uid))
    return out


def write_capture(path, size_mb):
    tpl = template()
    per_session = sum(16 + len(d) for d in tpl)
    n = max(INTERLEAVE, (size_mb << 20) // per_session)
    t = 1232532000.0
    packets = 0
    with open(path, 'wb') as f:
        f.write(hb.pcap_header(1))
        for first in range(0, n, INTERLEAVE):
            group = [session_frames(tpl, k) for k in range(first, min(n, first + INTERLEAVE))]
            for i in range(len(tpl)):
                for frames in group:
                    sec = int(t)
                    d = frames[i]
                    f.write(struct.pack('<IIII', sec, int((t - sec) * 1e6), len(d), len(d)) + d)
                    t += 0.0001
    return n, n * (2 + 2 * PINGS)


def peak_kb(text):
    m = re.search(r'Maximum resident set size \(kbytes\): (\d+)', text)
    return int(m.group(1)) if m else -1


def timed(cmd):
    t0 = time.perf_counter()
    p = subprocess.run(['/usr/bin/time', '-v'] + cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    return p.returncode, time.perf_counter() - t0, peak_kb(p.stderr), p.stderr


def start_broker():
    port_file = os.path.join(work, 'port')
    if os.path.exists(port_file):
        os.unlink(port_file)
    log = open(os.path.join(work, 'broker.log'), 'w')
    b = subprocess.Popen([broker_bin, '--listen', '127.0.0.1:0', '--port-file', port_file, '--allow-any-user',
                          '--domain', 'localhost'], stdout=log, stderr=log)
    while not (os.path.exists(port_file) and open(port_file).read().strip()):
        time.sleep(0.02)
    return b, int(open(port_file).read())


def run_replay(binary, cap):
    broker, port = start_broker()
    report = os.path.join(work, 'report.json')
    if os.path.exists(report):
        os.unlink(report)
    try:
        rc, secs, kb, err = timed([binary, '--target', '127.0.0.1:%d' % port, '--pace', pace, '--settle', '0',
                                   '--timeout', '60000', '--report-json', report, cap])
    finally:
        broker.terminate()
        broker.wait()
    summary = json.load(open(report))['summary'] if os.path.exists(report) else None
    return rc, secs, kb, summary, err


binaries = [('after', after_bin)] + ([('before', before)] if before else [])
for size in sizes:
    cap = os.path.join(work, 'mem-%d.pcap' % size)
    t0 = time.perf_counter()
    n, packets = write_capture(cap, size)
    mb = os.path.getsize(cap) / 1e6
    print('capture %.1f MB: %d sessions, %d HMTP packets (written in %.0f s)'
          % (mb, n, packets, time.perf_counter() - t0), flush=True)
    for name, binary in binaries:
        if only != 'replay':
            rc, secs, kb, err = timed([binary, 'dump', '--json', cap])
            print('  %-6s dump   exit %d  %7.1f s  peak RSS %7.1f MB' % (name, rc, secs, kb / 1024.0), flush=True)
        if only != 'dump':
            rc, secs, kb, s, err = run_replay(binary, cap)
            line = '  %-6s replay exit %d  %7.1f s  peak RSS %7.1f MB' % (name, rc, secs, kb / 1024.0)
            if s:
                line += ('  sessions %d ok %d; replies %d matched %d missing %d; engine %.1f s; '
                         'latency p50 %.2f ms p99 %.2f ms'
                         % (s['sessions'], s['ok'], s['replies'], s['matched'], s['missing'], s['elapsed_s'],
                            s['latency_ms']['p50'], s['latency_ms']['p99']))
            else:
                line += '\n' + err[-1500:]
            print(line, flush=True)
    os.unlink(cap)
shutil.rmtree(work)
