#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""cut_at_pause.py IN.pcap OUT.pcap: keep the frames after the longest pause.

Makes a capture that starts in the middle of TCP connections, from a real
recording whose scenario pauses where the cut should be (record.sh). Reads
and writes the classic pcap format that tcpdump writes."""
import struct
import sys


def main(src, dst):
    data = open(src, "rb").read()
    magic = data[:4]
    if magic not in (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d"):
        sys.exit(f"cut_at_pause: {src}: not a classic pcap file")
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    frac = 1e-9 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1e-6
    pos, frames = 24, []
    while pos + 16 <= len(data):
        sec, sub, caplen, _ = struct.unpack(endian + "IIII", data[pos:pos + 16])
        frames.append((sec + sub * frac, data[pos:pos + 16 + caplen]))
        pos += 16 + caplen
    if len(frames) < 2:
        sys.exit(f"cut_at_pause: {src}: fewer than two frames")
    gaps = [(frames[i + 1][0] - frames[i][0], i + 1) for i in range(len(frames) - 1)]
    gap, first = max(gaps)
    with open(dst, "wb") as out:
        out.write(data[:24])
        for _, record in frames[first:]:
            out.write(record)
    print(f"cut_at_pause: kept frames {first + 1}..{len(frames)} after a {gap:.2f} s pause", file=sys.stderr)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
