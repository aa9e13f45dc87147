# SPDX-License-Identifier: GPL-2.0-or-later
"""hmtp-replay dump against captures written by hmtp_fixture.py.

usage: test_dump.py HMTP_REPLAY WORKDIR CASE
Each case builds a capture, runs `hmtp-replay dump --json`, and checks the
packets it prints against the packets the generator put on the wire."""

import json
import os
import struct
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hmtp_fixture as fx  # noqa: E402

REPLAY, WORK, CASE = sys.argv[1], sys.argv[2], sys.argv[3]
os.makedirs(WORK, exist_ok=True)
failures = []

def check(cond, what):
    if not cond:
        failures.append(what)

def run(*args):
    p = subprocess.run([REPLAY] + list(args), capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout, p.stderr

def dump(path, *extra):
    rc, out, err = run('dump', '--json', *extra, path)
    lines = [json.loads(l) for l in out.splitlines() if l.strip()]
    return rc, lines, err

def summary(p):
    return (p['direction'], p['type_name'], p['to'], p['from'], p['id'])

def expected(conv):
    return [(p['direction'], p['type_name'], p['to'], p['from'],
             p['id'].v if p['id'] is not None else None) for p in conv.packets]

def expect_clean(path, conv, session=0, extra=()):
    rc, lines, err = dump(path, *extra)
    check(rc == 0, 'exit status %d (stderr: %s)' % (rc, err.strip()))
    got = [summary(p) for p in lines if p['session'] == session]
    check(got == expected(conv), 'packets differ:\n got      %s\n expected %s' % (got, expected(conv)))
    return lines

def capture(name, segs, conv, link='ether', fmt='pcap', v6=False, ep=None):
    path = os.path.join(WORK, name + ('.pcapng' if fmt == 'pcapng' else '.pcap'))
    fx.write_capture(path, segs, ep or fx.Endpoints(v6=v6), link, fmt)
    return path

def link_case(link, fmt, v6):
    conv = fx.sample_conversation()
    segs = fx.tcp_segments(conv)
    lines = expect_clean(capture(CASE, segs, conv, link, fmt, v6), conv)
    # Values survive the trip, including a class defined in an earlier packet.
    msgs = [p for p in lines if p['type_name'] == 'message']
    check(len(msgs) == 2 and msgs[1]['value'].get('$class') == 'example.NewsItem'
          and msgs[1]['value'].get('title') == 'x' * 300, 'second NewsItem not decoded: %s' % msgs[1:])
    # Frame numbers point at the frame that completed each packet.
    check(all(p['frame'] >= 4 for p in lines), 'frame numbers before the handshake ended')

def case_reorder():
    conv = fx.sample_conversation()
    segs = fx.tcp_segments(conv, mss=23)
    for d in ('c2s', 's2c'):
        idx = fx.data_indexes(segs, d)
        swapped = 0
        for k in range(2, len(idx) - 1, 5):
            # only neighbours: the peer's ACKs must still follow the data they cover
            if idx[k + 1] == idx[k] + 1:
                fx.swap_segments(segs, idx[k], idx[k + 1])
                swapped += 1
        check(swapped >= 2, 'the case reorders too little (%d swaps in %s)' % (swapped, d))
    expect_clean(capture(CASE, segs, conv), conv)

def case_retransmit():
    conv = fx.sample_conversation()
    segs = fx.tcp_segments(conv, mss=50)
    idx = fx.data_indexes(segs)
    for k in reversed(idx[1::3]):
        fx.retransmit(segs, k, later=3)
    expect_clean(capture(CASE, segs, conv), conv)

def case_overlap():
    conv = fx.sample_conversation()
    segs = fx.tcp_segments(conv, mss=40)
    idx = fx.data_indexes(segs, 's2c')
    for k in reversed(idx[2:-2:4]):
        fx.overlap(segs, k)
    # and one overlapping segment that arrives ahead of the hole it covers
    idx = fx.data_indexes(segs, 'c2s')
    fx.overlap(segs, idx[3])
    fx.swap_segments(segs, idx[3], idx[3] + 1)
    expect_clean(capture(CASE, segs, conv), conv)

def case_gap():
    conv = fx.sample_conversation()
    segs = fx.tcp_segments(conv, mss=30)
    # Lose a segment inside the queryGet (c2s): packets before it survive,
    # nothing after it in that direction is trusted.
    body_start = sum(len(m) for d, m in conv.messages[:8] if d == 'c2s')
    idx = fx.data_indexes(segs, 'c2s')
    lost = next(k for k in idx if segs[k].seq - 1001 > body_start)
    lost_off = segs[lost].seq - 1001
    del segs[lost]
    path = capture(CASE, segs, conv)
    rc, lines, err = dump(path)
    check(rc == 1, 'exit status %d, expected 1 for an incomplete session' % rc)
    check('incomplete' in err and 'byte offset %d' % lost_off in err,
          'stderr does not name the gap at offset %d: %s' % (lost_off, err))
    c2s = [summary(p) for p in lines if p['direction'] == 'c2s']
    want = [e for e in expected(conv) if e[0] == 'c2s'][:3]
    check(c2s == want, 'c2s packets before the gap: got %s expected %s' % (c2s, want))
    s2c = [summary(p) for p in lines if p['direction'] == 's2c']
    check(s2c == [e for e in expected(conv) if e[0] == 's2c'], 'server packets should all survive')

def case_port():
    conv = fx.sample_conversation(upgrade=False)
    segs = fx.tcp_segments(conv, handshake=False)
    path = capture(CASE, segs, conv)
    expect_clean(path, conv, extra=('--port', '8080'))
    rc, lines, err = dump(path)
    check(lines == [] and 'no HMTP session' in err and '--port' in err,
          'without --port nothing should be found: %s %s' % (lines, err))

def case_sessions():
    """Two HMTP sessions interleaved, a plain HTTP connection, a refused upgrade."""
    a = fx.sample_conversation(user='a@x.org')
    b = fx.sample_conversation(user='b@x.org')
    sa = fx.tcp_segments(a, mss=64)
    sb = fx.tcp_segments(b, mss=64, isn=(77777, 99999))
    plain = fx.Conversation(upgrade=False)
    plain.messages = [('c2s', b'GET / HTTP/1.1\r\nHost: x\r\n\r\n'), ('s2c', b'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi')]
    refused = fx.Conversation(upgrade=False)
    refused.messages = [('c2s', fx.UPGRADE_REQUEST), ('s2c', b'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n')]
    eps = [fx.Endpoints(client_port=p) for p in (40001, 40002, 40003, 40004)]
    parts = [(sa, eps[0]), (sb, eps[1]), (fx.tcp_segments(plain), eps[2]), (fx.tcp_segments(refused), eps[3])]
    frames = []
    longest = max(len(s) for s, _ in parts)
    for k in range(longest):  # round-robin interleaving
        for segs, ep in parts:
            if k < len(segs):
                frames.append(fx.frames([segs[k]], ep, 'ether', t0=1232532000.0 + len(frames) * 0.001)[0])
    path = os.path.join(WORK, CASE + '.pcap')
    fx.write_pcap(path, 1, frames)
    rc, lines, err = dump(path)
    check(rc == 0, 'exit %d: %s' % (rc, err))
    by = {}
    for p in lines:
        by.setdefault(p['session'], []).append(summary(p))
    check(sorted(by) == [0, 1], 'sessions found: %s' % sorted(by))
    check(by.get(0) == expected(a) and by.get(1) == expected(b), 'session contents differ')
    check('404' in err and 'refused' in err, 'refused upgrade not reported: %s' % err)

def case_truncated_file():
    conv = fx.sample_conversation()
    segs = fx.tcp_segments(conv)
    path = capture(CASE, segs, conv)
    data = open(path, 'rb').read()
    cut = len(data) - 30  # inside the last data-carrying records
    open(path, 'wb').write(data[:cut])
    rc, lines, err = dump(path)
    check(rc == 1, 'exit %d for a truncated capture' % rc)
    check('breaks after frame' in err, 'truncation not reported: %s' % err)
    check(len(lines) >= 5, 'decodable packets before the cut were not printed: %d' % len(lines))

def case_snaplen():
    conv = fx.sample_conversation()
    segs = fx.tcp_segments(conv, mss=60)
    idx = fx.data_indexes(segs, 's2c')
    segs[idx[4]].snap_cut = 10
    rc, lines, err = dump(capture(CASE, segs, conv))
    check(rc == 1 and 'missing TCP segment in the s2c stream' in err, 'snaplen cut not reported: %d %s' % (rc, err))

def case_wrap():
    conv = fx.sample_conversation()
    segs = fx.tcp_segments(conv, mss=50, isn=(2**32 - 300, 2**32 - 100))
    for s in segs:
        s.seq &= 0xffffffff
        s.ack &= 0xffffffff
    expect_clean(capture(CASE, segs, conv), conv)

def case_unreadable():
    path = os.path.join(WORK, 'not-a-capture.pcap')
    open(path, 'w').write('hello, this is not a capture\n')
    rc, out, err = run('dump', path)
    check(rc == 2 and 'not-a-capture.pcap' in err, 'exit %d, stderr %s' % (rc, err))
    rc, out, err = run('dump', os.path.join(WORK, 'does-not-exist.pcap'))
    check(rc == 2 and 'does-not-exist' in err, 'missing file: exit %d, stderr %s' % (rc, err))
    rc, out, err = run('dump', '--no-such-option', path)
    check(rc == 2, 'bad option: exit %d' % rc)
    # a record that claims 2 GB: libpcap refuses it before any frame, so
    # nothing could be read (2), not "no session found" (1)
    path = os.path.join(WORK, 'huge-record.pcap')
    conv = fx.sample_conversation()
    good = os.path.join(WORK, 'huge-record-source.pcap')
    fx.write_capture(good, fx.tcp_segments(conv), fx.Endpoints())
    data = bytearray(open(good, 'rb').read())
    struct.pack_into('<II', data, 24 + 8, 0x80000000, 0x80000000)  # caplen, len of the first record
    open(path, 'wb').write(data)
    for args in (['dump'], ['dump', '--json'], ['--target', '127.0.0.1:9']):
        rc, out, err = run(*args, path)
        check(rc == 2 and 'cannot read capture' in err and '2147483648' in err and 'no HMTP session' not in err,
              '%s on a 2 GB record: exit %d, stderr %s' % (' '.join(args), rc, err))

def case_full_disk():
    """A dump that cannot be written (a full disk) fails; it never passes for a complete one."""
    conv = fx.sample_conversation()
    path = capture(CASE, fx.tcp_segments(conv), conv)
    with open('/dev/full', 'w') as full:
        p = subprocess.run([REPLAY, 'dump', '--json', path], stdout=full, stderr=subprocess.PIPE, text=True,
                           timeout=60)
    check(p.returncode == 2 and 'writing the output failed: No space left on device' in p.stderr,
          'exit %d, stderr %s' % (p.returncode, p.stderr))

def case_text():
    conv = fx.sample_conversation()
    path = capture(CASE, fx.tcp_segments(conv), conv)
    rc, out, err = run('dump', path)
    check(rc == 0, 'exit %d %s' % (rc, err))
    check('session 0: 192.0.2.1:40000 -> 192.0.2.2:8080, upgrade /hmtp (Host null:8080)' in out, out)
    check('presenceSubscribe to=news@cnn.com from=null' in out, out)
    check('session 0 ends: closed, 5 client and 5 server packets' in out, out)

LINK_CASES = {
    'pcap-ether-ipv4': ('ether', 'pcap', False),
    'pcapng-ether-ipv4': ('ether', 'pcapng', False),
    'pcap-ether-ipv6': ('ether', 'pcap', True),
    'pcapng-vlan-ipv6': ('vlan', 'pcapng', True),
    'pcap-vlan-ipv4': ('vlan', 'pcap', False),
    'pcap-sll-ipv4': ('sll', 'pcap', False),
    'pcapng-sll2-ipv6': ('sll2', 'pcapng', True),
    'pcap-null-ipv4': ('null', 'pcap', False),
    'pcap-null-ipv6': ('null', 'pcap', True),
    'pcap-raw-ipv4': ('raw', 'pcap', False),
    'pcapng-raw-ipv6': ('raw', 'pcapng', True),
}

if CASE in LINK_CASES:
    link_case(*LINK_CASES[CASE])
else:
    globals()['case_' + CASE.replace('-', '_')]()

if failures:
    print('FAIL %s:\n  ' % CASE + '\n  '.join(failures))
    sys.exit(1)
print('ok %s' % CASE)
