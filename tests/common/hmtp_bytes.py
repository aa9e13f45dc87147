# SPDX-License-Identifier: GPL-2.0-or-later
"""The Python tests' one source of HMTP bytes, written from PROTOCOL.md and
independent of the C code on purpose (a second reading of the spec):

- Hessian 2 values (string, int_, long_, Encoder with its class table) and
  HMTP packet bodies (packet_body) and framing (frame, read_frames);
- the HTTP upgrade (upgrade_request, upgrade_response);
- TCP/IP frames (tcp_segment, ip_packet, ethernet, LINKS) and capture files
  (pcap_header, pcap_record, write_pcap, write_pcapng).

Stdlib only. Importers put this folder on sys.path:
    sys.path.insert(0, os.path.join(HERE, '..', 'common'))
"""

import struct

# ---------------------------------------------------------------- Hessian


class Obj:
    """An object of a named class: fields is a list of (name, value)."""
    def __init__(self, cls, fields):
        self.cls = cls
        self.fields = fields


class Long:
    """A Hessian long (a plain Python int encodes as a Hessian int)."""
    def __init__(self, v):
        self.v = v


def string(s):
    """A string of fewer than 65536 UTF-16 units, in its shortest form."""
    data = s.encode('utf-8')
    n = len(s.encode('utf-16-le')) // 2
    if n < 32:
        return bytes([n]) + data
    if n < 1024:
        return bytes([0x30 + (n >> 8), n & 0xff]) + data
    assert n < 65536
    return b'S' + struct.pack('>H', n) + data


def int_(v):
    if -16 <= v <= 47:
        return bytes([0x90 + v])
    if -2048 <= v <= 2047:
        return bytes([0xc8 + (v >> 8), v & 0xff])
    if -262144 <= v <= 262143:
        return bytes([0xd4 + (v >> 16), (v >> 8) & 0xff, v & 0xff])
    return b'I' + struct.pack('>i', v)


def long_(v):
    if -8 <= v <= 15:
        return bytes([0xe0 + v])
    if -2048 <= v <= 2047:
        return bytes([0xf8 + (v >> 8), v & 0xff])
    if -262144 <= v <= 262143:
        return bytes([0x3c + (v >> 16), (v >> 8) & 0xff, v & 0xff])
    if -2**31 <= v < 2**31:
        return b'\x59' + struct.pack('>i', v)
    return b'L' + struct.pack('>q', v)


class Encoder:
    """One direction of a connection: class definitions persist across packets."""
    def __init__(self):
        self.classes = []

    string = staticmethod(string)
    int_ = staticmethod(int_)
    long_ = staticmethod(long_)

    def value(self, v):
        if v is None:
            return b'N'
        if v is True:
            return b'T'
        if v is False:
            return b'F'
        if isinstance(v, Long):
            return long_(v.v)
        if isinstance(v, int):
            return int_(v)
        if isinstance(v, float):
            return b'D' + struct.pack('>d', v)
        if isinstance(v, str):
            return string(v)
        if isinstance(v, Obj):
            out = b''
            key = (v.cls, tuple(n for n, _ in v.fields))
            if key not in self.classes:
                self.classes.append(key)
                out += b'C' + string(v.cls) + int_(len(v.fields))
                for n, _ in v.fields:
                    out += string(n)
            idx = self.classes.index(key)
            out += bytes([0x60 + idx]) if idx < 16 else b'O' + int_(idx)
            for _, fv in v.fields:
                out += self.value(fv)
            return out
        raise TypeError(type(v))


# ---------------------------------------------------------------- HMTP packets

TYPES = ['message', 'messageError', 'queryGet', 'querySet', 'queryResult', 'queryError',
         'presence', 'presenceUnavailable', 'presenceProbe', 'presenceSubscribe',
         'presenceSubscribed', 'presenceUnsubscribe', 'presenceUnsubscribed', 'presenceError']


def packet_body(enc, ptype, to, frm, value=None, id=None, error=None):
    """type, to, from, the id of a query, the value, the error of an error packet."""
    t = TYPES.index(ptype)
    body = int_(t) + enc.value(to) + enc.value(frm)
    if 2 <= t <= 5:
        body += long_(id.v if isinstance(id, Long) else id)
    body += enc.value(value)
    if t in (1, 5, 13):
        body += enc.value(error)
    return body


def length(n, wide=False):
    """A chunk length: base-128, most significant group first, the high bit
    on every group but the last. wide: at least two groups (a leading 0x80,
    which the spec allows)."""
    out = [n & 0x7f]
    n >>= 7
    while n:
        out.append(0x80 | (n & 0x7f))
        n >>= 7
    if wide and len(out) == 1:
        out.append(0x80)
    return bytes(reversed(out))


def frame(body, chunk=None, wide=False):
    """HMTP framing: chunks of at most chunk bytes (4094 by default), each
    after its length, then the terminating 0x00."""
    out = b''
    step = chunk or 4094
    for i in range(0, len(body), step):
        piece = body[i:i + step]
        out += length(len(piece), wide) + piece
    return out + b'\x00'


def read_frames(buf):
    """Splits complete HMTP packets off the front of buf: (bodies, rest)."""
    bodies = []
    while True:
        pos, body = 0, b''
        while True:
            n = 0
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


# The classes of Resin 4.0's login and errors, and the broker's ping.
def auth_query(uid, password, resource=None):
    return Obj('com.caucho.bam.hmtp.AuthQuery',
               [('_uid', uid), ('_credentials', password), ('_resource', resource)])


def auth_result(jid):
    return Obj('com.caucho.bam.hmtp.AuthResult', [('_jid', jid)])


def bam_error(type_, group, text=None):
    return Obj('com.caucho.bam.BamError',
               [('_type', type_), ('_group', group), ('_text', text), ('_data', None), ('_extra', None)])


def ping_query(payload, server=None, answer=False):
    fields = [('_payload', payload)]
    if answer:
        fields.append(('_server', server))
    return Obj('hmtp.PingQuery', fields)


# ---------------------------------------------------------------- HTTP upgrade

def upgrade_request(method='CONNECT', path='/hmtp', host='null:8080'):
    """The client's upgrade request as Resin's HmtpClient writes it."""
    return ('%s %s HTTP/1.1\r\nHost: %s\r\nUpgrade: HMTP/0.9\r\n'
            'Connection: Upgrade\r\nContent-Length: 0\r\n\r\n' % (method, path, host)).encode()


def upgrade_response(server='Resin/4.0.0', echo=False, content_length=True, date=None):
    """A 101. Resin's is bare (echo False: no Upgrade header); echo adds the
    Upgrade and Connection headers RFC 7230 asks for. server, date: None
    leaves the header out."""
    out = 'HTTP/1.1 101 Switching Protocols\r\n'
    if server is not None:
        out += 'Server: %s\r\n' % server
    if echo:
        out += 'Upgrade: HMTP/0.9\r\nConnection: Upgrade\r\n'
    if content_length:
        out += 'Content-Length: 0\r\n'
    if date is not None:
        out += 'Date: %s\r\n' % date
    return (out + '\r\n').encode()


UPGRADE_REQUEST = upgrade_request()
# Resin's bare 101: no Upgrade header in the answer.
UPGRADE_RESPONSE = upgrade_response(date='Wed, 21 Jan 2009 10:00:00 GMT')

# ---------------------------------------------------------------- TCP/IP

FIN, SYN, RST, PSH, ACK = 0x01, 0x02, 0x04, 0x08, 0x10


def checksum(data):
    """The Internet checksum (RFC 1071)."""
    if len(data) % 2:
        data += b'\x00'
    s = sum(struct.unpack('>%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def tcp_segment(src, dst, sport, dport, seq, ack, flags, payload=b''):
    """A TCP header (no options, window 65535) with its checksum, and the
    payload; src and dst are 4- or 16-byte addresses (the pseudo-header)."""
    tcp = struct.pack('>HHIIBBHHH', sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                      5 << 4, flags, 65535, 0, 0) + payload
    if len(src) == 16:
        pseudo = src + dst + struct.pack('>IxxxB', len(tcp), 6)
    else:
        pseudo = src + dst + struct.pack('>xBH', 6, len(tcp))
    return tcp[:16] + struct.pack('>H', checksum(pseudo + tcp)) + tcp[18:]


def ip_packet(src, dst, payload, ident=1, proto=6):
    """IPv6 (16-byte addresses) or IPv4 with don't-fragment, TTL 64."""
    if len(src) == 16:
        return struct.pack('>IHBB', 6 << 28, len(payload), proto, 64) + src + dst + payload
    hdr = struct.pack('>BBHHHBBH4s4s', 0x45, 0, 20 + len(payload), ident, 0x4000, 64, proto, 0, src, dst)
    return hdr[:10] + struct.pack('>H', checksum(hdr)) + hdr[12:] + payload


def ethernet(dst_mac, src_mac, ethertype, payload, vlan=None):
    hdr = dst_mac + src_mac
    if vlan is not None:
        hdr += struct.pack('>HH', 0x8100, vlan)
    return hdr + struct.pack('>H', ethertype) + payload


def ethertype(v6):
    return 0x86dd if v6 else 0x0800


_MAC_A, _MAC_B = bytes.fromhex('020000000002'), bytes.fromhex('020000000001')

# link name -> (pcap LINKTYPE value, wrapper(ip bytes, v6) -> frame bytes)
LINKS = {
    'ether': (1, lambda ip, v6: ethernet(_MAC_A, _MAC_B, ethertype(v6), ip)),
    'vlan': (1, lambda ip, v6: ethernet(_MAC_A, _MAC_B, ethertype(v6), ip, vlan=42)),
    'sll': (113, lambda ip, v6: struct.pack('>HHH8sH', 0, 772, 6, b'\x00' * 8, ethertype(v6)) + ip),
    'sll2': (276, lambda ip, v6: struct.pack('>HHIHBB8s', ethertype(v6), 0, 1, 772, 0, 6, b'\x00' * 8) + ip),
    'null': (0, lambda ip, v6: struct.pack('<I', 30 if v6 else 2) + ip),
    'raw': (101, lambda ip, v6: ip),
}

# ---------------------------------------------------------------- capture files
# frames are (timestamp in seconds, captured bytes, original length).


def pcap_header(linktype, snaplen=65535):
    """A little-endian, microsecond pcap file header."""
    return struct.pack('<IHHiIII', 0xa1b2c3d4, 2, 4, 0, 0, snaplen, linktype)


def pcap_record(ts, data, orig=None):
    sec = int(ts)
    usec = int(round((ts - sec) * 1e6))
    return struct.pack('<IIII', sec, usec, len(data), len(data) if orig is None else orig) + data


def write_pcap(path, linktype, frames_, snaplen=65535):
    with open(path, 'wb') as f:
        f.write(pcap_header(linktype, snaplen))
        for ts, data, orig in frames_:
            f.write(pcap_record(ts, data, orig))


def pcapng_block(btype, body):
    body += b'\x00' * (-len(body) % 4)
    n = 12 + len(body)
    return struct.pack('<II', btype, n) + body + struct.pack('<I', n)


def write_pcapng(path, linktype, frames_, snaplen=65535):
    """One section, one interface (microseconds), an enhanced packet block a frame."""
    with open(path, 'wb') as f:
        f.write(pcapng_block(0x0A0D0D0A, struct.pack('<IHHq', 0x1A2B3C4D, 1, 0, -1)))
        f.write(pcapng_block(1, struct.pack('<HHI', linktype, 0, snaplen)))
        for ts, data, orig in frames_:
            t = int(round(ts * 1e6))
            f.write(pcapng_block(6, struct.pack('<IIIII', 0, t >> 32, t & 0xffffffff, len(data), orig) + data))


def socket_sender(sock, enc):
    """send(ptype, to, frm, value, id=..., error=...): one framed packet to a
    fake server's or client's socket, encoded with enc (its class state)."""
    def send(*a, **k):
        sock.sendall(frame(packet_body(enc, *a, **k)))
    return send


def socket_bodies(sock, buf=b'', sink=None):
    """Every HMTP packet body read from sock until the peer closes; buf: bytes
    already read past the HTTP head; sink: a list that gets every chunk read."""
    while True:
        data = sock.recv(65536)
        if not data:
            return
        if sink is not None:
            sink.append(data)
        bodies, buf = read_frames(buf + data)
        yield from bodies
