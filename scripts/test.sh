#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The whole test suite: installs what is missing, then builds and runs the
# CTest suite twice: a normal build, and a clang build with AddressSanitizer,
# UndefinedBehaviorSanitizer and the libFuzzer targets (bounded fuzz runs);
# between the two, the main job (scripts/demo.sh) on the normal build.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/deps.sh"

echo "== normal build" >&2
"$root/scripts/build.sh" "$root/build"
(cd "$root/build" && ctest --output-on-failure -j "$(nproc)")

# The README's first command, end to end on the build above: CI must fail
# when the main job fails or replays nothing (demo.sh checks both).
echo "== main job (scripts/demo.sh)" >&2
"$root/scripts/demo.sh"

echo "== sanitizer + fuzz build (clang)" >&2
"$root/scripts/build.sh" "$root/build-asan" -DCMAKE_C_COMPILER=clang \
  -DHMTP_SANITIZE=ON -DHMTP_FUZZ=ON -DCMAKE_BUILD_TYPE=Debug
(cd "$root/build-asan" && ctest --output-on-failure -j "$(nproc)")
