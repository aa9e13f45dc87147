# SPDX-License-Identifier: GPL-2.0-or-later
"""End-to-end: sessions recorded against the normal hmtp-broker (resources
hmtp-N) replayed against a target that names links its own way, as Resin's
server does: random resources (hmtp-broker --random-resources, 11 Base64
characters that may start with '/') and a login answer addressed to null.

usage: test_random_resources.py HMTP_REPLAY HMTP_BROKER WORKDIR CASE
Every server the test starts listens on 127.0.0.1 on an ephemeral port."""

import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hmtp_fixture as fx  # noqa: E402
import replay_harness  # noqa: E402

H = replay_harness.Harness(sys.argv)
REPLAY, WORK, CASE = H.replay, H.work, H.case
check, broker = H.check, H.broker
CAPTURES = replay_harness.CAPTURES


def replay(port, capture, *options):
    report = os.path.join(WORK, 'report.json')
    if os.path.exists(report):
        os.unlink(report)
    p = subprocess.run([REPLAY, '--no-progress', '--target', '127.0.0.1:%d' % port, '--report-json', report]
                       + list(options) + [capture], capture_output=True, text=True, timeout=120)
    rep = json.load(open(report)) if os.path.exists(report) else None
    return p.returncode, p.stdout + p.stderr, rep


def clean(rc, out, rep, matched=None, sent=None):
    s = rep and rep['summary']
    ok = check(rc == 0 and s and (s['different'], s['missing'], s['unexpected']) == (0, 0, 0),
               'exit %d, expected a clean replay\n%s' % (rc, out))
    if ok and matched is not None:
        check(s['matched'] == matched, 'matched %d, expected %d\n%s' % (s['matched'], matched, out))
    if ok and sent is not None:
        check(s['packets_sent'] == sent, 'packets sent %d, expected %d\n%s' % (s['packets_sent'], sent, out))


def peers():
    """dave and erin log in without a resource (the broker names them
    hmtp-1 and hmtp-2), dave sends erin a message carrying his own full JID,
    erin queries dave at his full JID and dave answers: every later packet
    names the JIDs the login answers gave, in headers and in payloads."""
    dave, erin = fx.Conversation(), fx.Conversation()
    d, e = 'dave@localhost/hmtp-1', 'erin@localhost/hmtp-2'
    for conv, user, jid in ((dave, 'dave', d), (erin, 'erin', e)):
        conv.send('c2s', 'querySet', None, None, fx.auth_query(user, 'pw', None), id=fx.Long(0))
        conv.send('s2c', 'queryResult', jid, None, fx.auth_result(jid), id=fx.Long(0))
    dave.send('c2s', 'message', e, None, d)
    erin.send('s2c', 'message', e, d, d)
    erin.send('c2s', 'queryGet', d, e, 'are you there?', id=fx.Long(1))
    dave.send('s2c', 'queryGet', d, e, 'are you there?', id=fx.Long(1))
    dave.send('c2s', 'queryResult', e, d, 'yes, ' + d, id=fx.Long(1))
    erin.send('s2c', 'queryResult', e, d, 'yes, ' + d, id=fx.Long(1))
    dave.send('c2s', 'presenceUnavailable', None, None, None)
    erin.send('c2s', 'presenceUnavailable', None, None, None)
    #        dave: upgrade, login  erin: upgrade, login  message  query  answer  logouts
    order = [0, 0, 0, 0] + [1, 1, 1, 1] + [0, 1] + [1, 0] + [0, 1] + [0, 1]
    return fx.write_ordered(os.path.join(WORK, CASE + '.pcap'), [dave, erin], order)


def logged_in(log):
    return re.findall(r'logged in as (\S+)', open(log).read())


def case_peers():
    cap = peers()
    # the capture is what the normal broker answers: it replays clean there
    port, _ = broker('--allow-any-user')
    rc, out, rep = replay(port, cap)
    clean(rc, out, rep, matched=5)
    port, _ = broker('--allow-any-user', '--random-resources')
    rc, out, rep = replay(port, cap, '--loop', '20')
    clean(rc, out, rep, matched=5 * 20)
    jids = logged_in(os.path.join(WORK, 'broker-%d.log' % (len(H.children) - 1)))
    check(len(jids) == 40 and not any('/hmtp-' in j for j in jids), 'random resources assigned: %s' % jids)
    print('%d of %d random resources hold a /, %d start with one'
          % (sum('/' in j.split('/', 1)[1] for j in jids), len(jids), sum(j.split('/', 1)[1].startswith('/') for j in jids)))


def case_captures():
    """Bundled captures whose logins leave the resource null, recorded
    against the normal broker, replayed against --random-resources."""
    key = os.path.join(CAPTURES, 'broker-key.pem')
    for name, args, options in (('resin-client.pcapng', ['--user', 'resin:secret'], []),
                                ('resin-client-encrypted.pcapng', ['--user', 'resin:secret'], ['--login', 'resin:secret']),
                                ('presence-pubsub.pcapng', ['--allow-any-user'], ['--recorded-key', key]),
                                ('errors.pcapng', ['--allow-any-user'], ['--recorded-key', key])):
        port, _ = broker('--random-resources', '--key', key, *args)
        rc, out, rep = replay(port, os.path.join(CAPTURES, name), *options)
        clean(rc, out, rep)


def resin_like(assigned, sink=None):
    """A target that answers the login as Resin's server does (to = null, a
    resource of its own) and sends every message back to where it was
    addressed, from the link, with the assigned JID as its value when the
    message carried it, else 'not mapped'."""
    def handle(c):
        head = b''
        while b'\r\n\r\n' not in head:
            head += c.recv(4096)
        c.sendall(fx.UPGRADE_RESPONSE)
        enc, buf = fx.Encoder(), head[head.index(b'\r\n\r\n') + 4:]
        if sink is not None:
            sink.append(head)
        send = fx.socket_sender(c, enc)
        for body in fx.socket_bodies(c, buf, sink):
            t, to, frm, id_ = fx.decode_header(body)
            if t == 3:  # the login
                send('queryResult', None, None, fx.auth_result(assigned), id=fx.Long(id_))
            elif t == 0:
                send('message', to, assigned, assigned if assigned.encode() in body else 'not mapped')
        c.close()
    return replay_harness.fake_server(lambda c, _: handle(c))


def case_resin_login():
    """A resource that starts with '/' and a login answer to null: the
    recorded answer's `to` (the full JID, from hmtp-broker) is a JID of the
    session either way, and the JID is replaced in header and payload."""
    me = 'alice@localhost/hmtp-1'
    conv = fx.Conversation()
    conv.send('c2s', 'querySet', None, None, fx.auth_query('alice', 'pw', None), id=fx.Long(0))
    conv.send('s2c', 'queryResult', me, None, fx.auth_result(me), id=fx.Long(0))
    conv.send('c2s', 'message', me, None, me)
    conv.send('s2c', 'message', me, me, me)
    cap = os.path.join(WORK, CASE + '.pcap')
    fx.write_ordered(cap, [conv], [0] * len(conv.messages))
    for assigned in ('alice@localhost//q+Z9aB0cDe', 'alice@localhost/x/y+z'):
        port, srv = resin_like(assigned)
        rc, out, rep = replay(port, cap)
        clean(rc, out, rep, matched=2)
        srv.close()


def case_plain_no_key_query():
    """--login-mode plain on an encrypted login: the recorded key query is
    neither sent nor its answer expected (a target without encryption, like
    Resin's early server, refuses it)."""
    cap = os.path.join(CAPTURES, 'resin-client-encrypted.pcapng')
    port, _ = broker('--user', 'resin:secret')
    rc, out, rep = replay(port, cap, '--login', 'resin:secret')
    clean(rc, out, rep)
    sent, matched = rep['summary']['packets_sent'], rep['summary']['matched']
    rc, out, rep = replay(port, cap, '--login', 'resin:secret', '--login-mode', 'plain')
    clean(rc, out, rep, matched=matched - 1, sent=sent - 1)
    # What is sent must stand on its own: the key query carried the first
    # class definition, so the later packets are written again with their
    # classes numbered from 0 (Resin's reader would otherwise meet a class
    # index it never saw). A fresh decoder reads the client's whole direction.
    sink = []
    port, srv = resin_like('resin@localhost/Zq+0/9aB1cD', sink)
    rc, out, rep = replay(port, cap, '--login', 'resin:secret', '--login-mode', 'plain', '--timeout', '300')
    srv.close()
    raw = os.path.join(WORK, 'c2s.bin')
    open(raw, 'wb').write(b''.join(sink))
    decode = os.path.join(os.path.dirname(os.path.dirname(REPLAY)), 'decode', 'hmtp-decode')
    p = subprocess.run([decode, '--skip-http', raw], capture_output=True, text=True)
    packets = [json.loads(l) for l in p.stdout.splitlines() if l.startswith('{')]
    check(p.returncode == 0 and len(packets) == sent - 1,
          'the client direction does not decode on its own (exit %d, %d packets, want %d): %s'
          % (p.returncode, len(packets), sent - 1, p.stderr))
    check('GetPublicKeyQuery' not in p.stdout and 'EncryptedObject' not in p.stdout and '"secret"' in p.stdout,
          'key query or encrypted credentials sent in plain mode: %s' % p.stdout[:600])


globals()['case_' + CASE.replace('-', '_')]()
H.finish()
