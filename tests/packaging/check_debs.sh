#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# check_debs.sh BUILD_DIR WORK_DIR RELEASE PLUGIN_DIR [PLUGIN_SO]
# Runs cpack -G DEB on BUILD_DIR into WORK_DIR and checks both packages:
#   hmtp-tools: the four tools in usr/bin, a man page for each in
#     usr/share/man/man1 whose NAME line carries the tool's description and
#     whose text lists its options, Depends from dpkg-shlibdeps (libc6);
#   wireshark-hmtp-plugin (when the plugin is built): hmtp.so, identical to
#     the build's, at usr/PLUGIN_DIR/hmtp.so, and Depends naming the very
#     package that ships the libwireshark the plugin is linked to.
# Exit 77 (skipped) without dpkg-deb, dpkg-shlibdeps, file or man pages.
set -euo pipefail
build=$1 work=$2 release=$3 plugin_dir=$4 plugin_so=${5:-}
fail() { echo "check_debs: $*" >&2; exit 1; }
for t in dpkg-deb dpkg-shlibdeps file; do
  command -v "$t" >/dev/null || { echo "check_debs: no $t (dpkg-dev, file): skipped"; exit 77; }
done
[ -f "$build/man/hmtp-replay.1.gz" ] || { echo "check_debs: no man pages in this build (help2man missing): skipped"; exit 77; }

rm -rf "$work"
mkdir -p "$work"
(cd "$build" && cpack -G DEB -B "$work") >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log" >&2; fail "cpack -G DEB failed"; }

tools=$(ls "$work"/hmtp-tools_*_"${release}"_*.deb 2>/dev/null) || fail "no hmtp-tools_*_${release}_*.deb in $work"
contents=$(dpkg-deb -c "$tools" | awk '{print $NF}')
mkdir "$work/tools"
dpkg-deb -x "$tools" "$work/tools"
declare -A description=(
  [hmtp-replay]="replay the client side of recorded HMTP sessions"
  [hmtp-broker]="reference HMTP/0.9 server"
  [hmtp-client]="run an HMTP scenario against a server"
  [hmtp-decode]="decode a raw HMTP byte stream")
declare -A option=([hmtp-replay]="--target" [hmtp-broker]="--listen" [hmtp-client]="--server" [hmtp-decode]="--skip-http")
for tool in hmtp-replay hmtp-broker hmtp-client hmtp-decode; do
  grep -qx "./usr/bin/$tool" <<<"$contents" || fail "$tools lacks usr/bin/$tool"
  [ -x "$work/tools/usr/bin/$tool" ] || fail "usr/bin/$tool is not executable"
  page="$work/tools/usr/share/man/man1/$tool.1.gz"
  [ -f "$page" ] || fail "$tools lacks usr/share/man/man1/$tool.1.gz"
  text=$(gzip -dc "$page")
  grep -A1 '^\.SH NAME' <<<"$text" | grep -q "^$tool \\\\- ${description[$tool]}" \
    || fail "man page of $tool: NAME is not '$tool - ${description[$tool]}...'"
  grep -q -e "${option[$tool]//-/\\\\-}" <<<"$text" || fail "man page of $tool does not list ${option[$tool]}"
done
depends=$(dpkg-deb -f "$tools" Depends)
grep -q 'libc6 (>= ' <<<"$depends" || fail "hmtp-tools Depends lacks libc6 (dpkg-shlibdeps not run?): $depends"
echo "hmtp-tools: $(basename "$tools"), Depends: $depends"

if [ -z "$plugin_so" ]; then
  ! ls "$work"/wireshark-hmtp-plugin_*.deb >/dev/null 2>&1 || fail "a plugin package without a plugin build"
  echo "plugin not built: no plugin package, as expected"
  exit 0
fi
plugin=$(ls "$work"/wireshark-hmtp-plugin_*_"${release}"_*.deb 2>/dev/null) || fail "no wireshark-hmtp-plugin_*_${release}_*.deb in $work"
mkdir "$work/plugin"
dpkg-deb -x "$plugin" "$work/plugin"
[ "$(dpkg-deb -c "$plugin" | awk '$1 !~ /^d/ {print $NF}')" = "./usr/$plugin_dir/hmtp.so" ] \
  || fail "$plugin should hold exactly usr/$plugin_dir/hmtp.so: $(dpkg-deb -c "$plugin")"
# CPack strips the packaged copy: compare with both stripped.
objcopy_ok=1
command -v objcopy >/dev/null || objcopy_ok=0
if [ $objcopy_ok -eq 1 ]; then
  objcopy --strip-all "$plugin_so" "$work/built.so"
  objcopy --strip-all "$work/plugin/usr/$plugin_dir/hmtp.so" "$work/packaged.so"
  cmp -s "$work/built.so" "$work/packaged.so" || fail "the packaged hmtp.so is not the built one"
fi
# The libwireshark the plugin is linked against, and the package owning it.
soname=$(objdump -p "$plugin_so" | awk '$1 == "NEEDED" && $2 ~ /^libwireshark\.so\./ {print $2}')
[ -n "$soname" ] || fail "hmtp.so does not link libwireshark"
lib=$(ldconfig -p | awk -v s="$soname" '$1 == s {print $NF; exit}')
owner=$(dpkg-query -S "$(readlink -f "$lib")" 2>/dev/null | cut -d: -f1)
[ -n "$owner" ] || owner=$(dpkg-query -S "$lib" | cut -d: -f1)
depends=$(dpkg-deb -f "$plugin" Depends)
grep -Eq "(^|, )$owner( |,|$)" <<<"$depends" \
  || fail "wireshark-hmtp-plugin Depends does not name $owner (which ships $soname): $depends"
echo "wireshark-hmtp-plugin: $(basename "$plugin"), Depends: $depends"
