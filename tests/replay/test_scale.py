#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""hmtp-replay with many sessions at once, against a real hmtp-broker.

usage: test_scale.py HMTP_REPLAY HMTP_BROKER WORKDIR CASE

sessions-2000: a one-session capture (a login and 3 pings) replayed with
  --sessions-scale 2000 --max-connections 2000 --top-speed: every session
  ok, every reply matched, nothing missing.
fd-limit: a hard open-file limit below --max-connections: exit 2 before any
  connection, one message naming RLIMIT_NOFILE and the --max-connections
  that fits."""

import json
import os
import resource
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hmtp_fixture as fx  # noqa: E402

REPLAY, BROKER, WORK, CASE = sys.argv[1:5]
WORK = os.path.join(WORK, CASE)
os.makedirs(WORK, exist_ok=True)
SKIP = 77


def one_session(pings):
    c = fx.Conversation(True)
    jid = 'user0@localhost/r1'
    c.send('c2s', 'querySet', None, None, fx.auth_query('user0', 'pw', 'r1'), id=fx.Long(0))
    c.send('s2c', 'queryResult', jid, None, fx.auth_result(jid), id=fx.Long(0))
    for i in range(1, pings + 1):
        payload = 'ping %d' % i
        c.send('c2s', 'queryGet', 'service@localhost', jid, fx.ping_query(payload), id=fx.Long(i))
        c.send('s2c', 'queryResult', jid, 'service@localhost', fx.ping_query(payload, 'hmtp-broker', True),
               id=fx.Long(i))
    path = os.path.join(WORK, 'one.pcap')
    fx.write_pcap(path, 1, fx.frames(fx.tcp_segments(c, mss=1448, isn=(1000, 5000)), fx.Endpoints(client_port=20000),
                                     'ether', t0=1232532000.0))
    return path


def fd_limit(n):
    def set_limit():
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if soft < n:
            resource.setrlimit(resource.RLIMIT_NOFILE, (n, max(hard, n)))
    return set_limit


def case_sessions_2000():
    n, pings = 2000, 3
    cap = one_session(pings)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard < 2 * n + 200 and os.geteuid() != 0:
        print('skip: the hard open-file limit (%d) is below what the broker and the replayer need' % hard)
        return SKIP
    port_file = os.path.join(WORK, 'port')
    if os.path.exists(port_file):
        os.unlink(port_file)
    log = open(os.path.join(WORK, 'broker.log'), 'w')
    broker = subprocess.Popen([BROKER, '--listen', '127.0.0.1:0', '--port-file', port_file, '--domain', 'localhost',
                               '--allow-any-user', '--max-connections', str(n + 500), '--max-per-ip', str(n + 500)],
                              stdout=log, stderr=log, preexec_fn=fd_limit(n + 600))
    try:
        deadline = time.time() + 10
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if time.time() > deadline or broker.poll() is not None:
                print('FAIL: hmtp-broker did not start')
                return 1
            time.sleep(0.02)
        port = int(open(port_file).read())
        report = os.path.join(WORK, 'report.json')
        # the replayer starts with a soft limit below n: it must raise it itself
        p = subprocess.run([REPLAY, '--target', '127.0.0.1:%d' % port, '--top-speed', '--sessions-scale', str(n),
                            '--max-connections', str(n), '--timeout', '30000', '--settle', '0',
                            '--report-json', report, cap],
                           capture_output=True, text=True, timeout=110, preexec_fn=lambda: resource.setrlimit(
                               resource.RLIMIT_NOFILE, (1024, max(hard, n + 200))))
    finally:
        broker.kill()
        broker.wait()
    if p.returncode != 0 or not os.path.exists(report):
        print('FAIL: exit %d\n%s' % (p.returncode, p.stderr[-3000:]))
        return 1
    s = json.load(open(report))['summary']
    want = n * (pings + 1)
    if not (s['sessions'] == n and s['ok'] == n and s['matched'] == want and s['missing'] == 0
            and s['replies'] == want and s['packets_sent'] == want):
        print('FAIL: summary %s' % json.dumps(s))
        return 1
    return 0


def case_fd_limit():
    cap = one_session(1)
    srv = socket.socket()
    srv.bind(('127.0.0.1', 0))
    srv.listen(128)
    srv.setblocking(False)
    cmd = [REPLAY, '--target', '127.0.0.1:%d' % srv.getsockname()[1], '--top-speed', '--sessions-scale', '500',
           '--max-connections', '500', cap]
    if os.geteuid() == 0:
        # root may raise the hard limit: without CAP_SYS_RESOURCE it may not
        capsh = shutil.which('capsh')
        if not capsh:
            print('skip: running as root and capsh is missing (root could raise the limit)')
            return SKIP
        cmd = [capsh, '--drop=cap_sys_resource', '--'] + ['-c', ' '.join("'%s'" % a for a in cmd)]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=60,
                       preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256)))
    try:
        srv.accept()
        connected = True
    except BlockingIOError:
        connected = False
    srv.close()
    msg = p.stderr
    ok = (p.returncode == 2 and not connected and 'RLIMIT_NOFILE' in msg and 'is 256' in msg
          and '--max-connections 192 or less' in msg and '500 connections at once' in msg)
    if not ok:
        print('FAIL: exit %d, connected %s\n%s' % (p.returncode, connected, msg[-2000:]))
        return 1
    return 0


rc = globals()['case_' + CASE.replace('-', '_')]()
if rc == 0:
    print('ok %s' % CASE)
sys.exit(rc)
