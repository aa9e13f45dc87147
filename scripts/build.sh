#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# build.sh [DIR [cmake options...]]: configure (once) and build into DIR (default build/).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=${1:-"$root/build"}
shift || true
cmake -S "$root" -B "$dir" "$@" >/dev/null
cmake --build "$dir" -j "$(nproc)"
