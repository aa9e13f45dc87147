#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""make_mqtt_pcap.py PAIRS OUT: the benchmark's peer capture, MQTT 3.1.1 on
port 1883 with the same shape as the HMTP flood: one TCP connection, CONNECT
and CONNACK, then PAIRS times a QoS 1 PUBLISH of a news item (server to
client; every tenth item's title is "Markets close higher"), its PUBACK and a
small QoS 0 PUBLISH ("ok"): 3 x PAIRS MQTT packets, one per frame."""
import os
import struct
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "plugin"))
from make_pcap import Connection  # noqa: E402


def remaining_length(n):
    out = bytearray()
    while True:
        byte = n % 128
        n //= 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def packet(first_byte, body):
    return bytes([first_byte]) + remaining_length(len(body)) + body


def utf8(s):
    b = s.encode()
    return struct.pack("!H", len(b)) + b


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: make_mqtt_pcap.py PAIRS OUT")
    pairs = int(sys.argv[1])
    conn = Connection(40001, 1883, 1232445600.0)
    conn.handshake()
    conn.data("C", packet(0x10, utf8("MQTT") + bytes([4, 0x02]) + struct.pack("!H", 60) + utf8("ferg")))
    conn.data("S", packet(0x20, bytes([0, 0])))
    for i in range(pairs):
        title = "Markets close higher" if i % 10 == 0 else "flood item"
        item = ('{"class":"example.NewsItem","title":"%s","score":%s,"tags":{"topic":"world","lang":"en"},'
                '"when":%d,"views":1234567890123,"digest":"3q2+7w==","flags":[true,false,42]}'
                % (title, i / 8.0, 1232445600000 + i)).encode()
        packet_id = i % 65535 + 1
        conn.data("S", packet(0x32, utf8("news/cnn.com") + struct.pack("!H", packet_id) + item))
        conn.data("C", packet(0x40, struct.pack("!H", packet_id)))
        conn.data("S", packet(0x30, utf8("status/ferg") + b"ok"))
    conn.close()
    conn.write_pcap(sys.argv[2])


if __name__ == "__main__":
    main()
