#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""hmtp-broker holding many logged-in connections: memory per connection, and
whether every one still answers.

usage: hold.py BUILD_DIR [CONNECTIONS]   (default 10000)

Opens CONNECTIONS connections to a fresh hmtp-broker on loopback, each
upgraded and logged in (plain login, --allow-any-user), all open at once;
reads the broker's resident memory before and after (VmRSS in /proc); then
sends one ping query on every connection and counts the answers; closes.
Each phase's wall time is printed beside the broker's CPU time in it: the
wall time includes this Python client, which at 10,000 links is most of it.
Bounded: every phase has a deadline, and the broker is killed at the end.
The open-files limit of this process and of the broker is raised to what the
count needs; where the hard limit is lower the script says so and stops."""

import os
import resource
import selectors
import socket
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', '..', 'tests', 'replay'))
import hmtp_fixture as fx  # noqa: E402

build = sys.argv[1]
count = int(sys.argv[2]) if len(sys.argv) > 2 else 10000
need = count + 256  # a descriptor per connection, here and in the broker (each its own limit)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
if hard != resource.RLIM_INFINITY and hard < need:
    sys.exit('hold.py: open files are limited to %d (hard); %d connections need %d' % (hard, count, need))
resource.setrlimit(resource.RLIMIT_NOFILE, (need, hard))

work = tempfile.mkdtemp(prefix='hmtp-hold-')
port_file = os.path.join(work, 'port')
broker = subprocess.Popen([os.path.join(build, 'broker', 'hmtp-broker'), '--listen', '127.0.0.1:0',
                           '--port-file', port_file, '--allow-any-user', '--max-connections', str(count + 64),
                           '--max-per-ip', str(count + 64), '--login-timeout', '0', '--http-timeout', '0'],
                          stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, 'broker.log'), 'w'))


def rss_kb(pid):
    for line in open('/proc/%d/status' % pid):
        if line.startswith('VmRSS:'):
            return int(line.split()[1])
    return 0


def cpu_s(pid):
    """The broker's user + system CPU time so far, in seconds: tells whether
    a phase's wall time went to the broker or to this (Python) client."""
    fields = open('/proc/%d/stat' % pid).read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def packet(enc, ptype, to, frm, value, id_):
    return fx.frame(fx.packet_body(enc, ptype, to, frm, value, fx.Long(id_)))


def run_phase(sel, conns, want, deadline_s, what, quiet=False):
    """Reads until every connection has `want` complete HMTP packets or the
    deadline passes; returns how many connections got there."""
    deadline = time.time() + deadline_s
    done = sum(1 for c in conns if c['packets'] >= want)
    while done < len(conns) and time.time() < deadline:
        for key, _ in sel.select(timeout=0.5):
            c = key.data
            try:
                data = c['sock'].recv(65536)
            except BlockingIOError:
                continue
            if not data:
                sel.unregister(c['sock'])
                c['closed'] = True
                continue
            c['buf'] += data
            if not c['upgraded']:
                end = c['buf'].find(b'\r\n\r\n')
                if end < 0:
                    continue
                c['upgraded'] = True
                c['buf'] = c['buf'][end + 4:]
            before = c['packets']
            c['packets'] = count_packets(c)
            if before < want <= c['packets']:
                done += 1
    if done < len(conns) and not quiet:
        print('hold.py: %s: %d of %d connections done within %d s' % (what, done, len(conns), deadline_s))
    return done


def count_packets(c):
    """Whole HMTP packets in the bytes received after the upgrade."""
    buf, pos, n = c['buf'], 0, 0
    while True:
        start = pos
        while True:
            length = 0
            # base-128, most significant first, high bit = more
            while pos < len(buf):
                b = buf[pos]
                pos += 1
                length = (length << 7) | (b & 0x7f)
                if not b & 0x80:
                    break
            else:
                c['buf'], c['counted'] = buf[start:], c.get('counted', 0) + n
                return c['counted']
            if length == 0:
                break
            if pos + length > len(buf):
                c['buf'], c['counted'] = buf[start:], c.get('counted', 0) + n
                return c['counted']
            pos += length
        n += 1


try:
    for _ in range(200):
        if os.path.exists(port_file) and open(port_file).read().strip():
            break
        time.sleep(0.05)
    port = int(open(port_file).read())
    time.sleep(0.2)
    rss0 = rss_kb(broker.pid)
    cpu0 = cpu_s(broker.pid)
    sel = selectors.DefaultSelector()
    conns = []
    t0 = time.time()
    for k in range(count):
        s = socket.create_connection(('127.0.0.1', port))
        s.setblocking(False)
        enc = fx.Encoder()
        user = 'u%d' % k
        s.sendall(fx.UPGRADE_REQUEST + packet(enc, 'querySet', None, None, fx.auth_query(user, 'pw', 'r'), 0))
        c = {'sock': s, 'enc': enc, 'jid': '%s@localhost/r' % user, 'buf': b'', 'upgraded': False,
             'packets': 0, 'closed': False}
        sel.register(s, selectors.EVENT_READ, c)
        conns.append(c)
        if k % 500 == 499:  # drain answers as we go: the kernel's buffers are finite
            run_phase(sel, conns, 1, 0.001, 'login', quiet=True)
    logged = run_phase(sel, conns, 1, 60, 'login')
    t_login = time.time() - t0
    cpu1 = cpu_s(broker.pid)
    time.sleep(0.5)
    rss1 = rss_kb(broker.pid)
    t1 = time.time()
    for i, c in enumerate(conns):
        if not c['closed']:
            c['sock'].sendall(packet(c['enc'], 'queryGet', 'service@localhost', c['jid'], fx.ping_query('hold %d' % i), 1))
    answered = run_phase(sel, conns, 2, 60, 'ping')
    t_ping = time.time() - t1
    cpu2 = cpu_s(broker.pid)
    rss2 = rss_kb(broker.pid)
    print('connections: %d; logged in: %d in %.2f s; pings answered: %d in %.2f s'
          % (count, logged, t_login, answered, t_ping))
    print('broker CPU: %.2f s during the logins, %.2f s during the pings' % (cpu1 - cpu0, cpu2 - cpu1))
    print('broker RSS: %.1f MB idle, %.1f MB holding %d logged-in links (%.1f KB per link), %.1f MB after the pings'
          % (rss0 / 1024, rss1 / 1024, logged, (rss1 - rss0) / max(logged, 1), rss2 / 1024))
    for c in conns:
        c['sock'].close()
    sys.exit(0 if logged == count and answered == count else 1)
finally:
    broker.kill()
    broker.wait()
