// scripts/cluster.sh (README "Several nodes"): one command starts PostgreSQL
// and three nodes on loopback that act as one installation, and stopping it
// stops them all. Skipped (with the reason) when PostgreSQL is not installed,
// unless CI=true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import net from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, api, token, waitFor } from './lib/server.mjs';
import { pgSkipReason } from './lib/pg.mjs';

const skip = pgSkipReason();
const script = fileURLToPath(new URL('../../scripts/cluster.sh', import.meta.url));

const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const portOpen = (port) => new Promise((resolve) => {
  const s = net.connect(port, '127.0.0.1', () => { s.destroy(); resolve(true); });
  s.on('error', () => resolve(false));
});

test('scripts/cluster.sh: three nodes on one PostgreSQL act as one, and stop together', { skip, timeout: 120_000 }, async (ctx) => {
  // PostgreSQL may run as another user (as root, the script uses postgres): it
  // must reach the directory, which a private $TMPDIR would not allow.
  const base = (statSync(tmpdir()).mode & 0o001) === 0 ? '/tmp' : tmpdir();
  const dir = mkdtempSync(join(base, 'verbatim-cluster-'));
  const proc = spawn('bash', [script, dir], { env: { ...process.env, VERBATIM_BIN: BIN }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stderr.setEncoding('utf8').on('data', (d) => { err += d; });
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve({ code, signal })));
  const ready = new Promise((resolve, reject) => {
    proc.stdout.setEncoding('utf8').on('data', (d) => {
      out += d;
      if (out.includes('cluster: ready')) resolve();
    });
    exited.then((e) => reject(new Error(`cluster.sh exited (${JSON.stringify(e)}) before it was ready:\n${out}\n${err}`)));
  });
  try {
    await ready;
    const nodes = [1, 2, 3].map((n) => `http://${readJson(join(dir, `node${n}`, 'listen.json')).http}`);
    for (const url of nodes) assert.ok(out.includes(url), `the script prints ${url}:\n${out}`);
    const pgPort = Number(/127\.0\.0\.1:(\d+)\/verbatim/.exec(out)[1]);
    const admin = readJson(join(dir, 'node1', 'dev-credentials.json')).admin;

    // A token from node 3 works on nodes 1 and 2: one issuer, shared keys.
    const tok = await token(nodes[2], admin.clientId, admin.clientSecret);
    for (const url of nodes.slice(0, 2)) {
      const me = await api(url, 'GET', '/api/v2/tokens/me', { token: tok });
      assert.equal(me.status, 200, `${url}: ${me.text}`);
    }
    // Revoked on node 2, refused on node 1 within a second.
    const revoked = await fetch(`${nodes[1]}/oauth/revoke`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: 'Basic ' + Buffer.from(`${admin.clientId}:${admin.clientSecret}`).toString('base64'),
      },
      body: new URLSearchParams({ token: tok }),
    });
    assert.equal(revoked.status, 200);
    const start = performance.now();
    await waitFor(async () => (await api(nodes[0], 'GET', '/api/v2/tokens/me', { token: tok })).status === 401,
      { deadlineMs: 1000, intervalMs: 20, what: 'node 1 to refuse the token revoked on node 2' });
    ctx.diagnostic(`staleness: ${Math.round(performance.now() - start)} ms`);

    // Stopping the script stops everything it started.
    proc.kill('SIGTERM');
    const end = await exited;
    assert.equal(end.code, 0, `${out}\n${err}`);
    assert.match(out, /cluster: stopped/);
    assert.equal(await portOpen(pgPort), false, 'PostgreSQL stopped');
    for (const url of nodes) assert.equal(await portOpen(Number(new URL(url).port)), false, `${url} stopped`);
  } finally {
    // On a failure, still let the script stop its nodes and PostgreSQL.
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const force = setTimeout(() => proc.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(force);
    }
    if (!process.env.VERBATIM_E2E_KEEP) rmSync(dir, { recursive: true, force: true });
  }
});
