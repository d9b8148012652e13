// A private PostgreSQL for end-to-end tests: initdb + pg_ctl into a temp dir,
// on a free loopback port, as an unprivileged user when the tests run as root
// (CI does; initdb refuses root): $VERBATIM_TEST_PG_USER, else "postgres"
// (made by Debian's postgresql package), else "nobody". The C++ twin is
// tests/support/pg_cluster.h; the settings are the same (trust on 127.0.0.1
// only, no unix socket, fsync off: the tests exercise verbatim, not the disk).
//
// Node 20 built-ins only.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertErrorBody, waitFor } from './server.mjs';

const SUPERUSER = 'verbatim';

/** /usr/lib/postgresql/<newest>/bin with initdb and pg_ctl ($VERBATIM_TEST_PG_BIN overrides), or null. */
export function findPgBin() {
  if (process.env.VERBATIM_TEST_PG_BIN) return process.env.VERBATIM_TEST_PG_BIN;
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return null;
  const versions = readdirSync(root)
    .filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions.length ? join(root, versions[0], 'bin') : null;
}

/**
 * Why PostgreSQL tests cannot run here (a string for `test(..., { skip })`),
 * or false when they can. With CI=true a missing PostgreSQL is a failure, not
 * a skip: the caller then gets false and startPostgres() throws.
 */
export function pgSkipReason() {
  if (findPgBin()) return false;
  if (process.env.CI === 'true') return false;
  return 'PostgreSQL is not installed (scripts/deps.sh installs it): the PostgreSQL e2e tests are skipped';
}

function serverUser() {
  if (process.getuid() !== 0) return null;
  for (const name of [process.env.VERBATIM_TEST_PG_USER, 'postgres', 'nobody']) {
    if (!name) continue;
    try {
      const uid = Number(execFileSync('id', ['-u', name]).toString().trim());
      const gid = Number(execFileSync('id', ['-g', name]).toString().trim());
      return { name, uid, gid };
    } catch { /* no such user */ }
  }
  throw new Error('running as root and no unprivileged user to run PostgreSQL as (set VERBATIM_TEST_PG_USER)');
}

/** A loopback TCP port that was free a moment ago (the caller binds it next). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function run(file, args, { user, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve) => {
    execFile(file, args, { uid: user?.uid, gid: user?.gid, timeout: timeoutMs, cwd: '/' }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/**
 * Starts a private PostgreSQL; resolves a handle:
 *   port, dataDir, url(db), createDatabase(prefix) -> name, stop(mode), start(), dispose().
 * `durable: true` keeps fsync and full-page writes on (the bench measures
 * commits as they cost in production; tests need not wait for the disk).
 */
export async function startPostgres({ durable = false } = {}) {
  const bin = findPgBin();
  if (!bin) throw new Error('PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb); scripts/deps.sh installs it');
  const user = serverUser();
  // The server's user must reach its directory: a private $TMPDIR would not do.
  const base = user && (statSync(tmpdir()).mode & 0o001) === 0 ? '/tmp' : tmpdir();
  const dir = mkdtempSync(join(base, 'verbatim-e2e-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const log = join(dir, 'log');
  const init = await run(join(bin, 'initdb'), ['-D', data, '-U', SUPERUSER, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], { user });
  if (init.code !== 0) throw new Error(`initdb failed: ${init.stderr}${init.stdout}`);

  const pg = {
    dir,
    dataDir: data,
    port: 0,
    url(db) { return `postgresql://${SUPERUSER}@127.0.0.1:${this.port}/${db}`; },
    log() { return existsSync(log) ? readFileSync(log, 'utf8').slice(-4000) : ''; },
    async ready() {
      const r = await run(join(bin, 'pg_isready'), ['-h', '127.0.0.1', '-p', String(this.port), '-t', '1']);
      return r.code === 0;
    },
    /** pg_ctl start, then polls pg_isready until it accepts connections. */
    async start() {
      const r = await run(join(bin, 'pg_ctl'), ['-D', data, '-l', log, '-w', '-t', '60', 'start'], { user });
      if (r.code !== 0) throw new Error(`pg_ctl start failed: ${r.stderr}${r.stdout}\n${this.log()}`);
      await waitFor(() => this.ready(), { deadlineMs: 30_000, what: `PostgreSQL on port ${this.port}` });
    },
    /** pg_ctl stop: smart | fast | immediate (a crash, recovered from the WAL at the next start). */
    async stop(mode = 'fast') {
      const r = await run(join(bin, 'pg_ctl'), ['-D', data, '-m', mode, '-w', 'stop'], { user });
      if (r.code !== 0) throw new Error(`pg_ctl stop failed: ${r.stderr}${r.stdout}`);
    },
    async createDatabase(prefix = 'e2e') {
      const name = `${prefix}_${process.pid}_${Math.floor(Math.random() * 1e9)}`;
      const r = await run(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(this.port), '-U', SUPERUSER, '-d', 'postgres',
        '-v', 'ON_ERROR_STOP=1', '-qc', `CREATE DATABASE "${name}"`]);
      if (r.code !== 0) throw new Error(`CREATE DATABASE failed: ${r.stderr}`);
      return name;
    },
    /** One SQL statement's first column of the first row, as text ("" for none). */
    async query(db, sql) {
      const r = await run(join(bin, 'psql'), ['-h', '127.0.0.1', '-p', String(this.port), '-U', SUPERUSER, '-d', db,
        '-v', 'ON_ERROR_STOP=1', '-qAtc', sql]);
      if (r.code !== 0) throw new Error(`psql failed: ${r.stderr}`);
      return r.stdout.split('\n')[0];
    },
    async dispose() {
      await run(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop'], { user }).catch(() => {});
      if (!process.env.VERBATIM_E2E_KEEP) rmSync(dir, { recursive: true, force: true });
    },
  };

  for (let attempt = 0; ; attempt++) {
    pg.port = await freePort();
    // postgresql.auto.conf is read last: these win over postgresql.conf.
    writeFileSync(join(data, 'postgresql.auto.conf'), [
      "listen_addresses = '127.0.0.1'", `port = ${pg.port}`, "unix_socket_directories = ''",
      ...(durable ? [] : ['fsync = off', 'full_page_writes = off']), 'max_connections = 100', 'shared_buffers = 32MB', '',
    ].join('\n'));
    if (user) chownSync(join(data, 'postgresql.auto.conf'), user.uid, user.gid);
    try {
      await pg.start();
      return pg;
    } catch (e) {
      // Most likely the port was taken between freePort() and the bind.
      if (attempt >= 4) {
        await pg.dispose();
        throw e;
      }
    }
  }
}

/**
 * What a client may be told while the database restarts under recording
 * actions: 200, 409 recording.invalid.transition (a concurrent action won),
 * or 503 store.unavailable / audit.unavailable with the error contract;
 * never a 500.
 */
export function assertOutageAnswer(res, where) {
  assert.notEqual(res.status, 500, `a 500 during the restart (${where}): ${res.text}`);
  if (res.status === 503) {
    const body = assertErrorBody(res, 503, res.json?.code, where);
    assert.ok(['store.unavailable', 'audit.unavailable'].includes(body.code), body.code);
  } else if (res.status !== 200) {
    assertErrorBody(res, 409, 'recording.invalid.transition', where);
  }
}
