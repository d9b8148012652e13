// Summarizes the media capacity search of bench/run.sh (one media_load output
// per step, $dir/media-N.json) into the media figure, printed as JSON on stdout
// ($dir/media.json, read by report.mjs):
//   calls           the largest N whose step was clean: every call set up, the
//                   sender on schedule, no RTP lost, received = sent, and every
//                   WAV gap-free and sample-exact
//   server_cores    the server's CPU use (cores) during that step's media window
//   calls_per_core  calls / server_cores
//   ratio           calls_per_core / 500: our own target ("> 500 two-party calls
//                   per core"); there is no same-box baseline (see `baseline`)
//   stopped_by      why the search ended (the bound, if it was one)
//
//   node bench/media-summary.mjs --dir DIR --stop REASON [--stop-calls N] [--mode M] [--duration S] [--budget S]
//                                [--max N] [--elapsed S]
//
// Node 20 built-ins only.
import { existsSync, readdirSync, readFileSync } from 'node:fs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const TARGET = 500;
const dir = args.dir;
const stepFiles = readdirSync(dir).filter((f) => /^media-\d+\.json$/.test(f));
const steps = stepFiles.map((f) => {
  const r = JSON.parse(readFileSync(`${dir}/${f}`, 'utf8'));
  const v = r.verify ?? {};
  return {
    calls: r.calls_requested,
    established: r.calls_established,
    ok: r.ok,
    sender_ok: r.sender_ok,
    retried: existsSync(`${dir}/${f.replace('.json', '.try1.json')}`),
    server_cores: r.server_cores,
    loadgen_cores: r.loadgen_cores,
    other_cores: r.other_cores,
    server_wait_cores: r.server_wait_cores,
    loadgen_wait_cores: r.loadgen_wait_cores,
    gaps: r.gaps,
    gap_ms: v.gap_ms,
    mismatched_samples: v.mismatched_samples,
    files_ok: v.files_ok,
    files: v.files_expected,
    packets_sent: r.packets_sent,
    rtp_received: r.metrics?.rtp_received,
    rtp_lost: r.metrics?.rtp_lost,
    received_equals_sent: r.metrics?.received_equals_sent,
    lateness_ms: r.lateness_ms,
    setup_failures: r.setup_failures,
    setup_s: r.setup_s,
    setup_server_cpu_ms_per_call: r.setup_server_cpu_ms_per_call,
    teardown_s: r.teardown_s,
    problems: r.problems,
  };
}).sort((a, b) => a.calls - b.calls);

// The largest clean N below the first failing one (the search and its bisection never pass a failure).
const failing = Number(args['stop-calls']) || Infinity;
const clean = steps.filter((s) => s.ok && s.calls < (args.stop === 'server-cores' ? Infinity : failing));
const best = clean.at(-1);
const failingCalls = Number(args['stop-calls']) || steps.at(-1)?.calls;
const last = steps.find((s) => s.calls === failingCalls);
const at503 = steps.find((s) => (s.setup_failures?.['503'] ?? 0) > 0);
const stopText = {
  max: `reached BENCH_MEDIA_MAX_CALLS (${args.max})`,
  budget: `the next step would overrun the media time budget (${args.budget} s)`,
  'server-cores': `the server used >= 0.9 cores at ${failingCalls} calls`,
  sender: `the load generator fell behind its schedule at ${failingCalls} calls${last?.retried ? ' (twice)' : ''}, `
    + `using ${last?.loadgen_cores?.toFixed(2)} cores of CPU 0, while the server used ${last?.server_cores?.toFixed(2)}: `
    + 'not a server result',
  'not-clean': `${failingCalls} calls were not clean${last?.retried ? ' (twice)' : ''} with the server at `
    + `${last?.server_cores?.toFixed(2)} cores: ${(last?.problems ?? []).join('; ')}`,
  error: `media_load failed at ${failingCalls} calls`,
  'server-died': 'the server exited',
}[args.stop] ?? args.stop;

// A pinned server that failed while using well under its core was held back, not out of CPU:
// runnable but waiting (server_wait_cores, its own threads included) or blocked on I/O.
const heldBack = args.stop === 'not-clean' && (last?.server_cores ?? 1) < 0.8
  ? ` (the server used only ${last.server_cores.toFixed(2)} of its core: it was held back, waiting `
    + `${(last.server_wait_cores ?? 0).toFixed(2)} cores' worth of time for a CPU or blocked on I/O; on this shared `
    + 'box most likely by other work, i.e. noise rather than capacity)'
  : '';
const calls = best?.calls ?? 0;
const cores = best?.server_cores ?? 0;
const perCore = cores > 0.01 ? calls / cores : 0;
const out = {
  measured: steps.length > 0,
  mode: args.mode ?? 'pinned',
  duration_s: Number(args.duration),
  calls,
  streams: 2 * calls,
  gaps: best?.gaps ?? null,
  server_cores: cores,
  calls_per_core: perCore,
  target_calls_per_core: TARGET,
  ratio: perCore / TARGET,
  ratio_basis: 'calls per server core / 500 (our own target); no same-box baseline',
  stop: args.stop,
  stop_calls: Number(args['stop-calls']) || null,
  stopped_by: stopText + heldBack,
  capacity_limit_hit: at503 ? `503 (Service Unavailable) at ${at503.calls} calls: the server's session/port limit bounded the search` : null,
  baseline: 'rtpengine cannot record on this box: its recording daemon (the part that writes audio files) reads the '
    + 'packets that the xt_RTPENGINE kernel module exposes under /proc/rtpengine, and this kernel has no loadable '
    + 'modules (CONFIG_MODULES unset); its userspace-only mode records raw pcap, not decoded audio (docs/performance.md)',
  elapsed_s: Number(args.elapsed),
  steps,
};
console.log(JSON.stringify(out, null, 2));
