// The cluster figure (issue 14, bench/run.sh cluster_figure, pinned mode): in
// one run on this machine, authorized GET/s and transitions/s for
//   sqlite_1  one node on SQLite (the default),
//   pg_1      one node on PostgreSQL,
//   pg_2      two nodes on one PostgreSQL database,
// with the same total server CPU: every server process (the nodes with one
// thread each, PostgreSQL's postmaster and its backends, the hello-world
// baseline) is pinned to the server CPU, the load generators to the other one.
// Each figure's ratio is its throughput over the hello-world baseline's,
// measured in this run on the same CPU. Then, on pg_2 with no load, the
// propagation delay of a revocation: a token revoked on node 1 (POST
// /oauth/revoke answered), polled on node 2 back to back until it is refused
// (401); the delay is measured to the answer of that first refusal (an upper
// bound), BENCH_CLUSTER_REVOCATIONS times, p50/p99.
//
// PostgreSQL runs durable (fsync on, synchronous commit): a commit costs what it
// costs in production (`--pg-fsync off` measures without the disk, to tell
// the two apart). Writes $TMP/pinned/cluster.json for bench/report.mjs.
//
//   node bench/cluster.mjs --verbatim BIN --hello BIN --loadgen BIN --dir DIR
//        --server-cpu N --loadgen-cpu N --duration S --warmup S --connections N
//        --conversations N --revocations N [--pg-fsync on|off]
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startPostgres } from '../tests/e2e/lib/pg.mjs';
import { basic, call, token } from './api.mjs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
const dir = args.dir;
const serverCpu = String(args['server-cpu']);
const loadgenCpu = String(args['loadgen-cpu']);
const conns = Number(args.connections);
const children = new Set();
const say = (msg) => process.stderr.write(`bench: [cluster] ${msg}\n`);

function launch(cmd, argv, logName) {
  const p = spawn('taskset', ['-c', serverCpu, cmd, ...argv], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  p.stderr.setEncoding('utf8').on('data', (d) => { log = (log + d).slice(-20000); });
  p.on('exit', () => writeFileSync(join(dir, `${logName}.log`), log));
  children.add(p);
  return p;
}

async function waitForFile(path, proc) {
  for (let i = 0; i < 300; i++) {
    if (existsSync(path) && readFileSync(path, 'utf8').trim()) return readFileSync(path, 'utf8');
    if (proc.exitCode !== null) throw new Error(`${path}: the process exited (${proc.exitCode}); see ${dir}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${path}`);
}

async function stop(p) {
  if (!p || p.exitCode !== null) return;
  const done = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await done;
  children.delete(p);
}

/** `verbatim serve` with one thread on the server CPU; resolves {proc, addr, dataDir}. */
async function startNode(name, extra) {
  const dataDir = join(dir, name);
  mkdirSync(dataDir, { recursive: true });
  const proc = launch(args.verbatim, ['serve', '--data-dir', dataDir, '--http-listen', '127.0.0.1:0',
    '--sip-listen', '127.0.0.1:0', '--threads', '1', '--rate-limit-token', '0', '--rate-limit-auth-failures', '0',
    '--log-level', 'warn', ...extra], name);
  const listen = JSON.parse(await waitForFile(join(dataDir, 'listen.json'), proc));
  return { proc, addr: listen.http, url: `http://${listen.http}`, dataDir };
}

function loadgen(name, addr, pid, requests, extra = {}) {
  const out = join(dir, `${name}.json`);
  return new Promise((resolve, reject) => {
    const p = spawn('taskset', ['-c', loadgenCpu, args.loadgen, '--target', addr, '--connections', String(extra.conns ?? conns),
      '--duration', String(args.duration), '--warmup', String(args.warmup), '--watch-pid', String(pid),
      '--out', out, '--requests', join(dir, requests), ...(extra.ordered ? ['--ordered'] : [])],
    { stdio: ['ignore', 'ignore', 'inherit'] });
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(readFileSync(out, 'utf8')))
      : reject(new Error(`loadgen ${name} exited ${code}`))));
  });
}

const errorsOf = (r) => r.errors.unexpected_status + r.errors.io + r.errors.parse + r.errors.unfinished;
/** Several load generators run at once (one per node): their sum. */
function combine(runs) {
  return {
    rps: runs.reduce((s, r) => s + r.rps, 0),
    node_cores: runs.reduce((s, r) => s + r.server_cores, 0),
    // Each load generator's "other" is everything but its own node: PostgreSQL,
    // the other node, the other load generator. Reported from the first one.
    other_cores: runs[0].other_cores,
    errors: runs.reduce((s, r) => s + errorsOf(r), 0),
    p50_ms: Math.max(...runs.map((r) => r.latency_us.p50 / 1000)),
    p99_ms: Math.max(...runs.map((r) => r.latency_us.p99 / 1000)),
  };
}

/** Pins PostgreSQL's postmaster and every process it has started; later backends inherit it. */
function pinPostgres(pg) {
  const postmaster = readFileSync(join(pg.dataDir, 'postmaster.pid'), 'utf8').split('\n')[0].trim();
  const kids = execFileSync('pgrep', ['-P', postmaster], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const pid of [postmaster, ...kids]) execFileSync('taskset', ['-p', '-c', serverCpu, pid], { stdio: 'ignore' });
}

/** The two figures of one configuration: GET and transitions, each node driven by its own load generator. */
async function measure(config, nodes) {
  const get = combine(await Promise.all(nodes.map((n, i) =>
    loadgen(`${config}_get_${i}`, n.addr, n.proc.pid, 'get.jsonl', { conns: Math.ceil(conns / nodes.length) }))));
  // Disjoint conversation sets per node (setup.mjs writes two): no conversation is driven by two generators.
  const sets = ['transitions.jsonl', 'transitions_half.jsonl'];
  const transitions = combine(await Promise.all(nodes.map((n, i) =>
    loadgen(`${config}_transitions_${i}`, n.addr, n.proc.pid, sets[i], { conns: Math.ceil(conns / nodes.length), ordered: true }))));
  return { get, transitions };
}

async function setup(node) {
  execFileSync('node', ['bench/setup.mjs', node.dataDir, dir, String(args.conversations)], { stdio: ['ignore', 'ignore', 'inherit'] });
}

/** Revocation propagation, node 1 → node 2, with no load: delays in ms. */
async function revocationDelays(n1, n2, count) {
  const dev = JSON.parse(readFileSync(join(n1.dataDir, 'dev-credentials.json'), 'utf8'));
  const admin = await token(n1.url, dev.admin.clientId, dev.admin.clientSecret);
  const client = await call(n1.url, 'POST', '/api/v2/oauth/clients', {
    token: admin, expect: 201, body: { name: 'bench-revoker', allowedScopes: ['conversation:read'] },
  });
  const me = async (tok) => (await fetch(`${n2.url}/api/v2/tokens/me`, { headers: { Authorization: `Bearer ${tok}` } })).status;
  const delays = [];
  for (let i = 0; i < count; i++) {
    const tok = await token(n1.url, client.id, client.clientSecret);
    if (await me(tok) !== 200) throw new Error('a fresh token is refused on node 2');
    const revoke = await fetch(`${n1.url}/oauth/revoke`, {
      method: 'POST',
      headers: { Authorization: basic(client.id, client.clientSecret), 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token: tok, token_type_hint: 'access_token' }),
    });
    if (revoke.status !== 200) throw new Error(`revoke: ${revoke.status}`);
    const revokedAt = performance.now();
    for (;;) {
      const status = await me(tok);
      if (status === 401) break;
      if (status !== 200) throw new Error(`node 2 answered ${status}`);
      if (performance.now() - revokedAt > 5000) throw new Error('not refused on node 2 within 5 s');
    }
    delays.push(performance.now() - revokedAt);
  }
  return delays;
}

const pct = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

let pg;
try {
  mkdirSync(dir, { recursive: true });
  const result = { configs: {} };

  // The baseline, on the server CPU like every server below.
  const hello = launch(args.hello, ['--threads', '1', '--port-file', join(dir, 'hello.port')], 'hello');
  const helloAddr = `127.0.0.1:${(await waitForFile(join(dir, 'hello.port'), hello)).trim()}`;

  say('sqlite_1');
  const s1 = await startNode('sqlite_1', ['--dev']);
  await setup(s1);
  const h = await loadgen('cluster_hello', helloAddr, hello.pid, 'hello.jsonl');
  result.hello = { rps: h.rps, errors: errorsOf(h) };
  await stop(hello);
  result.configs.sqlite_1 = await measure('sqlite_1', [s1]);
  await stop(s1.proc);

  pg = await startPostgres({ durable: args['pg-fsync'] !== 'off' });
  pinPostgres(pg);
  for (const [config, count] of [['pg_1', 1], ['pg_2', 2]]) {
    say(config);
    const url = pg.url(await pg.createDatabase(config));
    const first = await startNode(`${config}_node1`, ['--dev', '--database-url', url]);
    const nodes = [first];
    for (let i = 2; i <= count; i++) {
      nodes.push(await startNode(`${config}_node${i}`, ['--database-url', url, '--issuer', first.url,
        '--key-encryption-key-file', join(first.dataDir, 'kek')]));
    }
    await setup(first);
    result.configs[config] = await measure(config, nodes);
    if (count === 2) {
      say(`revocation propagation, ${args.revocations} times`);
      const delays = await revocationDelays(nodes[0], nodes[1], Number(args.revocations));
      result.revocation = { count: delays.length, p50_ms: pct(delays, 50), p99_ms: pct(delays, 99), max_ms: Math.max(...delays) };
    }
    for (const n of nodes) await stop(n.proc);
  }
  writeFileSync(join(dir, 'cluster.json'), JSON.stringify(result, null, 2));
} finally {
  for (const p of children) p.kill('SIGKILL');
  await pg?.dispose();
}
