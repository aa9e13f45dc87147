#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Sessions whose packets wait in the replayer's spill file (replay/store.c)
replay exactly as when every packet stays in memory: the same capture is
replayed with TMPDIR a writable folder (spilled) and with TMPDIR a folder
that does not exist (no spill file can be made, so nothing leaves memory),
under several paces and loads, and the two reports must agree session by
session. The capture holds more than the spill's 4 MiB budget of packets,
with its sessions' frames interleaved, so every session's packets are
written in several blocks and read back from them.

usage: test_spill.py HMTP_REPLAY HMTP_BROKER WORKDIR CASE (CASE: same)"""

import json
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hmtp_fixture as fx  # noqa: E402
import replay_harness  # noqa: E402

H = replay_harness.Harness(sys.argv)
check = H.check

SESSIONS, PINGS, PAYLOAD = 8, 12, 50000  # about 9.6 MB of HMTP packets


def conversation(k):
    c = fx.Conversation(True)
    user = 'spill%d' % k
    jid = user + '@localhost/r1'
    c.send('c2s', 'querySet', None, None, fx.auth_query(user, 'pw', 'r1'), id=fx.Long(0))
    c.send('s2c', 'queryResult', jid, None, fx.auth_result(jid), id=fx.Long(0))
    for i in range(1, PINGS + 1):
        payload = ('%d/%d ' % (k, i)).ljust(PAYLOAD, 'abcdefgh'[k % 8])
        c.send('c2s', 'queryGet', 'service@localhost', jid, fx.ping_query(payload), id=fx.Long(i))
        c.send('s2c', 'queryResult', jid, 'service@localhost', fx.ping_query(payload, 'hmtp-broker', True),
               id=fx.Long(i))
    return c


def write_capture(path):
    parts = []
    for k in range(SESSIONS):
        segs = fx.tcp_segments(conversation(k), mss=1448, isn=(1000 + 1000000 * k, 5000 + 1000000 * k))
        parts.append((segs, fx.Endpoints(client_port=42000 + k)))
    frames = []
    for i in range(max(len(s) for s, _ in parts)):  # round robin: every session open at once
        for segs, ep in parts:
            if i < len(segs):
                frames.append(fx.frames([segs[i]], ep, 'ether', t0=1232532000.0 + len(frames) * 0.0001)[0])
    fx.write_pcap(path, 1, frames)


def replay(port, capture, tmpdir, options):
    report = os.path.join(H.work, 'report.json')
    if os.path.exists(report):
        os.unlink(report)
    env = dict(os.environ, TMPDIR=tmpdir)
    p = subprocess.run([H.replay, '--target', '127.0.0.1:%d' % port, '--report-json', report, '--timeout', '20000']
                       + options + [capture], capture_output=True, text=True, timeout=300, env=env)
    rep = json.load(open(report)) if os.path.exists(report) else None
    return p.returncode, p.stderr, rep


KEYS = ('session', 'copy', 'loop', 'result', 'sent', 'bytes_sent', 'replies', 'matched', 'different', 'missing',
        'unexpected')


def sessions_of(rep):
    return [tuple(s.get(k) for k in KEYS) for s in rep['sessions']]


def case_same():
    cap = os.path.join(H.work, 'spill.pcap')
    write_capture(cap)
    spill_dir = os.path.join(H.work, 'tmp')
    os.makedirs(spill_dir, exist_ok=True)
    nowhere = os.path.join(H.work, 'no-such-folder')
    modes = [['--top-speed'],
             ['--top-speed', '--max-connections', '2'],
             ['--pace', 'session', '--sessions-scale', '2', '--loop', '2'],
             ['--serial'],
             []]  # the conversation pace: its timeline needs every plan at once
    for options in modes:
        port, _ = H.broker('--allow-any-user')
        rc_s, err_s, rep_s = replay(port, cap, spill_dir, options)
        port, _ = H.broker('--allow-any-user')
        rc_m, err_m, rep_m = replay(port, cap, nowhere, options)
        what = ' '.join(options) or '(conversation)'
        if not check(rep_s is not None and rep_m is not None, '%s: no report (%s%s)' % (what, err_s, err_m)):
            continue
        check(rc_s == 0, '%s: spilled run exit %d: %s' % (what, rc_s, err_s[-500:]))
        check(rc_m == rc_s, '%s: exit %d in memory, %d spilled' % (what, rc_m, rc_s))
        runs = SESSIONS * (4 if '--loop' in options else 1)
        check(len(rep_s['sessions']) == runs, '%s: %d session runs, expected %d' % (what, len(rep_s['sessions']), runs))
        check(rep_s['summary']['matched'] == runs * (PINGS + 1),
              '%s: %d replies matched, expected %d' % (what, rep_s['summary']['matched'], runs * (PINGS + 1)))
        check(sessions_of(rep_s) == sessions_of(rep_m),
              '%s: spilled and in-memory runs differ:\n%s\n%s' % (what, sessions_of(rep_s), sessions_of(rep_m)))
    check(os.listdir(spill_dir) == [], 'the spill file was left behind: %s' % os.listdir(spill_dir))


{'same': case_same}[H.case]()
H.finish()
