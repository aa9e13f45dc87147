# SPDX-License-Identifier: GPL-2.0-or-later
"""Builds test captures of HMTP sessions from nothing: a small Hessian/HMTP
encoder (PROTOCOL.md sections 2-4), a TCP conversation builder with real
sequence numbers, faults to inject (reordering, retransmission, overlap,
loss, snapshot-length cuts), link layers (Ethernet, VLAN, SLL, SLL2,
NULL, raw IP; IPv4 and IPv6) and pcap/pcapng writers. Stdlib only.

Independent of the C code on purpose: a capture written here and read back
by hmtp-replay checks the reader against a second reading of the spec."""

import struct

# ---------------------------------------------------------------- Hessian

class Obj:
    """An object of a named class: fields is a list of (name, value)."""
    def __init__(self, cls, fields):
        self.cls = cls
        self.fields = fields

class Long:
    def __init__(self, v):
        self.v = v

class Encoder:
    """One direction of a connection: class definitions persist across packets."""
    def __init__(self):
        self.classes = []

    def string(self, s):
        data = s.encode('utf-8')
        n = len(s.encode('utf-16-le')) // 2
        if n < 32:
            return bytes([n]) + data
        if n < 1024:
            return bytes([0x30 + (n >> 8), n & 0xff]) + data
        assert n < 65536
        return b'S' + struct.pack('>H', n) + data

    def int_(self, v):
        if -16 <= v <= 47:
            return bytes([0x90 + v])
        if -2048 <= v <= 2047:
            return bytes([0xc8 + (v >> 8), v & 0xff])
        if -262144 <= v <= 262143:
            return bytes([0xd4 + (v >> 16), (v >> 8) & 0xff, v & 0xff])
        return b'I' + struct.pack('>i', v)

    def long_(self, v):
        if -8 <= v <= 15:
            return bytes([0xe0 + v])
        if -2048 <= v <= 2047:
            return bytes([0xf8 + (v >> 8), v & 0xff])
        if -262144 <= v <= 262143:
            return bytes([0x3c + (v >> 16), (v >> 8) & 0xff, v & 0xff])
        if -2**31 <= v < 2**31:
            return b'\x59' + struct.pack('>i', v)
        return b'L' + struct.pack('>q', v)

    def value(self, v):
        if v is None:
            return b'N'
        if v is True:
            return b'T'
        if v is False:
            return b'F'
        if isinstance(v, Long):
            return self.long_(v.v)
        if isinstance(v, int):
            return self.int_(v)
        if isinstance(v, float):
            return b'D' + struct.pack('>d', v)
        if isinstance(v, str):
            return self.string(v)
        if isinstance(v, Obj):
            out = b''
            key = (v.cls, tuple(n for n, _ in v.fields))
            if key not in self.classes:
                self.classes.append(key)
                out += b'C' + self.string(v.cls) + self.int_(len(v.fields))
                for n, _ in v.fields:
                    out += self.string(n)
            idx = self.classes.index(key)
            out += bytes([0x60 + idx]) if idx < 16 else b'O' + self.int_(idx)
            for _, fv in v.fields:
                out += self.value(fv)
            return out
        raise TypeError(type(v))

TYPES = ['message', 'messageError', 'queryGet', 'querySet', 'queryResult', 'queryError',
         'presence', 'presenceUnavailable', 'presenceProbe', 'presenceSubscribe',
         'presenceSubscribed', 'presenceUnsubscribe', 'presenceUnsubscribed', 'presenceError']

def packet_body(enc, ptype, to, frm, value=None, id=None, error=None):
    t = TYPES.index(ptype)
    body = enc.int_(t) + enc.value(to) + enc.value(frm)
    if 2 <= t <= 5:
        body += enc.long_(id.v if isinstance(id, Long) else id)
    body += enc.value(value)
    if t in (1, 5, 13):
        body += enc.value(error)
    return body

def frame(body, chunk=None):
    """HMTP framing: chunks with base-128 lengths, then 0x00."""
    def length(n):
        out = [n & 0x7f]
        n >>= 7
        while n:
            out.append(0x80 | (n & 0x7f))
            n >>= 7
        return bytes(reversed(out))
    out = b''
    step = chunk or 4094
    for i in range(0, len(body), step):
        piece = body[i:i + step]
        out += length(len(piece)) + piece
    return out + b'\x00'

def auth_query(uid, password, resource=None):
    return Obj('com.caucho.bam.hmtp.AuthQuery',
               [('_uid', uid), ('_credentials', password), ('_resource', resource)])

def auth_result(jid):
    return Obj('com.caucho.bam.hmtp.AuthResult', [('_jid', jid)])

def bam_error(type_, group, text=None):
    return Obj('com.caucho.bam.BamError',
               [('_type', type_), ('_group', group), ('_text', text), ('_data', None), ('_extra', None)])

UPGRADE_REQUEST = (b'CONNECT /hmtp HTTP/1.1\r\nHost: null:8080\r\nUpgrade: HMTP/0.9\r\n'
                   b'Connection: Upgrade\r\nContent-Length: 0\r\n\r\n')
# Resin's bare 101: no Upgrade header in the answer.
UPGRADE_RESPONSE = (b'HTTP/1.1 101 Switching Protocols\r\nServer: Resin/4.0.0\r\n'
                    b'Content-Length: 0\r\nDate: Wed, 21 Jan 2009 10:00:00 GMT\r\n\r\n')

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

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10

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

def checksum(data):
    if len(data) % 2:
        data += b'\x00'
    s = sum(struct.unpack('>%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

class Endpoints:
    def __init__(self, v6=False, client_port=40000, server_port=8080):
        self.v6 = v6
        if v6:
            self.addr = {'c2s': bytes.fromhex('20010db8000000000000000000000001'),
                         's2c': bytes.fromhex('20010db8000000000000000000000002')}
        else:
            self.addr = {'c2s': bytes([192, 0, 2, 1]), 's2c': bytes([192, 0, 2, 2])}
        self.port = {'c2s': client_port, 's2c': server_port}

def ip_packet(ep, seg):
    d = seg.dir
    o = 's2c' if d == 'c2s' else 'c2s'
    tcp = struct.pack('>HHIIBBHHH', ep.port[d], ep.port[o], seg.seq & 0xffffffff, seg.ack & 0xffffffff,
                      5 << 4, seg.flags, 65535, 0, 0) + seg.payload
    if ep.v6:
        pseudo = ep.addr[d] + ep.addr[o] + struct.pack('>IxxxB', len(tcp), 6)
    else:
        pseudo = ep.addr[d] + ep.addr[o] + struct.pack('>xBH', 6, len(tcp))
    csum = checksum(pseudo + tcp)
    tcp = tcp[:16] + struct.pack('>H', csum) + tcp[18:]
    if ep.v6:
        return struct.pack('>IHBB', 6 << 28, len(tcp), 6, 64) + ep.addr[d] + ep.addr[o] + tcp
    hdr = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(tcp), 1, 0x4000, 64, 6, 0, ep.addr[d], ep.addr[o])
    hdr = hdr[:10] + struct.pack('>H', checksum(hdr)) + hdr[12:]
    return hdr + tcp

# link type -> (pcap LINKTYPE value, wrapper(ip bytes, v6) -> frame bytes)
def _eth(ip, v6, vlan=False):
    et = 0x86dd if v6 else 0x0800
    hdr = bytes.fromhex('020000000002020000000001')
    if vlan:
        hdr += struct.pack('>HH', 0x8100, 42)
    return hdr + struct.pack('>H', et) + ip

LINKS = {
    'ether': (1, lambda ip, v6: _eth(ip, v6)),
    'vlan': (1, lambda ip, v6: _eth(ip, v6, vlan=True)),
    'sll': (113, lambda ip, v6: struct.pack('>HHH8sH', 0, 772, 6, b'\x00' * 8, 0x86dd if v6 else 0x0800) + ip),
    'sll2': (276, lambda ip, v6: struct.pack('>HHIHBB8s', 0x86dd if v6 else 0x0800, 0, 1, 772, 0, 6, b'\x00' * 8) + ip),
    'null': (0, lambda ip, v6: struct.pack('<I', 30 if v6 else 2) + ip),
    'raw': (101, lambda ip, v6: ip),
}

def frames(segs, ep, link, t0=1232532000.0, step=0.001, snaplen=65535):
    """(timestamp, frame bytes, original length) per segment, in list order."""
    wrap = LINKS[link][1]
    out = []
    for k, s in enumerate(segs):
        f = wrap(ip_packet(ep, s), ep.v6)
        orig = len(f)
        if s.snap_cut:
            f = f[:len(f) - s.snap_cut]
        out.append((t0 + k * step, f[:snaplen], orig))
    return out

# ---------------------------------------------------------------- files

def write_pcap(path, linktype, frames_, snaplen=65535):
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, snaplen, linktype))
        for ts, data, orig in frames_:
            sec = int(ts)
            usec = int(round((ts - sec) * 1e6))
            f.write(struct.pack('<IIII', sec, usec, len(data), orig) + data)

def write_pcapng(path, linktype, frames_, snaplen=65535):
    def block(btype, body):
        body += b'\x00' * (-len(body) % 4)
        n = 12 + len(body)
        return struct.pack('<II', btype, n) + body + struct.pack('<I', n)
    with open(path, 'wb') as f:
        f.write(block(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1)))
        f.write(block(1, struct.pack('<HHI', linktype, 0, snaplen)))
        for ts, data, orig in frames_:
            t = int(round(ts * 1e6))
            f.write(block(6, struct.pack('<IIIII', 0, t >> 32, t & 0xffffffff, len(data), orig) + data))

def write_capture(path, segs, ep, link='ether', fmt='pcap', conv_list=None):
    linktype = LINKS[link][0]
    fr = frames(segs, ep, link)
    (write_pcapng if fmt == 'pcapng' else write_pcap)(path, linktype, fr)
    return fr

def ping_query(payload, server=None, answer=False):
    fields = [('_payload', payload)]
    if answer:
        fields.append(('_server', server))
    return Obj('hmtp.PingQuery', fields)

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
    c.send('c2s', 'presenceSubscribe', news, None, None)
    c.send('s2c', 'presenceSubscribed', jid, news, None)
    c.send('s2c', 'presence', jid, news, None)
    c.send('s2c', 'presenceProbe', jid, news, None)
    c.send('c2s', 'queryGet', service, jid, ping_query('hello'), id=Long(1))
    c.send('s2c', 'queryResult', jid, service, ping_query('hello', server, answer=True), id=Long(1))
    c.send('c2s', 'message', news, None, 'breaking news')
    c.send('s2c', 'message', jid, news, 'breaking news')
    c.send('c2s', 'presenceUnsubscribe', news, None, None)
    c.send('s2c', 'presenceUnsubscribed', jid, news, None)
    c.send('s2c', 'presenceUnavailable', jid, news, None)
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

def read_frames(buf):
    """Splits complete HMTP packets off the front of buf: (bodies, rest)."""
    bodies = []
    while True:
        pos, body = 0, b''
        while True:
            n, shift = 0, 0
            while pos < len(buf) and buf[pos] & 0x80:
                n = (n << 7) | (buf[pos] & 0x7f)
                pos += 1
            if pos >= len(buf):
                return bodies, buf
            n = (n << 7) | buf[pos]
            pos += 1
            if n == 0:
                break
            if pos + n > len(buf):
                return bodies, buf
            body += buf[pos:pos + n]
            pos += n
        if body:
            bodies.append(body)
        buf = buf[pos:]

def decode_header(body):
    """type, to, from and id of a packet body, for the compact forms the
    fixtures and the core writer use (enough for a fake server)."""
    pos = 0
    def value():
        nonlocal pos
        c = body[pos]
        pos += 1
        if c == 0x4e:
            return None
        if c < 0x20:
            s = body[pos:pos + c].decode()
            pos += c
            return s
        if 0x30 <= c <= 0x33:
            n = ((c - 0x30) << 8) | body[pos]
            s = body[pos + 1:pos + 1 + n].decode()
            pos += 1 + n
            return s
        if 0x80 <= c <= 0xbf:
            return c - 0x90
        if 0xd8 <= c <= 0xef:
            return c - 0xe0
        if 0xf0 <= c <= 0xff:
            v = ((c - 0xf8) << 8) | body[pos]
            pos += 1
            return v
        if 0x38 <= c <= 0x3f:
            v = ((c - 0x3c) << 16) | (body[pos] << 8) | body[pos + 1]
            pos += 2
            return v
        if c == 0x59:
            v = struct.unpack('>i', body[pos:pos + 4])[0]
            pos += 4
            return v
        if c == 0x4c:
            v = struct.unpack('>q', body[pos:pos + 8])[0]
            pos += 8
            return v
        raise ValueError('decode_header: code 0x%02x not handled' % c)
    t = value()
    to, frm = value(), value()
    id_ = value() if 2 <= t <= 5 else None
    return t, to, frm, id_
