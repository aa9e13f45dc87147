# SPDX-License-Identifier: GPL-2.0-or-later
"""Builds test captures of HMTP sessions from nothing: conversations whose
packets the tests remember, a TCP conversation builder with real sequence
numbers, faults to inject (reordering, retransmission, overlap, loss,
snapshot-length cuts) and the frames of every link layer. The bytes
themselves (Hessian/HMTP, HTTP upgrade, TCP/IP, pcap/pcapng) come from
tests/common/hmtp_bytes.py, re-exported here. Stdlib only.

Independent of the C code on purpose: a capture written here and read back
by hmtp-replay checks the reader against a second reading of the spec."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'common'))
from hmtp_bytes import (  # noqa: E402,F401  (re-exported for the tests and bench/)
    ACK, FIN, LINKS, PSH, RST, SYN, TYPES, UPGRADE_REQUEST, UPGRADE_RESPONSE, Encoder, Long, Obj,
    auth_query, auth_result, bam_error, checksum, decode_header, frame, ip_packet, packet_body,
    ping_query, read_frames, socket_bodies, socket_sender, tcp_segment, write_pcap, write_pcapng)


class Conversation:
    """The application bytes of one connection, message by message, with the
    HMTP packets remembered for the tests' expectations."""
    def __init__(self, upgrade=True):
        self.enc = {'c2s': Encoder(), 's2c': Encoder()}
        self.messages = []   # (dir, bytes)
        self.packets = []    # dicts describing every HMTP packet, in order
        if upgrade:
            self.messages.append(('c2s', UPGRADE_REQUEST))
            self.messages.append(('s2c', UPGRADE_RESPONSE))

    def send(self, dir, ptype, to, frm, value=None, id=None, error=None, chunk=None):
        body = packet_body(self.enc[dir], ptype, to, frm, value, id, error)
        self.messages.append((dir, frame(body, chunk)))
        self.packets.append({'direction': dir, 'type_name': ptype, 'to': to, 'from': frm, 'id': id})

def sample_conversation(upgrade=True, user='ferg@hmtp.caucho.com'):
    """Login, subscribe, two news items (same class: the second one refers to
    the definition by index only), a query, logout."""
    c = Conversation(upgrade)
    jid = user + '/r1'
    c.send('c2s', 'querySet', None, None, auth_query(user, 'secret'), id=Long(0))
    c.send('s2c', 'queryResult', None, None, auth_result(jid), id=Long(0))
    c.send('c2s', 'presence', None, None, None)
    c.send('c2s', 'presenceSubscribe', 'news@cnn.com', None, None)
    c.send('s2c', 'presenceSubscribed', jid, 'news@cnn.com', None)
    item = lambda title, n: Obj('example.NewsItem', [('title', title), ('published', Long(n))])
    c.send('s2c', 'message', jid, 'news@cnn.com', item('first', 1232532000000))
    c.send('s2c', 'message', jid, 'news@cnn.com', item('x' * 300, 1232532060000), chunk=100)
    c.send('c2s', 'queryGet', 'service@cnn.com', jid, 'ping', id=Long(1))
    c.send('s2c', 'queryResult', jid, 'service@cnn.com', 'pong', id=Long(1))
    c.send('c2s', 'presenceUnavailable', None, None, None)
    return c

# ---------------------------------------------------------------- TCP

class Seg:
    def __init__(self, dir, seq, ack, flags, payload=b''):
        self.dir, self.seq, self.ack, self.flags, self.payload = dir, seq, ack, flags, payload
        self.snap_cut = 0  # payload bytes the capture leaves out

def tcp_segments(conv, mss=1000, isn=(1000, 5000), handshake=True, close=True):
    """Segments of the connection in the order they were sent. Each data
    segment acknowledges everything the peer sent before it."""
    nxt = {'c2s': isn[0], 's2c': isn[1]}
    segs = []
    other = {'c2s': 's2c', 's2c': 'c2s'}
    if handshake:
        segs.append(Seg('c2s', nxt['c2s'], 0, SYN))
        nxt['c2s'] += 1
        segs.append(Seg('s2c', nxt['s2c'], nxt['c2s'], SYN | ACK))
        nxt['s2c'] += 1
        segs.append(Seg('c2s', nxt['c2s'], nxt['s2c'], ACK))
    for d, data in conv.messages:
        for i in range(0, len(data), mss):
            piece = data[i:i + mss]
            segs.append(Seg(d, nxt[d], nxt[other[d]], ACK | PSH, piece))
            nxt[d] += len(piece)
    if close:
        segs.append(Seg('c2s', nxt['c2s'], nxt['s2c'], FIN | ACK))
        nxt['c2s'] += 1
        segs.append(Seg('s2c', nxt['s2c'], nxt['c2s'], FIN | ACK))
        nxt['s2c'] += 1
        segs.append(Seg('c2s', nxt['c2s'], nxt['s2c'], ACK))
    return segs

def data_indexes(segs, dir=None):
    return [i for i, s in enumerate(segs) if s.payload and (dir is None or s.dir == dir)]

def swap_segments(segs, i, j):
    segs[i], segs[j] = segs[j], segs[i]

def retransmit(segs, i, later=2):
    s = segs[i]
    segs.insert(min(i + later + 1, len(segs)), Seg(s.dir, s.seq, s.ack, s.flags, s.payload))

def overlap(segs, i):
    """Inserts, before data segment i+1 of the same direction, a segment that
    repeats the second half of i and the first half of the next one."""
    a = segs[i]
    nexts = [k for k in range(i + 1, len(segs)) if segs[k].dir == a.dir and segs[k].payload]
    b = segs[nexts[0]]
    half_a = len(a.payload) // 2
    piece = a.payload[half_a:] + b.payload[:len(b.payload) // 2]
    segs.insert(i + 1, Seg(a.dir, a.seq + half_a, a.ack, ACK, piece))

# ---------------------------------------------------------------- IP and links

class Endpoints:
    def __init__(self, v6=False, client_port=40000, server_port=8080):
        self.v6 = v6
        if v6:
            self.addr = {'c2s': bytes.fromhex('20010db8000000000000000000000001'),
                         's2c': bytes.fromhex('20010db8000000000000000000000002')}
        else:
            self.addr = {'c2s': bytes([192, 0, 2, 1]), 's2c': bytes([192, 0, 2, 2])}
        self.port = {'c2s': client_port, 's2c': server_port}

def ip_packet_of(ep, seg):
    d = seg.dir
    o = 's2c' if d == 'c2s' else 'c2s'
    tcp = tcp_segment(ep.addr[d], ep.addr[o], ep.port[d], ep.port[o], seg.seq, seg.ack, seg.flags, seg.payload)
    return ip_packet(ep.addr[d], ep.addr[o], tcp)

def frames(segs, ep, link, t0=1232532000.0, step=0.001, snaplen=65535):
    """(timestamp, frame bytes, original length) per segment, in list order."""
    wrap = LINKS[link][1]
    out = []
    for k, s in enumerate(segs):
        f = wrap(ip_packet_of(ep, s), ep.v6)
        orig = len(f)
        if s.snap_cut:
            f = f[:len(f) - s.snap_cut]
        out.append((t0 + k * step, f[:snaplen], orig))
    return out

# ---------------------------------------------------------------- files

def write_capture(path, segs, ep, link='ether', fmt='pcap', conv_list=None):
    linktype = LINKS[link][0]
    fr = frames(segs, ep, link)
    (write_pcapng if fmt == 'pcapng' else write_pcap)(path, linktype, fr)
    return fr

def subscribe(c, jid, topic):
    """jid subscribes to topic: hmtp-broker's four packets (the topic's
    presence and its presenceProbe follow the subscribed)."""
    c.send('c2s', 'presenceSubscribe', topic, None, None)
    c.send('s2c', 'presenceSubscribed', jid, topic, None)
    c.send('s2c', 'presence', jid, topic, None)
    c.send('s2c', 'presenceProbe', jid, topic, None)

def unsubscribe(c, jid, topic):
    """jid unsubscribes: the unsubscribed and the topic's presenceUnavailable."""
    c.send('c2s', 'presenceUnsubscribe', topic, None, None)
    c.send('s2c', 'presenceUnsubscribed', jid, topic, None)
    c.send('s2c', 'presenceUnavailable', jid, topic, None)

def broker_conversation(user='alice', resource='r1', domain='localhost', server='hmtp-broker', upgrade=True):
    """A session as hmtp-broker answers it (broker/: login, pubsub service
    news@DOMAIN, query service service@DOMAIN), so replaying it against a
    fresh broker matches packet for packet."""
    c = Conversation(upgrade)
    jid = '%s@%s/%s' % (user, domain, resource)
    news, service = 'news@' + domain, 'service@' + domain
    c.send('c2s', 'querySet', None, None, auth_query(user, 'secret', resource), id=Long(0))
    c.send('s2c', 'queryResult', jid, None, auth_result(jid), id=Long(0))
    c.send('c2s', 'presence', None, None, None)
    subscribe(c, jid, news)
    c.send('c2s', 'queryGet', service, jid, ping_query('hello'), id=Long(1))
    c.send('s2c', 'queryResult', jid, service, ping_query('hello', server, answer=True), id=Long(1))
    c.send('c2s', 'message', news, None, 'breaking news')
    c.send('s2c', 'message', jid, news, 'breaking news')
    unsubscribe(c, jid, news)
    c.send('c2s', 'presenceUnavailable', None, None, None)
    return c

def quiet_conversation(user='bob', resource='r1', domain='localhost', server='hmtp-broker'):
    """A session that subscribes to nothing, so sessions replayed together
    never see each other's traffic: login, presence, a ping, logout."""
    c = Conversation(True)
    jid = '%s@%s/%s' % (user, domain, resource)
    c.send('c2s', 'querySet', None, None, auth_query(user, 'secret', resource), id=Long(0))
    c.send('s2c', 'queryResult', jid, None, auth_result(jid), id=Long(0))
    c.send('c2s', 'presence', None, None, None)
    c.send('c2s', 'queryGet', 'service@' + domain, jid, ping_query('hi ' + user), id=Long(1))
    c.send('s2c', 'queryResult', jid, 'service@' + domain, ping_query('hi ' + user, server, answer=True), id=Long(1))
    c.send('c2s', 'presenceUnavailable', None, None, None)
    return c


def write_ordered(path, convs, order, mss=1000):
    """A pcap of several connections whose messages are interleaved as
    `order` says: one session index per message (the upgrade request and
    answer count as messages). Handshakes come first, closes last."""
    per_msg, opens, closes = [], [], []
    for k, conv in enumerate(convs):
        ep = Endpoints(client_port=41000 + k, server_port=8080)
        segs = tcp_segments(conv, mss=mss, isn=(1000 + 100000 * k, 5000 + 100000 * k))
        opens.append((segs[:3], ep))
        closes.append((segs[-3:], ep))
        body, msgs = segs[3:-3], []
        for d, data in conv.messages:
            n = (len(data) + mss - 1) // mss
            msgs.append(body[:n])
            body = body[n:]
        per_msg.append((msgs, ep))
    seq = list(opens)
    taken = [0] * len(convs)
    for k in order:
        msgs, ep = per_msg[k]
        seq.append((msgs[taken[k]], ep))
        taken[k] += 1
    assert taken == [len(m) for m, _ in per_msg], 'order must name every message once'
    seq += closes
    out = []
    for segs, ep in seq:
        for sg in segs:
            out.append(frames([sg], ep, 'ether', t0=1232532000.0 + len(out) * 0.001)[0])
    write_pcap(path, 1, out)
    return path
