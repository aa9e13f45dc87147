# SPDX-License-Identifier: GPL-2.0-or-later
# lib-chroot.sh: Debian chroots for scripts/test-wireshark.sh and
# scripts/fresh-check.sh (sourced, not run).
#
# A chroot is made once with mmdebstrap (--variant=minbase plus a package
# list; dpkg without fsync: a throwaway test system need not survive a
# power cut) and kept read-only under $HMTP_CHROOT_CACHE/<release>/<name>-<key>,
# where <key> hashes the release, the mirror and the package list, so a
# changed list makes a new one. Older than $HMTP_CHROOT_MAX_AGE_DAYS days
# (default 7) it is made again. Each run works on an overlay of it (changes
# go to a scratch folder, the cached tree is never written), so a cached
# chroot is as clean as a new one and costs nothing to "copy".
#
# Mounts are made only inside a private mount namespace (the scripts re-run
# themselves under `unshare --mount`): when the script ends,
# however it ends, the kernel drops them; the EXIT trap also unmounts them in
# order. The scratch folders are deleted by the outer process, which never
# sees those mounts, so a bind mount can never be deleted through.

HMTP_CHROOT_CACHE=${HMTP_CHROOT_CACHE:-/var/cache/hmtp-chroot}
HMTP_CHROOT_MAX_AGE_DAYS=${HMTP_CHROOT_MAX_AGE_DAYS:-7}
HMTP_DEBIAN_MIRROR=${HMTP_DEBIAN_MIRROR:-http://deb.debian.org/debian}
# Bumped when the way chroots are made changes, so old caches are not reused.
HMTP_CHROOT_FORMAT=1

# The step being run, for the failure message.
hmtp_step="start"
step() {
  hmtp_step=$*
  printf '\n== [%s] %s (%s)\n' "${hmtp_release:-?}" "$*" "$(date -u +%H:%M:%S)" >&2
}
die() {
  echo "$(basename "$0"): ${hmtp_release:+$hmtp_release: }$*" >&2
  exit 1
}

# chroot_need_root: everything here mounts and chroots.
chroot_need_root() {
  [ "$(id -u)" -eq 0 ] || die "must run as root (mmdebstrap, mount, chroot)"
  local t
  if ! command -v mmdebstrap >/dev/null; then
    echo "chroot: installing mmdebstrap" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mmdebstrap >/dev/null 2>&1 \
      || { apt-get update >/dev/null 2>&1 &&
           DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends mmdebstrap >/dev/null; } \
      || die "cannot install mmdebstrap"
  fi
  for t in mmdebstrap unshare flock sha256sum; do
    command -v "$t" >/dev/null || die "needs $t (apt-get install mmdebstrap util-linux coreutils)"
  done
}

# chroot_cached RELEASE NAME PACKAGES...: prints the path of a cached chroot
# of RELEASE with PACKAGES installed, making it first when missing or stale.
# Concurrent callers are serialised by a lock; a chroot being replaced is
# deleted only when no run holds it (runs hold a shared lock, see
# chroot_hold).
chroot_cached() {
  local release=$1 name=$2
  shift 2
  local sorted key dir base tmp now age
  sorted=$(printf '%s\n' "$@" | sort -u | tr '\n' ' ')
  key=$(printf '%s\n' "$HMTP_CHROOT_FORMAT" "$release" "$HMTP_DEBIAN_MIRROR" "$sorted" | sha256sum | cut -c1-12)
  base="$HMTP_CHROOT_CACHE/$release"
  dir="$base/$name-$key"
  mkdir -p "$base"
  (
    flock -x 8
    now=$(date +%s)
    if [ -f "$dir/.hmtp-chroot-made" ]; then
      age=$(( (now - $(cat "$dir/.hmtp-chroot-made")) / 86400 ))
      if [ "$age" -lt "$HMTP_CHROOT_MAX_AGE_DAYS" ]; then
        echo "chroot: reusing $dir (made $age days ago)" >&2
        exit 0
      fi
      echo "chroot: $dir is $age days old: making it again" >&2
    fi
    tmp="$base/.new-$name-$key.$$"
    # Leftovers of an interrupted mmdebstrap (its mounts died with its
    # namespace; --one-file-system all the same).
    rm -rf --one-file-system "$base/.new-$name-$key".*
    local shown=${sorted% }
    echo "chroot: mmdebstrap $release ($name: ${shown:-minbase only}) into $dir" >&2
    local include=()
    [ $# -gt 0 ] && include=("--include=$(IFS=,; echo "$*")")
    # In a mount namespace of its own: whatever it mounts in the new tree
    # goes away with it, even when it is killed.
    # A second try for a passing mirror or network fault.
    local try ok=0
    for try in 1 2; do
      rm -rf --one-file-system "$tmp"
      if unshare --mount --propagation private mmdebstrap --variant=minbase \
           --aptopt='Acquire::Check-Valid-Until "false"' --dpkgopt=force-unsafe-io \
           "${include[@]}" "$release" "$tmp" "$HMTP_DEBIAN_MIRROR" >"$base/$name.log" 2>&1; then
        ok=1
        break
      fi
      echo "chroot: mmdebstrap $release ($name) failed (try $try)" >&2
    done
    if [ $ok -eq 0 ]; then
      tail -30 "$base/$name.log" >&2
      rm -rf --one-file-system "$tmp"
      echo "chroot: mmdebstrap $release failed (log: $base/$name.log)" >&2
      exit 1
    fi
    echo "$now" >"$tmp/.hmtp-chroot-made"
    # Replace the stale one only when no run uses it (flock -x on its lock).
    if [ -d "$dir" ]; then
      if flock -xn "$dir.lock" true; then
        rm -rf --one-file-system "$dir"
      else
        mv "$dir" "$base/.old-$name-$key.$$"
      fi
    fi
    mv "$tmp" "$dir"
    # Earlier replaced copies, once no run holds this chroot any more.
    if flock -xn "$dir.lock" true; then
      rm -rf --one-file-system "$base/.old-$name-$key".*
    fi
  ) 8>"$base/.lock" || return 1
  echo "$dir"
}

# chroot_hold DIR: a shared lock on DIR for as long as this shell lives, so
# chroot_cached does not delete it under a running overlay.
chroot_hold() {
  exec {hmtp_hold_fd}>"$1.lock"
  flock -s "$hmtp_hold_fd"
}

# --- below: only inside the private mount namespace ----------------------

hmtp_mounts=()

# chroot_overlay LOWER SCRATCH: mounts an overlay of LOWER at SCRATCH/root
# (writes go to SCRATCH/upper) and prints SCRATCH/root.
chroot_overlay() {
  local lower=$1 scratch=$2
  mkdir -p "$scratch/upper" "$scratch/work" "$scratch/root"
  mount -t overlay overlay -o "lowerdir=$lower,upperdir=$scratch/upper,workdir=$scratch/work" \
    "$scratch/root" || die "cannot mount an overlay of $lower"
  hmtp_mounts+=("$scratch/root")
  chroot_mount_system "$scratch/root"
}

# chroot_mount_system ROOT: /proc, /dev, /dev/pts, /dev/shm, /sys, /tmp and
# the host's resolv.conf for apt.
chroot_mount_system() {
  local root=$1
  mount -t proc proc "$root/proc" && hmtp_mounts+=("$root/proc")
  mount --rbind /dev "$root/dev" && mount --make-rslave "$root/dev" && hmtp_mounts+=("$root/dev")
  mount -t sysfs sysfs "$root/sys" && hmtp_mounts+=("$root/sys")
  mount -t tmpfs -o mode=1777 tmpfs "$root/tmp" && hmtp_mounts+=("$root/tmp")
  if [ -f /etc/resolv.conf ]; then
    rm -f "$root/etc/resolv.conf"
    cp -L /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
  fi
}

# chroot_bind SRC ROOT DEST [ro]: bind-mounts SRC at ROOT/DEST.
chroot_bind() {
  local src=$1 root=$2 dest=$3 mode=${4:-rw}
  mkdir -p "$root/$dest"
  mount --bind "$src" "$root/$dest" || die "cannot bind-mount $src"
  hmtp_mounts+=("$root/$dest")
  if [ "$mode" = ro ]; then
    mount -o remount,bind,ro "$root/$dest" || die "cannot make $root/$dest read-only"
  fi
}

# chroot_umount_all: the EXIT trap inside the namespace; last mounted first.
chroot_umount_all() {
  local i
  for ((i = ${#hmtp_mounts[@]} - 1; i >= 0; i--)); do
    umount -R "${hmtp_mounts[i]}" 2>/dev/null || umount -lR "${hmtp_mounts[i]}" 2>/dev/null || true
  done
  hmtp_mounts=()
}

# in_chroot ROOT CMD...: runs CMD as root in ROOT, with a sane environment.
in_chroot() {
  local root=$1
  shift
  env -i HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive TERM=dumb chroot "$root" "$@"
}

# as_user ROOT USER CMD...: runs CMD in ROOT as USER (a normal account made
# with chroot_add_user), with that user's HOME.
as_user() {
  local root=$1 user=$2
  shift 2
  in_chroot "$root" setpriv --reuid="$user" --regid="$user" --init-groups \
    env HOME="/home/$user" USER="$user" LOGNAME="$user" "$@"
}

# chroot_add_user ROOT USER: a normal (non-root) account with a home.
chroot_add_user() {
  in_chroot "$1" useradd --create-home --shell /bin/sh "$2" || die "cannot add user $2"
}
