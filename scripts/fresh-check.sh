#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# fresh-check.sh [bookworm]
#
# The README's quick start as a newcomer meets it: a pristine Debian chroot
# (mmdebstrap --variant=minbase, nothing else installed), the repository's
# committed HEAD copied in (git archive: no build folders, no local changes),
# then, as root like on a new machine, `./scripts/demo.sh` and
# `./scripts/test.sh`. Exits non-zero when either fails. Slow (the whole
# test suite, both builds); not part of CI.
# The minbase chroot is cached like test-wireshark.sh's (scripts/lib-chroot.sh)
# and used through a throwaway overlay, so every run starts pristine.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
. "$src/scripts/lib-chroot.sh"

hmtp_release=${1:-bookworm}

outer() {
  chroot_need_root
  command -v git >/dev/null || die "needs git (git archive HEAD)"
  git -C "$src" rev-parse --verify -q HEAD >/dev/null || die "$src is not a git checkout with a HEAD"
  if [ -n "$(git -C "$src" status --porcelain --untracked-files=no)" ]; then
    echo "fresh-check: note: uncommitted changes are not checked (git archive HEAD)" >&2
  fi
  local t0 base_root rc
  scratch= # global: the EXIT trap reads it after outer returns
  t0=$(date +%s)
  step "pristine $hmtp_release minbase chroot (mmdebstrap when missing or stale)"
  base_root=$(chroot_cached "$hmtp_release" base) || die "step '$hmtp_step' failed"
  chroot_hold "$base_root"
  scratch=$(mktemp -d "/var/tmp/hmtp-fresh-$hmtp_release.XXXXXX")
  trap 'rm -rf --one-file-system "$scratch"' EXIT
  step "git archive HEAD ($(git -C "$src" rev-parse --short HEAD))"
  git -C "$src" archive --format=tar --prefix=hmtp-tools/ HEAD >"$scratch/src.tar" \
    || die "git archive failed"
  rc=0
  HMTP_FC_INNER=1 unshare --mount --propagation private \
    bash "$src/scripts/fresh-check.sh" "$hmtp_release" "$base_root" "$scratch" || rc=$?
  echo "fresh-check: $hmtp_release: $([ $rc -eq 0 ] && echo passed || echo FAILED) in $(( $(date +%s) - t0 )) s" >&2
  return $rc
}

inner() {
  local base_root=$1 scratch=$2
  local r="$scratch/fresh/root"
  # Global: the EXIT trap runs after this function's locals are gone.
  hmtp_failed=1
  trap 'chroot_umount_all; [ $hmtp_failed -eq 0 ] || echo "fresh-check: $hmtp_release: FAILED at step: $hmtp_step" >&2' EXIT
  step "overlay of the pristine chroot, the repository in /root/hmtp-tools"
  chroot_overlay "$base_root" "$scratch/fresh"
  tar -x -C "$r/root" -f "$scratch/src.tar" || die "cannot unpack the repository"
  # A machine's own network may reach the npm registry only through its own
  # certificate authority (this workplace does): the host's bundle goes in as
  # an extra CA for node, as the newcomer's machine would have it.
  local ca=
  if [ -n "${NODE_EXTRA_CA_CERTS:-}" ] && [ -f "$NODE_EXTRA_CA_CERTS" ]; then
    cp "$NODE_EXTRA_CA_CERTS" "$r/root/host-ca.crt"
    ca='export NODE_EXTRA_CA_CERTS=/root/host-ca.crt; '
  fi
  step "./scripts/demo.sh"
  in_chroot "$r" bash -c "${ca}cd /root/hmtp-tools && ./scripts/demo.sh"
  step "./scripts/test.sh"
  in_chroot "$r" bash -c "${ca}cd /root/hmtp-tools && ./scripts/test.sh"
  hmtp_failed=0
}

if [ -n "${HMTP_FC_INNER:-}" ]; then
  inner "${@:2}"
else
  outer
fi
