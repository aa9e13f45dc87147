#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Peak memory and speed of `hmtp-replay dump --json` over a generated
capture of about SIZE_MB megabytes (default 1024): many sessions one after
the other. A streaming reader keeps only the connections open at once, so
the peak must not follow the file size.

usage: dump_memory.py BUILD_DIR [--shape large|small] [--runs N]
                      [--against OTHER_HMTP_REPLAY] [SIZE_MB ...]

--shape large (default): ~1 MB sessions of 16 messages of 60,000
  characters in 1448-byte segments (no packet ever arrives whole).
--shape small: sessions of 2,000 small packets (news items of one class,
  presence, ping queries), one packet a segment: the cost per packet.
--against BIN: runs BIN (say, a copy of hmtp-replay built before a change)
  and the build's, alternately, RUNS times each on the same capture, and
  prints the medians of the CPU time (user + system) and the run-by-run
  ratio build/BIN. The capture is deleted at the end."""

import argparse
import os
import resource
import statistics
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'replay'))
import hmtp_fixture as fx  # noqa: E402
import hmtp_bytes as hb  # noqa: E402  (on the path through hmtp_fixture)

ap = argparse.ArgumentParser()
ap.add_argument('build')
ap.add_argument('sizes', nargs='*', type=int)
ap.add_argument('--shape', choices=('large', 'small'), default='large')
ap.add_argument('--runs', type=int, default=1)
ap.add_argument('--against')
args = ap.parse_intermixed_args()
build = args.build
sizes = args.sizes or [1024]
replay_bin = os.path.join(build, 'replay', 'hmtp-replay')
work = tempfile.mkdtemp(prefix='hmtp-replay-mem-')

def session_frames(k, t0):
    c = fx.Conversation(True)
    jid = 'user%d@localhost/r1' % k
    c.send('c2s', 'querySet', None, None, fx.auth_query('user%d' % k, 'pw', 'r1'), id=fx.Long(0))
    c.send('s2c', 'queryResult', jid, None, fx.auth_result(jid), id=fx.Long(0))
    if args.shape == 'large':
        for i in range(16):  # 16 messages of 60 000 characters: ~1 MB a session
            c.send('s2c', 'message', jid, 'news@localhost', 'n%d ' % i + 'y' * 60000)
    else:
        c.send('c2s', 'presence', None, None, None)
        for i in range(2000):
            if i % 50 == 0:
                c.send('c2s', 'queryGet', 'service@localhost', jid, 'ping', id=fx.Long(i))
                c.send('s2c', 'queryResult', jid, 'service@localhost', 'pong', id=fx.Long(i))
            elif i % 20 == 0:
                c.send('s2c', 'presence', jid, 'friend%d@localhost/r1' % i, None)
            else:
                c.send('s2c', 'message', jid, 'news@localhost',
                       fx.Obj('example.NewsItem', [('title', 'Item %d: markets close higher' % i),
                                                   ('body', 'Stocks rose on the day, ' * 4),
                                                   ('published', fx.Long(1232532000000 + i))]))
    segs = fx.tcp_segments(c, mss=1448, isn=(1000 + k, 5000 + k))
    return fx.frames(segs, fx.Endpoints(client_port=1024 + k % 60000), 'ether', t0=t0)

def write_capture(path, size_mb):
    template = session_frames(0, 0.0)
    with open(path, 'wb') as f:
        f.write(hb.pcap_header(1))
        written, k, t = 0, 0, 1232532000.0
        while written < size_mb << 20:
            # the template's frames with this session's client port patched in:
            # libpcap and hmtp-replay do not check TCP checksums
            port = struct.pack('>H', 1024 + k % 60000)
            for ts, data, orig in template:
                if data[26:30] == bytes([192, 0, 2, 1]):
                    data = data[:34] + port + data[36:]
                else:
                    data = data[:36] + port + data[38:]
                sec = int(t)
                f.write(struct.pack('<IIII', sec, int((t - sec) * 1e6), len(data), orig) + data)
                written += 16 + len(data)
                t += 0.0001
            k += 1
    return k

def run(binary, cap):
    """(exit status, wall s, CPU s, stderr) of one dump --json."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run([binary, 'dump', '--json', cap], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    secs = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return p.returncode, secs, cpu, p.stderr.decode()


for size in sizes:
    cap = os.path.join(work, 'mem-%d.pcap' % size)
    n = write_capture(cap, size)
    bytes_ = os.path.getsize(cap)
    try:
        if not args.against:
            before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            rc, secs, cpu, err = run(replay_bin, cap)
            peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
            print('%7.1f MB capture (%s), %d sessions: dump exit %d in %.1f s (%.1f MB/s), CPU %.2f s, '
                  'peak RSS %.1f MB%s' % (bytes_ / 1e6, args.shape, n, rc, secs, bytes_ / secs / 1e6, cpu,
                                          peak / 1024.0, '' if peak > before else ' (not above an earlier run)'))
            if rc != 0:
                print(err[-1000:])
            continue
        cpu = {'before': [], 'after': []}
        for r in range(args.runs):
            for name, binary in (('before', args.against), ('after', replay_bin)):
                rc, secs, c, err = run(binary, cap)
                if rc != 0:
                    sys.exit('dump_memory: %s exited %d: %s' % (binary, rc, err[-500:]))
                cpu[name].append(c)
        med = statistics.median
        ratios = [a / b for a, b in zip(cpu['after'], cpu['before'])]
        print('%7.1f MB capture (%s), %d sessions, %d runs each: CPU before %.2f s (%.0f MB/s), after %.2f s '
              '(%.0f MB/s), after/before %.3f (%.3f - %.3f)'
              % (bytes_ / 1e6, args.shape, n, args.runs, med(cpu['before']), bytes_ / med(cpu['before']) / 1e6,
                 med(cpu['after']), bytes_ / med(cpu['after']) / 1e6, med(ratios), min(ratios), max(ratios)))
    finally:
        os.unlink(cap)

os.rmdir(work)
