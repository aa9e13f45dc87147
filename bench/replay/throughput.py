#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Replay throughput: hmtp-replay --top-speed against hmtp-broker, next to
hmtp-blast (the same client bytes to the same broker with no verification)
and the ceiling of simply writing the same client bytes to a socket.

usage: throughput.py [--rounds N] [--base BASE_BUILD_DIR] BUILD_DIR [SESSIONS] [PINGS_PER_SESSION]

The capture holds SESSIONS sessions, each a login and PINGS ping queries the
broker answers, so the replay is verified (every reply decoded and compared)
while it is measured. The ceiling writes each session's recorded client bytes
with sendall() to a local socket whose reader discards them.

--rounds N: side-by-side runs of each (default 3; more on a loaded machine).
--base DIR: also run DIR's hmtp-replay (an older build) in the same
alternation, against BUILD_DIR's broker, and print its figures: a
before/after pair measured on the same machine at the same time."""

import json
import os
import atexit
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'replay'))
import hmtp_fixture as fx  # noqa: E402

args = sys.argv[1:]
ROUNDS, base_build = 3, None
while args and args[0] in ('--rounds', '--base') and len(args) > 1:
    if args[0] == '--rounds':
        ROUNDS = int(args[1])
    else:
        base_build = args[1]
    args = args[2:]
if not args:
    raise SystemExit(__doc__)
build = args[0]
sessions = int(args[1]) if len(args) > 1 else 20
pings = int(args[2]) if len(args) > 2 else 2000
replay_bin = os.path.join(build, 'replay', 'hmtp-replay')
broker_bin = os.path.join(build, 'broker', 'hmtp-broker')
work = tempfile.mkdtemp(prefix='hmtp-replay-bench-')
atexit.register(shutil.rmtree, work, True)  # the capture is ~40 MB at 100 x 1000

def conversation(user):
    c = fx.Conversation(True)
    jid = '%s@localhost/r1' % user
    c.send('c2s', 'querySet', None, None, fx.auth_query(user, 'pw', 'r1'), id=fx.Long(0))
    c.send('s2c', 'queryResult', jid, None, fx.auth_result(jid), id=fx.Long(0))
    for i in range(1, pings + 1):
        payload = 'ping %d %s' % (i, 'x' * 64)
        c.send('c2s', 'queryGet', 'service@localhost', jid, fx.ping_query(payload), id=fx.Long(i))
        c.send('s2c', 'queryResult', jid, 'service@localhost', fx.ping_query(payload, 'hmtp-broker', True), id=fx.Long(i))
    return c

frames, client_bytes = [], []
t = 1232532000.0
for k in range(sessions):
    conv = conversation('user%d' % k)
    client_bytes.append(b''.join(m for d, m in conv.messages if d == 'c2s'))
    segs = fx.tcp_segments(conv, mss=1448, isn=(1000, 5000))
    fr = fx.frames(segs, fx.Endpoints(client_port=20000 + k), 'ether', t0=t)
    t += len(fr) * 0.001 + 1
    frames += fr
cap = os.path.join(work, 'bench.pcap')
fx.write_pcap(cap, 1, frames)
total_packets = sessions * (pings + 1)
total_bytes = sum(len(b) for b in client_bytes)

blast_bin = os.path.join(build, 'bench', 'replay', 'hmtp-blast')


def start_broker(tag):
    port_file = os.path.join(work, 'port-%s' % tag)
    log = open(os.path.join(work, 'broker-%s.log' % tag), 'w')
    if os.path.exists(port_file):
        os.unlink(port_file)  # a tag used again: never read the last broker's port
    broker = subprocess.Popen([broker_bin, '--listen', '127.0.0.1:0', '--port-file', port_file,
                               '--allow-any-user', '--domain', 'localhost'], stdout=log, stderr=log)
    while not (os.path.exists(port_file) and open(port_file).read().strip()):
        time.sleep(0.02)
    return broker, int(open(port_file).read())


def run_replay(k, binary=replay_bin):
    broker, port = start_broker('replay%d' % k)
    try:
        report = os.path.join(work, 'report.json')
        t0 = time.perf_counter()
        ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        p = subprocess.run([binary, '--target', '127.0.0.1:%d' % port, '--top-speed', '--settle', '0',
                            '--report-json', report, cap], capture_output=True, text=True)
        wall = time.perf_counter() - t0
        ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = ru1.ru_utime + ru1.ru_stime - ru0.ru_utime - ru0.ru_stime  # the replayer alone: the broker is reaped later
        if p.returncode != 0:
            print(p.stdout[-2000:], p.stderr[-2000:])
            raise SystemExit('replay did not verify clean (exit %d)' % p.returncode)
        return json.load(open(report))['summary'], wall, cpu
    finally:
        broker.kill()
        broker.wait()


def run_blast(k):
    """The same client bytes to the same broker by hmtp-blast: no pacing, no
    decoding, no verification; the replies are read and thrown away."""
    broker, port = start_broker('blast%d' % k)
    try:
        p = subprocess.run([blast_bin, '127.0.0.1:%d' % port, cap, '64'], capture_output=True, text=True)
        if p.returncode != 0:
            raise SystemExit('hmtp-blast failed (exit %d): %s' % (p.returncode, p.stderr))
        return json.loads(p.stdout)
    finally:
        broker.kill()
        broker.wait()


load_before = os.getloadavg()[0]
replays, blasts, bases = [], [], []
for k in range(ROUNDS):  # side by side, alternating, so all see the same machine
    if base_build:
        bases.append(run_replay(k, os.path.join(base_build, 'replay', 'hmtp-replay')))
    replays.append(run_replay(k))
    blasts.append(run_blast(k))


def median_run(runs):
    """The run of median engine time, and the median CPU time."""
    runs = sorted(runs, key=lambda r: r[0]['elapsed_s'])
    return runs[ROUNDS // 2][0], runs[ROUNDS // 2][1], sorted(r[2] for r in runs)[ROUNDS // 2]


s, wall, cpu = median_run(replays)
blasts.sort(key=lambda b: b['seconds'])
blast = blasts[ROUNDS // 2]
if blast['packets'] != s['packets_sent']:
    raise SystemExit('hmtp-blast sent %d packets, the replay %d' % (blast['packets'], s['packets_sent']))

# ceiling: the same bytes, written to a socket that only discards. The reader
# is another process, so it never competes with the writer for the GIL; the
# best of three runs is kept.
SINK = r"""
import socket, sys, threading
srv = socket.socket(); srv.bind(('127.0.0.1', 0)); srv.listen(128)
print(srv.getsockname()[1], flush=True)
def drain(c):
    buf = bytearray(1 << 20)
    while c.recv_into(buf):
        pass
    c.close()
while True:
    c, _ = srv.accept()
    threading.Thread(target=drain, args=(c,), daemon=True).start()
"""
sink = subprocess.Popen([sys.executable, '-c', SINK], stdout=subprocess.PIPE, text=True)
try:
    sink_port = int(sink.stdout.readline())
    ceiling = None
    for _ in range(3):
        t0 = time.perf_counter()
        for b in client_bytes:
            c = socket.create_connection(('127.0.0.1', sink_port))
            c.sendall(b)
            c.close()
        took = time.perf_counter() - t0
        ceiling = took if ceiling is None else min(ceiling, took)
finally:
    sink.kill()
    sink.wait()

r_pps = s['packets_sent'] / s['elapsed_s']
r_mbs = s['bytes_sent'] / s['elapsed_s'] / 1e6
c_pps = total_packets / ceiling
c_mbs = total_bytes / ceiling / 1e6
print('capture: %d sessions x %d pings: %d client packets, %d client bytes, %d replies verified'
      % (sessions, pings, total_packets, total_bytes, s['matched']))
print('hmtp-replay --top-speed: %.3f s engine (%.3f s wall incl. capture load and verification, %.3f s CPU): '
      '%.0f packets/s, %.2f MB/s' % (s['elapsed_s'], wall, cpu, r_pps, r_mbs))
b_pps = blast['packets'] / blast['seconds']
print('hmtp-blast (same bytes, same broker, replies read not checked): %.3f s: %.0f packets/s, %.2f MB/s, '
      '%d reply bytes read' % (blast['seconds'], b_pps, blast['bytes_written'] / blast['seconds'] / 1e6,
                               blast['bytes_read']))
print('ratio replay/blast: %.3f (medians of %d side-by-side runs each; load average %.1f before, %.1f after)'
      % (r_pps / b_pps, ROUNDS, load_before, os.getloadavg()[0]))
if base_build:
    bs, bwall, bcpu = median_run(bases)
    b_rpps = bs['packets_sent'] / bs['elapsed_s']
    print('base %s: %.3f s engine (%.3f s wall, %.3f s CPU): ratio replay/blast %.3f'
          % (base_build, bs['elapsed_s'], bwall, bcpu, b_rpps / b_pps))
print('raw socket write ceiling: %.3f s: %.0f packets/s, %.2f MB/s' % (ceiling, c_pps, c_mbs))
print('ratio replay/ceiling: %.3f' % (r_pps / c_pps))
