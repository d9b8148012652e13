// Event-stream subscribers around one load run, for the "changes" figure
// (bench/run.sh changes_figure; docs/performance.md "The change log").
//
//   node bench/sse_fanout.mjs --setup OUT_DIR/changes.json --subscribers N [--kinds recording.]
//        --watch-pid SERVER_PID [--helper-pid PID] [--sink http://127.0.0.1:PORT]
//        [--warmup 1] [--duration 5] [--tail-timeout 10] [--drain-timeout 30] --out FILE
//        -- LOADGEN ARGS...
//
// Opens N `GET /api/v2/events?kinds=K` streams (raw node:http, one connection
// each, in this one process), then runs the command after `--` (the load
// generator driving transitions) and, while it runs:
//   * counts the events every subscriber reads, and in the window
//     [start + warmup, start + warmup + duration) the events read, the server's
//     CPU seconds (/proc/PID/stat), ours, the helper's (the webhook sink) and the
//     whole machine's (/proc/stat), as bench/loadgen.cc does for its window;
//   * the server's CPU over the whole command (warm-up and ramp included).
// When the command has exited, the change log is the reference: every recording.*
// entry committed since this script started (GET /api/v2/changes?since=…&kind=…,
// admin token). Each subscriber must get all of them, in increasing id order,
// exactly once; the script waits up to --tail-timeout for the last ones. With
// --sink, it then waits up to --drain-timeout for the webhook receiver
// (bench/webhook_sink.mjs) to have every one, and reports how many it had when
// the command ended, when the backlog drained, and the server's CPU meanwhile.
// With --subscribers 0 and no sink it only counts and times (the plain run).
// Output: one JSON object in FILE. Exit status: the command's.
import http from 'node:http';
import { spawn, execSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

const argv = process.argv.slice(2);
const sep = argv.indexOf('--');
const command = sep >= 0 ? argv.slice(sep + 1) : [];
const args = Object.fromEntries((sep >= 0 ? argv.slice(0, sep) : argv).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
if (!args.setup || !args.out || !args['watch-pid'] || command.length === 0) {
  console.error('usage: node bench/sse_fanout.mjs --setup FILE --subscribers N --watch-pid PID --out FILE -- COMMAND...');
  process.exit(2);
}
const setup = JSON.parse(readFileSync(args.setup, 'utf8'));
const nSubs = Number(args.subscribers ?? 1);
const kinds = args.kinds ?? 'recording.';
const serverPid = Number(args['watch-pid']);
const helperPid = args['helper-pid'] ? Number(args['helper-pid']) : 0;
const warmup = Number(args.warmup ?? 1), duration = Number(args.duration ?? 5);
const tailTimeout = Number(args['tail-timeout'] ?? 10), drainTimeout = Number(args['drain-timeout'] ?? 30);
const sink = args.sink ?? '';

// ---- CPU accounting (bench/proc_cpu.h)
const TICK = Number(execSync('getconf CLK_TCK', { encoding: 'utf8' }).trim()) || 100;
const cpuOf = (pid) => {
  if (!pid) return 0;
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) / TICK;
  } catch { return 0; }
};
const busy = () => {
  const v = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0].trim().split(/\s+/).slice(1, 9).map(Number);
  return v.reduce((a, x, i) => (i === 3 || i === 4 ? a : a + x), 0) / TICK;
};
const self = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
const sample = () => ({ t: performance.now(), server: cpuOf(serverPid), self: self(), helper: cpuOf(helperPid), busy: busy() });

// ---- subscribers
const since = new Date().toISOString();
const subs = [];
function subscribe(i) {
  return new Promise((resolve, reject) => {
    const s = { i, count: 0, sum: 0, first: null, last: 0, outOfOrder: 0, otherKinds: 0, ended: null, closed: false, ids: i === 0 ? [] : null, buf: '' };
    subs.push(s);
    const req = http.get(`${setup.base}/api/v2/events?kinds=${encodeURIComponent(kinds)}`, {
      agent: false, headers: { Authorization: `Bearer ${setup.token}`, Accept: 'text/event-stream' },
    }, (res) => {
      if (res.statusCode !== 200) {
        let body = '';
        res.on('data', (c) => { body += c; }).on('end', () => reject(new Error(`subscriber ${i}: ${res.statusCode} ${body.slice(0, 300)}`)));
        return;
      }
      s.res = res;
      res.setEncoding('latin1');
      res.on('data', (chunk) => parse(s, chunk));
      res.on('close', () => { s.closed = true; });
      resolve();
    });
    req.on('error', (e) => { s.closed = true; s.error = e.message; reject(e); });
  });
}

// "id: N\nevent: KIND\ndata: {...}\n\n"; also "retry: …", ": keep-alive" and the stream.end frame.
function parse(s, chunk) {
  const buf = s.buf + chunk;
  let start = 0, end;
  while ((end = buf.indexOf('\n\n', start)) !== -1) {
    if (buf.startsWith('id: ', start)) {
      const nl = buf.indexOf('\n', start);
      const id = Number(buf.slice(start + 4, nl));
      if (!buf.startsWith('event: recording.', nl + 1)) s.otherKinds++;
      if (id <= s.last) s.outOfOrder++;
      s.count++;
      s.sum += id;
      if (s.first === null) s.first = id;
      s.last = Math.max(s.last, id);
      if (s.ids) s.ids.push(id);
    } else if (buf.startsWith('event: stream.end', start)) {
      s.ended = buf.slice(start, end).split('\n').slice(1).join(' ');
    }
    start = end + 2;
  }
  s.buf = start === 0 ? buf : buf.slice(start);
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sinkStats = async () => (sink ? (await fetch(`${sink}/stats`)).json() : null);

// The reference: recording.* entries committed since `since`, from the change log.
async function changeLog() {
  const ids = [];
  let after = null;
  for (;;) {
    const q = new URLSearchParams({ since, kind: 'recording.', pageSize: '1000', ...(after === null ? {} : { after: String(after) }) });
    const res = await fetch(`${setup.base}/api/v2/changes?${q}`, { headers: { Authorization: `Bearer ${setup.adminToken}` } });
    if (res.status !== 200) throw new Error(`GET /api/v2/changes: ${res.status} ${(await res.text()).slice(0, 300)}`);
    const page = await res.json();
    for (const e of page.entities) ids.push(e.id);
    if (page.nextAfter === null || page.nextAfter === undefined) break;
    after = page.nextAfter;
  }
  return ids;
}

const out = { subscribers: nSubs, kinds, since, command: command.join(' ') };
try {
  // Connect in batches: 100 handshakes at once are fine, but keep the accept queue calm.
  for (let i = 0; i < nSubs; i += 20) await Promise.all(Array.from({ length: Math.min(20, nSubs - i) }, (_, k) => subscribe(i + k)));
  const sinkAtStart = await sinkStats();

  const total = () => subs.reduce((a, s) => a + s.count, 0);
  const c0 = sample();
  const child = spawn(command[0], command.slice(1), { stdio: 'inherit' });
  let w0 = null, w1 = null;
  const t1 = setTimeout(() => { w0 = { ...sample(), events: total() }; }, warmup * 1000);
  const t2 = setTimeout(() => { w1 = { ...sample(), events: total() }; }, (warmup + duration) * 1000);
  const code = await new Promise((resolve) => child.on('exit', (c, sig) => resolve(c ?? (sig ? 128 : 1))));
  clearTimeout(t1);
  clearTimeout(t2);
  const c1 = sample();
  out.exit_code = code;
  out.run = { seconds: (c1.t - c0.t) / 1000, server_cpu_s: c1.server - c0.server };
  if (w0 && w1) {
    const secs = (w1.t - w0.t) / 1000;
    out.window = {
      seconds: secs, events: w1.events - w0.events, events_per_s: (w1.events - w0.events) / secs,
      server_cores: (w1.server - w0.server) / secs, client_cores: (w1.self - w0.self) / secs,
      helper_cores: (w1.helper - w0.helper) / secs, busy_cores: (w1.busy - w0.busy) / secs,
    };
    out.window.per_server_cpu_s = out.window.server_cores > 0.05 ? out.window.events_per_s / out.window.server_cores : 0;
  }
  const sinkAtEnd = await sinkStats();

  // The reference, and every subscriber caught up with it (bounded).
  const ref = await changeLog();
  const refLast = ref.length ? ref[ref.length - 1] : 0;
  out.transitions = { committed: ref.length, first_id: ref[0] ?? null, last_id: refLast || null };
  const tailStart = performance.now();
  while (subs.some((s) => !s.closed && s.last < refLast) && performance.now() - tailStart < tailTimeout * 1000) await sleep(20);
  out.tail_s = (performance.now() - tailStart) / 1000;

  if (nSubs > 0) {
    const refSum = ref.reduce((a, x) => a + x, 0);
    const refSet = new Set(ref);
    const s0 = subs[0];
    const missing0 = ref.length - s0.ids.filter((x) => refSet.has(x)).length;
    const counts = subs.map((s) => s.count);
    const bad = subs.filter((s) => s.count !== ref.length || s.sum !== refSum || s.outOfOrder || s.otherKinds);
    out.delivery = {
      expected_per_subscriber: ref.length, min: Math.min(...counts), max: Math.max(...counts),
      total: counts.reduce((a, x) => a + x, 0), all_equal: counts.every((c) => c === counts[0]),
      subscribers_complete: nSubs - bad.length, subscribers_incomplete: bad.length,
      missing_first_subscriber: missing0, out_of_order: subs.reduce((a, s) => a + s.outOfOrder, 0),
      other_kinds: subs.reduce((a, s) => a + s.otherKinds, 0),
      closed_early: subs.filter((s) => s.closed).length, ended: [...new Set(subs.map((s) => s.ended).filter(Boolean))],
      ok: bad.length === 0,
    };
  }

  if (sink) {
    // The outbox drains asynchronously: what the receiver had when the load ended, then how long until it had all.
    const want = ref.length + (sinkAtStart?.unique ?? 0);
    const cpuAtExit = c1.server;
    let st = await sinkStats();
    while (st.unique < want && performance.now() - c1.t < drainTimeout * 1000) {
      await sleep(100);
      st = await sinkStats();
    }
    const drained = st.unique >= want;
    out.webhook = {
      expected: ref.length, delivered_at_end_of_load: sinkAtEnd.unique - sinkAtStart.unique,
      delivered: st.unique - sinkAtStart.unique, duplicates: st.duplicates - sinkAtStart.duplicates,
      drained, drain_s: (performance.now() - c1.t) / 1000,  // from the end of the load
      drain_timeout_s: drainTimeout, drain_server_cpu_s: cpuOf(serverPid) - cpuAtExit,
      max_id: st.maxId, behind_at_end_of_load: ref.length - (sinkAtEnd.unique - sinkAtStart.unique),
      behind_at_end: ref.length - (st.unique - sinkAtStart.unique),
    };
  }
  for (const s of subs) s.res?.destroy();
  writeFileSync(args.out, JSON.stringify(out, null, 2) + '\n');
  process.exit(code);
} catch (e) {
  console.error(`sse_fanout: ${e.stack || e}`);
  out.error = String(e.message || e);
  writeFileSync(args.out, JSON.stringify(out, null, 2) + '\n');
  process.exit(1);
}
