# SPDX-License-Identifier: GPL-2.0-or-later
"""hmtp-replay check (the preflight), the first divergence and the JUnit
report per session.

usage: test_check.py HMTP_REPLAY HMTP_BROKER WORKDIR CASE

The JUnit files are read by junitparser (Debian's python3-junitparser,
installed by scripts/deps.sh), a reader no one here wrote; the test fails,
naming the package, when it is missing."""

import json
import os
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cut_mid_packet  # noqa: E402
import hmtp_fixture as fx  # noqa: E402
import replay_harness  # noqa: E402

H = replay_harness.Harness(sys.argv)
REPLAY, WORK, CASE = H.replay, H.work, H.case
check, broker = H.check, H.broker
CAPTURES = replay_harness.CAPTURES
RECORDED_KEY = os.path.join(CAPTURES, 'broker-key.pem')


def run(*args, timeout=120):
    p = subprocess.run([REPLAY] + list(args), capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def hmtp_check(capture, *options):
    return run('check', *options, capture)


def verdict_of(out):
    lines = [l for l in out.splitlines() if l.startswith('verdict: ')]
    return lines[-1][len('verdict: '):] if lines else None


def dump(capture, *options):
    rc, out, err = run('dump', '--json', *options, capture)
    return [json.loads(l) for l in out.splitlines() if l.strip()]


def write(name, convs, snap_cut=None, step=0.001):
    """convs: Conversations, each on its own client port, frames interleaved
    round-robin. snap_cut: (session, direction, k, bytes): the k-th data
    segment of that direction loses its last bytes to the snapshot length."""
    parts = []
    for k, conv in enumerate(convs):
        ep = fx.Endpoints(client_port=41000 + k, server_port=8080)
        segs = fx.tcp_segments(conv, mss=60, isn=(1000 + 100000 * k, 5000 + 100000 * k))
        if snap_cut and snap_cut[0] == k:
            segs[fx.data_indexes(segs, snap_cut[1])[snap_cut[2]]].snap_cut = snap_cut[3]
        parts.append((segs, ep))
    frames = []
    for i in range(max(len(s) for s, _ in parts)):
        for segs, ep in parts:
            if i < len(segs):
                frames.append(fx.frames([segs[i]], ep, 'ether', t0=1232532000.0 + len(frames) * step)[0])
    path = os.path.join(WORK, name + '.pcap')
    fx.write_pcap(path, 1, frames)
    return path


def no_ping(user):
    """login, presence, logout: nothing a --alter-reply broker changes"""
    c = fx.Conversation(True)
    jid = '%s@localhost/r1' % user
    c.send('c2s', 'querySet', None, None, fx.auth_query(user, 'secret', 'r1'), id=fx.Long(0))
    c.send('s2c', 'queryResult', jid, None, fx.auth_result(jid), id=fx.Long(0))
    c.send('c2s', 'presence', None, None, None)
    c.send('c2s', 'presenceUnavailable', None, None, None)
    return c


def junit_read(path):
    """The JUnit file as junitparser reads it: {testcase name: (result tag or
    None, message, system-out)}, and the suite's counts. junitparser runs in
    the interpreter that has it (Debian's, when python3 here is another)."""
    script = r'''
import json, sys
from junitparser import JUnitXml, TestSuite
xml = JUnitXml.fromfile(sys.argv[1])
suites = [xml] if isinstance(xml, TestSuite) else list(xml)
cases, counts = {}, []
for s in suites:
    counts.append({"tests": s.tests, "failures": s.failures, "errors": s.errors, "skipped": s.skipped})
    for c in s:
        res = c.result if isinstance(c.result, list) else ([c.result] if c.result else [])
        cases[c.name] = (res[0]._tag if res else None, res[0].message if res else None, c.system_out)
print(json.dumps({"cases": cases, "counts": counts}))
'''
    for py in (sys.executable, '/usr/bin/python3'):
        probe = subprocess.run([py, '-c', 'import junitparser'], capture_output=True)
        if probe.returncode == 0:
            p = subprocess.run([py, '-c', script, path], capture_output=True, text=True)
            if p.returncode != 0:
                check(False, 'junitparser could not read %s: %s' % (path, p.stderr))
                return {}, {}
            got = json.loads(p.stdout)
            return got['cases'], got['counts'][0]
    raise SystemExit('FAIL %s: junitparser is missing (Debian: python3-junitparser; scripts/deps.sh installs it)' % CASE)


# ---------------------------------------------------------------- cases

# Every sample capture: the options a replay of it needs, and what check
# says without them. (exit without options, words; exit with them)
SAMPLES = {
    'resin-client.pcapng': ([], 0, 'replayable', 0),
    # recorded against Resin's own server with plain logins: nothing needed
    'resin-server-resin-client.pcapng': ([], 0, 'replayable', 0),
    'resin-server-pubsub.pcapng': ([], 0, 'replayable', 0),
    'resin-server-queries.pcapng': ([], 0, 'replayable', 0),
    'resin-client-encrypted.pcapng': (['--login', 'resin:secret'], 4, 'the password of resin (session 0)', 0),
    'logins-queries.pcap': (['--recorded-key', RECORDED_KEY], 4, 'the password of alice (session 0), alice (session 2), '
                            'carol (session 5)', 0),
    # the login precedes the capture: found only with --port, and then the
    # target must take the sessions without one
    'midstream.pcap': (['--port', '8080'], 2, 'no HMTP session found (a capture that starts after the upgrade needs '
                       '--port)', 4),
}


def case_captures():
    """check on every capture of captures/: the sessions the manifest
    lists, the logins and what they need, the publisher and subscribers,
    one verdict and its exit status."""
    manifest = json.load(open(os.path.join(CAPTURES, 'manifest.json')))
    names = sorted(n for n in os.listdir(CAPTURES) if n.endswith(('.pcap', '.pcapng')))
    check(len(names) >= 11, 'captures: %s' % names)
    for name in names:
        path = os.path.join(CAPTURES, name)
        options, bare_rc, bare_words, rc_with = SAMPLES.get(name, (['--recorded-key', RECORDED_KEY], 4,
                                                                    'the password of', 0))
        rc, out, err = hmtp_check(path)
        v = verdict_of(out)
        check(rc == bare_rc and v and bare_words in v and err == '',
              '%s without options: exit %d, verdict %s\n%s%s' % (name, rc, v, out, err))
        rc, out, err = hmtp_check(path, *options)
        v = verdict_of(out)
        check(rc == rc_with and v and (rc != 0 or v.startswith('replayable: ')),
              '%s %s: exit %d, verdict %s\n%s%s' % (name, options, rc, v, out, err))
        sessions = manifest[name]['sessions']
        check(' %d HMTP session%s (' % (sessions, '' if sessions == 1 else 's') in out,
              '%s: %d sessions expected\n%s' % (name, sessions, out))
        check(out.count('\nsession ') == sessions, '%s: session lines\n%s' % (name, out))
        if name == 'midstream.pcap':
            check('found by --port 8080' in out and 'mid-stream start:' in out and 'login: not in the capture' in out
                  and 'a target that accepts sessions 0,1 without a login' in v, '%s: %s' % (name, out))
    # the publisher and the subscriber that received its messages
    rc, out, err = hmtp_check(os.path.join(CAPTURES, 'large-payloads.pcap'), '--recorded-key', RECORDED_KEY)
    check('depends: news@localhost: published by session 0, received by session 1' in out and
          'depends: sessions 0,1 run together' in out, 'large-payloads dependencies:\n%s' % out)
    rc, out, err = hmtp_check(os.path.join(CAPTURES, 'resin-client.pcapng'))
    check('depends: none' in out and 'login: plain, user resin (frame ' in out, 'resin-client:\n%s' % out)
    rc, out, err = hmtp_check(os.path.join(CAPTURES, 'logins-queries.pcap'), '--recorded-key', RECORDED_KEY)
    check(out.count('login: encrypted') == 3 and out.count('decrypted with --recorded-key') == 3 and
          out.count('login: plain') == 2 and 'login: none recorded' in out, 'logins:\n%s' % out)
    # a key that is not the recording's decrypts nothing: the password is still needed
    other = os.path.join(WORK, 'other-key.pem')
    subprocess.run(['openssl', 'genrsa', '-out', other, '1024'], capture_output=True, check=True)
    rc, out, err = hmtp_check(os.path.join(CAPTURES, 'upgrade-get.pcapng'), '--recorded-key', other)
    check(rc == 4 and '--recorded-key does not decrypt the login of frame' in out, 'wrong key: %d\n%s' % (rc, out))
    rc, out, err = hmtp_check(os.path.join(CAPTURES, 'upgrade-get.pcapng'), '--login-password', 'pw')
    check(rc == 0 and 'with --login-password' in out, 'password: %d\n%s' % (rc, out))


def case_damaged():
    """check on damaged captures: the exit status and where the damage is."""
    good = write('good', [fx.broker_conversation('alice'), fx.quiet_conversation('bob')])
    rc, out, err = hmtp_check(good)
    check(rc == 0 and verdict_of(out) == 'replayable: all 2 sessions can be replayed in full', 'intact: %d\n%s' % (rc, out))
    check('depends: none' in out and out.count('  complete (closed)') == 2, 'intact:\n%s' % out)
    data = open(good, 'rb').read()

    # the file cut in the middle of a record: what was read is judged
    cut = os.path.join(WORK, 'cut-record.pcap')
    open(cut, 'wb').write(data[:len(data) * 2 // 3 + 5])
    rc, out, err = hmtp_check(cut)
    v = verdict_of(out) or ''
    check(rc == 4 and 'capture damaged: the capture breaks after frame ' in out and
          'an undamaged copy of the capture' in v and 'open where the capture breaks' in out,
          'cut file: %d\n%s%s' % (rc, out, err))

    # nothing before the damage, no file, garbage, an empty capture
    head = os.path.join(WORK, 'cut-header.pcap')
    open(head, 'wb').write(data[:30])
    garbage = os.path.join(WORK, 'garbage.pcap')
    open(garbage, 'wb').write(b'hello, this is not a capture\n' * 10)
    empty = os.path.join(WORK, 'empty.pcap')
    open(empty, 'wb').write(data[:24])
    for path, words in ((head, 'unusable: cannot read capture'), (garbage, 'unusable: cannot read capture'),
                        (os.path.join(WORK, 'absent.pcap'), 'unusable: cannot read capture'),
                        (empty, 'unusable: no HMTP session found')):
        rc, out, err = hmtp_check(path)
        check(rc == 2 and (verdict_of(out) or '').startswith(words), '%s: exit %d\n%s%s' % (path, rc, out, err))

    # upgrades refused in the recording: said, and nothing else to replay
    refused = fx.Conversation(upgrade=False)
    refused.messages = [('c2s', fx.UPGRADE_REQUEST), ('s2c', b'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n')]
    only_refused = write('refused', [refused])
    rc, out, err = hmtp_check(only_refused)
    check(rc == 2 and 'capture: 1 upgrade refused in the recording' in out and 'HTTP 404 Not Found' in out and
          verdict_of(out) == 'unusable: no HMTP session found: the recorded upgrade was refused', 'refused: %d\n%s' % (rc, out))
    rc, out, err = hmtp_check(write('refused-and-one', [refused, fx.quiet_conversation('bob')]))
    check(rc == 0 and 'upgrade refused' in out and '1 HMTP session (1 by upgrade)' in out, 'refused+1: %d\n%s' % (rc, out))

    # a frame cut by the snapshot length: the session breaks there
    snap = write('snaplen', [fx.broker_conversation('alice'), fx.quiet_conversation('bob')],
                 snap_cut=(0, 's2c', 3, 10))
    frames = [p['frame'] for p in dump(snap) if p['session'] == 0 and p['direction'] == 's2c']
    rc, out, err = hmtp_check(snap)
    v = verdict_of(out) or ''
    check(rc == 4 and 'frame cut by the snapshot length' in out and
          'incomplete: s2c stream broken at frame ' in out and 'byte offset ' in out and
          '--replay-incomplete for session 0 (broken in the capture' in v and '1 of 2 sessions' in v,
          'snaplen: %d\n%s' % (rc, out))
    broken = [l for l in out.splitlines() if 'incomplete: s2c stream broken at frame' in l]
    at = int(broken[0].split('at frame ')[1].split(',')[0]) if broken else 0
    check(at > max(frames or [0]), 'the break (frame %d) is after the last packet read %s' % (at, frames))
    first_cut = int(out.split('cut by the snapshot length')[1].split('first at frame ')[1].split(':')[0])
    check(first_cut == at, 'snaplen-cut frame %d, break at %d' % (first_cut, at))
    rc, out, err = hmtp_check(snap, '--replay-incomplete')
    check(rc == 4 and 'replayed up to frame %d only' % at in out and 'the bytes the capture lost: session 0' in out,
          'snaplen --replay-incomplete: %d\n%s' % (rc, out))

    # a capture that starts inside packets (cut_mid_packet): found with
    # --port only, each direction resynchronised to its first boundary
    src = os.path.join(CAPTURES, 'large-payloads.pcap')
    original = dump(src)
    ports = {p['session']: None for p in original}
    out_dump = subprocess.run([REPLAY, 'dump', src], capture_output=True, text=True).stdout
    for line in out_dump.splitlines():
        if line.startswith('session ') and ' -> ' in line:
            ports[int(line.split()[1].rstrip(':'))] = int(line.split(' -> ')[0].rsplit(':', 1)[1])
    first = lambda d: next(p for p in original if p['session'] == 1 and p['direction'] == d)
    c2s, s2c = first('c2s'), first('s2c')
    cuts = {'c2s': c2s['offset'] + c2s['length'] // 2, 's2c': s2c['offset'] + s2c['length'] // 2}
    mid = os.path.join(WORK, 'cut-mid-packet.pcap')
    cut_mid_packet.cut(src, mid, 8080, ports[1], cuts['c2s'], cuts['s2c'])
    rc, out, err = hmtp_check(mid)
    check(rc == 2 and 'needs --port' in (verdict_of(out) or ''), 'mid-packet without --port: %d\n%s' % (rc, out))
    rc, out, err = hmtp_check(mid, '--port', '8080')
    after = [p for p in dump(mid, '--port', '8080')]
    skipped = {d: next((p.get('skipped') for p in after if p['direction'] == d), None) for d in ('c2s', 's2c')}
    check(rc == 4 and 'found by --port 8080' in out and
          'mid-stream start: %s client and %s server bytes skipped' % (skipped['c2s'], skipped['s2c']) in out and
          skipped['c2s'] and skipped['s2c'], 'mid-packet --port: %d %s\n%s' % (rc, skipped, out))


def case_replay_stops():
    """A replay runs the same checks first: when no session could be
    replayed it stops before connecting, with check's verdict, and still
    reports every session (JSON, JUnit with a preflight testcase)."""
    cap = os.path.join(CAPTURES, 'upgrade-get.pcapng')
    rc, out, err = hmtp_check(cap)
    verdict = verdict_of(out)
    report, junit = os.path.join(WORK, 'report.json'), os.path.join(WORK, 'junit.xml')
    # nothing listens on port 9 of the loopback: a connection attempt would be exit 3
    rc2, out2, err2 = run('--target', '127.0.0.1:9', '--report-json', report, '--junit', junit, cap)
    check(rc == 4 and rc2 == 4 and ('hmtp-replay: nothing to replay: %s' % verdict) in err2,
          'check %d, replay %d: %s\n%s' % (rc, rc2, verdict, err2))
    rep = json.load(open(report))
    check(rep['preflight']['exit_status'] == 4 and rep['preflight']['verdict'] == verdict and
          [s['result'] for s in rep['sessions']] == ['not-replayable'] and rep['sessions'][0]['jid'] == 'quinn@localhost/web',
          'JSON: %s' % {k: rep[k] for k in ('preflight', 'sessions')})
    cases, counts = junit_read(junit)
    check(cases.get('preflight', [None])[0] == 'skipped' and cases['preflight'][1] == verdict and
          'login: encrypted, user quinn' in (cases['preflight'][2] or ''), 'JUnit preflight: %s' % cases)
    name = [n for n in cases if n.startswith('session 0 (')]
    check(name == ['session 0 (127.0.0.1:49526 quinn@localhost/web)'] and cases[name[0]][0] == 'skipped',
          'JUnit session: %s' % cases)
    check(counts == {'tests': 2, 'failures': 0, 'errors': 0, 'skipped': 2}, 'counts %s' % counts)
    # with the password it runs, and the preflight testcase passes
    port, _ = broker('--allow-any-user')
    rc, out, err = run('--target', '127.0.0.1:%d' % port, '--login-password', 'pw', '--junit', junit, cap)
    cases, counts = junit_read(junit)
    check('nothing to replay' not in err and cases.get('preflight', ['x'])[0] is None and
          'verdict: replayable' in (cases['preflight'][2] or ''), 'with the password: %d %s\n%s' % (rc, cases, err))


def case_divergence():
    """A broker that alters its ping answer: the JSON, the table and the
    JUnit name the first difference (frame, packet type, path, expected,
    actual) and what came after it; merge keeps it."""
    alice = fx.broker_conversation('alice')
    # a reply the broker never sends, recorded after the ping's answer
    ghost = fx.Conversation(upgrade=False)
    ghost.send('s2c', 'message', 'alice@localhost/r1', 'ghost@localhost', 'never sent by the broker')
    alice.messages.append(ghost.messages[0])
    cap = write(CASE, [alice, no_ping('carol')])
    packets = dump(cap)
    replies = [p for p in packets if p['session'] == 0 and p['direction'] == 's2c']
    ping = next(p for p in replies if p['type_name'] == 'queryResult' and p['id'] == 1)
    lost = replies[-1]
    port, _ = broker('--allow-any-user', '--alter-reply', 'ping')
    report, junit = os.path.join(WORK, 'report.json'), os.path.join(WORK, 'junit.xml')
    rc, out, err = run('--target', '127.0.0.1:%d' % port, '--timeout', '500', '--report-json', report,
                       '--junit', junit, cap)
    check(rc == 1, 'exit %d\n%s%s' % (rc, out, err))
    rep = json.load(open(report))
    s0, s1 = rep['sessions']
    fd = s0['first_divergence']
    want = {'kind': 'different', 'frame': ping['frame'], 'type': 'queryResult', 'path': 'value.server',
            'expected': 'hmtp-broker', 'actual': 'hmtp-broker-altered',
            'after': {'different': 0, 'missing': 1, 'unexpected': 0, 'reordered': 0}}
    check(fd and {k: fd.get(k) for k in want} == want, 'first_divergence %s, want %s' % (fd, want))
    check(s1['first_divergence'] is None and s1['result'] == 'ok', 'carol: %s' % s1)
    # every compared recorded reply by its frame (what the plugin marks)
    check(s0['reply_frames'] == [p['frame'] for p in replies] and
          s1['reply_frames'] == [p['frame'] for p in packets if p['session'] == 1 and p['direction'] == 's2c'],
          'reply frames %s %s' % (s0['reply_frames'], s1['reply_frames']))
    check([d['frame'] for d in s0['differences'] if d['kind'] == 'missing'] == [lost['frame']], 'missing %s' % s0)
    check(rep['capture_id']['fingerprint'].startswith('sha256:') and rep['preflight']['exit_status'] == 0,
          'capture_id / preflight: %s %s' % (rep.get('capture_id'), rep.get('preflight')))
    # the table: the first divergence before the session's difference lines
    lines = [l for l in out.splitlines() if l.startswith('  session 0')]
    check(lines and lines[0] == '  session 0: first divergence: ' + fd['text'] and len(lines) == 3,
          'table:\n%s' % out)
    check(fd['text'].startswith('frame %d queryResult id=1 ' % ping['frame']) and
          fd['text'].endswith('value.server: expected "hmtp-broker", actual "hmtp-broker-altered"; after it: '
                              '0 different, 1 missing, 0 unexpected, 0 reordered'), 'text: %s' % fd['text'])
    # JUnit, read by junitparser: one failing testcase, named by client and
    # JID, whose message is the first divergence and whose system-out lists
    # every difference; the others pass
    cases, counts = junit_read(junit)
    failing = {n: c for n, c in cases.items() if c[0] is not None}
    check(list(failing) == ['session 0 (192.0.2.1:41000 alice@localhost/r1)'] and
          failing['session 0 (192.0.2.1:41000 alice@localhost/r1)'][0] == 'failure' and
          failing['session 0 (192.0.2.1:41000 alice@localhost/r1)'][1] == fd['text'], 'failing cases %s' % failing)
    sysout = cases.get('session 0 (192.0.2.1:41000 alice@localhost/r1)', (None, None, ''))[2] or ''
    check('value.server: expected "hmtp-broker", actual "hmtp-broker-altered"' in sysout and
          'frame %d message to=alice@localhost/r1 from=ghost@localhost: missing' % lost['frame'] in sysout,
          'system-out: %s' % sysout)
    check(set(cases) == {'preflight', 'session 0 (192.0.2.1:41000 alice@localhost/r1)',
                         'session 1 (192.0.2.1:41001 carol@localhost/r1)'} and
          counts == {'tests': 3, 'failures': 1, 'errors': 0, 'skipped': 0}, 'cases %s %s' % (sorted(cases), counts))
    # two shards and a merge: the same first divergence
    reports = []
    for k in range(2):
        reports.append(os.path.join(WORK, 'shard-%d.json' % k))
        run('--target', '127.0.0.1:%d' % port, '--timeout', '500', '--shard', '%d/2' % k, '--report-json',
            reports[-1], cap)
    merged, merged_junit = os.path.join(WORK, 'merged.json'), os.path.join(WORK, 'merged.xml')
    rc, out, err = run('merge', '--report-json', merged, '--junit', merged_junit, *reports)
    m = json.load(open(merged))
    check(rc == 1 and [s['first_divergence'] for s in m['sessions']] == [fd, None] and
          [s['reply_frames'] for s in m['sessions']] == [s0['reply_frames'], s1['reply_frames']] and
          [s['jid'] for s in m['sessions']] == ['alice@localhost/r1', 'carol@localhost/r1'],
          'merged: %d %s\n%s' % (rc, m['sessions'], err))
    cases, counts = junit_read(merged_junit)
    check(cases.get('session 0 (192.0.2.1:41000 alice@localhost/r1)', (None, None))[1] == fd['text'] and
          cases.get('preflight', ['x'])[0] is None, 'merged JUnit %s' % cases)


def case_report_files():
    """Reports written as they are made: a JSON and a JUnit report of many
    session runs (past the 64 KiB the writer hands to the file at a time)
    read back whole; a report that cannot be written (a full disk) is one
    message naming the file and exit 2, never a pass with a cut report;
    reply frames of any size and order come back the same through a merge."""
    cap = write(CASE, [fx.broker_conversation('alice'), no_ping('carol')])

    def fresh():  # a broker per run: a second login of the same users is answered otherwise
        return '127.0.0.1:%d' % broker('--allow-any-user')[0]
    report, junit = os.path.join(WORK, 'report.json'), os.path.join(WORK, 'junit.xml')
    scale = ('--top-speed', '--sessions-scale', '350')
    rc, out, err = run('--target', fresh(), *scale, '--report-json', report, '--junit', junit, cap)
    rep = json.load(open(report))
    cases, counts = junit_read(junit)
    check(rc == 0 and os.path.getsize(report) > 3 * 65536 and os.path.getsize(junit) > 65536 and
          rep['summary']['sessions'] == 700 and len(rep['sessions']) == 700 and
          all(s['result'] == 'ok' and len(s['reply_frames']) == s['matched'] > 0 for s in rep['sessions']) and
          counts['tests'] == 701 and len(cases) == 701,
          'scaled run: exit %d, %d/%d bytes, %s %s\n%s' % (rc, os.path.getsize(report), os.path.getsize(junit),
                                                           rep['summary'], counts, err))
    for opt in ('--report-json', '--junit'):
        for args in ((), scale):  # two session runs (written at the end), 700 (written on the way)
            rc, out, err = run('--target', fresh(), *args, opt, '/dev/full', cap)
            check(rc == 2 and err.count('cannot write /dev/full: No space left on device') == 1,
                  '%s /dev/full %s: exit %d, stderr %s' % (opt, ' '.join(args), rc, err))
    check(not os.path.exists('/nonexistent-dir'), 'a folder that should not exist exists')
    rc, out, err = run('--target', fresh(), '--report-json', '/nonexistent-dir/r.json', cap)
    check(rc == 2 and 'cannot write /nonexistent-dir/r.json: No such file or directory' in err,
          'unwritable path: exit %d, stderr %s' % (rc, err))
    # a one-shard report whose reply frames are far apart, or go back: a merge reads and writes them the same
    shard = os.path.join(WORK, 'shard.json')
    rc, out, err = run('--target', fresh(), '--shard', '0/1', '--report-json', shard, cap)
    rep = json.load(open(shard))
    crafted = [[0, 1, 63, 64, 8256, 5, 2 ** 40, 7, 7, 2 ** 53 - 1], list(range(3000000, 3000000 + 130 * 200, 130))]
    for s, frames in zip(rep['sessions'], crafted):
        s['reply_frames'] = frames
    json.dump(rep, open(shard, 'w'))
    merged = os.path.join(WORK, 'merged.json')
    rc, out, err = run('merge', '--report-json', merged, shard)
    m = json.load(open(merged)) if os.path.exists(merged) else {'sessions': []}
    check(rc == 0 and [s['reply_frames'] for s in m['sessions']] == crafted,
          'merged reply frames: exit %d %s\n%s' % (rc, [s['reply_frames'][:12] for s in m['sessions']], err))
    for opt in ('--report-json', '--junit'):
        rc, out, err = run('merge', opt, '/dev/full', shard)
        check(rc == 2 and err.count('hmtp-replay merge: cannot write /dev/full: No space left on device') == 1,
              'merge %s /dev/full: exit %d, stderr %s' % (opt, rc, err))


globals()['case_' + CASE.replace('-', '_')]()
H.finish()
