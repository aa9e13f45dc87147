#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# container_check.sh install|debian12 SRC_DIR BUILD_DIR WORK_DIR VERSION:
# deploy/container/Dockerfile through container_check.py as committed, then
# broken copies that it must refuse, each with its own message.
set -uo pipefail
mode=$1 src=$2 build=$3 work=$4 version=$5
check="$src/tests/deploy/container_check.py"
dockerfile="$src/deploy/container/Dockerfile"
k8s="$src/deploy/kubernetes"
failures=0 passed=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }

rm -rf "$work"
mkdir -p "$work"

# expect_rejected NAME SED-SCRIPT MESSAGE [k8s]: the edit on the Dockerfile
# (or, with k8s, on indexed-job.yaml) must be refused with MESSAGE; all
# cases are checked in one process at the end (check_all)
cases=()
expect_rejected() {
  local name=$1 script=$2 message=$3 target=${4:-docker} dir="$work/$1" file
  mkdir -p "$dir"
  cp "$dockerfile" "$dir/Dockerfile"
  cp -r "$k8s" "$dir/k8s"
  if [ "$target" = k8s ]; then file="$dir/k8s/indexed-job.yaml"; else file="$dir/Dockerfile"; fi
  cp "$file" "$dir/before"
  sed -i -e "$script" "$file"
  if cmp -s "$file" "$dir/before"; then
    fail "$name: the edit '$script' changed nothing (the case tests nothing)"
    return
  fi
  printf '%s\n' "$message" >"$dir/message"
  cases+=("$dir")
}
# one process for all: the committed file first, then the broken copies
check_all() {
  local all dir block rc items=()
  if [ "$mode" = install ]; then items+=("$dockerfile:$k8s"); else items+=("$dockerfile"); fi
  for dir in "${cases[@]}"; do
    if [ "$mode" = install ]; then items+=("$dir/Dockerfile:$dir/k8s"); else items+=("$dir/Dockerfile"); fi
  done
  if [ "$mode" = install ]; then
    all=$(python3 "$check" install --each "$build" "$version" "${items[@]}" 2>&1)
  else
    all=$(python3 "$check" debian12 --each "$build" "${items[@]}" 2>&1)
  fi
  rc=$?
  if [ "$rc" -eq 77 ]; then
    echo "$all"
    exit 77
  fi
  [ "$rc" -eq 0 ] || fail "container_check.py exited $rc: $all"
  block=$(awk -v d="$dockerfile" '$0 == "== " d {on = 1; next} index($0, "== " d " exit") == 1 {print; on = 0} on' <<<"$all")
  echo "$block"
  if grep -qx "== $dockerfile exit 0" <<<"$block"; then passed=$((passed + 1)); else fail "committed Dockerfile: $block"; fi
  for dir in "${cases[@]}"; do
    block=$(awk -v d="$dir/Dockerfile" '$0 == "== " d {on = 1; next} $0 == "== " d " exit 1" {print "EXIT1"; on = 0} index($0, "== " d " exit") == 1 {on = 0} on' <<<"$all")
    if grep -qx EXIT1 <<<"$block" && grep -qF -- "$(cat "$dir/message")" <<<"$block"; then passed=$((passed + 1))
    else fail "${dir##*/}: expected exit 1 and '$(cat "$dir/message")', got: $block"; fi
  done
}

if [ "$mode" = install ]; then
  expect_rejected copy-unknown 's|/opt/hmtp/bin/hmtp-decode |/opt/hmtp/bin/hmtp-decoder |' \
    'COPY /opt/hmtp/bin/hmtp-decoder: the install makes no such file'
  expect_rejected copy-missing 's| /opt/hmtp/bin/hmtp-client||' \
    'hmtp-client is installed by the build but not copied into the image'
  expect_rejected target-missing 's|--target hmtp-replay hmtp-broker hmtp-client hmtp-decode|--target hmtp-replay hmtp-broker hmtp-client|' \
    'the installed programs are hmtp-broker hmtp-client hmtp-decode hmtp-replay'
  expect_rejected other-prefix 's|-DCMAKE_INSTALL_PREFIX=/opt/hmtp|-DCMAKE_INSTALL_PREFIX=/usr/local|' \
    'COPY /opt/hmtp/bin/hmtp-replay: the install makes no such file'
  expect_rejected not-debian12 '0,/^FROM debian:12-slim/s//FROM debian:13-slim/' \
    'FROM debian:13-slim: expected Debian 12 slim'
  expect_rejected with-plugin 's|-DHMTP_BUILD_PLUGIN=OFF||' \
    '-DHMTP_BUILD_PLUGIN=OFF missing'
  expect_rejected root 's|^USER 10001:10001$|USER 0|' \
    'the image must end with USER <numeric uid>'
  expect_rejected image-version 's|image: hmtp-tools:[0-9.]*$|image: hmtp-tools:9.9|' \
    "image hmtp-tools:9.9: expected hmtp-tools:$version" k8s
  expect_rejected uid 's|runAsUser: 10001|runAsUser: 1000|' \
    'runAsUser 1000: the image'"'"'s user is 10001' k8s
else
  expect_rejected lib-missing 's| libpcap0.8 | |' \
    'the runtime stage does not install libpcap0.8, which holds libpcap.so.0.8'
  expect_rejected lib-unused 's|libssl3 \\|libssl3 libcurl4 \\|' \
    'the runtime stage installs libcurl4, which no program links'
  expect_rejected not-in-debian12 's| libssl3 | libssl1.1 |' \
    "package libssl1.1 is not in Debian 12's package lists"
  expect_rejected build-pkg 's| libpcap-dev | libpcap-devel |' \
    "package libpcap-devel is not in Debian 12's package lists"
fi

check_all

echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
