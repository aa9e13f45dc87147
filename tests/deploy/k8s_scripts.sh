#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# k8s_scripts.sh SRC_DIR WORK_DIR NPM_DIR: runs the shell scripts of the
# shard and merge containers (indexed-job.yaml, merge-job.yaml) with sh, as
# the pods would, against a stand-in hmtp-replay that records its arguments
# and exits as told: which replay verdicts end the pod with 0, that a shard
# without its report fails, that optional credentials become options, that
# the merge counts the shard reports and passes on merge's exit status.
# The volume paths (/reports, /captures, /credentials) are moved under
# WORK_DIR and $(JOB_COMPLETION_INDEX) is replaced as Kubernetes does.
set -uo pipefail
src=$1 work=$2 npm_dir=$3
k8s="$src/deploy/kubernetes"
failures=0 passed=0
fail() { echo "FAIL: $*" >&2; failures=$((failures + 1)); }
ok() { passed=$((passed + 1)); }
command -v node >/dev/null || { echo "FAIL: node is not installed (run scripts/deps.sh)" >&2; exit 1; }

rm -rf "$work"
mkdir -p "$work/bin" "$work/reports" "$work/captures" "$work/credentials"
# the stand-in: "replay ... --report-json F" writes F when FAKE_WRITE=1
cat >"$work/bin/hmtp-replay" <<'EOF'
#!/bin/sh
printf '%s\n' "$*" >>"$FAKE_LOG"
if [ "$1" = replay ] && [ "${FAKE_WRITE:-1}" = 1 ]; then
  while [ $# -gt 1 ]; do
    [ "$1" = --report-json ] && echo '{}' >"$2"
    shift
  done
fi
exit "${FAKE_RC:-0}"
EOF
chmod +x "$work/bin/hmtp-replay"

# the first container's script of each Job, as the pod's shell gets it
if ! node -e '
  const [npm, k8s, work] = process.argv.slice(1);
  const YAML = require(require("path").join(npm, "node_modules", "yaml"));
  const fs = require("fs");
  for (const job of ["indexed-job", "merge-job"]) {
    const doc = YAML.parse(fs.readFileSync(`${k8s}/${job}.yaml`, "utf8"));
    const c = doc.spec.template.spec.containers[0];
    if (JSON.stringify(c.command) !== JSON.stringify(["/bin/sh", "-c"]) || c.args.length !== 1)
      throw new Error(`${job}: expected command ["/bin/sh", "-c"] and one script in args`);
    const script = c.args[0]
      .replace(/\$\(JOB_COMPLETION_INDEX\)/g, "2")
      .replace(/(^|[\s"=])\/(reports|captures|credentials)\b/g, `$1${work}/$2`);
    fs.writeFileSync(`${work}/${job}.sh`, script);
  }' "$npm_dir" "$k8s" "$work" 2>"$work/extract.err"; then
  echo "FAIL: cannot take the scripts out of the manifests: $(cat "$work/extract.err")" >&2
  exit 1
fi
for job in indexed-job merge-job; do
  if grep -qE '(^|[ "=])/(reports|captures|credentials)|JOB_COMPLETION_INDEX' "$work/$job.sh"; then
    fail "$job: a volume path or the index was left unreplaced: $(cat "$work/$job.sh")"
  fi
done

# run JOB [VAR=VALUE...]: sets rc, out (stderr and stdout), args (the stand-in's calls)
run() {
  local job=$1
  shift
  : >"$work/calls"
  out=$(env PATH="$work/bin:$PATH" FAKE_LOG="$work/calls" "$@" sh "$work/$job.sh" 2>&1)
  rc=$?
  args=$(cat "$work/calls")
}
expect() { # NAME WANT-RC [TEXT-IN-OUTPUT]
  if [ "$rc" -eq "$2" ] && { [ -z "${3:-}" ] || grep -qF -- "$3" <<<"$out"; }; then ok
  else fail "$1: expected exit $2${3:+ and '$3'}, got $rc: $out"; fi
}

# --- a shard: verdicts end the pod with 0, the rest fail it
for verdict in 0 1 4 5; do
  run indexed-job FAKE_RC=$verdict
  expect "shard, replay exit $verdict" 0 "shard 2: exit status $verdict, report $work/reports/shard-2.json"
done
for error in 2 3; do
  run indexed-job FAKE_RC=$error
  expect "shard, replay exit $error" "$error"
done
want="replay $work/captures/capture.pcapng --target hmtp-broker:8080 --shard auto/4 --report-json $work/reports/shard-2.json --junit $work/reports/shard-2.xml"
if [ "$args" = "$want" ]; then ok; else fail "shard command line: got '$args', expected '$want'"; fi

# a verdict without its report is no verdict, and an old report does not count
run indexed-job FAKE_RC=1 FAKE_WRITE=0
expect "shard without a report" 2 "exit status 1 but no report"
echo stale >"$work/reports/shard-2.json"
run indexed-job FAKE_RC=0 FAKE_WRITE=0
expect "shard with only an old report" 2 "no report"

# optional credentials become options
touch "$work/credentials/recorded-key.pem" "$work/credentials/logins"
run indexed-job
if [ "$args" = "$want --recorded-key $work/credentials/recorded-key.pem --login-file $work/credentials/logins" ]; then ok
else fail "shard with credentials: got '$args'"; fi
rm "$work/credentials/logins"
run indexed-job
if [ "$args" = "$want --recorded-key $work/credentials/recorded-key.pem" ]; then ok
else fail "shard with a recorded key only: got '$args'"; fi

# --- the merge: exactly N reports, then merge's own exit status
rm -f "$work/reports/"*
run merge-job
expect "merge of no report" 2 "expected 4 shard reports in $work/reports, found 0"
[ -z "$args" ] && ok || fail "merge ran with no report: $args"
touch "$work/reports/shard-"{0,1,3}.json
run merge-job
expect "merge of 3 of 4 reports" 2 "expected 4 shard reports in $work/reports, found 3"
touch "$work/reports/shard-2.json" "$work/reports/merged.json"
for verdict in 0 1 3; do
  run merge-job FAKE_RC=$verdict
  expect "merge, exit $verdict" "$verdict"
done
r="$work/reports"
want="merge $r/shard-0.json $r/shard-1.json $r/shard-2.json $r/shard-3.json --report-json $r/merged.json --junit $r/merged.xml"
if [ "$args" = "$want" ]; then ok; else fail "merge command line: got '$args', expected '$want'"; fi
[ ! -e "$r/merged.json" ] && ok || fail "the merge left an old merged.json in place"
touch "$work/reports/shard-4.json"
run merge-job
expect "merge with a report of an earlier, larger run" 2 "found 5"

echo "$passed passed, $failures failed"
[ "$failures" -eq 0 ]
