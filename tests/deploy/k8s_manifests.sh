#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# k8s_manifests.sh SRC_DIR WORK_DIR NPM_DIR: the manifests of deploy/kubernetes
# against Kubernetes' schema and the sharding contract (k8s_validate.js),
# as committed and as render.sh makes them; then broken copies, each of which
# must be refused with its own message. Offline: the validator packages come
# from NPM_DIR, filled by scripts/deps.sh.
set -uo pipefail
src=$1 work=$2 npm_dir=$3
k8s="$src/deploy/kubernetes"
validate="$src/tests/deploy/k8s_validate.js"
failures=0 passed=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { passed=$((passed + 1)); }

command -v node >/dev/null || { echo "FAIL: node is not installed (run scripts/deps.sh)" >&2; exit 1; }
if ! cmp -s "$src/tests/deploy/package-lock.json" "$npm_dir/installed-lock.json"; then
  echo "FAIL: the validator packages in $npm_dir are missing or not those of tests/deploy/package-lock.json (run scripts/deps.sh)" >&2
  exit 1
fi

rm -rf "$work"
mkdir -p "$work"

# run_validator DIR: sets rc, out (stdout and stderr together)
run_validator() {
  out=$(node "$validate" "$npm_dir" "$1"/*.yaml 2>&1)
  rc=$?
}

# --- as committed
run_validator "$k8s"
if [ "$rc" -eq 0 ] && grep -q 'valid (4 shards)' <<<"$out"; then ok; else fail "committed manifests: exit $rc: $out"; fi

# --- as rendered: another N, a one-node volume mode, another capture name
if "$k8s/render.sh" --shards 7 --access-mode ReadWriteOnce --capture other.pcap \
    --image registry.example/hmtp-tools:1 "$work/rendered" 2>"$work/render.err"; then
  run_validator "$work/rendered"
  if [ "$rc" -eq 0 ] && grep -q 'valid (7 shards)' <<<"$out"; then ok; else fail "rendered --shards 7: exit $rc: $out"; fi
  r="$work/rendered"
  for want in "$r/indexed-job.yaml:  completions: 7" "$r/indexed-job.yaml:  parallelism: 7" \
      "$r/indexed-job.yaml:--shard auto/7" "$r/merge-job.yaml:expected=7" \
      "$r/indexed-job.yaml:/captures/other.pcap " "$r/storage.yaml:- ReadWriteOnce" \
      "$r/broker.yaml:image: registry.example/hmtp-tools:1"; do
    if grep -qF -- "${want#*:}" "${want%%:*}"; then ok; else fail "render.sh: '${want#*:}' not in ${want%%:*}"; fi
  done
  left=$(grep -n 'ReadWriteMany\|auto/4\|expected=4\|image: hmtp-tools:0.1.0\|capture.pcapng' "$r"/*.yaml | grep -v '\.yaml:[0-9]*: *#')
  if [ -n "$left" ]; then
    fail "render.sh left a default behind: $left"
  else ok; fi
else
  fail "render.sh --shards 7 failed: $(cat "$work/render.err")"
fi

# --- render.sh refuses what would make broken manifests
for bad in "--shards 0" "--shards x" "--shards 1001" "--access-mode ReadOnlyMany" "--target nohost" "--capture ../x.pcap"; do
  # shellcheck disable=SC2086
  "$k8s/render.sh" $bad "$work/bad" 2>"$work/render.err"
  rc=$?
  if [ "$rc" -eq 2 ] && grep -q "^render.sh: ${bad%% *}" "$work/render.err"; then ok
  else fail "render.sh $bad: exit $rc, expected 2 and a message naming ${bad%% *}: $(cat "$work/render.err")"; fi
done

# --- broken copies: expect_rejected NAME FILE SED-SCRIPT MESSAGE makes one;
# all are then checked in one node process (check_rejected)
cases=()
expect_rejected() {
  local name=$1 file=$2 script=$3 message=$4 dir="$work/$1"
  cp -r "$k8s" "$dir"
  sed -i -e "$script" "$dir/$file"
  if cmp -s "$k8s/$file" "$dir/$file"; then
    fail "$name: the edit '$script' changed nothing in $file (the case tests nothing)"
    return
  fi
  printf '%s\n' "$message" >"$dir.message"
  cases+=("$dir")
}
check_rejected() {
  local all dir block
  all=$(node "$validate" "$npm_dir" --each "${cases[@]}" 2>&1)
  for dir in "${cases[@]}"; do
    block=$(awk -v d="$dir" '$0 == "== " d {on = 1; next} $0 == "== " d " exit 1" {print "EXIT1"; on = 0} $0 ~ "^== " d " exit" {on = 0} on' <<<"$all")
    if grep -qx EXIT1 <<<"$block" && grep -qF -- "$(cat "$dir.message")" <<<"$block"; then ok
    else fail "${dir##*/}: expected exit 1 and '$(cat "$dir.message")', got: $block"; fi
  done
  grep -q '^== .* exit' <<<"$all" || fail "k8s_validate.js --each printed no result: $all"
}
# Kubernetes' schema: a wrong type, a value outside an enum, a missing
# required field, a kind that does not exist, YAML that does not parse
expect_rejected wrong-type indexed-job.yaml 's/^  completions: 4$/  completions: "4"/' \
  '(Job/hmtp-replay): /spec/completions: schema: must be integer'
expect_rejected wrong-type-port broker.yaml 's/containerPort: 8080/containerPort: http/' \
  '/spec/template/spec/containers/0/ports/0/containerPort: schema: must be integer'
expect_rejected bad-enum indexed-job.yaml 's/completionMode: Indexed/completionMode: indexed/' \
  '/spec/completionMode: schema: must be equal to one of the allowed values (Indexed, NonIndexed)'
expect_rejected missing-required merge-job.yaml 's/- name: merge$/- terminationMessagePolicy: File/' \
  '/spec/template/spec/containers/0: schema: must have required property'
expect_rejected unknown-kind broker.yaml 's/^kind: Service$/kind: Servise/' \
  'no Servise in Kubernetes API v1'
expect_rejected bad-yaml storage.yaml 's/^  accessModes:$/  accessModes: [/' \
  'storage.yaml: doc 1: YAML:'
# the API server's rules beyond the schema
expect_rejected restart-always merge-job.yaml 's/restartPolicy: Never/restartPolicy: Always/' \
  "a Job's pods need Never or OnFailure, not 'Always'"
expect_rejected selector broker.yaml '0,/^      app.kubernetes.io\/name: hmtp-broker$/s//      app.kubernetes.io\/name: hmtp-brokr/' \
  'selector app.kubernetes.io/name=hmtp-brokr does not match'
# the sharding contract
expect_rejected not-indexed indexed-job.yaml 's/completionMode: Indexed/completionMode: NonIndexed/' \
  "needs completionMode Indexed"
expect_rejected parallelism indexed-job.yaml 's/^  parallelism: 4$/  parallelism: 3/' \
  'completions 4 and parallelism 3 differ'
expect_rejected shard-count indexed-job.yaml 's|--shard auto/4|--shard auto/5|' \
  '--shard auto/5 but completions is 4'
expect_rejected shard-fixed indexed-job.yaml 's|--shard auto/4|--shard 0/4|' \
  '--shard 0/4: the pods need auto/N'
expect_rejected no-shard indexed-job.yaml 's| --shard auto/4||' \
  'without --shard'
expect_rejected reports-unmounted indexed-job.yaml 's|mountPath: /reports$|mountPath: /report|' \
  '--report-json /reports/shard-$(JOB_COMPLETION_INDEX).json is not on a mounted volume'
expect_rejected reports-readonly indexed-job.yaml '/mountPath: \/reports$/a\              readOnly: true' \
  'is on a read-only mount'
expect_rejected same-file indexed-job.yaml 's|--junit /reports/shard-$(JOB_COMPLETION_INDEX).xml|--junit /reports/shard.xml|' \
  '--junit /reports/shard.xml: every shard would write the same file'
expect_rejected capture-unmounted indexed-job.yaml 's|mountPath: /captures$|mountPath: /capture|' \
  'capture /captures/capture.pcapng is not on a mounted volume'
expect_rejected merge-count merge-job.yaml 's/expected=4/expected=3/' \
  'expects 3 shard reports, the Indexed Job makes 4'
expect_rejected merge-claim merge-job.yaml 's/claimName: hmtp-reports/claimName: hmtp-captures/' \
  "merge reads /reports/shard-*.json from claim 'hmtp-captures', the shards write to claim 'hmtp-reports'"
expect_rejected missing-claim storage.yaml 's/name: hmtp-reports/name: hmtp-report/' \
  "claim 'hmtp-reports' is not among the manifests' PersistentVolumeClaims"
expect_rejected target-port indexed-job.yaml 's/--target hmtp-broker:8080/--target hmtp-broker:8081/' \
  'Service hmtp-broker has no port 8081'

check_rejected

echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
