# SPDX-License-Identifier: GPL-2.0-or-later
"""hmtp-replay on captures that start inside HMTP packets, in both directions.

usage: test_resync.py HMTP_REPLAY HMTP_BROKER|- WORKDIR CASE
The captures are cut from real ones by cut_mid_packet.py; what `dump`
must show is read from the uncut capture: every packet that starts at or
after the cut, with the same offset, length and decoded fields, and the
bytes before the first of them as skipped."""

import json
import os
import random
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cut_mid_packet  # noqa: E402
import hmtp_fixture as fx  # noqa: E402
import replay_harness  # noqa: E402

H = replay_harness.Harness(sys.argv)
REPLAY, BROKER, WORK, CASE = H.replay, H.broker_bin, H.work, H.case
CAPTURES = replay_harness.CAPTURES
failures, children, check = H.failures, H.children, H.check


def dump(path, *extra):
    p = subprocess.run([REPLAY, 'dump', '--json'] + list(extra) + [path], capture_output=True, text=True,
                       timeout=120)
    return p.returncode, [json.loads(l) for l in p.stdout.splitlines() if l.strip()], p.stderr


def sessions_by_client(path):
    """client port of every session, from the text dump of the uncut capture"""
    out = subprocess.run([REPLAY, 'dump', path], capture_output=True, text=True, timeout=120).stdout
    ports = {}
    for line in out.splitlines():
        if line.startswith('session ') and ' -> ' in line and ': ' in line:
            sid = int(line.split()[1].rstrip(':'))
            ports[sid] = int(line.split(' -> ')[0].rsplit(':', 1)[1])
    return ports


FIELDS = ('type_name', 'to', 'from', 'id', 'value', 'error', 'length')


def expect_after_cut(original, session, cuts, got, label):
    """got: dump lines of the cut capture (one session). Per direction: the
    original's packets that start at or after the cut, each present, in
    order, at its offset less the cut, with the same fields; the first one
    carries the bytes skipped before it."""
    for d in ('c2s', 's2c'):
        want = [p for p in original if p['session'] == session and p['direction'] == d and p['offset'] >= cuts[d]]
        have = [p for p in got if p['direction'] == d]
        check(len(have) == len(want), '%s %s: %d packets, the original has %d after the cut at %d'
              % (label, d, len(have), len(want), cuts[d]))
        for w, h in zip(want, have):
            same = h['offset'] + cuts[d] == w['offset'] and all(h[k] == w[k] for k in FIELDS)
            check(same, '%s %s: packet at %d differs: %s vs %s' % (
                label, d, w['offset'], {k: h.get(k) for k in FIELDS + ('offset',)},
                {k: w[k] for k in FIELDS + ('offset',)}))
        if want and have:
            check(have[0].get('skipped') == want[0]['offset'] - cuts[d],
                  '%s %s: skipped %s, want %d' % (label, d, have[0].get('skipped'), want[0]['offset'] - cuts[d]))
            check(all('skipped' not in p for p in have[1:]), '%s %s: skipped on a later packet' % (label, d))
    return got


def packet_at(original, session, d, k):
    return [p for p in original if p['session'] == session and p['direction'] == d][k]


def case_dump_large():
    """large-payloads.pcap: cuts inside a login, a 10 KB string, a 100 KB
    string echo, and in the middle of 1 MiB of pseudo-random bytes (about
    half a megabyte of binary to search through without a false start)."""
    src = os.path.join(CAPTURES, 'large-payloads.pcap')
    rc, original, err = dump(src)
    check(rc == 0, 'uncut capture: exit %d %s' % (rc, err))
    ports = sessions_by_client(src)
    mid = lambda p, frac=0.5: p['offset'] + int(p['length'] * frac)
    plans = []
    # session 1 (the subscriber): inside its login answer... and its 1 MiB message
    plans.append((1, {'c2s': mid(packet_at(original, 1, 'c2s', 1)), 's2c': mid(packet_at(original, 1, 's2c', 6), 0.48)}))
    # ... inside its login, and inside the 10 KB message (the 1 MiB one follows)
    plans.append((1, {'c2s': mid(packet_at(original, 1, 'c2s', 0), 0.3), 's2c': mid(packet_at(original, 1, 's2c', 5))}))
    # session 0 (the publisher): inside the 256 KB ping, and inside the first answer
    plans.append((0, {'c2s': mid(packet_at(original, 0, 'c2s', 3), 0.4), 's2c': mid(packet_at(original, 0, 's2c', 0))}))
    for k, (session, cuts) in enumerate(plans):
        cap = os.path.join(WORK, 'cut-%d.pcap' % k)
        cut_mid_packet.cut(src, cap, 8080, ports[session], cuts['c2s'], cuts['s2c'])
        rc, got, err = dump(cap, '--port', '8080')
        label = 'cut %d (session %d at %s)' % (k, session, cuts)
        check(rc == 0 and err == '', '%s: exit %d, stderr %s' % (label, rc, err))
        check({p['session'] for p in got} == {0}, '%s: sessions %s' % (label, {p['session'] for p in got}))
        expect_after_cut(original, session, cuts, got, label)
        print('%s: %d packets after skipping %s bytes' % (
            label, len(got), [next((p['skipped'] for p in got if p['direction'] == d), None) for d in ('c2s', 's2c')]))
    # without a boundary at all: the server's bytes are the tail of its last packet
    last = packet_at(original, 1, 's2c', 8)
    cuts = {'c2s': mid(packet_at(original, 1, 'c2s', 3)) - 8, 's2c': mid(last)}
    cap = os.path.join(WORK, 'cut-tail.pcap')
    cut_mid_packet.cut(src, cap, 8080, ports[1], cuts['c2s'], cuts['s2c'])
    rc, got, err = dump(cap, '--port', '8080')
    check(rc == 0 and got == [], 'tail only: exit %d, %d packets' % (rc, len(got)))
    tail = last['offset'] + last['length'] - cuts['s2c']
    check('the s2c stream\'s %d bytes hold no packet boundary' % tail in err
          and 'the c2s stream\'s' in err, 'tail only: stderr %s' % err)


def trap_message(rng):
    """A message whose binary value holds a whole packet and short runs that
    begin like packets (chunk length, type, null to, a JID)."""
    hidden = fx.frame(fx.packet_body(fx.Encoder(), 'message', 'news@localhost', None, 'hidden'))
    data = b''
    for k in range(20):
        data += bytes(rng.randrange(256) for _ in range(50)) + bytes([0x20, 0x90 + k % 14]) + b'N\x03a@bN'
        if k % 7 == 3:
            data += hidden
    body = fx.Encoder().int_(0) + fx.Encoder().string('news@localhost') + b'N' + b'B' + len(data).to_bytes(2, 'big') + data
    return fx.frame(body)


def cut_conversation(name):
    """A session as hmtp-broker answers it, with no upgrade, preceded in each
    direction by a packet the capture starts inside: the client's, a
    message sent before its login (a broker drops it unanswered), full of
    look-alike packet starts; the server's, a message. Returns the cut
    capture, the cut offsets and the conversation."""
    conv = fx.broker_conversation('alice', upgrade=False)
    first_c = trap_message(random.Random(7))
    first_s = fx.frame(fx.packet_body(fx.Encoder(), 'message', 'alice@localhost/r1', 'news@localhost', 'z' * 700))
    conv.messages[:0] = [('c2s', first_c), ('s2c', first_s)]
    full = os.path.join(WORK, name + '-full.pcap')
    fx.write_capture(full, fx.tcp_segments(conv, mss=300), fx.Endpoints())
    cuts = {'c2s': len(first_c) // 2, 's2c': len(first_s) // 3}
    cap = os.path.join(WORK, name + '.pcap')
    cut_mid_packet.cut(full, cap, 8080, 40000, cuts['c2s'], cuts['s2c'])
    return cap, cuts, {'c2s': len(first_c), 's2c': len(first_s)}, conv


def case_dump_text():
    cap, cuts, firsts, conv = cut_conversation('text')
    rc, got, err = dump(cap, '--port', '8080')
    want = [(p['direction'], p['type_name'], p['to'], p['from']) for p in conv.packets]
    check([(p['direction'], p['type_name'], p['to'], p['from']) for p in got if p['direction'] == 'c2s']
          == [w for w in want if w[0] == 'c2s'], 'c2s packets: %s' % got)
    check([(p['direction'], p['type_name'], p['to'], p['from']) for p in got if p['direction'] == 's2c']
          == [w for w in want if w[0] == 's2c'], 's2c packets: %s' % got)
    skipped = {d: firsts[d] - cuts[d] for d in ('c2s', 's2c')}
    p = subprocess.run([REPLAY, 'dump', '--port', '8080', cap], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, 'text dump: exit %d %s' % (p.returncode, p.stderr))
    check('  #0 C>S skipped %d bytes to the first packet boundary' % skipped['c2s'] in p.stdout, p.stdout)
    check('  #0 S>C skipped %d bytes to the first packet boundary' % skipped['s2c'] in p.stdout, p.stdout)
    check('session 0 ends: closed, 7 client and 8 server packets, %d and %d bytes skipped to the first packet '
          'boundary' % (skipped['c2s'], skipped['s2c']) in p.stdout, p.stdout)


def broker():
    return H.broker('--allow-any-user')[0]


def case_replay_port():
    """replay --port sends the client's packets after its boundary (the login
    first) and verifies the server's after its own: the capture's session
    replays clean against a fresh broker."""
    cap, cuts, firsts, conv = cut_conversation('replay')
    port = broker()
    report = os.path.join(WORK, 'report.json')
    p = subprocess.run([REPLAY, '--target', '127.0.0.1:%d' % port, '--port', '8080', '--report-json', report, cap],
                       capture_output=True, text=True, timeout=120)
    rep = json.load(open(report)) if os.path.exists(report) else None
    check(p.returncode == 0, 'exit %d\n%s%s' % (p.returncode, p.stdout, p.stderr))
    if check(rep is not None, 'no report'):
        s = rep['summary']
        sent = sum(1 for q in conv.packets if q['direction'] == 'c2s')
        answers = sum(1 for q in conv.packets if q['direction'] == 's2c')
        check(s['sessions'] == 1 and s['packets_sent'] == sent and s['matched'] == answers
              and (s['different'], s['missing'], s['unexpected']) == (0, 0, 0),
              'summary %s, want %d sent and %d matched' % (s, sent, answers))


globals()['case_' + CASE.replace('-', '_')]()
H.finish()
