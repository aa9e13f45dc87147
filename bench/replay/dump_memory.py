#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Peak memory of `hmtp-replay dump --json` over a generated capture of
about SIZE_MB megabytes (default 1024): many sessions one after the other,
each with large messages split over many TCP segments. A streaming reader
keeps only the connections open at once, so the peak must not follow the
file size.

usage: dump_memory.py BUILD_DIR [SIZE_MB ...]"""

import os
import resource
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'replay'))
import hmtp_fixture as fx  # noqa: E402
import hmtp_bytes as hb  # noqa: E402  (on the path through hmtp_fixture)

build = sys.argv[1]
sizes = [int(a) for a in sys.argv[2:]] or [1024]
replay_bin = os.path.join(build, 'replay', 'hmtp-replay')
work = tempfile.mkdtemp(prefix='hmtp-replay-mem-')

def session_frames(k, t0):
    c = fx.Conversation(True)
    jid = 'user%d@localhost/r1' % k
    c.send('c2s', 'querySet', None, None, fx.auth_query('user%d' % k, 'pw', 'r1'), id=fx.Long(0))
    c.send('s2c', 'queryResult', jid, None, fx.auth_result(jid), id=fx.Long(0))
    for i in range(16):  # 16 messages of 60 000 characters: ~1 MB a session
        c.send('s2c', 'message', jid, 'news@localhost', 'n%d ' % i + 'y' * 60000)
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

for size in sizes:
    cap = os.path.join(work, 'mem-%d.pcap' % size)
    n = write_capture(cap, size)
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    p = subprocess.run([replay_bin, 'dump', '--json', cap], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    bytes_ = os.path.getsize(cap)
    print('%7.1f MB capture, %d sessions: dump exit %d in %.1f s (%.1f MB/s), peak RSS %.1f MB%s'
          % (bytes_ / 1e6, n, p.returncode, secs, bytes_ / secs / 1e6, peak / 1024.0,
             '' if peak > before else ' (not above an earlier run)'))
    if p.returncode != 0:
        print(p.stderr.decode()[-1000:])
    os.unlink(cap)
