#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Wraps HMTP byte streams into a pcap file of one TCP connection.

Input is a record file written by hmtp-plugin-fixtures: a sequence of
  direction (1 byte, 'C' client->server or 'S' server->client)
  length    (4 bytes, big-endian)
  bytes     (length bytes: usually one framed HMTP packet)
The HTTP upgrade exchange (CONNECT or GET, a Resin-style bare 101 or one that
echoes the Upgrade header) goes in front unless --no-upgrade. Segmentation
choices exercise the dissector's reassembly: one segment per record, many
records per segment, or fixed-size slices that split packets anywhere.
TCP sequence numbers are kept consistent so Wireshark reassembles normally.
"""
import argparse
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "common"))
import hmtp_bytes as hb  # noqa: E402

CLIENT_IP = bytes([10, 0, 0, 1])
SERVER_IP = bytes([10, 0, 0, 2])
CLIENT_MAC = bytes.fromhex("020000000001")
SERVER_MAC = bytes.fromhex("020000000002")
MSS = 1448


class Connection:
    """One TCP connection; every write becomes one Ethernet/IPv4/TCP frame."""

    def __init__(self, client_port, server_port, start_time):
        self.ports = {"C": (client_port, server_port), "S": (server_port, client_port)}
        self.ips = {"C": (CLIENT_IP, SERVER_IP), "S": (SERVER_IP, CLIENT_IP)}
        self.seq = {"C": 1000, "S": 5000}
        self.time = start_time
        self.frames = []
        self.directions = []
        self.ip_id = 1

    def frame(self, direction, flags, payload=b""):
        other = "S" if direction == "C" else "C"
        sport, dport = self.ports[direction]
        src, dst = self.ips[direction]
        ack = self.seq[other]
        tcp = hb.tcp_segment(src, dst, sport, dport, self.seq[direction], ack, flags, payload)
        ip = hb.ip_packet(src, dst, tcp, ident=self.ip_id)
        self.ip_id = (self.ip_id + 1) & 0xFFFF
        src_mac, dst_mac = (CLIENT_MAC, SERVER_MAC) if direction == "C" else (SERVER_MAC, CLIENT_MAC)
        self.frames.append((self.time, hb.ethernet(dst_mac, src_mac, hb.ethertype(False), ip)))
        self.directions.append(direction)
        self.time += 0.001
        consumed = len(payload) + (1 if flags & 0x02 else 0) + (1 if flags & 0x01 else 0)
        self.seq[direction] += consumed

    def handshake(self):
        self.frame("C", 0x02)  # SYN
        self.frame("S", 0x12)  # SYN ACK
        self.frame("C", 0x10)  # ACK

    def data(self, direction, payload):
        for i in range(0, len(payload), MSS):
            self.frame(direction, 0x18, payload[i:i + MSS])

    def close(self):
        self.frame("C", 0x11)
        self.frame("S", 0x11)
        self.frame("C", 0x10)

    def swap(self, number):
        """Captures frame `number` (1-based) after the next frame of the same
        direction, as a capture of reordered segments shows them; the
        timestamps stay in capture order."""
        i = number - 1
        later = [j for j in range(i + 1, len(self.frames)) if self.directions[j] == self.directions[i]]
        if not 0 <= i < len(self.frames) or not later:
            sys.exit("make_pcap: --swap %d: no later frame in the same direction" % number)
        j = later[0]
        (ti, di), (tj, dj) = self.frames[i], self.frames[j]
        self.frames[i], self.frames[j] = (ti, dj), (tj, di)

    def write_pcap(self, path):
        hb.write_pcap(path, 1, [(t, data, len(data)) for t, data in self.frames])


def read_records(path):
    records = []
    with open(path, "rb") as f:
        blob = f.read()
    pos = 0
    while pos < len(blob):
        if pos + 5 > len(blob):
            sys.exit("make_pcap: %s: record header truncated at byte %d" % (path, pos))
        direction = chr(blob[pos])
        (length,) = struct.unpack("!I", blob[pos + 1:pos + 5])
        if direction not in "CS" or pos + 5 + length > len(blob):
            sys.exit("make_pcap: %s: bad record at byte %d" % (path, pos))
        records.append((direction, blob[pos + 5:pos + 5 + length]))
        pos += 5 + length
    return records


def upgrade_records(method, echo_upgrade, port):
    request = hb.upgrade_request(method, "/hmtp", "example.com:%d" % port)
    response = hb.upgrade_response(echo=echo_upgrade, date="Tue, 20 Jan 2009 10:00:00 GMT")
    return [("C", request), ("S", response)]


def segment(records, mode):
    """Turns records into (direction, payload) writes according to mode."""
    if mode == "record":
        return records
    if mode.startswith("coalesce"):
        writes = []
        for direction, data in records:
            if writes and writes[-1][0] == direction and len(writes[-1][1]) + len(data) <= MSS:
                writes[-1] = (direction, writes[-1][1] + data)
            else:
                writes.append((direction, data))
        return writes
    if mode.startswith("slice:"):
        size = int(mode.split(":", 1)[1])
        writes = []
        for direction, data in records:
            if writes and writes[-1][0] == direction:
                writes[-1] = (direction, writes[-1][1] + data)
            else:
                writes.append((direction, data))
        out = []
        for direction, data in writes:
            out.extend((direction, data[i:i + size]) for i in range(0, len(data), size))
        return out
    sys.exit("make_pcap: unknown segmentation mode %r" % mode)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("records")
    ap.add_argument("out")
    ap.add_argument("--port", type=int, default=8080)
    ap.add_argument("--client-port", type=int, default=40001)
    ap.add_argument("--method", choices=["CONNECT", "GET"], default="CONNECT")
    ap.add_argument("--echo-upgrade", action="store_true",
                    help="the 101 carries Upgrade: HMTP/0.9 (Resin's does not)")
    ap.add_argument("--no-upgrade", action="store_true",
                    help="no handshake and no HTTP: the capture starts after the upgrade")
    ap.add_argument("--skip", type=int, default=0,
                    help="drop this many bytes of each direction's HMTP stream (start mid-packet)")
    ap.add_argument("--segments", default="record",
                    help="record | coalesce | slice:N (N bytes per segment)")
    ap.add_argument("--swap", type=int, action="append", default=[],
                    help="capture frame N after the next frame of its direction (out of order)")
    ap.add_argument("--time", type=float, default=1232445600.0)
    args = ap.parse_args()

    records = read_records(args.records)
    if args.skip:
        # Drop the first bytes of each direction, as a capture started late would.
        left = {"C": args.skip, "S": args.skip}
        trimmed = []
        for direction, data in records:
            cut = min(left[direction], len(data))
            left[direction] -= cut
            if data[cut:]:
                trimmed.append((direction, data[cut:]))
        records = trimmed
    conn = Connection(args.client_port, args.port, args.time)
    if not args.no_upgrade:
        conn.handshake()
        for direction, data in upgrade_records(args.method, args.echo_upgrade, args.port):
            conn.data(direction, data)
    for direction, data in segment(records, args.segments):
        conn.data(direction, data)
    if not args.no_upgrade:
        conn.close()
    for n in args.swap:
        conn.swap(n)
    conn.write_pcap(args.out)


if __name__ == "__main__":
    main()
