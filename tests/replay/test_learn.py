# SPDX-License-Identifier: GPL-2.0-or-later
"""End-to-end: hmtp-replay learn (noise learned from two runs) and
replay --ignore-file, against hmtp-broker --real-date (its ping answer
carries the time it was made, _date) --random-resources (links named at
random), with --alter-reply ping as the deliberate change that must stay
visible.

usage: test_learn.py HMTP_REPLAY HMTP_BROKER WORKDIR CASE
Every server the test starts listens on 127.0.0.1 on an ephemeral port."""

import json
import os
import re
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hmtp_fixture as fx  # noqa: E402
import replay_harness  # noqa: E402

H = replay_harness.Harness(sys.argv)
REPLAY, WORK, CASE = H.replay, H.work, H.case
check, broker = H.check, H.broker
CAPTURES = replay_harness.CAPTURES
NOISY = ('--allow-any-user', '--real-date', '--random-resources')


def capture():
    """Two sessions recorded against the plain broker: logins without a
    resource (the broker named them hmtp-1, hmtp-2), a ping each."""
    convs = []
    for user, n in (('alice', 1), ('bob', 2)):
        c = fx.Conversation(True)
        jid = '%s@localhost/hmtp-%d' % (user, n)
        c.send('c2s', 'querySet', None, None, fx.auth_query(user, 'pw', None), id=fx.Long(0))
        c.send('s2c', 'queryResult', jid, None, fx.auth_result(jid), id=fx.Long(0))
        c.send('c2s', 'presence', None, None, None)
        c.send('c2s', 'queryGet', 'service@localhost', jid, fx.ping_query('hi ' + user), id=fx.Long(1))
        c.send('s2c', 'queryResult', jid, 'service@localhost', fx.ping_query('hi ' + user, 'hmtp-broker', answer=True),
               id=fx.Long(1))
        c.send('c2s', 'presenceUnavailable', None, None, None)
        convs.append(c)
    #        alice: upgrade, login  bob: upgrade, login  then each: presence, ping, logout
    order = [0, 0, 0, 0] + [1, 1, 1, 1] + [0, 0, 0, 0] + [1, 1, 1, 1]
    return fx.write_ordered(os.path.join(WORK, CASE + '.pcap'), convs, order)


def run(*args):
    p = subprocess.run([REPLAY] + list(args), capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout + p.stderr


def replay(port, cap, *options):
    report = os.path.join(WORK, 'report.json')
    if os.path.exists(report):
        os.unlink(report)
    rc, out = run('--no-progress', '--target', '127.0.0.1:%d' % port, '--report-json', report, *options, cap)
    rep = json.load(open(report)) if os.path.exists(report) else None
    diffs = [(d['path'], d['actual']) for s in (rep or {'sessions': []})['sessions'] for d in s['differences']]
    return rc, out, diffs


def learn(cap, port, *options):
    out_file = os.path.join(WORK, 'learned-%d.ignore' % len(os.listdir(WORK)))
    rc, out = run('learn', '--no-progress', '--target', '127.0.0.1:%d' % port, '--ignore-out', out_file, *options, cap)
    text = open(out_file).read() if os.path.exists(out_file) else ''
    rules = [line.split('#')[0].split() for line in text.splitlines() if line and not line.startswith('#')]
    return rc, out, text, out_file, rules


def case_noisy():
    cap = capture()
    plain, _ = broker('--allow-any-user')
    rc, out, _ = replay(plain, cap)
    check(rc == 0, 'the capture replays clean against the broker it was made with: exit %d\n%s' % (rc, out))
    port, _ = broker(*NOISY)
    # without the learned file the clock of the ping answers differs
    rc, out, diffs = replay(port, cap)
    check(rc == 1 and {p for p, _ in diffs} == {'value.date'}, 'noisy broker, no ignore file: exit %d %s\n%s'
          % (rc, diffs, out))
    rc, out, text, ignore, rules = learn(cap, port)
    check(rc == 0, 'learn: exit %d\n%s' % (rc, out))
    # one line, for the ping answer's class: the two runs' times differ
    check(rules == [['queryResult', 'hmtp.PingQuery', 'value.date']], 'learned rules %s\n%s' % (rules, text))
    line = [x for x in text.splitlines() if x.startswith('queryResult')]
    check(line and line[0].count('|') >= 1, 'the values seen are shown: %s' % text)
    check(line and re.search(r'\{"\$date":\d+\} \(20\d\d-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\)', line[0]),
          'a date is shown with its time: %s' % text)
    rc, out, diffs = replay(port, cap, '--ignore-file', ignore)
    check(rc == 0 and not diffs, 'noisy broker with the learned file: exit %d %s\n%s' % (rc, diffs, out))
    # a deliberate change is not hidden by the learned file
    altered, _ = broker(*NOISY, '--alter-reply', 'ping')
    rc, out, diffs = replay(altered, cap, '--ignore-file', ignore)
    check(rc == 1 and diffs == [('value.server', 'hmtp-broker-altered')] * 2,
          'altered broker with the learned file: exit %d %s\n%s' % (rc, diffs, out))


def case_real_change():
    """A field both runs change the same way (the altered _server) is a real
    change: not written, while the clock next to it is."""
    cap = capture()
    port, _ = broker(*NOISY, '--alter-reply', 'ping')
    rc, out, text, ignore, rules = learn(cap, port)
    check(rc == 0, 'learn: exit %d\n%s' % (rc, out))
    check(rules == [['queryResult', 'hmtp.PingQuery', 'value.date']], 'learned rules %s\n%s' % (rules, text))
    check('value.server' not in text and 'hmtp-broker-altered' not in text, 'a real change was learned:\n%s' % text)
    check('2 field(s) changed the same way' in out, 'the real changes are counted: %s' % out)
    rc, out, diffs = replay(port, cap, '--ignore-file', ignore)
    check(rc == 1 and diffs == [('value.server', 'hmtp-broker-altered')] * 2, 'exit %d %s\n%s' % (rc, diffs, out))


def case_reference():
    """--reference: one run against each of two brokers of the same build."""
    cap = capture()
    a, _ = broker(*NOISY)
    b, _ = broker(*NOISY)
    rc, out, text, ignore, rules = learn(cap, a, '--reference', '127.0.0.1:%d' % b)
    check(rc == 0 and rules == [['queryResult', 'hmtp.PingQuery', 'value.date']], 'exit %d %s\n%s%s'
          % (rc, rules, out, text))
    check('127.0.0.1:%d' % b in text, 'the header names the reference:\n%s' % text)
    rc, out, diffs = replay(b, cap, '--ignore-file', ignore)
    check(rc == 0, 'reference broker with the learned file: exit %d %s\n%s' % (rc, diffs, out))


def case_rules_scope():
    """A rule covers its packet type and class only: the same path named for
    another class leaves the difference in place."""
    cap = capture()
    port, _ = broker(*NOISY)
    other = os.path.join(WORK, 'other.ignore')
    with open(other, 'w') as f:
        f.write('# not for the ping answer\nqueryResult hmtp.SubscribersQuery value.date\n'
                'message - value.date  # "a" | "b"\n')
    rc, out, diffs = replay(port, cap, '--ignore-file', other)
    check(rc == 1 and {p for p, _ in diffs} == {'value.date'}, 'other class: exit %d %s\n%s' % (rc, diffs, out))
    with open(other, 'w') as f:
        f.write('queryResult hmtp.PingQuery value\n')
    rc, out, diffs = replay(port, cap, '--ignore-file', other)
    check(rc == 0, 'a path covers what is under it: exit %d %s\n%s' % (rc, diffs, out))


def case_capture():
    """A bundled capture (recorded against the plain broker, logins and
    pings of six sessions): learned against the noisy broker, then clean."""
    cap = os.path.join(CAPTURES, 'logins-queries.pcap')
    users = ('--user', 'alice:secret', '--user', 'carol:pw')
    port, _ = broker(*users, '--real-date', '--random-resources')
    key = ('--recorded-key', os.path.join(CAPTURES, 'broker-key.pem'))
    rc, out, diffs = replay(port, cap, *key)
    check(rc == 1 and diffs and {p for p, _ in diffs} == {'value.date'}, 'without the file: exit %d %s\n%s'
          % (rc, diffs, out))
    rc, out, text, ignore, rules = learn(cap, port, *key)
    check(rc == 0 and rules == [['queryResult', 'hmtp.PingQuery', 'value.date']], 'learn: exit %d %s\n%s%s'
          % (rc, rules, out, text))
    rc, out, diffs = replay(port, cap, '--ignore-file', ignore, *key)
    check(rc == 0 and not diffs, 'with the file: exit %d %s\n%s' % (rc, diffs, out))


def case_bad_input():
    cap = capture()
    # a target nobody listens on: a clear message, non-zero
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    dead = s.getsockname()[1]
    s.close()
    out_file = os.path.join(WORK, 'never.ignore')
    rc, out = run('learn', '--no-progress', '--timeout', '500', '--target', '127.0.0.1:%d' % dead,
                  '--ignore-out', out_file, cap)
    check(rc == 3 and 'unreachable' in out and '127.0.0.1:%d' % dead in out and not os.path.exists(out_file),
          'learn against a dead target: exit %d\n%s' % (rc, out))
    port, _ = broker(*NOISY)
    rc, out = run('learn', '--target', '127.0.0.1:%d' % port, cap)
    check(rc == 2 and '--ignore-out' in out, 'learn without --ignore-out: exit %d\n%s' % (rc, out))
    bad = os.path.join(WORK, 'bad.ignore')
    with open(bad, 'w') as f:
        f.write('# fine\nqueryResult hmtp.PingQuery value.date\nqueryResulz hmtp.PingQuery value.date\n')
    rc, out, _ = replay(port, cap, '--ignore-file', bad)
    check(rc == 2 and 'line 3' in out and 'queryResulz' in out, 'bad ignore file: exit %d\n%s' % (rc, out))
    with open(bad, 'w') as f:
        f.write('queryResult value.date\n')
    rc, out, _ = replay(port, cap, '--ignore-file', bad)
    check(rc == 2 and 'line 1' in out and 'TYPE CLASS PATH' in out, 'short line: exit %d\n%s' % (rc, out))
    rc, out, _ = replay(port, cap, '--ignore-file', os.path.join(WORK, 'absent.ignore'))
    check(rc == 2 and 'absent.ignore' in out, 'missing ignore file: exit %d\n%s' % (rc, out))


globals()['case_' + CASE.replace('-', '_')]()
H.finish()
