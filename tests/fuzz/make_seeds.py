#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the fuzzers' seed corpora (tests/fuzz/corpus/<target>/) from
hand-made valid HMTP packets, framed by tests/common/hmtp_bytes.py
(PROTOCOL.md section 2).
Run it again after changing the packets below; the output is committed."""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "common"))
from hmtp_bytes import frame as hmtp_frame  # noqa: E402

# Packet bodies, as hex. Each is valid HMTP.
WORKED = ("99 0c 6e 65 77 73 40 63 6e 6e 2e 63 6f 6d"
          " 14 66 65 72 67 40 68 6d 74 70 2e 63 61 75 63 68 6f 2e 63 6f 6d 4e")
NEWS_DEF = ("90 0c 6e 65 77 73 40 63 6e 6e 2e 63 6f 6d 4e"
            " 43 10 65 78 61 6d 70 6c 65 2e 4e 65 77 73 49 74 65 6d 93"
            " 06 5f 74 69 74 6c 65 05 5f 64 61 74 65 05 5f 74 61 67 73"
            " 60 52 00 02 68 c3 a9 03 6c 6c 6f 4b 01 37 b4 01"
            " 55 07 5b 73 74 72 69 6e 67 01 61 02 ed a0 bd ed b8 80 5a")
NEWS_REUSE = ("90 0c 6e 65 77 73 40 63 6e 6e 2e 63 6f 6d 4e"
              " 60 05 68 65 6c 6c 6f 4a 00 00 01 1d 5f 6c 31 80 71 90 02 f0 9f 98 80")
QUERY = "92 4e 01 61 f8 07 48 91 5f 00 00 03 e8 92 44 40 09 21 fb 54 44 2d 18 93 4c 00 00 00 01 00 00 00 00 5a"
QUERY_ERROR = ("95 01 61 4e f8 07 4e"
               " 43 17 63 6f 6d 2e 63 61 75 63 68 6f 2e 62 61 6d 2e 42 61 6d 45 72 72 6f 72 93"
               " 05 5f 74 79 70 65 06 5f 67 72 6f 75 70 05 5f 74 65 78 74"
               " 60 06 63 61 6e 63 65 6c 0e 69 74 65 6d 2d 6e 6f 74 2d 66 6f 75 6e 64 4e")
LISTS = "96 4e 4e 57 7a 91 92 58 98 4e 4e 4e 4e 4e 4e 4e 4e 56 04 5b 69 6e 74 92 c8 30 d4 08 00 51 91 78 5a"
BINARY = "90 0c 6e 65 77 73 40 63 6e 6e 2e 63 6f 6d 4e 41 00 02 01 02 34 10" + " 55" * 16
NUMBERS = "93 4e 4e 59 80 00 00 00 57 5b 5c 5d 80 5e 7f ff 5f 00 00 00 09 e0 d8 ef f0 00 3f ff ff 49 7f ff ff ff 54 46 5a"


# Regression inputs for bugs the fuzzers found; each must pass once fixed.
# A class definition inside an open object when the class table is full
# (16 classes defined before): the table's reallocation left the open
# object's class pointer dangling (heap-use-after-free in the decoder).
NESTED_DEF = ("90 4e 4e" + "".join(" 43 02 4b %02x 92 01 66 01 67" % (0x30 + i) for i in range(15))
              + " 43 03 4f 75 74 92 01 61 01 62 4f 9f 43 02 49 6e 91 01 78 4f a0 91 92")
# Overlong UTF-8 (c0 93 is U+0013 to Java's reader) passed through verbatim,
# so the string changed after a write and a decode.
OVERLONG = "90 4e 4e 01 c0 93"


# The reader's whole-packet path and the decoder's JID check: to/from of
# printable ASCII, then with a C1 control (U+0085), DEL and a tab placed at
# and around the 8-byte steps of the ASCII test.
JID_EDGES = [
    "96 %02x %s 4e 4e" % (len(j), j.encode().hex(" ")) for j in (
        "abcdefg@hijklmn/o", "abcdefgh\u0085@x", "abcdefghijklmno\x7f", "user@ho\tst/r")]
# A binary of many chunks inside a list inside an object (the tree reader
# copies it chunk by chunk into its arena).
BINARY_IN_TREE = ("90 4e 4e 43 01 4f 91 01 62 60 57"
                  + " 41 00 03 01 02 03 41 00 00 21 04 35 00 " + " 66" * 256 + " 23 07 08 09 5a")


def body(h):
    return bytes.fromhex(h)


def frame(b, chunk=None, two=False, long_end=False):
    """One chunk unless chunk is given; two: every length in two bytes;
    long_end: the final zero length written in two bytes (80 00)."""
    out = hmtp_frame(b, chunk or max(len(b), 1), wide=two)
    return out[:-1] + b"\x80\x00" if long_end else out


def streams():
    w = body(WORKED)
    yield "worked", frame(w)
    yield "news-two-packets", frame(body(NEWS_DEF)) + b"\x00" + frame(body(NEWS_REUSE))
    yield "query-and-error", frame(body(QUERY)) + frame(body(QUERY_ERROR))
    yield "lists", frame(body(LISTS))
    yield "binary-chunks", frame(body(BINARY), chunk=7, two=True)
    yield "numbers", frame(body(NUMBERS), chunk=3)
    yield "mid-stream", frame(body(NEWS_REUSE))
    long_text = bytes([0x53, 0x01, 0x00]) + b"x" * 256
    yield "long-chunk", frame(bytes.fromhex("90 4e 4e") + long_text)
    yield "regress-nested-def", frame(body(NESTED_DEF))
    yield "regress-overlong-utf8", frame(body(OVERLONG))
    # whole packets back to back, single-chunk, multi-chunk and empty ones
    # between them, as one read returns them
    yield "jid-edges", b"".join(frame(body(j)) for j in JID_EDGES)
    yield "whole-packets", (frame(w) + b"\x00" + frame(w, chunk=5) + frame(body(BINARY_IN_TREE))
                            + frame(body(BINARY_IN_TREE), chunk=100) + b"\x00\x00" + frame(w, two=True))
    # the fuzzer's find: a single-chunk packet whose terminator is a zero
    # written in two bytes (80 00) was handed out one byte early
    yield "regress-long-terminator", frame(w, two=True, long_end=True) + frame(w, long_end=True) + frame(w)


# fuzz_strings reads a string body as it stands, and the same bytes after
# an 'S' whose unit count is their first two bytes.
STRING_SEEDS = {
    "mixed": b"\x00\x30hello caf\xc3\xa9 \xe2\x82\xac costs \xf0\x9f\x98\x80 and "
             b"\xed\xa0\xbd\xed\xb8\x80 with\xc0\x80nul\x00here",
    "lone-high": b"\x00\x05ab\xed\xa0\xbdc",
    "pair-across-chunks": b"R\x00\x03ab\xed\xa0\xbdS\x00\x02\xed\xb8\x80z",
    "ascii-run-then-2-byte": b"\x00\x28" + b"abcdefghijklmnopqrstuvwxyz" * 2 + b"\xc3\xa9",
    "bad-continuation": b"\x00\x04ab\xc3x",
}

# The HTTP heads that open a connection (core/http_upgrade.h), each with the
# first HMTP bytes behind it.
HTTP_SEEDS = {
    "resin-request": b"CONNECT /hmtp HTTP/1.1\r\nHost: null:8080\r\nUpgrade: HMTP/0.9\r\n"
                     b"Connection: Upgrade\r\nContent-Length: 0\r\n\r\n\x09\x90",
    "resin-101": b"HTTP/1.1 101 Switching Protocols\r\nServer: Resin/4.0.0\r\nContent-Length: 0\r\n"
                 b"Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n\r\n\x09\x90",
    "bare-101": b"HTTP/1.1 101\r\n\r\n",
    "echoed-101": b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: HMTP/0.9\r\nConnection: Upgrade\r\n\r\n",
    "get-lf": b"GET / HTTP/1.0\nupgrade: foo, hmtp/0.9\n\n",
    "refusal": b"HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\nConnection: close\r\n\r\nnope\n",
}


def main():
    d = os.path.join(HERE, "corpus", "http_upgrade")
    os.makedirs(d, exist_ok=True)
    for name, data in HTTP_SEEDS.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    d = os.path.join(HERE, "corpus", "strings")
    os.makedirs(d, exist_ok=True)
    for name, data in STRING_SEEDS.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
    for target in ("framing", "packet", "roundtrip"):
        d = os.path.join(HERE, "corpus", target)
        os.makedirs(d, exist_ok=True)
        for name, data in streams():
            if target == "framing":
                # header: max-body selector 0xf (16 MiB), 3 piece sizes
                data = bytes([0xF3, 0, 4, 1]) + data
            with open(os.path.join(d, name), "wb") as f:
                f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
