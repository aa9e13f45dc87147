#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The main job on a bundled sample: installs what is missing, builds, and
# decodes the bundled sample stream.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"
"$root/scripts/build.sh" "$root/build"
echo "== hmtp-decode captures/streams/presence-subscribe.hmtp" >&2
"$root/build/decode/hmtp-decode" "$root/captures/streams/presence-subscribe.hmtp"
