// SPDX-License-Identifier: GPL-2.0-or-later
// k8s_validate.js NPM_DIR MANIFEST.yaml...: checks the deploy/kubernetes
// manifests offline, in two layers.
//  1. Kubernetes' own schema: every document becomes the kubernetes-models
//     class of its apiVersion/kind (generated from Kubernetes' OpenAPI spec)
//     and is validated with it: wrong types, missing required fields, values
//     outside an enum. Like that spec, it does not reject unknown fields.
//  2. What the schema cannot say but the API server or this replay needs:
//     names, selectors against labels, mounts against volumes, Job restart
//     policies, and the sharding contract between the Indexed Job and the
//     merge Job (completions = parallelism = the N of --shard auto/N = the
//     shard count the merge expects; reports written where a shared volume
//     is mounted; the capture read from a mounted volume).
// One line per problem, "FILE: doc N (Kind/name): where: what"; exit 0 all
// valid, 1 problems found, 2 bad usage or the validator packages missing.
// k8s_validate.js NPM_DIR --each DIR...: each DIR's *.yaml is one set of
// manifests, checked as above in one process (node starts once, for the
// test's many cases); its lines are printed between "== DIR" and
// "== DIR exit N", all on stdout, and the exit status is 0.
'use strict';
const fs = require('fs');
const path = require('path');
const { createRequire } = require('module');

function usage(msg) {
  process.stderr.write(`k8s_validate: ${msg}\n`);
  process.exit(2);
}

const [npmDir, ...files] = process.argv.slice(2);
const each = files[0] === '--each';
if (each) files.shift();
if (!npmDir || files.length === 0)
  usage('usage: k8s_validate.js NPM_DIR MANIFEST.yaml... | NPM_DIR --each DIR...');
let req;
try {
  req = createRequire(path.join(path.resolve(npmDir), 'package.json'));
  req.resolve('kubernetes-models/batch/v1/Job');
  req.resolve('yaml');
} catch (e) {
  usage(`the validator packages are not installed in ${npmDir} (run scripts/deps.sh): ${e.message.split('\n')[0]}`);
}
const YAML = req('yaml');

// the set being checked
let problems = [];
let shards = null; // completions of the Indexed Job, for the summary and the merge check
let docs = []; // {file, index, obj}

function where(d) {
  const m = (d.obj && d.obj.metadata) || {};
  return `${d.file}: doc ${d.index} (${(d.obj && d.obj.kind) || '?'}/${m.name || '?'})`;
}
function problem(d, at, what) {
  problems.push(`${where(d)}: ${at}: ${what}`);
}

// ---- reading
function readFiles(files) {
  for (const file of files) {
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      usage(`cannot read ${file}: ${e.message}`);
    }
    const parsed = YAML.parseAllDocuments(text, { uniqueKeys: true });
    parsed.forEach((doc, i) => {
      const d = { file, index: i + 1, obj: null };
      if (doc.errors.length) {
        for (const e of doc.errors)
          problems.push(`${file}: doc ${i + 1}: YAML: ${e.message.split('\n')[0]}`);
        return;
      }
      d.obj = doc.toJS();
      if (d.obj === null || d.obj === undefined) return; // an empty document (trailing ---)
      docs.push(d);
    });
  }

}

// ---- 1. schema
const apiVersionShape = /^([a-z0-9]([a-z0-9.-]*[a-z0-9])?\/)?v[0-9]+((alpha|beta)[0-9]+)?$/;
function schemaChecks() {
  for (const d of docs) {
    if (typeof d.obj !== 'object' || Array.isArray(d.obj)) {
      problem(d, '/', 'a manifest must be a mapping');
      continue;
    }
    const { apiVersion, kind } = d.obj;
    if (typeof apiVersion !== 'string' || !apiVersionShape.test(apiVersion) || typeof kind !== 'string') {
      problem(d, '/', `apiVersion '${apiVersion}' and kind '${kind}' do not name a Kubernetes type`);
      continue;
    }
    // one file per kind: loading only those used keeps a run short
    let Model;
    try {
      Model = /^[A-Z][A-Za-z0-9]*$/.test(kind) ? req(`kubernetes-models/${apiVersion}/${kind}`)[kind] : undefined;
    } catch (e) {
      if (e.code !== 'MODULE_NOT_FOUND') throw e;
      Model = undefined;
    }
    if (typeof Model !== 'function') {
      problem(d, '/', `no ${kind} in Kubernetes API ${apiVersion}`);
      continue;
    }
    try {
      new Model(d.obj).validate();
    } catch (e) {
      const errors = Array.isArray(e.errors) ? e.errors : [{ instancePath: '', message: e.message }];
      for (const err of errors) {
        const extra = err.params && err.params.allowedValues ? ` (${err.params.allowedValues.join(', ')})` : '';
        problem(d, err.instancePath || '/', `schema: ${err.message}${extra}`);
      }
    }
  }

}

// ---- 2. what the API server and the sharded replay need
// (run only on manifests the schema accepted; optional fields may still be
// absent, and an exception here is one more problem, not a crash)
function semanticChecks() {
  const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
  const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

  const arr = (v) => (Array.isArray(v) ? v : []);
  const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  const byKind = (kind) => docs.filter((d) => isObj(d.obj) && d.obj.kind === kind);

  function podSpecOf(d) {
    const spec = d.obj.spec || {};
    if (d.obj.kind === 'Pod') return spec;
    return isObj(spec.template) && isObj(spec.template.spec) ? spec.template.spec : null;
  }

  // A container's command line as one string: the shell script of
  // ["/bin/sh", "-c"] or the argument vector joined by spaces.
  function commandLine(c) {
    return [...arr(c.command), ...arr(c.args)].filter((s) => typeof s === 'string').join(' ');
  }

  function labelsMatch(selector, labels, d, at) {
    if (!isObj(selector)) return;
    for (const [k, v] of Object.entries(selector))
      if (!labels || labels[k] !== v) problem(d, at, `selector ${k}=${v} does not match the pod template's labels`);
  }

  // mountPath holding PATH, "" when none
  function mountFor(container, p) {
    let best = null;
    for (const m of arr(container.volumeMounts)) {
      const mp = String(m.mountPath || '').replace(/\/+$/, '');
      if (p === mp || p.startsWith(mp + '/')) if (!best || mp.length > best.mp.length) best = { mp, m };
    }
    return best;
  }

  for (const d of docs) {
    if (!isObj(d.obj)) continue;
    const name = d.obj.metadata && d.obj.metadata.name;
    if (typeof name !== 'string' || !dns1123Subdomain.test(name) || name.length > 253)
      problem(d, '/metadata/name', `'${name}' is not a DNS-1123 name (lower case letters, digits, '-', '.')`);
    if (['Job', 'Service'].includes(d.obj.kind) && typeof name === 'string' && name.length > 63)
      problem(d, '/metadata/name', `'${name}' is longer than 63 characters`);
    const pod = podSpecOf(d);
    if (!pod) continue;
    const volumes = new Set(arr(pod.volumes).map((v) => v.name));
    const names = new Set();
    for (const [i, c] of arr(pod.containers).entries()) {
      const at = `/spec/template/spec/containers/${i}`;
      if (typeof c.name === 'string' && !dns1123Label.test(c.name)) problem(d, `${at}/name`, `'${c.name}' is not a DNS-1123 label`);
      if (names.has(c.name)) problem(d, `${at}/name`, `container name '${c.name}' used twice`);
      names.add(c.name);
      for (const [j, m] of arr(c.volumeMounts).entries())
        if (!volumes.has(m.name)) problem(d, `${at}/volumeMounts/${j}`, `volume '${m.name}' is not among the pod's volumes`);
    }
    if (d.obj.kind === 'Deployment') {
      const sel = d.obj.spec.selector && d.obj.spec.selector.matchLabels;
      labelsMatch(sel, d.obj.spec.template.metadata && d.obj.spec.template.metadata.labels, d, '/spec/selector/matchLabels');
    }
    if (d.obj.kind === 'Job') {
      const spec = d.obj.spec;
      if (!['Never', 'OnFailure'].includes(pod.restartPolicy))
        problem(d, '/spec/template/spec/restartPolicy', `a Job's pods need Never or OnFailure, not '${pod.restartPolicy}'`);
      if (spec.podFailurePolicy) {
        if (pod.restartPolicy !== 'Never') problem(d, '/spec/podFailurePolicy', 'needs restartPolicy Never');
        for (const [i, r] of arr(spec.podFailurePolicy.rules).entries()) {
          const cn = r.onExitCodes && r.onExitCodes.containerName;
          if (cn !== undefined && !names.has(cn)) problem(d, `/spec/podFailurePolicy/rules/${i}`, `no container '${cn}'`);
        }
      }
    }
  }

  for (const s of byKind('Service')) {
    const sel = s.obj.spec && s.obj.spec.selector;
    if (!isObj(sel)) continue;
    const backs = docs.some((d) => d.obj.kind === 'Deployment' && Object.entries(sel).every(([k, v]) => ((d.obj.spec.template.metadata || {}).labels || {})[k] === v));
    if (!backs) problem(s, '/spec/selector', 'selects no Deployment of these manifests');
  }

  // The claim a volume mount stands for, checked against the PVCs given.
  const claims = new Set(byKind('PersistentVolumeClaim').map((d) => d.obj.metadata.name));
  function claimOf(d, mount) {
    const pod = podSpecOf(d);
    const v = arr(pod.volumes).find((x) => x.name === mount.name);
    const claim = v && v.persistentVolumeClaim && v.persistentVolumeClaim.claimName;
    if (!claim) return null;
    return claim;
  }

  function checkWritable(d, c, at, option, p) {
    if (!p) {
      problem(d, at, `no ${option} PATH on the command line`);
      return null;
    }
    const found = mountFor(c, p);
    if (!found) {
      problem(d, at, `${option} ${p} is not on a mounted volume (mounts: ${arr(c.volumeMounts).map((m) => m.mountPath).join(', ') || 'none'})`);
      return null;
    }
    if (found.m.readOnly) problem(d, at, `${option} ${p} is on a read-only mount`);
    const claim = claimOf(d, found.m);
    if (!claim) problem(d, at, `${option} ${p}: the volume at ${found.mp} is not a PersistentVolumeClaim, so other pods cannot read it`);
    else if (!claims.has(claim)) problem(d, at, `${option} ${p}: claim '${claim}' is not among the manifests' PersistentVolumeClaims`);
    return { dir: path.posix.dirname(p), claim };
  }

  const optionValue = (line, option) => {
    const m = line.match(new RegExp(`(?:^|\\s)${option}[ =](\\S+)`));
    return m ? m[1] : null;
  };

  const indexed = byKind('Job').filter((d) => d.obj.spec && d.obj.spec.completionMode === 'Indexed');
  const replayJobs = byKind('Job').filter((d) => arr(podSpecOf(d).containers).some((c) => /hmtp-replay replay /.test(commandLine(c))));
  const mergeJobs = byKind('Job').filter((d) => arr(podSpecOf(d).containers).some((c) => /hmtp-replay merge /.test(commandLine(c))));
  let reports = null;
  for (const d of replayJobs) {
    const spec = d.obj.spec;
    if (spec.completionMode !== 'Indexed')
      problem(d, '/spec/completionMode', `the sharded replay needs completionMode Indexed (for JOB_COMPLETION_INDEX), not '${spec.completionMode}'`);
    if (spec.completions !== spec.parallelism)
      problem(d, '/spec/parallelism', `completions ${spec.completions} and parallelism ${spec.parallelism} differ: every shard must run at once (sessions of one shard talk to sessions of another through the target)`);
    if (!(Number.isInteger(spec.completions) && spec.completions >= 1 && spec.completions <= 100000))
      problem(d, '/spec/completions', `${spec.completions}: an Indexed Job takes 1 to 100000 completions`);
    shards = spec.completions;
    arr(podSpecOf(d).containers).forEach((c, i) => {
      const line = commandLine(c);
      if (!/hmtp-replay replay /.test(line)) return;
      const at = `/spec/template/spec/containers/${i}`;
      const m = line.match(/--shard[ =](\S+)/);
      if (!m) problem(d, at, 'hmtp-replay replay without --shard: every pod would replay the whole capture');
      else if (!/^auto\/\d+$/.test(m[1])) problem(d, at, `--shard ${m[1]}: the pods need auto/N (the index comes from JOB_COMPLETION_INDEX)`);
      else if (Number(m[1].slice(5)) !== spec.completions)
        problem(d, at, `--shard ${m[1]} but completions is ${spec.completions}: shards would be lost or replayed twice`);
      for (const option of ['--report-json', '--junit']) {
        const p = optionValue(line, option);
        if (p && !p.includes('$(JOB_COMPLETION_INDEX)')) problem(d, at, `${option} ${p}: every shard would write the same file (no $(JOB_COMPLETION_INDEX))`);
        const w = checkWritable(d, c, at, option, p);
        if (w && option === '--report-json') reports = { ...w, pattern: p };
      }
      if (!optionValue(line, '--target')) problem(d, at, 'no --target HOST:PORT');
      const target = optionValue(line, '--target');
      const tm = target && target.match(/^([^:]+):(\d+)$/);
      const svc = tm && byKind('Service').find((s) => s.obj.metadata.name === tm[1].split('.')[0]);
      if (svc && !arr(svc.obj.spec.ports).some((p) => p.port === Number(tm[2])))
        problem(d, at, `--target ${target}: Service ${svc.obj.metadata.name} has no port ${tm[2]}`);
      const cap = line.match(/hmtp-replay replay (\S+)/);
      if (!cap || cap[1].startsWith('-')) problem(d, at, 'hmtp-replay replay CAPTURE: no capture right after "replay"');
      else if (!mountFor(c, cap[1])) problem(d, at, `capture ${cap[1]} is not on a mounted volume`);
    });
  }
  if (byKind('Job').length && replayJobs.length !== 1)
    problems.push(`manifests: ${replayJobs.length} Jobs run "hmtp-replay replay"; expected exactly one (the Indexed Job)`);
  if (replayJobs.length && mergeJobs.length !== 1)
    problems.push(`manifests: ${mergeJobs.length} Jobs run "hmtp-replay merge"; expected exactly one`);
  for (const d of indexed)
    if (!replayJobs.includes(d)) problem(d, '/spec/completionMode', 'an Indexed Job that does not run hmtp-replay replay');

  for (const d of mergeJobs) {
    arr(podSpecOf(d).containers).forEach((c, i) => {
      const line = commandLine(c);
      if (!/hmtp-replay merge /.test(line)) return;
      const at = `/spec/template/spec/containers/${i}`;
      const inputs = line.match(/hmtp-replay merge (\S+)/)[1];
      const inMount = mountFor(c, inputs);
      if (!inMount) problem(d, at, `merge input ${inputs} is not on a mounted volume`);
      else if (reports) {
        const claim = claimOf(d, inMount.m);
        if (claim !== reports.claim) problem(d, at, `merge reads ${inputs} from claim '${claim}', the shards write to claim '${reports.claim}'`);
        if (path.posix.dirname(inputs) !== reports.dir) problem(d, at, `merge reads ${inputs}, the shards write ${reports.pattern}`);
        const glob = new RegExp('^' + path.posix.basename(inputs).replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*') + '$');
        if (!glob.test(path.posix.basename(reports.pattern).replace('$(JOB_COMPLETION_INDEX)', '0')))
          problem(d, at, `merge input ${inputs} does not match the shard reports ${reports.pattern}`);
      }
      for (const option of ['--report-json', '--junit']) checkWritable(d, c, at, option, optionValue(line, option));
      const e = line.match(/expected=(\d+)/);
      if (!e) problem(d, at, 'no expected=N shard count: a missing shard report would go unnoticed');
      else if (shards !== null && Number(e[1]) !== shards) problem(d, at, `expects ${e[1]} shard reports, the Indexed Job makes ${shards}`);
    });
  }

}
// Values of the wrong type or documents that did not parse would only make
// the cross-checks report the same problem again in other words.
function validateSet(files, out) {
  problems = [];
  docs = [];
  shards = null;
  readFiles(files);
  schemaChecks();
  if (problems.length) {
    problems.push('manifests: the checks beyond the schema wait until these are fixed');
  } else {
    try {
      semanticChecks();
    } catch (e) {
      problems.push(`manifests: further checks stopped: ${e.message}`);
    }
  }
  for (const p of problems) out.err(p);
  if (problems.length) {
    out.err(`k8s_validate: ${problems.length} problem(s) in ${files.length} file(s)`);
    return 1;
  }
  out.out(`k8s_validate: ${docs.length} documents in ${files.length} files valid (${shards === null ? 'no' : shards} shards)`);
  return 0;
}

if (!each) {
  process.exitCode = validateSet(files, {
    out: (l) => process.stdout.write(l + '\n'),
    err: (l) => process.stderr.write(l + '\n'),
  });
} else {
  const lines = [];
  const out = { out: (l) => lines.push(l), err: (l) => lines.push(l) };
  for (const dir of files) {
    let yamls;
    try {
      yamls = fs.readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(dir, f));
    } catch (e) {
      usage(`cannot read ${dir}: ${e.message}`);
    }
    lines.push(`== ${dir}`);
    const rc = yamls.length ? validateSet(yamls, out) : (lines.push(`k8s_validate: no .yaml file in ${dir}`), 2);
    lines.push(`== ${dir} exit ${rc}`);
  }
  process.stdout.write(lines.join('\n') + '\n');
}
