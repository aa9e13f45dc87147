# SPDX-License-Identifier: GPL-2.0-or-later
"""End-to-end: captures written by hmtp_fixture.py replayed by hmtp-replay
against a real hmtp-broker (or a small fake server for the fault cases).

usage: test_e2e.py HMTP_REPLAY HMTP_BROKER WORKDIR CASE
Every server the test starts listens on 127.0.0.1 on an ephemeral port and
is killed when the test ends, whatever happens."""

import json
import os
import socket
import struct
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hmtp_fixture as fx  # noqa: E402
import replay_harness  # noqa: E402

H = replay_harness.Harness(sys.argv)
REPLAY, BROKER, WORK, CASE = H.replay, H.broker_bin, H.work, H.case
failures, children, check, broker = H.failures, H.children, H.check, H.broker

def replay(port, capture, *options, timeout=120):
    report = os.path.join(WORK, 'report.json')
    if os.path.exists(report):
        os.unlink(report)
    t0 = time.time()
    p = subprocess.run([REPLAY, '--target', '127.0.0.1:%d' % port, '--report-json', report] + list(options) + [capture],
                       capture_output=True, text=True, timeout=timeout)
    elapsed = time.time() - t0
    rep = json.load(open(report)) if os.path.exists(report) else None
    return p.returncode, p.stdout, p.stderr, rep, elapsed

def write(name, sessions, link='ether', fmt='pcap', v6=False, port=8080, step=0.001):
    """sessions: list of Conversation; each gets its own client port; their
    frames are interleaved round-robin like concurrent connections."""
    parts = []
    for k, conv in enumerate(sessions):
        ep = fx.Endpoints(v6=v6, client_port=41000 + k, server_port=port)
        parts.append((fx.tcp_segments(conv, isn=(1000 + 100000 * k, 5000 + 100000 * k),
                                      handshake=conv.messages[0][1].startswith(b'CONNECT')), ep))
    frames = []
    for i in range(max(len(s) for s, _ in parts)):
        for segs, ep in parts:
            if i < len(segs):
                frames.append(fx.frames([segs[i]], ep, link, t0=1232532000.0 + len(frames) * step)[0])
    path = os.path.join(WORK, name + ('.pcapng' if fmt == 'pcapng' else '.pcap'))
    (fx.write_pcapng if fmt == 'pcapng' else fx.write_pcap)(path, fx.LINKS[link][0], frames)
    return path

def expect(rc, rep, status, matched=None, different=0, missing=0, unexpected=0, out=''):
    check(rc == status, 'exit %d, expected %d\n%s' % (rc, status, out))
    if rep is None:
        check(False, 'no JSON report written')
        return
    s = rep['summary']
    got = (s['different'], s['missing'], s['unexpected'])
    check(got == (different, missing, unexpected), 'different/missing/unexpected %s, expected %s\n%s'
          % (got, (different, missing, unexpected), out))
    if matched is not None:
        check(s['matched'] == matched, 'matched %d, expected %d' % (s['matched'], matched))

def two_users():
    # bob subscribes to nothing: concurrent replay stays deterministic
    return [fx.broker_conversation('alice'), fx.quiet_conversation('bob')]

# ---------------------------------------------------------------- cases

def case_clean():
    port, _ = broker('--allow-any-user')
    cap = write(CASE, two_users())
    rc, out, err, rep, _ = replay(port, cap)
    expect(rc, rep, 0, matched=10, out=out + err)
    check(rep and rep['summary']['sessions'] == 2 and rep['summary']['packets_sent'] == 11, 'session/packet counts')
    check('2/2 ok' in out, 'summary line: %s' % out)
    rc, out, err, rep, _ = replay(port, cap, '--serial')
    expect(rc, rep, 0, matched=10, out=out + err)

def case_altered():
    port, _ = broker('--allow-any-user', '--alter-reply', 'ping')
    cap = write(CASE, two_users())
    junit = os.path.join(WORK, 'junit.xml')
    rc, out, err, rep, _ = replay(port, cap, '--junit', junit)
    # exactly the ping answer differs, once per session, in one field
    expect(rc, rep, 1, matched=8, different=2, out=out + err)
    diffs = [d for s in rep['sessions'] for d in s['differences']]
    check([(d['kind'], d['path'], d['expected'], d['actual']) for d in diffs] ==
          [('different', 'value.server', 'hmtp-broker', 'hmtp-broker-altered')] * 2, 'differences: %s' % diffs)
    check(all(d['frame'] > 0 and d['packet'].startswith('queryResult id=1') for d in diffs), 'frames: %s' % diffs)
    check('value.server: expected "hmtp-broker", actual "hmtp-broker-altered"' in out, out)
    xml = open(junit).read()
    # a testcase per session (failing) and one for the preflight (passed)
    check('tests="3" failures="2"' in xml and 'value.server' in xml, xml)
    # the same difference, ignored
    rc, out, err, rep, _ = replay(port, cap, '--ignore', 'value.server')
    expect(rc, rep, 0, matched=10, out=out + err)

def case_map_jid():
    port, _ = broker('--allow-any-user')
    recorded = fx.broker_conversation('alice', domain='prod.example')
    cap = write(CASE, [recorded])
    rc, out, err, rep, _ = replay(port, cap, '--timeout', '300')
    check(rc == 1, 'without mapping the services of prod.example do not exist: exit %d' % rc)
    # domain form: every JID of the domain
    rc, out, err, rep, _ = replay(port, cap, '--map-jid', 'prod.example=localhost')
    expect(rc, rep, 0, matched=8, out=out + err)
    # bare form: the two services; the login JID the broker assigns is learned
    rc, out, err, rep, _ = replay(port, cap, '--map-jid', 'news@prod.example=news@localhost',
                                  '--map-jid', 'service@prod.example=service@localhost')
    expect(rc, rep, 0, matched=8, out=out + err)
    # full form on its own does not reach the services: their packets differ
    rc, out, err, rep, _ = replay(port, cap, '--map-jid', 'alice@prod.example/r1=alice@localhost/r1', '--timeout', '300')
    check(rc == 1, 'full-JID mapping of the user only should leave the services unmapped: exit %d' % rc)
    rc, out, err, rep, _ = replay(port, cap, '--map-jid', 'nonsense')
    check(rc == 2 and 'OLD=NEW' in err, 'bad rule: exit %d %s' % (rc, err))

def case_login():
    """Credentials from a production capture replaced for a test server."""
    port, _ = broker('--user', 'carol:test-pw')
    cap = write(CASE, [fx.broker_conversation('alice')])
    rc, out, err, rep, _ = replay(port, cap, '--timeout', '300')
    check(rc == 1, 'recorded credentials must be refused by this broker: exit %d' % rc)
    rc, out, err, rep, _ = replay(port, cap, '--login-user', 'carol', '--login-password', 'test-pw')
    expect(rc, rep, 0, matched=8, out=out + err)

def case_filters():
    port, _ = broker('--allow-any-user', '--alter-reply', 'ping')
    cap = write(CASE, two_users())
    # presence family only: the altered ping answer is not compared
    rc, out, err, rep, _ = replay(port, cap, '--types', 'presence')
    expect(rc, rep, 0, matched=5, out=out + err)
    check(rep['summary']['packets_sent'] == 5 + 3, 'login and presence packets only: %d' % rep['summary']['packets_sent'])
    rc, out, err, rep, _ = replay(port, cap, '--types', 'queryGet,queryResult')
    expect(rc, rep, 1, matched=2, different=2, out=out + err)
    rc, out, err, rep, _ = replay(port, cap, '--session', '1', '--ignore', 'value.server')
    expect(rc, rep, 0, matched=2, out=out + err)
    check([s['session'] for s in rep['sessions']] == [1], 'selected sessions: %s' % rep['sessions'])
    rc, out, err, rep, _ = replay(port, cap, '--session-jid', 'alice@localhost', '--ignore', 'value.server')
    expect(rc, rep, 0, matched=8, out=out + err)
    check([s['session'] for s in rep['sessions']] == [0], 'sessions by JID: %s' % rep['sessions'])
    rc, out, err, rep, _ = replay(port, cap, '--types', 'bogus')
    check(rc == 2 and 'bogus' in err, 'bad type: %d %s' % (rc, err))
    rc, out, err, rep, _ = replay(port, cap, '--session', '7')
    check(rc == 2 and 'beyond' in err, 'bad session: %d %s' % (rc, err))

def case_pacing():
    port, _ = broker('--allow-any-user')
    # recorded with 0.1 s between frames: the client's 7 packets span ~1.4 s
    cap = write(CASE, [fx.broker_conversation('alice')], step=0.1)
    # timed by the report's elapsed_s (the replay itself, not the process
    # start and capture reading, which a loaded machine stretches)
    ran = lambda rep: rep['summary']['elapsed_s'] if rep else 99.0
    rc, out, err, rep, _ = replay(port, cap, '--pace', 'original')
    expect(rc, rep, 0, matched=8, out=out + err)
    slow = ran(rep)
    rc, out, err, rep, _ = replay(port, cap, '--pace', 'original', '--speed', '4')
    expect(rc, rep, 0, matched=8, out=out + err)
    fast = ran(rep)
    rc, out, err, rep, _ = replay(port, cap, '--top-speed')
    expect(rc, rep, 0, matched=8, out=out + err)
    top = ran(rep)
    check(slow >= 1.3, 'original pace took %.2f s, recording spans 1.4 s' % slow)
    check(0.3 <= fast < slow * 0.6, '--speed 4 took %.2f s (original %.2f s)' % (fast, slow))
    check(top < 0.9, '--top-speed took %.2f s' % top)
    # conversation pace waits for a recorded reply before the packet that followed it
    conv = fx.broker_conversation('alice')
    idx = next(i for i, (d, m) in enumerate(conv.messages) if d == 'c2s' and b'PingQuery' in m)
    never = fx.Conversation(upgrade=False)
    never.send('s2c', 'message', 'alice@localhost/r1', 'ghost@localhost', 'never sent by the broker')
    conv.messages.insert(idx, never.messages[0])
    cap = write(CASE + '-wait', [conv])
    rc, out, err, rep, waited = replay(port, cap, '--timeout', '800')
    expect(rc, rep, 1, matched=8, missing=1, out=out + err)
    check(waited >= 0.8, 'conversation pace did not wait for the missing reply: %.2f s' % waited)
    check('from=ghost@localhost: missing' in out, out)
    rc, out, err, rep, nowait = replay(port, cap, '--timeout', '800', '--top-speed')
    check(nowait < waited - 0.5 or nowait < 1.0, '--top-speed waited: %.2f s' % nowait)

def case_load():
    port, _ = broker('--allow-any-user')
    cap = write(CASE, [fx.broker_conversation('alice')])
    # copies one at a time: fan-out between copies would be (correctly) unexpected
    rc, out, err, rep, _ = replay(port, cap, '--loop', '2', '--sessions-scale', '3', '--serial')
    expect(rc, rep, 0, matched=6 * 8, out=out + err)
    # every run once, in run order (round, session, copy), though results
    # settle as their sessions end, in any order (results.h)
    runs = [(s['loop'], s['copy']) for s in rep['sessions']]
    check(runs == [(l, c) for l in range(2) for c in range(3)], 'runs: %s' % runs)
    # two sessions of different lengths, several copies at once: they end
    # out of order, their results are listed in run order all the same
    cap2 = write(CASE + '-two', [fx.broker_conversation('alice'), fx.quiet_conversation('bob')])
    rc, out, err, rep, _ = replay(port, cap2, '--loop', '3', '--sessions-scale', '2', '--top-speed')
    runs = [(s['loop'], s['session'], s['copy']) for s in (rep or {}).get('sessions', [])]
    check(runs == [(l, k, c) for l in range(3) for k in range(2) for c in range(2)], 'runs: %s' % runs)
    check(rep is not None and rep['summary']['sessions'] == 12 and
          rep['summary']['matched'] == sum(s['matched'] for s in rep['sessions']), 'totals: %s' % out)
    log = open(os.path.join(WORK, 'broker-0.log')).read()
    check('logged in as alice@localhost/replay-copy-2' in log and 'logged in as alice@localhost/r1' in log,
          'copies did not log in with distinct resources')

def case_results_full():
    """The settled results cannot be written (a file-size limit standing for
    a full TMPDIR): the run ends with one message naming the file and exit
    2, no report made of the runs that were kept."""
    import resource
    import signal

    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG from write(), not a signal
        resource.setrlimit(resource.RLIMIT_FSIZE, (100000, 100000))
    port, _ = broker('--allow-any-user')
    # 50 short sessions (the spill file stays under the limit) x 40 rounds:
    # 2,000 results, past the limit once their second block is written
    cap = write(CASE, [fx.quiet_conversation('u%d' % k) for k in range(50)])
    report = os.path.join(WORK, 'full.json')
    p = subprocess.run([REPLAY, '--target', '127.0.0.1:%d' % port, '--top-speed', '--loop', '40',
                        '--report-json', report, cap], capture_output=True, text=True, timeout=120,
                       preexec_fn=small_files)
    lines = [l for l in p.stderr.splitlines() if l.strip()]
    check(p.returncode == 2 and len(lines) == 1 and 'cannot write the session results to ' in lines[0] and
          'hmtp-replay-results-' in lines[0] and 'File too large' in lines[0],
          'results file too large: exit %d\n%s%s' % (p.returncode, p.stdout[-500:], p.stderr[-500:]))
    check(not os.path.exists(report) and 'session run(s)' not in p.stdout, 'a report was written: %s' % p.stdout[-300:])
    # the same run without the limit: every result kept and reported
    rc, out, err, rep, _ = replay(port, cap, '--top-speed', '--loop', '40')
    check(rc == 0 and rep and rep['summary']['sessions'] == 2000 and len(rep['sessions']) == 2000,
          'without the limit: exit %d\n%s' % (rc, err))

def case_inputs():
    port, _ = broker('--allow-any-user')
    for name, link, fmt, v6 in (('pcapng', 'ether', 'pcapng', False), ('pcap-sll', 'sll', 'pcap', False),
                                ('ipv6-null', 'null', 'pcap', True), ('pcapng-sll2-ipv6', 'sll2', 'pcapng', True),
                                ('vlan-raw', 'vlan', 'pcap', False)):
        cap = write(name, two_users(), link=link, fmt=fmt, v6=v6)
        rc, out, err, rep, _ = replay(port, cap)
        check(rc == 0 and rep and rep['summary']['matched'] == 10, '%s: exit %d\n%s%s' % (name, rc, out, err))

def case_port():
    port, _ = broker('--allow-any-user')
    # a capture that starts after the upgrade: found only by --port
    cap = write(CASE, [fx.broker_conversation('alice', upgrade=False)], port=6800)
    rc, out, err, rep, _ = replay(port, cap)
    check(rc == 2 and '--port' in err, 'without --port: exit %d %s' % (rc, err))
    rc, out, err, rep, _ = replay(port, cap, '--port', '6800')
    expect(rc, rep, 0, matched=8, out=out + err)

def case_incomplete():
    port, _ = broker('--allow-any-user')
    conv = fx.broker_conversation('alice')
    segs = fx.tcp_segments(conv)
    # lose the client's message packet: the session breaks there
    lost = next(i for i, s in enumerate(segs) if s.dir == 'c2s' and b'breaking' in s.payload)
    del segs[lost]
    cap = os.path.join(WORK, CASE + '.pcap')
    fx.write_capture(cap, segs, fx.Endpoints())
    junit = os.path.join(WORK, 'junit.xml')
    rc, out, err, rep, _ = replay(port, cap, '--junit', junit)
    # skipped is not passed: exit 5 (capture damaged), and every report says so
    check(rc == 5 and 'session 0 skipped' in err and 'missing TCP segment' in err, 'default skips: exit %d %s' % (rc, err))
    check(rep and rep['summary']['skipped'] == 1 and rep['summary']['exit_status'] == 5 and
          rep['sessions'][0]['result'] == 'skipped' and 'missing TCP segment' in rep['sessions'][0]['reason'],
          'JSON: %s' % (rep and rep['sessions']))
    check(rep and rep['summary']['packets_sent'] == 0, 'a skipped session must not be sent')
    check(any(l.split()[:1] == ['0'] and l.endswith('skipped') for l in out.splitlines()), 'table: %s' % out)
    xml = open(junit).read()
    # the session, and the preflight that said it would be skipped
    check('skipped="2"' in xml and '<skipped message="skipped: incomplete in the capture: missing TCP segment' in xml and
          '--replay-incomplete for session 0' in xml, xml)
    rc, out, err, rep, _ = replay(port, cap, '--replay-incomplete')
    # everything before the lost packet is replayed and matches: login,
    # subscription (3 answers) and ping; the answer to the lost message is not
    # expected. Replayed in part only: exit 5, not 0.
    expect(rc, rep, 5, matched=5, out=out + err)
    check(rep and rep['sessions'][0]['result'] == 'incomplete' and 'frame' in (rep['sessions'][0]['incomplete'] or ''),
          'JSON: %s' % (rep and rep['sessions']))

fake_server = replay_harness.fake_server


def read_head(c):
    data = b''
    while b'\r\n\r\n' not in data:
        chunk = c.recv(4096)
        if not chunk:
            break
        data += chunk
    return data

def case_refused():
    def refuse(c, _):
        read_head(c)
        c.sendall(b'HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nno hmtp!\n')
        c.close()
    port, srv = fake_server(refuse)
    cap = write(CASE, [fx.broker_conversation('alice')])
    rc, out, err, rep, _ = replay(port, cap)
    check(rc == 3 and 'HTTP 404 Not Found' in out, 'refused upgrade: exit %d\n%s%s' % (rc, out, err))
    srv.close()
    # and nobody listening at all
    s = socket.socket()
    s.bind(('127.0.0.1', 0))
    dead = s.getsockname()[1]
    s.close()
    rc, out, err, rep, _ = replay(dead, cap)
    check(rc == 3 and 'cannot connect' in out, 'target down: exit %d\n%s%s' % (rc, out, err))
    # the rounds after the unreachable one are reported, each run once, in order
    rc, out, err, rep, _ = replay(dead, cap, '--loop', '3', '--sessions-scale', '2')
    runs = [(s['loop'], s['copy'], s['result']) for s in (rep or {}).get('sessions', [])]
    check(rc == 3 and [r[:2] for r in runs] == [(l, c) for l in range(3) for c in range(2)],
          'rounds after the target went down: exit %d, %s' % (rc, runs))
    check(runs[:1] == [(0, 0, 'unreachable')] and all(r[2] == 'not-run' for r in runs[2:]) and
          all('earlier round' in s['reason'] for s in rep['sessions'][2:]), 'outcomes: %s' % runs)

def case_faults():
    """A proxy to the broker that closes mallory's connection after the
    login and sends eve garbage: those sessions fail, alice's carries on."""
    bport, _ = broker('--allow-any-user')
    def proxy(c, _):
        up = socket.create_connection(('127.0.0.1', bport))
        up.sendall(read_head(c))
        c.sendall(read_head(up))  # the 101: the replayer sends its login only after it
        first = c.recv(65536)
        if b'mallory' in first:
            up.sendall(first)
            time.sleep(0.2)
            c.sendall(up.recv(65536))  # the login answer, then the connection is gone
            c.close(); up.close()
            return
        if b'eve' in first:
            c.sendall(b'\xff\xff\xff\xff\xff\xff')  # a length field that never ends
            time.sleep(1)
            c.close(); up.close()
            return
        up.sendall(first)
        def pump(a, b):
            try:
                while True:
                    d = a.recv(65536)
                    if not d:
                        break
                    b.sendall(d)
            except OSError:
                pass
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        threading.Thread(target=pump, args=(up, c), daemon=True).start()
        pump(c, up)
    port, srv = fake_server(proxy)
    cap = write(CASE, [fx.broker_conversation('alice'), fx.broker_conversation('mallory'),
                       fx.broker_conversation('eve')])
    rc, out, err, rep, _ = replay(port, cap, '--timeout', '2000')
    check(rc == 1, 'exit %d\n%s%s' % (rc, out, err))
    res = {s['session']: (s['result'], s['reason'] or '') for s in (rep or {'sessions': []})['sessions']}
    check(res.get(0, ('',))[0] == 'ok', 'alice: %s' % (res.get(0),))
    check(res.get(1, ('', ''))[0] == 'failed' and 'closed the connection' in res[1][1], 'mallory: %s' % (res.get(1),))
    check(res.get(2, ('', ''))[0] == 'failed' and 'HMTP framing' in res[2][1], 'eve: %s' % (res.get(2),))
    srv.close()

def case_truncated():
    port, _ = broker('--allow-any-user')
    a, b = fx.broker_conversation('alice'), fx.quiet_conversation('bob')
    sa = fx.tcp_segments(a)
    sb = fx.tcp_segments(b, isn=(70000, 90000))
    fa = fx.frames(sa, fx.Endpoints(client_port=41000), 'ether')
    fb = fx.frames(sb, fx.Endpoints(client_port=41001), 'ether', t0=1232532100.0)
    cap = os.path.join(WORK, CASE + '.pcap')
    fx.write_pcap(cap, 1, fa + fb)
    # cut the file in the middle of the frame carrying bob's ping query
    k = next(i for i, s in enumerate(sb) if b'PingQuery' in s.payload)
    cut = 24 + sum(16 + len(f[1]) for f in fa + fb[:k]) + 16 + len(fb[k][1]) // 2
    data = open(cap, 'rb').read()
    open(cap, 'wb').write(data[:cut])
    rc, out, err, rep, _ = replay(port, cap)
    check('breaks after frame' in err, 'truncation not reported: %s' % err)
    # bob's session is replayed as far as the capture goes: login and presence;
    # a damaged file does not pass (exit 5), and the report names the damage
    check(rc == 5 and rep and [(s['session'], s['sent'], s['matched'], s['result']) for s in rep['sessions']] ==
          [(0, 7, 8, 'ok'), (1, 2, 1, 'incomplete')],
          'alice replayed, bob up to the break: exit %d\n%s%s' % (rc, out, err))
    check(rep and rep['summary']['capture_damaged'] and 'breaks after frame' in rep['capture_problems'][0], 'JSON: %s' % rep)
    check('capture damaged: the capture breaks after frame' in out, out)

def case_query_ids():
    """The server queries the client with an id of its own choosing: the
    client's recorded answer must carry the target's id, not the recorded one."""
    server_id = 77
    def fake_hmtp(c, _):
        read_head(c)
        c.sendall(fx.UPGRADE_RESPONSE)
        enc, buf = fx.Encoder(), b''
        jid = 'alice@localhost/r1'
        send = fx.socket_sender(c, enc)
        for body in fx.socket_bodies(c, buf):
            t, to, frm, id_ = fx.decode_header(body)
            if t == 3:  # the login
                send('queryResult', jid, None, fx.auth_result(jid), id=fx.Long(id_))
                send('queryGet', jid, 'admin@localhost', 'status?', id=fx.Long(server_id))
            elif t == 4:
                send('message', jid, 'admin@localhost', 'ok' if id_ == server_id else 'bad id %d' % id_)
        c.close()
    port, srv = fake_server(fake_hmtp)
    conv = fx.Conversation()
    jid = 'alice@localhost/r1'
    conv.send('c2s', 'querySet', None, None, fx.auth_query('alice', 'pw', 'r1'), id=fx.Long(0))
    conv.send('s2c', 'queryResult', jid, None, fx.auth_result(jid), id=fx.Long(0))
    conv.send('s2c', 'queryGet', jid, 'admin@localhost', 'status?', id=fx.Long(5))
    conv.send('c2s', 'queryResult', 'admin@localhost', jid, 'fine', id=fx.Long(5))
    conv.send('s2c', 'message', jid, 'admin@localhost', 'ok')
    cap = write(CASE, [conv])
    rc, out, err, rep, _ = replay(port, cap)
    expect(rc, rep, 0, matched=3, out=out + err)
    # at top speed the answer leaves before the target's query arrives: the
    # recorded id goes out, and the fake server says so
    rc, out, err, rep, _ = replay(port, cap, '--top-speed')
    check(rc == 1 and 'actual "bad id 5"' in out, 'top speed cannot remap: exit %d\n%s' % (rc, out))
    srv.close()

def case_window():
    """Replies recorded in another order than the target sends them: paired
    within the window, missing + unexpected without one."""
    port, _ = broker('--allow-any-user')
    conv = fx.broker_conversation('alice')
    # record the service's presence before its presenceSubscribed
    i = next(k for k, (d, m) in enumerate(conv.messages) if d == 's2c' and m[1] == 0x90 + 10)  # int 10: presenceSubscribed
    conv.messages[i], conv.messages[i + 1] = conv.messages[i + 1], conv.messages[i]
    cap = write(CASE, [conv])
    rc, out, err, rep, _ = replay(port, cap)
    expect(rc, rep, 0, matched=8, out=out + err)
    rc, out, err, rep, _ = replay(port, cap, '--window', '0', '--timeout', '300')
    check(rc == 1 and rep['summary']['matched'] < 8, 'with --window 0 the swap must show: exit %d\n%s' % (rc, out))
    paths = [d['path'] for s in rep['sessions'] for d in s['differences']]
    check('order' in paths, 'the reordering is not named: %s' % paths)

def write_ordered(name, convs, order, mss=1000):
    return fx.write_ordered(os.path.join(WORK, name + '.pcap'), convs, order, mss)

def case_cross_session():
    """erin subscribes, then dave publishes, then erin gets the fan-out: the
    default pace keeps that order across the two connections although dave's
    own session has nothing to wait for."""
    port, _ = broker('--allow-any-user')
    news = 'news@localhost'
    dave, erin = fx.Conversation(), fx.Conversation()
    for conv, user in ((dave, 'dave'), (erin, 'erin')):
        jid = user + '@localhost/r1'
        conv.send('c2s', 'querySet', None, None, fx.auth_query(user, 'pw', 'r1'), id=fx.Long(0))
        conv.send('s2c', 'queryResult', jid, None, fx.auth_result(jid), id=fx.Long(0))
    ejid = 'erin@localhost/r1'
    # erin spends a round trip on a ping first: left to race, dave's
    # publication would reach the broker before her subscription
    erin.send('c2s', 'queryGet', 'service@localhost', ejid, fx.ping_query('first'), id=fx.Long(1))
    erin.send('s2c', 'queryResult', ejid, 'service@localhost', fx.ping_query('first', 'hmtp-broker', answer=True),
              id=fx.Long(1))
    fx.subscribe(erin, ejid, news)
    dave.send('c2s', 'message', news, None, 'extra edition')
    erin.send('s2c', 'message', ejid, news, 'extra edition')
    fx.unsubscribe(erin, ejid, news)
    dave.send('c2s', 'presenceUnavailable', None, None, None)
    #        dave: upgrade, login     erin: upgrade, login, ping, subscribe + 3   dave: publish
    order = [0, 0, 0, 0] + [1] * 10 + [0] + [1] * 4 + [0]
    cap = write_ordered(CASE, [dave, erin], order)
    for _ in range(3):
        rc, out, err, rep, _ = replay(port, cap, '--timeout', '2000')
        expect(rc, rep, 0, matched=1 + 8, out=out + err)
    # each session on its own: dave's publication overtakes erin's subscription
    missed = 0
    for _ in range(3):
        rc, out, err, rep, _ = replay(port, cap, '--pace', 'session', '--timeout', '300')
        missed += rc == 1 and 'message to=erin@localhost/r1 from=news@localhost: missing' in out
    check(missed > 0, '--pace session never lost the fan-out: the test no longer shows what it is for')
    # one session after another cannot keep the order either: documented
    rc, out, err, rep, _ = replay(port, cap, '--serial', '--timeout', '300')
    expect(rc, rep, 1, matched=8, missing=1, out=out + err)

CAPTURES = replay_harness.CAPTURES

def case_encrypted_login():
    """Resin's own late-2009 client logged in encrypted against the recording
    broker's key; the target here has a key of its own."""
    cap = os.path.join(CAPTURES, 'resin-client-encrypted.pcapng')
    port, _ = broker('--user', 'resin:secret', '--require-encrypted')
    rc, out, err, rep, _ = replay(port, cap, '--login', 'resin:secret')
    expect(rc, rep, 0, out=out + err)
    check(rep and rep['summary']['matched'] >= 9, 'matched: %s' % (rep and rep['summary']))
    # the same from a file, and from the recorded password decrypted with the recording's key
    logins = os.path.join(WORK, 'logins.txt')
    open(logins, 'w').write('# uid:password\nnobody:x\nresin:secret\n')
    rc, out, err, rep, _ = replay(port, cap, '--login-file', logins)
    expect(rc, rep, 0, out=out + err)
    rc, out, err, rep, _ = replay(port, cap, '--recorded-key', os.path.join(CAPTURES, 'broker-key.pem'))
    expect(rc, rep, 0, out=out + err)
    # a wrong password fails where the recording logged in: a difference
    rc, out, err, rep, _ = replay(port, cap, '--login', 'resin:wrong', '--timeout', '300')
    check(rc == 1 and 'queryError id=2' in out, 'wrong password: exit %d\n%s%s' % (rc, out, err))
    # sent as a plain string, the broker that requires encryption refuses it
    rc, out, err, rep, _ = replay(port, cap, '--login', 'resin:secret', '--login-mode', 'plain', '--timeout', '300')
    check(rc == 1, '--login-mode plain against --require-encrypted: exit %d\n%s%s' % (rc, out, err))
    # no password: not replayable, said once, exit 4
    junit = os.path.join(WORK, 'junit.xml')
    rc, out, err, rep, _ = replay(port, cap, '--junit', junit)
    check(rc == 4, 'without credentials: exit %d, expected 4\n%s%s' % (rc, out, err))
    lines = [l for l in err.splitlines() if 'not replayable' in l]
    check(len(lines) == 1 and 'session 0' in lines[0] and 'encrypted' in lines[0] and '--login' in lines[0],
          'stderr: %s' % err)
    check(rep and rep['summary']['not_replayable'] == 1 and rep['summary']['exit_status'] == 4 and
          rep['sessions'][0]['result'] == 'not-replayable', 'report: %s' % (rep and rep['summary']))
    check('skipped="2"' in open(junit).read() and 'nothing to replay: needs something' in err and
          '<skipped message="not-replayable: ' in open(junit).read(), 'junit skipped')
    check(rep and rep['summary']['packets_sent'] == 0, 'a not replayable session must not be sent')
    rc, out, err, rep, _ = replay(port, cap, '--login', 'resin-no-colon')
    check(rc == 2 and 'UID:PASSWORD' in err, 'bad --login: exit %d %s' % (rc, err))

def case_login_upgrade():
    """--login-mode encrypted: recorded plain logins are done encrypted (a key
    query inserted, the password wrapped for the target's key), so a broker
    that refuses plain passwords accepts the replay; every later client
    packet is written again with the class numbering the insertion implies."""
    port, _ = broker('--user', 'resin:secret', '--require-encrypted')
    cap = os.path.join(CAPTURES, 'resin-client.pcapng')
    rc, out, err, rep, _ = replay(port, cap, '--timeout', '300')
    # the refused login (queryError instead of the recorded AuthResult) is the difference
    check(rc == 1 and 'queryError id=0' in out,
          'plain login against --require-encrypted: exit %d\n%s%s' % (rc, out, err))
    rc, out, err, rep, _ = replay(port, cap, '--login-mode', 'encrypted')
    expect(rc, rep, 0, out=out + err)
    check(rep and rep['summary']['matched'] >= 8, 'matched: %s' % (rep and rep['summary']))
    # the inserted key query is sent (one more packet) and its answer is not compared
    check(rep and rep['summary']['packets_sent'] == 9, 'packets sent: %s' % (rep and rep['summary']))
    # a password given on the command line wins over the recorded one
    rc, out, err, rep, _ = replay(port, cap, '--login-mode', 'encrypted', '--login', 'resin:wrong', '--timeout', '300')
    check(rc == 1 and 'queryError id=0' in out, 'wrong --login: exit %d\n%s%s' % (rc, out, err))
    # plain and encrypted logins mixed; a refused plain login's echo carries
    # the EncryptedObject sent, compared by shape
    port2, _ = broker('--user', 'alice:secret', '--user', 'carol:pw', '--require-encrypted')
    cap2 = os.path.join(CAPTURES, 'logins-queries.pcap')
    rc, out, err, rep, _ = replay(port2, cap2, '--recorded-key', RECORDED_KEY, '--timeout', '300')
    check(rc == 1, 'logins-queries plain against --require-encrypted: exit %d\n%s%s' % (rc, out, err))
    rc, out, err, rep, _ = replay(port2, cap2, '--recorded-key', RECORDED_KEY, '--login-mode', 'encrypted')
    expect(rc, rep, 0, out=out + err)
    # --map-jid still applies to the packets written again
    port3, _ = broker('--allow-any-user', '--require-encrypted')
    cap3 = write(CASE, [fx.broker_conversation('alice', domain='prod.example')])
    rc, out, err, rep, _ = replay(port3, cap3, '--map-jid', 'prod.example=localhost', '--timeout', '300')
    check(rc == 1, 'mapped plain login against --require-encrypted: exit %d\n%s%s' % (rc, out, err))
    rc, out, err, rep, _ = replay(port3, cap3, '--map-jid', 'prod.example=localhost', '--login-mode', 'encrypted')
    expect(rc, rep, 0, matched=8, out=out + err)
    rc, out, err, rep, _ = replay(port3, cap3, '--login-mode', 'bogus')
    check(rc == 2 and 'encrypted' in err, 'bad --login-mode: exit %d %s' % (rc, err))

# ---------------------------------------------------------------- hostile targets

def silent_server(answer_upgrade, read=True, rcvbuf=None):
    """A target that accepts and then says nothing (answer_upgrade False),
    or answers the upgrade and then says nothing more; with read False it
    also stops reading. Connections stay open until the test ends. Returns
    (port, listening socket, accept times)."""
    held, accepted = [], []
    def handler(c, _):
        held.append(c)
        if answer_upgrade:
            read_head(c)
            c.sendall(fx.UPGRADE_RESPONSE)
        while read:
            try:
                if not c.recv(65536):
                    return
            except OSError:
                return
        time.sleep(600)
    port, srv = fake_server(handler, rcvbuf, accepted)
    return port, srv, accepted

def junit_tree(path):
    """The JUnit file parsed (it must be well-formed XML) as
    {testcase name: (verdict tag or None, message)}."""
    import xml.etree.ElementTree as ET
    root = ET.parse(path).getroot()
    out = {}
    for tc in root.iter('testcase'):
        kids = list(tc)
        out[tc.get('name')] = (kids[0].tag, kids[0].get('message')) if kids else (None, None)
    return root, out

def case_silent():
    """No wait is without --timeout: a target that accepts and never
    answers ends the run with exit 3 within the timeout (plus a second for
    starting and reporting), under every pace; one that answers the upgrade
    and then goes silent gets its replies reported missing, exit 1, within
    one timeout per recorded wait."""
    cap = write(CASE, two_users())
    junit = os.path.join(WORK, 'junit.xml')
    port, srv, accepted = silent_server(answer_upgrade=False)
    for pace in (['--pace', 'conversation'], ['--pace', 'session'], ['--pace', 'original'], ['--top-speed'],
                 ['--serial'], ['--max-connections', '1', '--pace', 'original']):
        del accepted[:]
        rc, out, err, rep, took = replay(port, cap, '--timeout', '1000', '--junit', junit, *pace, timeout=30)
        # from the first connection (the process start and the capture
        # reading aside, which a loaded machine stretches) to the exit
        waited = time.time() - accepted[0] if accepted else 99.0
        what = ' '.join(pace)
        check(rc == 3 and waited < 2.0, '%s: silent target: exit %d %.2f s after connecting (%.2f s in all)\n%s%s'
              % (what, rc, waited, took, out, err))
        check('did not answer the upgrade within --timeout (1000 ms)' in out, '%s: table: %s' % (what, out))
        res = [s['result'] for s in (rep or {'sessions': []})['sessions']]
        # every session is in the report: the first found the target silent,
        # the other one too (connected at once) or was not run after that
        check(len(res) == 2 and res[0] == 'unreachable' and res[1] in ('unreachable', 'not-run'),
              '%s: JSON results %s' % (what, res))
        root, cases = junit_tree(junit)
        # named by client and JID; the preflight passed (nothing was wrong before sending)
        s0, s1 = 'session 0 (192.0.2.1:41000 alice@localhost/r1)', 'session 1 (192.0.2.1:41001 bob@localhost/r1)'
        check(root.get('tests') == '3' and cases.get(s0, (None,))[0] == 'error' and
              'did not answer the upgrade' in cases[s0][1] and cases['preflight'][0] == 'system-out' and
              cases.get(s1, (None,))[0] in ('error', 'skipped'), '%s: junit %s' % (what, cases))
    srv.close()
    # the upgrade answered, then nothing: every recorded reply is missing;
    # the conversation pace waits one timeout per client packet at most
    port, srv, accepted = silent_server(answer_upgrade=True)
    sends = sum(1 for c in two_users() for d, m in c.messages[2:] if d == 'c2s')
    for pace, bound in ((['--pace', 'conversation'], (sends + 1) * 0.3), (['--pace', 'session'], (sends + 1) * 0.3),
                        (['--top-speed'], 0.3 + 0.1)):
        del accepted[:]
        rc, out, err, rep, took = replay(port, cap, '--timeout', '300', *pace, timeout=60)
        waited = time.time() - accepted[0] if accepted else 99.0
        what = ' '.join(pace)
        expect(rc, rep, 1, matched=0, missing=10, out=what + '\n' + out + err)
        check(waited < bound + 1.0, '%s: exit %.2f s after connecting, bound %.2f s' % (what, waited, bound + 1.0))
        lines = [l for l in out.splitlines() if 'missing (no such reply)' in l and 'first divergence' not in l]
        check(len(lines) == 10, '%s: %s' % (what, out))
    srv.close()
    # the upgrade answered, then the target stops reading: a write that
    # makes no progress for --timeout fails the session
    port, srv, _ = silent_server(answer_upgrade=True, read=False, rcvbuf=4096)
    conv = fx.Conversation()
    jid = 'alice@localhost/r1'
    conv.send('c2s', 'querySet', None, None, fx.auth_query('alice', 'pw', 'r1'), id=fx.Long(0))
    for k in range(120):
        conv.send('c2s', 'message', 'news@localhost', jid, 'x' * 60000)
    big = write(CASE + '-big', [conv])
    rc, out, err, rep, took = replay(port, big, '--timeout', '500', '--top-speed', timeout=60)
    res = (rep or {'sessions': [{}]})['sessions'][0]
    # bounded: the run (reading a 7 MB capture aside) ends soon after the
    # writes stop making progress
    ran = rep['summary']['elapsed_s'] if rep else 99
    check(rc == 1 and res.get('result') == 'failed' and 'took none of the bytes sent for --timeout (500 ms)' in
          (res.get('reason') or '') and ran < 0.5 + 2.0 and took < 20,
          'stalled writes: exit %d after %.2f s (run %.2f s)\n%s%s' % (rc, took, ran, out, err))
    srv.close()

def pcapng_blocks(data):
    """(offset, type, length) of every block of a little-endian pcapng file."""
    out, off = [], 0
    while off + 12 <= len(data):
        btype, n = struct.unpack_from('<II', data, off)
        out.append((off, btype, n))
        off += n
    return out

def damaged_copies(path):
    """Damaged copies of a pcapng capture: cut at several offsets, and one
    with a block length flipped; each with whether an upgrade answer (a
    session) lies before the damage, read here from the blocks, not by
    hmtp-replay."""
    data = open(path, 'rb').read()
    blocks = [b for b in pcapng_blocks(data) if b[1] == 6]
    first_101 = next(k for k, (off, _, n) in enumerate(blocks) if b' 101 ' in data[off:off + n])
    def session_before(offset):
        off, _, n = blocks[first_101]
        return off + n <= offset
    mid = lambda k: blocks[k][0] + blocks[k][2] // 2
    cuts = [('cut-in-header', 12), ('cut-after-first-session', mid(first_101 + 1)),
            ('cut-at-half', mid(len(blocks) // 2)), ('cut-in-last-block', mid(len(blocks) - 1))]
    out = []
    for name, at in cuts:
        out.append((name, data[:at], at > 12 and session_before(at)))
    # a record header that lies: the length of a block in the second half
    off = blocks[(len(blocks) * 2) // 3][0]
    flipped = bytearray(data)
    flipped[off + 7] ^= 0x7f
    out.append(('flipped-block-length', bytes(flipped), session_before(off)))
    # a captured length that is 20 bytes short, on a frame with data: the
    # frame is read, its last bytes are not: a gap in that session
    off = next(o for o, _, n in blocks[len(blocks) // 2:] if struct.unpack_from('<I', data, o + 20)[0] > 100)
    short = bytearray(data)
    struct.pack_into('<I', short, off + 20, struct.unpack_from('<I', data, off + 20)[0] - 20)
    out.append(('short-captured-length', bytes(short), session_before(off)))
    return out

def case_damaged():
    """No silent pass on a damaged capture: every damaged copy of every
    sample pcapng exits 2 when nothing could be read before the damage, else
    5 (capture damaged) when what was read replays clean, and the table,
    JSON and JUnit name the damage."""
    seen, kinds = set(), set()
    for name in sorted(os.listdir(CAPTURES)):
        if not name.endswith('.pcapng'):
            continue
        broker_args, replay_args, want = CAPTURE_SETTINGS.get(name, (['--allow-any-user'], [], 'clean'))
        if '--login' not in replay_args:
            replay_args = replay_args + ['--recorded-key', RECORDED_KEY]
        port, _ = broker(*broker_args)
        for what, data, readable in damaged_copies(os.path.join(CAPTURES, name)):
            cap = os.path.join(WORK, '%s-%s' % (what, name))
            open(cap, 'wb').write(data)
            junit = os.path.join(WORK, 'junit.xml')
            if os.path.exists(junit):
                os.unlink(junit)
            rc, out, err, rep, _ = replay(port, cap, '--junit', junit, '--timeout', '1500', *replay_args, timeout=60)
            tag = '%s %s' % (name, what)
            seen.add((rc, readable))
            if not readable:
                check(rc == 2 and 'cannot read capture' in err and rep is None, '%s: exit %d\n%s%s' % (tag, rc, out, err))
                continue
            if rep is None or not os.path.exists(junit):
                check(False, '%s: exit %d, no report\n%s%s' % (tag, rc, out, err))
                continue
            s = rep['summary']
            # A cut file replays clean up to the cut: exit 5. A session
            # skipped for a gap takes its traffic with it, which other
            # sessions may miss: then differences, and 1 wins over 5.
            differs = s['different'] + s['missing'] + s['unexpected'] > 0
            check(rc == (1 if differs else 5) and s['exit_status'] == rc, '%s: exit %d\n%s%s' % (tag, rc, out, err))
            check(not differs or what == 'short-captured-length', '%s: differences\n%s%s' % (tag, out, err))
            check(differs or 'is damaged: part of it was not replayed' in err, '%s: stderr %s' % (tag, err))
            damaged_file = 'capture damaged: ' in out
            cut_sessions = [x for x in rep['sessions'] if x['result'] in ('skipped', 'incomplete')]
            check(damaged_file or cut_sessions, '%s: the table names no damage\n%s' % (tag, out))
            check(s['capture_damaged'] == damaged_file and bool(rep['capture_problems']) == damaged_file,
                  '%s: JSON capture problems %s' % (tag, rep['capture_problems']))
            kinds |= {x['result'] for x in cut_sessions} | ({'capture'} if damaged_file else set())
            for x in cut_sessions:
                row = [l for l in out.splitlines() if l.split()[:2] == [str(x['session']), x['client']]]
                check(row and row[0].endswith(x['result']), '%s: table row of session %d: %s' % (tag, x['session'], row))
                check(x['reason'] and ('incomplete' in x['reason'] or 'replayed up to' in x['reason'] or
                                       'breaks' in x['reason']), '%s: session reason %s' % (tag, x))
            root, cases = junit_tree(junit)
            if damaged_file:
                check(cases.get('capture file', (None,))[0] == 'error' and
                      'capture damaged' in cases['capture file'][1], '%s: junit %s' % (tag, cases))
            verdicts = [v[0] for k, v in cases.items() if k.startswith('session')]
            check(cases.get('preflight', (None,))[0] in ('skipped', 'system-out'), '%s: preflight %s' % (tag, cases))
            check(len(verdicts) == s['sessions'] and
                  verdicts.count('skipped') == s['skipped'] + s['not_replayable'] and
                  verdicts.count('error') == s['incomplete'], '%s: junit %s vs %s' % (tag, cases, s))
    # both outcomes were exercised, and both kinds of damage: the file's
    # (it breaks) and a session's (skipped for a gap)
    check({2, 5} <= {r for r, _ in seen}, 'exit statuses seen: %s' % seen)
    check(kinds == {'capture', 'skipped', 'incomplete'}, 'kinds of damage seen: %s' % kinds)

def case_login_deadline():
    """A broker that closes connections not logged in within 1 s: every
    session connects only shortly before its login is due, under every pace,
    so a session recorded late, or held back by the recorded order, still
    logs in."""
    port, _ = broker('--allow-any-user', '--login-timeout', '1')
    gap = 2.5
    alice, bob = fx.broker_conversation('alice'), fx.quiet_conversation('bob')
    fa = fx.frames(fx.tcp_segments(alice), fx.Endpoints(client_port=41000), 'ether', t0=1232532000.0)
    fb = fx.frames(fx.tcp_segments(bob, isn=(70000, 90000)), fx.Endpoints(client_port=41001), 'ether',
                   t0=1232532000.0 + gap)
    cap = os.path.join(WORK, CASE + '.pcap')
    fx.write_pcap(cap, 1, fa + fb)
    # the original pace keeps the gap between the sessions: bob logs in 2.5 s
    # after alice, on a connection opened just before
    rc, out, err, rep, took = replay(port, cap, '--pace', 'original')
    expect(rc, rep, 0, matched=10, out=out + err)
    check(took >= gap, 'original pace took %.2f s, the sessions are %.1f s apart' % (took, gap))
    rc, out, err, rep, took = replay(port, cap, '--pace', 'original', '--speed', '2')
    expect(rc, rep, 0, matched=10, out=out + err)
    check(gap / 2 <= took < gap, '--speed 2 took %.2f s' % took)
    for pace in (['--pace', 'conversation'], ['--pace', 'session'], ['--top-speed'], ['--serial'],
                 ['--max-connections', '1', '--pace', 'original']):
        rc, out, err, rep, _ = replay(port, cap, *pace)
        expect(rc, rep, 0, matched=10, out=' '.join(pace) + '\n' + out + err)
    # the recorded order holds bob's login back for 1.5 s (a reply alice
    # never gets): his connection is opened only when his turn comes
    never = fx.Conversation(upgrade=False)
    never.send('s2c', 'message', 'alice@localhost/r1', 'ghost@localhost', 'never sent by the broker')
    alice.messages.append(never.messages[0])
    fa = fx.frames(fx.tcp_segments(alice), fx.Endpoints(client_port=41000), 'ether', t0=1232532000.0)
    cap = os.path.join(WORK, CASE + '-held.pcap')
    fx.write_pcap(cap, 1, fa + fb)
    rc, out, err, rep, took = replay(port, cap, '--timeout', '1500')
    expect(rc, rep, 1, matched=10, missing=1, out=out + err)
    check(took >= 1.5 and rep and [s['result'] for s in rep['sessions']] == ['differs', 'ok'],
          'held back %.2f s: %s' % (took, rep and rep['sessions']))
    # the deadline is real: an upgraded connection that does not log in is closed
    c = socket.create_connection(('127.0.0.1', port))
    c.sendall(fx.UPGRADE_REQUEST)
    c.settimeout(5)
    t0, got = time.time(), b''
    try:
        while True:
            d = c.recv(4096)
            if not d:
                break
            got += d
    except OSError:
        pass
    c.close()
    check(b' 101 ' in got and time.time() - t0 < 3, 'the broker kept a connection without login: %.2f s' % (time.time() - t0))

# How each sample capture was recorded (captures/record.sh): the broker
# options to stand in for the recording's server, the replay options it
# needs, and whether it can verify clean at all. A capture not listed is
# replayed against `--allow-any-user` and must verify clean.
CAPTURE_SETTINGS = {
    'logins-queries.pcap': (['--user', 'alice:secret', '--user', 'carol:pw'], [], 'clean'),
    'large-payloads.pcap': (['--allow-any-user', '--max-packet', '4M'], ['--timeout', '20000'], 'clean'),
    'upgrade-get.pcapng': (['--allow-any-user', '--upgrade-header'], [], 'clean'),
    # The login happened before the capture started: the broker refuses the
    # session's packets, so only a complete run with a report is asked for.
    'midstream.pcap': (['--allow-any-user'], ['--port', '8080', '--timeout', '500'], 'runs'),
    'resin-client.pcapng': (['--user', 'resin:secret'], [], 'clean'),
    'resin-client-encrypted.pcapng': (['--user', 'resin:secret'], ['--login', 'resin:secret'], 'clean'),
    # Recorded against Resin's own 2009 server, whose MemoryPubSub answers no
    # presence and fans nothing out: presence is left out (sent and compared),
    # as broker/README.md's table "Against Resin's own server" says.
    'resin-server-pubsub.pcapng': (['--allow-any-user'], ['--types', 'messages,query'], 'clean'),
    'resin-server-resin-client.pcapng': (['--allow-any-user'], ['--types', 'messages,query'], 'clean'),
}
# The encrypted logins of the scripted client (password `pw`, and the
# passwords above) are redone for the test broker's own key: their recorded
# passwords are decrypted with the recording broker's key.
RECORDED_KEY = os.path.join(CAPTURES, 'broker-key.pem')

def capture_case(path):
    """A capture of captures/ replayed against a fresh broker."""
    broker_args, replay_args, want = CAPTURE_SETTINGS.get(os.path.basename(path), (['--allow-any-user'], [], 'clean'))
    port, _ = broker(*broker_args)
    if os.path.exists(RECORDED_KEY) and '--login' not in replay_args:
        replay_args = replay_args + ['--recorded-key', RECORDED_KEY]
    rc, out, err, rep, _ = replay(port, path, *replay_args)
    if want == 'clean':
        check(rc == 0, '%s: exit %d\n%s%s' % (path, rc, out, err))
    else:
        check(rc in (0, 1) and rep is not None and rep['summary']['sessions'] > 0,
              '%s: exit %d\n%s%s' % (path, rc, out, err))
    # One session at a time under the default pace: the cross-session order
    # cannot hold (fan-out between sessions shows as missing), but every
    # session still runs to its end; none is left "not run" (an engine that
    # kept a timeline of every session's events once did that here).
    rc, out, err, rep, _ = replay(port, path, '--max-connections', '1', '--timeout', '1000', *replay_args)
    ran = rep is not None and all(s['result'] in ('ok', 'differs', 'incomplete') for s in rep['sessions'])
    check(rc in (0, 1) and ran, '%s, --max-connections 1: exit %d, results %s\n%s%s' % (
        path, rc, rep and [s['result'] for s in rep['sessions']], out, err))

if CASE.startswith('capture:'):
    capture_case(CASE[len('capture:'):])
else:
    globals()['case_' + CASE.replace('-', '_')]()
H.finish()
