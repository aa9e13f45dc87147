#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Many concurrent sessions: a one-session capture (a login and PINGS ping
queries) replayed N times at once with --sessions-scale N --max-connections N
--top-speed against hmtp-broker, with /usr/bin/time -v around the replayer.

usage: sessions_scale.py BUILD_DIR [N] [PINGS] [TIMEOUT_MS]

Prints the replayer's summary (sessions ok, replies matched, missing,
p50/p99 latency), its wall time and peak RSS, and the broker's peak RSS.
Both processes get an open-file limit above N (the replayer raises its own
soft limit; the broker is started with one)."""

import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'replay'))
import hmtp_fixture as fx  # noqa: E402

build = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
pings = int(sys.argv[3]) if len(sys.argv) > 3 else 10
timeout_ms = int(sys.argv[4]) if len(sys.argv) > 4 else 60000
replay_bin = os.path.join(build, 'replay', 'hmtp-replay')
broker_bin = os.path.join(build, 'broker', 'hmtp-broker')
work = tempfile.mkdtemp(prefix='hmtp-replay-scale-')

c = fx.Conversation(True)
jid = 'user0@localhost/r1'
c.send('c2s', 'querySet', None, None, fx.auth_query('user0', 'pw', 'r1'), id=fx.Long(0))
c.send('s2c', 'queryResult', jid, None, fx.auth_result(jid), id=fx.Long(0))
for i in range(1, pings + 1):
    payload = 'ping %d' % i
    c.send('c2s', 'queryGet', 'service@localhost', jid, fx.ping_query(payload), id=fx.Long(i))
    c.send('s2c', 'queryResult', jid, 'service@localhost', fx.ping_query(payload, 'hmtp-broker', True), id=fx.Long(i))
cap = os.path.join(work, 'one.pcap')
fx.write_pcap(cap, 1, fx.frames(fx.tcp_segments(c, mss=1448, isn=(1000, 5000)), fx.Endpoints(client_port=20000),
                                'ether', t0=1232532000.0))


def fd_limit():
    want = n + 2000
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))


port_file = os.path.join(work, 'port')
blog = open(os.path.join(work, 'broker.log'), 'w')
broker = subprocess.Popen([broker_bin, '--listen', '127.0.0.1:0', '--port-file', port_file,
                           '--allow-any-user', '--domain', 'localhost', '--max-connections', str(n + 2000),
                           '--max-per-ip', str(n + 2000)], stdout=blog, stderr=blog, preexec_fn=fd_limit)
try:
    while not (os.path.exists(port_file) and open(port_file).read().strip()):
        time.sleep(0.02)
    port = int(open(port_file).read())
    report = os.path.join(work, 'report.json')
    t0 = time.perf_counter()
    p = subprocess.run(['/usr/bin/time', '-v', replay_bin, '--target', '127.0.0.1:%d' % port, '--top-speed',
                        '--sessions-scale', str(n), '--max-connections', str(n), '--timeout', str(timeout_ms),
                        '--settle', '0', '--report-json', report, cap], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    # the broker's peak RSS, read before it is stopped
    broker_kb = -1
    for line in open('/proc/%d/status' % broker.pid):
        if line.startswith('VmHWM:'):
            broker_kb = int(line.split()[1])
finally:
    broker.terminate()
    broker.wait()
    blog.close()


def peak_kb(text):
    m = re.search(r'Maximum resident set size \(kbytes\): (\d+)', text)
    return int(m.group(1)) if m else -1


print('capture: one session, a login and %d pings; --sessions-scale %d --max-connections %d --top-speed'
      % (pings, n, n))
print('hmtp-replay exit %d, wall %.2f s, peak RSS %d kB' % (p.returncode, wall, peak_kb(p.stderr)))
if os.path.exists(report):
    s = json.load(open(report))['summary']
    print('sessions %d: ok %d, failed %d, unreachable %d, not run %d; replies %d, matched %d, missing %d, '
          'different %d; engine %.2f s; latency p50 %.2f ms p99 %.2f ms'
          % (s['sessions'], s['ok'], s['failed'], s['unreachable'], s['not_run'], s['replies'], s['matched'],
             s['missing'], s['different'], s['elapsed_s'], s['latency_ms']['p50'], s['latency_ms']['p99']))
    print('sessions/s %.0f, packets/s %.0f' % (s['sessions'] / s['elapsed_s'], s['packets_sent'] / s['elapsed_s']))
else:
    print(p.stderr[-3000:])
print('hmtp-broker peak RSS %d kB' % broker_kb)
tail = [l for l in p.stderr.splitlines() if not l.startswith('\t')][-5:]
if tail:
    print('replayer stderr (last lines):\n' + '\n'.join(tail))
