#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The client side of a capture recorded from Resin's own HmtpClient was
# written by Caucho's Hessian2Output: decoding it and writing it again with
# our writer must give the same bytes, chunk boundaries included.
set -euo pipefail
tool=$1 capture=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The first TCP conversation, client to server, as raw bytes.
tshark -r "$capture" -q -z follow,tcp,raw,0 2>/dev/null |
  awk '/^====/ {n++; next} n == 1 && /^[0-9a-f]+$/ {print}' | xxd -r -p > "$work/c2s.bin"
[ -s "$work/c2s.bin" ] || { echo "no client bytes in $capture" >&2; exit 1; }
"$tool" "$work/c2s.bin"
