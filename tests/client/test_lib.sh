# SPDX-License-Identifier: GPL-2.0-or-later
# Sourced by the client's shell tests: a work folder, one background server
# ($server_pid) stopped however the script ends, and failures counted.
work=$(mktemp -d)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
