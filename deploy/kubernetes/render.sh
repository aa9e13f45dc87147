#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# render.sh [options] OUTDIR: copies the manifests of this folder to OUTDIR
# with the choices below made in every place that depends on them (the
# shard count sits in four places that must agree). Then:
#   kubectl apply -f OUTDIR/storage.yaml ...   (see README.md)
set -eu
usage() {
  cat >&2 <<'USAGE'
usage: render.sh [--shards N] [--image IMAGE] [--target HOST:PORT]
                 [--capture FILE] [--access-mode MODE] OUTDIR
  --shards N          pods of the Indexed Job, 1..1000 (default 4)
  --image IMAGE       the hmtp-tools image as your cluster pulls it
                      (default hmtp-tools:0.1.0)
  --target HOST:PORT  server under test (default hmtp-broker:8080, broker.yaml)
  --capture FILE      capture file name on the captures volume
                      (default capture.pcapng)
  --access-mode MODE  ReadWriteMany (default) or ReadWriteOnce (one-node
                      clusters such as kind)
USAGE
  exit 2
}
fail() { echo "render.sh: $*" >&2; exit 2; }

shards=4 image=hmtp-tools:0.1.0 target=hmtp-broker:8080 capture=capture.pcapng mode=ReadWriteMany
while [ $# -gt 1 ]; do
  case $1 in
    --shards) shards=$2 ;;
    --image) image=$2 ;;
    --target) target=$2 ;;
    --capture) capture=$2 ;;
    --access-mode) mode=$2 ;;
    *) usage ;;
  esac
  shift 2
done
[ $# -eq 1 ] || usage
case $1 in -*) usage ;; esac
out=$1

case $shards in '' | *[!0-9]* | 0*) fail "--shards '$shards': expected a number from 1 to 1000" ;; esac
[ "$shards" -le 1000 ] || fail "--shards $shards: more than 1000 pods; raise the limit here if your cluster takes it"
case $image in '' | *[!A-Za-z0-9./:@_-]*) fail "--image '$image': not an image reference" ;; esac
case $target in *[!A-Za-z0-9.:_\[\]-]* | *:) fail "--target '$target': expected HOST:PORT" ;; *:*) ;; *) fail "--target '$target': expected HOST:PORT" ;; esac
case $capture in '' | */* | .* | *[!A-Za-z0-9._-]*) fail "--capture '$capture': expected a file name (letters, digits, . _ -)" ;; esac
case $mode in ReadWriteMany | ReadWriteOnce) ;; *) fail "--access-mode '$mode': expected ReadWriteMany or ReadWriteOnce" ;; esac

here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out" || fail "cannot create $out"
for f in storage.yaml broker.yaml volumes-pod.yaml indexed-job.yaml merge-job.yaml; do
  [ -f "$here/$f" ] || fail "$here/$f is missing"
  sed -e "s|^\(  completions: \)[0-9][0-9]*\$|\1$shards|" \
      -e "s|^\(  parallelism: \)[0-9][0-9]*\$|\1$shards|" \
      -e "s|--shard auto/[0-9][0-9]*|--shard auto/$shards|" \
      -e "s|^\( *expected=\)[0-9][0-9]*\$|\1$shards|" \
      -e "s|^\( *image: \)hmtp-tools:.*\$|\1$image|" \
      -e "s|--target [^ ]*|--target $target|" \
      -e "s|/captures/[A-Za-z0-9._-]*\.pcap[a-z]*|/captures/$capture|" \
      -e "s|^\( *- \)ReadWriteMany\$|\1$mode|" \
      "$here/$f" >"$out/$f" || fail "cannot write $out/$f"
done
echo "render.sh: $out: $shards shards, image $image, target $target, capture /captures/$capture, $mode volumes" >&2
