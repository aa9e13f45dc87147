# SPDX-License-Identifier: GPL-2.0-or-later
"""A capture that starts inside HMTP packets, cut from a real one.

cut(src, dst, server_port, client_port, c2s_cut, s2c_cut) keeps one TCP
connection of a classic pcap file (Ethernet, IPv4), drops its handshake and
every byte its client sent before TCP stream offset c2s_cut and its server
before s2c_cut (offsets count from each direction's first data byte, as
`hmtp-replay dump --json` prints them for a session with its upgrade), and
writes the rest: the segment holding a cut loses its bytes before it
(sequence number, IP length and checksums follow), segments before it go,
and so does every frame before the first byte kept. What is left is what a
capture started at that moment shows; every kept byte is as recorded.

As a program: cut_mid_packet.py SRC DST SERVER_PORT CLIENT_PORT C2S_CUT S2C_CUT
"""
import struct
import sys

PCAP_MAGIC = {b'\xd4\xc3\xb2\xa1': '<', b'\xa1\xb2\xc3\xd4': '>', b'\x4d\x3c\xb2\xa1': '<', b'\xa1\xb2\x3c\x4d': '>'}
SYN, FIN = 0x02, 0x01


def read_pcap(path):
    data = open(path, 'rb').read()
    endian = PCAP_MAGIC.get(data[:4])
    if endian is None:
        raise SystemExit('cut_mid_packet: %s: not a classic pcap file' % path)
    if struct.unpack(endian + 'I', data[20:24])[0] != 1:
        raise SystemExit('cut_mid_packet: %s: only Ethernet captures are cut' % path)
    pos, frames = 24, []
    while pos + 16 <= len(data):
        sec, sub, caplen, wirelen = struct.unpack(endian + 'IIII', data[pos:pos + 16])
        frames.append([(sec, sub), bytearray(data[pos + 16:pos + 16 + caplen]), wirelen])
        pos += 16 + caplen
    return data[:24], endian, frames


def checksum(data):
    if len(data) % 2:
        data += b'\x00'
    s = sum(struct.unpack('!%dH' % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


class Tcp:
    """The IPv4/TCP fields of an Ethernet frame (None for anything else)."""
    def __init__(self, frame):
        self.ok = len(frame) >= 34 and frame[12:14] == b'\x08\x00' and frame[23] == 6
        if not self.ok:
            return
        self.ihl = (frame[14] & 0x0f) * 4
        t = 14 + self.ihl
        self.src, self.dst = bytes(frame[26:30]), bytes(frame[30:34])
        self.sport, self.dport, self.seq = struct.unpack('!HHI', frame[t:t + 8])
        self.flags = frame[t + 13]
        self.data_at = t + (frame[t + 12] >> 4) * 4
        self.payload = bytes(frame[self.data_at:14 + struct.unpack('!H', frame[16:18])[0]])


def trim(frame, tcp, drop):
    """The frame without the first `drop` bytes of its TCP payload."""
    t = 14 + tcp.ihl
    out = bytearray(frame[:tcp.data_at]) + tcp.payload[drop:]
    struct.pack_into('!H', out, 16, len(out) - 14)
    struct.pack_into('!H', out, 24, 0)
    struct.pack_into('!H', out, 24, checksum(bytes(out[14:t])))
    struct.pack_into('!I', out, t + 4, (tcp.seq + drop) & 0xffffffff)
    struct.pack_into('!H', out, t + 16, 0)
    segment = bytes(out[t:])
    pseudo = tcp.src + tcp.dst + struct.pack('!BBH', 0, 6, len(segment))
    struct.pack_into('!H', out, t + 16, checksum(pseudo + segment))
    return out


def cut(src, dst, server_port, client_port, c2s_cut, s2c_cut):
    header, endian, frames = read_pcap(src)
    conn = []
    for f in frames:
        tcp = Tcp(f[1])
        if tcp.ok and {tcp.sport, tcp.dport} == {server_port, client_port}:
            conn.append((f, tcp, 's2c' if tcp.sport == server_port else 'c2s'))
    isn = {d: tcp.seq + 1 for _, tcp, d in conn if tcp.flags & SYN}
    if set(isn) != {'c2s', 's2c'}:
        raise SystemExit('cut_mid_packet: %s: no handshake for client port %d' % (src, client_port))
    cuts = {'c2s': c2s_cut, 's2c': s2c_cut}
    kept, started = [], False
    for f, tcp, d in conn:
        if tcp.flags & SYN:
            continue
        off = (tcp.seq - isn[d]) & 0xffffffff
        end = off + len(tcp.payload)
        if tcp.payload and end <= cuts[d]:
            continue  # every byte before the cut
        if tcp.payload and off < cuts[d]:
            f = [f[0], trim(f[1], tcp, cuts[d] - off), f[2] - (cuts[d] - off)]
        started = started or bool(tcp.payload)
        if started:
            kept.append(f)
    with open(dst, 'wb') as out:
        out.write(header)
        for (sec, sub), data, wirelen in kept:
            out.write(struct.pack(endian + 'IIII', sec, sub, len(data), wirelen) + bytes(data))
    return len(kept)


if __name__ == '__main__':
    if len(sys.argv) != 7:
        raise SystemExit(__doc__)
    n = cut(sys.argv[1], sys.argv[2], *(int(a) for a in sys.argv[3:]))
    print('cut_mid_packet: %d frames kept' % n, file=sys.stderr)
