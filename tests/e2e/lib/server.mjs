// End-to-end test harness: starts a real `verbatim serve` on free ports with a
// fresh data directory, waits until it is ready, and gives tests small helpers
// for the OAuth token endpoint and the JSON API.
//
// Node 20 built-ins only (fetch, node:test, node:child_process).
import { spawn, execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, existsSync, readFileSync, rmSync, unlinkSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import assert from 'node:assert/strict';
import net from 'node:net';

export const BIN = process.env.VERBATIM_BIN;

const READY_DEADLINE_MS = 15_000;
const POLL_MS = 25;
// Set by scripts/sanitize.sh: the binary is built with ASan/UBSan, so servers
// are stopped with SIGTERM at dispose (LeakSanitizer only reports on a normal
// exit) and any sanitizer report in their stderr fails the test.
const SANITIZER = process.env.VERBATIM_E2E_SANITIZER === '1';
const SANITIZER_RE = /==\d+==ERROR: (?:Address|Leak)Sanitizer|^\S+:\d+:\d+: runtime error: |^SUMMARY: \w+Sanitizer/m;

/** The sanitizer report in `text` (from its first line on), or null. */
export function sanitizerReport(text) {
  const m = SANITIZER_RE.exec(text ?? '');
  if (!m) return null;
  const start = text.lastIndexOf('\n', m.index) + 1;
  return text.slice(start, start + 12_000);
}

// Every process this module started, so that none outlives the test file even
// if a test forgets its after() hook or the runner is interrupted.
const live = new Set();
process.on('exit', () => {
  for (const p of live) {
    try { p.kill('SIGKILL'); } catch { /* already gone */ }
  }
});

function requireBin() {
  if (!BIN) throw new Error('VERBATIM_BIN is not set: run with VERBATIM_BIN=/path/to/verbatim node --test tests/e2e/');
  if (!existsSync(BIN)) throw new Error(`VERBATIM_BIN=${BIN} does not exist`);
  return BIN;
}

export function tempDir(prefix = 'verbatim-e2e-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Polls `fn` until it returns a truthy value, or throws after `deadlineMs`. */
export async function waitFor(fn, { deadlineMs = 15_000, intervalMs = POLL_MS, what = 'condition' } = {}) {
  const until = Date.now() + deadlineMs;
  let lastError;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() > until) {
      throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}` + (lastError ? `: ${lastError.message}` : ''));
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

function readJson(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

function exitPromise(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) return resolve({ code: proc.exitCode, signal: proc.signalCode });
    proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

// The CA (PEM) of each https server this harness started, by origin: the
// request helpers below trust it for that origin only.
const caByOrigin = new Map();

/**
 * A self-signed P-256 certificate for 127.0.0.1 and localhost, made now with
 * the openssl CLI (no private key is ever committed): {dir, cert, key, pem}.
 */
export function makeTestCert({ dir = tempDir('verbatim-cert-'), name = 'server', cn = 'localhost' } = {}) {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
    '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=${cn}`,
    '-addext', 'subjectAltName=IP:127.0.0.1,DNS:localhost'], { stdio: 'ignore' });
  return { dir, cert, key, pem: readFileSync(cert, 'utf8') };
}

/**
 * One HTTP(S) request on its own connection (closed after the answer), with
 * a chosen source address (`localAddress`: on Linux every 127.x.y.z is
 * local) and, for https, the CA of the server that the harness started.
 * Resolves {status, headers (get()), json, text, body (Buffer)}.
 */
export function httpRequest(url, path, { method = 'GET', headers = {}, body, localAddress, ca } = {}) {
  const u = new URL(path, url);
  const tls = u.protocol === 'https:';
  const payload = body === undefined ? undefined : Buffer.isBuffer(body) ? body : Buffer.from(body);
  const h = { ...headers };
  if (payload !== undefined) h['content-length'] = payload.length;
  return new Promise((resolve, reject) => {
    const req = (tls ? https : http).request(u, {
      method, headers: h, localAddress, agent: false, ca: tls ? (ca ?? caByOrigin.get(u.origin)) : undefined,
    }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => {
        const buf = Buffer.concat(chunks);
        const text = buf.toString('utf8');
        let json = null;
        try { json = text ? JSON.parse(text) : null; } catch { json = null; }
        resolve({ status: res.statusCode, headers: { get: (k) => res.headers[k.toLowerCase()] ?? null }, json, text, body: buf });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(15_000, () => req.destroy(new Error(`no answer to ${method} ${u.href} within 15 s`)));
    req.end(payload);
  });
}

// fetch() for http, httpRequest() for the https servers of this harness
// (Node's fetch cannot be given a CA): a Response-like {status, headers, text()}.
async function fetchLike(url, init = {}) {
  if (!url.startsWith('https:')) return fetch(url, init);
  const r = await httpRequest(url, '', { method: init.method, headers: init.headers, body: init.body });
  return { status: r.status, headers: r.headers, text: async () => r.text, arrayBuffer: async () => r.body };
}

/**
 * Starts `verbatim serve` and resolves once `<dataDir>/listen.json` exists and
 * GET /readyz answers 200. The returned handle is mutable: restart() updates
 * url, creds and proc in place (same data dir, new port). Every server also
 * gets a metrics listener (`metricsUrl`: GET /metrics without a token).
 * `tls: true` makes a test certificate (`srv.tls`) and serves https/wss;
 * `trustCa` (PEM) is trusted for a server given its certificate some other way.
 * `httpListen` fixes the HTTP address (kept across restart()) where another
 * node must know it in advance (--advertise-url).
 */
export async function startServer({ dev = true, dataDir, extraArgs = [], env = {}, logLevel = 'warn', tls = false, trustCa, httpListen = '127.0.0.1:0' } = {}) {
  const bin = requireBin();
  const server = {
    dataDir: dataDir ?? tempDir(),
    ownsDataDir: dataDir === undefined,
    tls: tls ? makeTestCert() : null,
    url: null,
    metricsUrl: null,
    creds: null,
    proc: null,
    stderr: '',
    stdout: '',
    sanitizerReports: [],
    log() {
      return `--- verbatim stderr (${this.dataDir}) ---\n${this.stderr.slice(-8000)}\n--- end ---`;
    },
    async stop(signal = 'SIGTERM') {
      const p = this.proc;
      if (!p) return null;
      const done = exitPromise(p);
      if (p.exitCode === null && p.signalCode === null) p.kill(signal);
      const result = await done;
      live.delete(p);
      this.proc = null;
      const report = sanitizerReport(this.stderr);
      if (report) this.sanitizerReports.push(report);
      return result;
    },
    async kill9() {
      return this.stop('SIGKILL');
    },
    async restart() {
      await this.stop();
      await launch(this);
      return this;
    },
    async dispose() {
      if (SANITIZER && this.proc) {
        const p = this.proc;
        const force = setTimeout(() => p.kill('SIGKILL'), 10_000);
        await this.stop('SIGTERM').catch(() => {});
        clearTimeout(force);
      }
      await this.stop('SIGKILL').catch(() => {});
      if (this.ownsDataDir && !process.env.VERBATIM_E2E_KEEP) rmSync(this.dataDir, { recursive: true, force: true });
      if (this.tls) rmSync(this.tls.dir, { recursive: true, force: true });
      if (this.sanitizerReports.length) {
        throw new Error(`verbatim serve (${this.dataDir}) reported a sanitizer error:\n${this.sanitizerReports.join('\n---\n')}`);
      }
    },
  };

  async function launch(s) {
    const listenPath = join(s.dataDir, 'listen.json');
    // A listen.json from a previous run must not be mistaken for this one's.
    if (existsSync(listenPath)) unlinkSync(listenPath);
    const args = ['serve', '--data-dir', s.dataDir, '--http-listen', httpListen, '--sip-listen', '127.0.0.1:0',
      '--metrics-listen', '127.0.0.1:0', '--log-level', logLevel, ...(dev ? ['--dev'] : []),
      ...(s.tls ? ['--tls-cert', s.tls.cert, '--tls-key', s.tls.key] : []), ...extraArgs];
    const proc = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(proc);
    s.proc = proc;
    s.stderr = '';
    s.stdout = '';
    proc.stderr.setEncoding('utf8').on('data', (d) => { s.stderr += d; });
    proc.stdout.setEncoding('utf8').on('data', (d) => { s.stdout += d; });
    let exited = null;
    proc.once('exit', (code, signal) => { exited = { code, signal }; });

    const until = Date.now() + READY_DEADLINE_MS;
    for (;;) {
      if (exited) {
        live.delete(proc);
        s.proc = null;
        throw new Error(`verbatim serve exited early (code ${exited.code}, signal ${exited.signal}):\n${s.stderr}${s.stdout}`);
      }
      if (existsSync(listenPath)) {
        let listen;
        try { listen = readJson(listenPath); } catch { listen = null; }
        if (listen?.http) {
          const url = `${listen.scheme ?? 'http'}://${listen.http}`;
          if (s.tls || trustCa) caByOrigin.set(url, s.tls?.pem ?? trustCa);
          try {
            // Its own connection, closed after: no idle keep-alive connection
            // of the harness counts against the server's connection caps.
            const r = await httpRequest(url, '/readyz');
            if (r.status === 200) {
              s.url = url;
              s.metricsUrl = listen.metrics ? `http://${listen.metrics}` : null;
              s.listen = listen;
              break;
            }
          } catch { /* not accepting yet */ }
        }
      }
      if (Date.now() > until) {
        proc.kill('SIGKILL');
        throw new Error(`verbatim serve was not ready within ${READY_DEADLINE_MS} ms:\n${s.stderr}`);
      }
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    const credsPath = join(s.dataDir, 'dev-credentials.json');
    s.creds = dev && existsSync(credsPath) ? readJson(credsPath) : null;
  }

  await launch(server);
  return server;
}

/** Runs the verbatim CLI (stdin: `input`, else empty); resolves {code, stdout, stderr} (never rejects on a non-zero exit; rejects on a sanitizer report). */
export function runCli(args, { env = {}, timeoutMs = 30_000, input } = {}) {
  const bin = requireBin();
  return new Promise((resolve, reject) => {
    const child = execFile(bin, args, { env: { ...process.env, ...env }, timeout: timeoutMs }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      const report = sanitizerReport(stderr);
      if (report) return reject(new Error(`verbatim ${args[0]} reported a sanitizer error:\n${report}`));
      resolve({ code, stdout, stderr });
    });
    // `input` is what the command reads on stdin (passwords never go in argv).
    child.stdin.end(input ?? '');
  });
}

function basic(id, secret) {
  return 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64');
}

/** POST /oauth/token with HTTP Basic; returns {status, headers, json, text}. */
export async function tokenRequest(url, clientId, secret, params = {}, { headers = {} } = {}) {
  const form = new URLSearchParams({ grant_type: 'client_credentials', ...params });
  const r = await fetchLike(`${url}/oauth/token`, {
    method: 'POST',
    headers: { authorization: basic(clientId, secret), 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: form.toString(),
  });
  return toResult(r);
}

/** Gets an access token (client_credentials). `scope` is a space-separated string or omitted. */
export async function token(url, clientId, secret, scope) {
  const r = await tokenRequest(url, clientId, secret, scope === undefined ? {} : { scope });
  assert.equal(r.status, 200, `token request for ${clientId} (scope ${scope}) failed: ${r.text}`);
  return r.json.access_token;
}

async function toResult(r) {
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { json = null; }
  return { status: r.status, headers: r.headers, json, text };
}

/**
 * Calls the API. `body` is JSON-encoded with Content-Type application/json;
 * `rawBody` is sent as is (set the content type yourself in `headers`).
 */
export async function api(url, method, path, { token: tok, body, headers = {}, rawBody } = {}) {
  const h = { ...headers };
  if (tok !== undefined) h.authorization = `Bearer ${tok}`;
  let payload;
  if (rawBody !== undefined) {
    payload = rawBody;
  } else if (body !== undefined) {
    payload = JSON.stringify(body);
    if (!Object.keys(h).some((k) => k.toLowerCase() === 'content-type')) h['content-type'] = 'application/json';
  }
  const r = await fetchLike(`${url}${path}`, { method, headers: h, body: payload });
  return toResult(r);
}

/** POSTs an application/x-www-form-urlencoded body (string or object). */
export async function postForm(url, path, form, headers = {}) {
  const body = typeof form === 'string' ? form : new URLSearchParams(form).toString();
  const r = await fetchLike(`${url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
  });
  return toResult(r);
}

/**
 * Sends one raw HTTP/1.1 request over a fresh TCP connection and parses the
 * answer: {status, headers (Headers-like get()), json, text, writeError}.
 *
 * declareOnly: send the headers (with the body's Content-Length) but not the
 * body, and wait for the answer. This is how an oversized body is tested
 * deterministically: the server answers 413 from Content-Length alone and then
 * closes without draining, so a client still writing the body gets EPIPE and
 * Node (net and fetch alike) drops the 413 it had been sent.
 */
export function rawHttp(url, method, path, { headers = {}, body = '', declareOnly = false } = {}) {
  const { hostname, port } = new URL(url);
  const payload = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const head = [`${method} ${path} HTTP/1.1`, `Host: ${hostname}:${port}`, `Content-Length: ${payload.length}`,
    'Connection: close', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''].join('\r\n');
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: hostname, port: Number(port) });
    const chunks = [];
    let writeError = null;
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', (e) => { writeError = e; });
    sock.setTimeout(15_000, () => sock.destroy(new Error('timeout')));
    sock.on('close', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const sep = raw.indexOf('\r\n\r\n');
      if (sep < 0) return reject(new Error(`no HTTP response (${writeError?.code ?? 'closed'}): ${JSON.stringify(raw.slice(0, 200))}`));
      const lines = raw.slice(0, sep).split('\r\n');
      const status = Number(lines[0].split(' ')[1]);
      const map = new Map(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const text = raw.slice(sep + 4);
      let json = null;
      try { json = JSON.parse(text); } catch { json = null; }
      resolve({ status, headers: { get: (k) => map.get(k.toLowerCase()) ?? null }, json, text, writeError });
    });
    sock.write(head);
    if (!declareOnly) sock.write(payload);
  });
}

export { basic };

// ----------------------------------------------------------------- assertions

/** Asserts the docs/api.md §3 error body shape and that X-Context-Id equals body.contextId. */
export function assertErrorBody(res, status, code, note = '') {
  const where = `${note ? note + ': ' : ''}${res.status} ${res.text.slice(0, 600)}`;
  assert.equal(res.status, status, where);
  assert.ok(res.json && typeof res.json === 'object', `error body is not JSON: ${where}`);
  assert.equal(res.json.status, status, where);
  assert.equal(res.json.code, code, where);
  for (const f of ['message', 'messageWithParams', 'contextId']) {
    assert.equal(typeof res.json[f], 'string', `error body field ${f} missing: ${where}`);
    assert.ok(res.json[f].length > 0, `error body field ${f} empty: ${where}`);
  }
  assert.ok(res.json.messageParams && typeof res.json.messageParams === 'object' && !Array.isArray(res.json.messageParams),
    `messageParams must be an object: ${where}`);
  assert.match(res.json.contextId, UUID_RE, where);
  assert.equal(res.headers.get('x-context-id'), res.json.contextId, `X-Context-Id header must equal body contextId: ${where}`);
  return res.json;
}

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The explanation layers as {token, scope, permission, resource}, asserting their order. */
export function layersOf(body) {
  const layers = body?.explanation?.layers;
  assert.ok(Array.isArray(layers), `explanation.layers missing: ${JSON.stringify(body)}`);
  assert.deepEqual(layers.map((l) => l.layer), ['token', 'scope', 'permission', 'resource'], 'layer order');
  return Object.fromEntries(layers.map((l) => [l.layer, l]));
}

export function parseJwt(tok) {
  const [h, p, s] = tok.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
    signature: Buffer.from(s, 'base64url'),
    signingInput: `${h}.${p}`,
  };
}

export function b64url(objOrString) {
  const s = typeof objOrString === 'string' ? objOrString : JSON.stringify(objOrString);
  return Buffer.from(s, 'utf8').toString('base64url');
}

// ------------------------------------------------------------- common set-ups

/** Admin token with every scope of the dev admin client. */
export async function adminToken(srv, scope) {
  return token(srv.url, srv.creds.admin.clientId, srv.creds.admin.clientSecret, scope);
}

/** Creates an OAuth client through the admin API; returns the 201 body (with clientSecret). */
export async function createClient(srv, adminTok, { name, allowedScopes, roles = [], allowedGrantTypes = ['client_credentials'], ...rest }) {
  const r = await api(srv.url, 'POST', '/api/v2/oauth/clients', {
    token: adminTok,
    body: { name, allowedScopes, allowedGrantTypes, roles, ...rest },
  });
  assert.equal(r.status, 201, `creating client ${name}: ${r.text}`);
  return r.json;
}

/** Creates a connected conversation with two participants; returns its id. */
export async function createConversation(srv, adminTok) {
  const r = await api(srv.url, 'POST', '/api/v2/conversations', {
    token: adminTok,
    body: { participants: [{ name: 'Alice Customer', purpose: 'customer' }, { name: 'Bob Agent', purpose: 'agent' }] },
  });
  assert.equal(r.status, 201, `creating a conversation: ${r.text}`);
  return r.json.id;
}

/**
 * Runs `fn`; if it throws, appends the tail of the server's stderr to the error
 * so a failing test shows what the server logged. `getServer` is a function so
 * that it can be called before the server exists (in a before() hook).
 */
export async function withLog(getServer, fn) {
  try {
    return await fn();
  } catch (e) {
    const srvs = [getServer()].flat().filter(Boolean);
    for (const s of srvs) e.message += `\n${s.log()}`;
    throw e;
  }
}

/** A node:test `test` whose failures carry the server log: const t = loggedTest(test, () => srv). */
export function loggedTest(test, getServer) {
  return (name, opts, fn) => {
    if (typeof opts === 'function') {
      fn = opts;
      opts = {};
    }
    return test(name, opts, (ctx) => withLog(getServer, () => fn(ctx)));
  };
}
