// Turns the loadgen outputs of bench/run.sh into the printed figures and
// bench/results.json. Called by run.sh; see docs/performance.md.
//
// Two ratios per figure:
//   ratio      raw throughput over the baseline's, measured minutes apart in this run;
//   cpu_ratio  the same per core the server actually used (requests per server
//              CPU-second), which is what `openssl speed` reports for signing and
//              what stays meaningful when other work shares the machine.
// The verdict (ok|BELOW) uses cpu_ratio; `noise` is the CPU other processes used
// during the figure's window, in cores. Denials pass at >= 0.95 of the allowed
// GET: "no slower" within the ~5 % noise of back-to-back runs.
// A figure with any unexpected status or I/O error is BELOW whatever its ratio.
// Peers (same run, same CPU): grants over oidc-provider's (target 4x per
// CPU-second) and the authorized GET over bench/verify_server.cc's uncached
// token verification (reported: what the verified-token cache buys). Latency at
// half load: GET's and grants' p50 within 1.5x hello-world's.
// Media (pinned mode): the most concurrent two-party G.711 SIPREC calls recorded
// with zero gaps; ratio = calls per server core / 500 (our own target: there is
// no same-box baseline), ok at >= 1 (bench/media-summary.mjs).
// gRPC: authorized Recordings/Get per server CPU-second over a bare grpc++ server
// answering the same bytes on the same CPU (bench/grpc_load.cc, grpc_bare_server.cc),
// target 0.50; any non-OK call fails it.
// Changes (issue 15; bench/sse_fanout.mjs, no target): transitions per server
// CPU-second with one event stream and one webhook over the same without
// (transitions_observed over transitions_plain), also counting the server's CPU
// while the webhook's backlog drained after the load; and the events pushed to
// BENCH_CHANGES_SUBSCRIBERS streams per server CPU-second over the plain transitions
// per CPU-second (sse_fanout). Reported; BELOW only when a stream missed events
// or the load had errors.
import { execSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const modes = args.modes.trim().split(/\s+/);
const sign = Number(args.sign), verify = Number(args.verify);

const sh = (cmd) => { try { return execSync(cmd, { encoding: 'utf8' }).trim(); } catch { return ''; } };
const cpuModel = (readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/) || [])[1] || 'unknown';
const machine = {
  date: new Date().toISOString(),
  nproc: Number(sh('nproc')),
  cpu_model: cpuModel,
  kernel: os.release(),
  memory_gb: Math.round(os.totalmem() / 2 ** 30),
  loadavg_at_report: os.loadavg().map((x) => Number(x.toFixed(2))),
  openssl: sh('openssl version'),
  git: `${sh('git rev-parse --short HEAD')}${sh('git status --porcelain --untracked-files=no') ? '+dirty' : ''}`,
};

const per = (r) => (r.server_cores > 0.05 ? r.rps / r.server_cores : 0);  // requests per server CPU-second
const fmt = (x, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const lines = [];
const results = {
  machine,
  settings: { duration_s: Number(args.duration), connections: Number(args.connections), modes },
  openssl_ecdsap256: { sign_per_s: sign, verify_per_s: verify, note: 'openssl speed: per CPU-second of one core' },
  modes: {},
  media: { measured: false, note: 'SIPREC media figure: pinned mode only (bench/run.sh media_figure)' },
};
if (args.figures) results.settings.figures = args.figures.trim().split(/\s+/);
if (!(sign > 0)) delete results.openssl_ecdsap256;  // HTTP figures not run

for (const mode of modes) {
  const dir = `${args.tmp}/${mode}`;
  const load = (name) => (existsSync(`${dir}/${name}.json`) ? JSON.parse(readFileSync(`${dir}/${name}.json`, 'utf8')) : null);
  const runs = {};
  for (const n of ['hello', 'get', 'verify', 'deny_scope', 'deny_perm', 'grants', 'oidc_grants', 'transitions',
                   'hello_half', 'get_half', 'grants_half', 'transitions_half', 'media', 'grpc_bare', 'grpc_verbatim',
                   'transitions_plain', 'transitions_observed', 'sse_fanout',
                   'transitions_plain.run', 'transitions_observed.run', 'sse_fanout.run']) {
    const r = load(n);
    if (r) runs[n] = r;
  }
  const figures = [];
  const errors = (r) => r.errors.unexpected_status + r.errors.io + r.errors.parse + r.errors.unfinished;
  const add = (name, r, unit, ratio, cpuRatio, target, extra = {}) => {
    const bad = errors(r);
    const ok = bad === 0 && cpuRatio >= target;
    figures.push({ name, value: r.rps, unit, ratio, cpu_ratio: cpuRatio, target, ok, errors: bad,
                   server_cores: r.server_cores, noise_cores: r.other_cores, ...extra });
    lines.push(`${mode}.${name} ${Math.round(r.rps)} ${unit} ratio=${fmt(ratio)} cpu_ratio=${fmt(cpuRatio)} ` +
               `target=${fmt(target)} noise=${fmt(r.other_cores, 1)}${bad ? ` errors=${bad}` : ''} ${ok ? 'ok' : 'BELOW'}`);
  };
  const { hello, get } = runs;
  if (hello) lines.push(`${mode}.hello_world ${Math.round(hello.rps)} req/s server_cores=${fmt(hello.server_cores)} ` +
                        `loadgen_cores=${fmt(hello.loadgen_cores)} noise=${fmt(hello.other_cores, 1)} (baseline)`);
  if (runs.grants) {
    // grants per server core vs signatures per core; raw: grants/s vs one core's sign/s
    add('grants', runs.grants, 'grants/s', runs.grants.rps / sign, per(runs.grants) / sign, 0.40);
  }
  if (get && hello) add('get_recording', get, 'req/s', get.rps / hello.rps, per(get) / per(hello), 0.50);
  if (runs.transitions && hello) {
    const t = runs.transitions;
    add('transitions', t, 'transitions/s', t.rps / hello.rps, per(t) / per(hello), 0.20);
  }
  for (const d of ['deny_scope', 'deny_perm']) {
    if (runs[d] && get) add(`${d}_vs_allow`, runs[d], 'req/s', runs[d].rps / get.rps, per(runs[d]) / per(get), 0.95);
  }
  // Peers, measured in this run on the same CPU as the server: ours over theirs.
  const peer = (name, ours, theirs, unit, peerName, target) => {
    const bad = errors(ours) + errors(theirs);
    const ratio = ours.rps / theirs.rps, cpuRatio = per(ours) / per(theirs);
    const ok = target === null ? null : bad === 0 && cpuRatio >= target;
    figures.push({ name, value: ours.rps, unit, ratio, cpu_ratio: cpuRatio, target, ok, errors: bad, peer: peerName,
                   peer_value: theirs.rps, peer_per_cpu_second: per(theirs), server_cores: ours.server_cores,
                   peer_cores: theirs.server_cores, noise_cores: Math.max(ours.other_cores, theirs.other_cores) });
    lines.push(`${mode}.${name} ${Math.round(ours.rps)} vs ${Math.round(theirs.rps)} ${unit} ratio=${fmt(ratio)} ` +
               `cpu_ratio=${fmt(cpuRatio)} target=${target === null ? 'none' : fmt(target)} ` +
               `noise=${fmt(Math.max(ours.other_cores, theirs.other_cores), 1)}${bad ? ` errors=${bad}` : ''} ` +
               `(${peerName}: ${Math.round(per(theirs))}/s per CPU-second) ` +
               `${ok === null ? 'reported' : ok ? 'ok' : 'BELOW'}`);
  };
  // oidc-provider (npm), one Node.js process, the same grant requests: >= 4x per CPU-second.
  if (runs.grants && runs.oidc_grants) peer('grants_vs_oidc_provider', runs.grants, runs.oidc_grants, 'grants/s', 'oidc-provider', 4);
  // What the verified-token cache buys: our whole authorized GET over a server that only verifies the token.
  if (get && runs.verify) peer('get_vs_verify_only', get, runs.verify, 'req/s', 'verify_server', null);
  for (const h of ['hello_half', 'get_half', 'grants_half', 'transitions_half']) {
    const r = runs[h];
    if (!r) continue;
    const bad = errors(r);
    // GET and grants: p50 within 1.5x the hello-world floor's p50 (the floor is this machine's scheduling).
    const floor = runs.hello_half && (h === 'get_half' || h === 'grants_half') ? runs.hello_half.latency_us.p50 : null;
    const overFloor = floor ? r.latency_us.p50 / floor : null;
    const ok = overFloor === null ? null : bad === 0 && overFloor <= 1.5;
    lines.push(`${mode}.${h.replace('_half', '')}_latency_at_half_load p50=${fmt(r.latency_us.p50 / 1000, 3)}ms ` +
               `p99=${fmt(r.latency_us.p99 / 1000, 3)}ms rate=${Math.round(r.rate_target)}/s achieved=${Math.round(r.rps)}/s ` +
               `noise=${fmt(r.other_cores, 1)}${bad ? ` errors=${bad}` : ''}` +
               (overFloor === null ? '' : ` p50/floor=${fmt(overFloor)} target<=1.50 ${ok ? 'ok' : 'BELOW'}`));
    figures.push({ name: `${h}_latency`, rate: r.rate_target, achieved: r.rps, p50_ms: r.latency_us.p50 / 1000,
                   p99_ms: r.latency_us.p99 / 1000, max_ms: r.latency_us.max / 1000, errors: bad, noise_cores: r.other_cores,
                   ...(overFloor === null ? {} : { p50_over_floor: overFloor, target: 1.5, ok }) });
  }
  if (runs.grpc_verbatim && runs.grpc_bare) {
    // grpc_load's JSON: calls (OK, in the window), errors (non-OK, any time), calls_per_s, server_cores.
    const ours = runs.grpc_verbatim, bare = runs.grpc_bare;
    const perCpu = (r) => (r.server_cores > 0.05 ? r.calls_per_s / r.server_cores : 0);
    const bad = ours.errors + bare.errors, noise = Math.max(ours.other_cores, bare.other_cores);
    const ratio = ours.calls_per_s / bare.calls_per_s, cpuRatio = perCpu(ours) / perCpu(bare);
    const ok = bad === 0 && cpuRatio >= 0.5;
    figures.push({ name: 'grpc_get', value: ours.calls_per_s, unit: 'calls/s', ratio, cpu_ratio: cpuRatio, target: 0.5,
                   ok, errors: bad, peer: 'grpc_bare_server', peer_value: bare.calls_per_s,
                   peer_per_cpu_second: perCpu(bare), per_cpu_second: perCpu(ours), server_cores: ours.server_cores,
                   peer_cores: bare.server_cores, response_bytes: ours.response_bytes,
                   peer_response_bytes: bare.response_bytes, noise_cores: noise });
    lines.push(`${mode}.grpc_get ${Math.round(ours.calls_per_s)} calls/s ratio=${fmt(ratio)} cpu_ratio=${fmt(cpuRatio)} ` +
               `target=0.50 noise=${fmt(noise, 1)}${bad ? ` errors=${bad}` : ''} ` +
               `(bare grpc++: ${Math.round(bare.calls_per_s)} calls/s, ${Math.round(perCpu(bare))} per CPU-second; ` +
               `ours ${Math.round(perCpu(ours))}; answers ${ours.response_bytes}/${bare.response_bytes} bytes) ` +
               `${ok ? 'ok' : 'BELOW'}`);
  }
  if (runs.transitions_plain && runs['transitions_plain.run']) changesFigures(mode, runs, figures, errors);
  if (runs.media?.measured) {
    // Concurrent two-party G.711 SIPREC recordings with zero gaps (bench/media-summary.mjs).
    // No same-box baseline (rtpengine cannot record here): ratio = calls per server core / 500, our own target.
    const m = runs.media;
    const ok = m.calls > 0 && m.ratio >= 1;
    const at = m.steps.find((x) => x.calls === m.calls) ?? {};
    figures.push({ name: 'media_calls', value: m.calls, unit: 'calls', ratio: m.ratio, calls_per_core: m.calls_per_core,
                   target_calls_per_core: m.target_calls_per_core, ok, gaps: m.gaps, server_cores: m.server_cores,
                   noise_cores: at.other_cores, stopped_by: m.stopped_by });
    lines.push(`${mode}.media_calls ${m.calls} calls ratio=${fmt(m.ratio)} (calls/server-core ${Math.round(m.calls_per_core)} ` +
               `over our target 500; no same-box baseline) server_cores=${fmt(m.server_cores)} gaps=${m.gaps ?? 'n/a'} ` +
               `late_p99=${fmt(at.lateness_ms?.p99)}ms noise=${fmt(at.other_cores, 1)} stop=${m.stop} ${ok ? 'ok' : 'BELOW'}`);
    results.media = { ...runs.media };
  }
  const cluster = existsSync(`${dir}/cluster/cluster.json`) ? JSON.parse(readFileSync(`${dir}/cluster/cluster.json`, 'utf8')) : null;
  if (cluster) clusterFigures(mode, cluster, figures);
  results.modes[mode] = { figures, runs };
}
// The cluster figure (issue 14; bench/cluster.mjs, no target): each store
// configuration's throughput over the hello-world baseline on the same pinned
// CPU, and the split of that CPU between the nodes and everything else
// (PostgreSQL, mostly); then the revocation propagation delay.
function clusterFigures(mode, c, figures) {
  const what = { sqlite_1: 'one node, SQLite', pg_1: 'one node, PostgreSQL', pg_2: 'two nodes, one PostgreSQL' };
  for (const [config, m] of Object.entries(c.configs)) {
    for (const [kind, unit] of [['get', 'req/s'], ['transitions', 'transitions/s']]) {
      const r = m[kind];
      const ratio = r.rps / c.hello.rps;
      figures.push({ name: `cluster_${config}_${kind}`, value: r.rps, unit, ratio, target: null, ok: r.errors ? false : null,
                     errors: r.errors, node_cores: r.node_cores, other_cores: r.other_cores, p50_ms: r.p50_ms, p99_ms: r.p99_ms });
      lines.push(`${mode}.cluster_${config}_${kind} ${Math.round(r.rps)} ${unit} ratio=${fmt(ratio)} ` +
                 `node_cores=${fmt(r.node_cores)} other_cores=${fmt(r.other_cores)} p99=${fmt(r.p99_ms)}ms` +
                 `${r.errors ? ` errors=${r.errors} BELOW` : ''} (${what[config] ?? config}; reported)`);
    }
  }
  if (c.revocation) {
    const v = c.revocation;
    figures.push({ name: 'cluster_revocation_propagation', count: v.count, p50_ms: v.p50_ms, p99_ms: v.p99_ms,
                   max_ms: v.max_ms, target_ms: 1000, ok: v.max_ms <= 1000 });
    lines.push(`${mode}.cluster_revocation_propagation p50=${fmt(v.p50_ms)}ms p99=${fmt(v.p99_ms)}ms ` +
               `max=${fmt(v.max_ms)}ms n=${v.count} target<=1000ms ${v.max_ms <= 1000 ? 'ok' : 'BELOW'}`);
  }
}
// The changes figure: the cost of the change log's observers (bench/run.sh changes_figure).
function changesFigures(mode, runs, figures, errors) {
  const plain = runs.transitions_plain, plainRun = runs['transitions_plain.run'];
  const plainPer = per(plain);
  // Over the whole load run (warm-up and ramp included) and, for the observed run, the
  // webhook's drain after it: transitions in the change log over the server's CPU seconds.
  const allIn = (run, extraCpu = 0) => run.transitions.committed / (run.run.server_cpu_s + extraCpu);
  const plainAllIn = allIn(plainRun);
  // Other processes' cores: loadgen's "other" includes the subscribers' and the sink's, on its CPU.
  const noiseOf = (r, run) => Math.max(0, r.other_cores - (run?.window?.client_cores ?? 0) - (run?.window?.helper_cores ?? 0));
  const pn = noiseOf(plain, plainRun);
  figures.push({ name: 'transitions_plain', value: plain.rps, unit: 'transitions/s', per_cpu_second: plainPer,
                 all_in_per_cpu_second: plainAllIn, committed: plainRun.transitions.committed,
                 server_cores: plain.server_cores, noise_cores: pn, errors: errors(plain), target: null, ok: null });
  lines.push(`${mode}.transitions_plain ${Math.round(plain.rps)} transitions/s server_cores=${fmt(plain.server_cores)} ` +
             `per_cpu_s=${Math.round(plainPer)} noise=${fmt(pn, 1)}${errors(plain) ? ` errors=${errors(plain)}` : ''} ` +
             '(no subscriber, no webhook: the baseline of the changes figures)');

  const obs = runs.transitions_observed, obsRun = runs['transitions_observed.run'];
  if (obs && obsRun) {
    const d = obsRun.delivery ?? {}, w = obsRun.webhook ?? {};
    const bad = errors(obs) + (d.ok ? 0 : 1) + (w.duplicates ?? 0) + (obsRun.error ? 1 : 0);
    const ratio = obs.rps / plain.rps, cpuRatio = per(obs) / plainPer;
    const obsAllIn = allIn(obsRun, w.drain_server_cpu_s ?? 0), allInRatio = obsAllIn / plainAllIn;
    const noise = noiseOf(obs, obsRun);
    figures.push({ name: 'transitions_observed', value: obs.rps, unit: 'transitions/s', ratio, cpu_ratio: cpuRatio,
                   target: null, ok: bad === 0 ? null : false, errors: bad, per_cpu_second: per(obs),
                   plain_per_cpu_second: plainPer, all_in_per_cpu_second: obsAllIn, all_in_cpu_ratio: allInRatio,
                   server_cores: obs.server_cores, noise_cores: noise, stream: d, webhook: w,
                   committed: obsRun.transitions.committed });
    const hook = !w.expected ? 'webhook: not measured'
      : `webhook ${w.delivered_at_end_of_load}/${w.expected} delivered when the load ended, ` +
        (w.drained ? `all ${w.expected} ${fmt(w.drain_s, 1)} s later`
                   : `STILL BEHIND by ${w.behind_at_end} after the ${w.drain_timeout_s} s drain timeout (${w.delivered} delivered)`) +
        `, ${fmt(w.drain_server_cpu_s)} server CPU-s meanwhile`;
    lines.push(`${mode}.transitions_observed ${Math.round(obs.rps)} transitions/s ratio=${fmt(ratio)} cpu_ratio=${fmt(cpuRatio)} ` +
               `target=none noise=${fmt(noise, 1)}${bad ? ` errors=${bad}` : ''} ` +
               `(1 event stream + 1 webhook; ${Math.round(per(obs))} vs ${Math.round(plainPer)} per server CPU-second; ` +
               `with the webhook's drain: ${Math.round(obsAllIn)} vs ${Math.round(plainAllIn)}, ratio ${fmt(allInRatio)}; ` +
               `stream ${d.min ?? 0}/${d.expected_per_subscriber ?? '?'} events${d.ok ? '' : ' INCOMPLETE'}; ${hook}) ` +
               `${bad ? 'BELOW' : 'reported'}`);
  }

  const fan = runs.sse_fanout, fanRun = runs['sse_fanout.run'];
  if (fan && fanRun?.window) {
    const d = fanRun.delivery ?? {}, win = fanRun.window;
    const bad = errors(fan) + (d.ok ? 0 : 1) + (fanRun.error ? 1 : 0);
    const ratio = win.events_per_s / plain.rps, cpuRatio = win.per_server_cpu_s / plainPer;
    // The server's CPU left for pushing once the transitions' share (at the plain cost) is taken out: an estimate.
    const pushCores = win.server_cores - fan.rps / plainPer;
    const perPushCpu = pushCores > 0.02 ? win.events_per_s / pushCores : null;
    const noise = noiseOf(fan, fanRun);
    figures.push({ name: 'sse_fanout', value: win.events_per_s, unit: 'events/s', ratio, cpu_ratio: cpuRatio, target: null,
                   ok: bad === 0 ? null : false, errors: bad, subscribers: fanRun.subscribers, transitions_per_s: fan.rps,
                   per_cpu_second: win.per_server_cpu_s, plain_per_cpu_second: plainPer,
                   push_cores_estimate: pushCores, events_per_push_cpu_second_estimate: perPushCpu,
                   server_cores: win.server_cores, client_cores: win.client_cores, noise_cores: noise, delivery: d });
    lines.push(`${mode}.sse_fanout ${Math.round(win.events_per_s)} events/s ratio=${fmt(ratio)} cpu_ratio=${fmt(cpuRatio)} ` +
               `target=none noise=${fmt(noise, 1)}${bad ? ` errors=${bad}` : ''} ` +
               `(${fanRun.subscribers} streams, ${Math.round(fan.rps)} transitions/s; ${Math.round(win.per_server_cpu_s)} events ` +
               `per server CPU-second vs ${Math.round(plainPer)} plain transitions; ` +
               `~${perPushCpu ? Math.round(perPushCpu) : 'n/a'} per CPU-second of pushing alone; ` +
               `every stream ${d.min ?? 0}..${d.max ?? 0}/${d.expected_per_subscriber ?? '?'}` +
               `${d.ok ? ', in order' : ` INCOMPLETE (${d.subscribers_incomplete} streams, ${d.closed_early} closed)`}; ` +
               `client_cores=${fmt(win.client_cores)}) ${bad ? 'BELOW' : 'reported'}`);
  }
}

if (sign > 0) lines.push(`openssl.ecdsap256_sign ${Math.round(sign)} sign/s verify=${Math.round(verify)}/s (one core)`);
if (!results.media.measured) lines.push('media.calls not-measured (pinned mode only; BENCH_FIGURES must include media)');

console.log(lines.join('\n'));
writeFileSync(args.out, JSON.stringify(results, null, 2) + '\n');
console.log(`bench: wrote ${args.out}`);
