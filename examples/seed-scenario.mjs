#!/usr/bin/env node
// The acceptance scenario of docs/api.md §10, walked against a running verbatim server
// with nothing but Node.js 20 built-ins (fetch, crypto).
//
//   make run                                   # verbatim serve --dev --data-dir ./data
//   node examples/seed-scenario.mjs            # in another terminal
//   node examples/seed-scenario.mjs --server http://127.0.0.1:8080 --data-dir ./data
//
// It reads the admin credentials from <data-dir>/dev-credentials.json, prints
// every request and what came back (status, code, message, fix,
// WWW-Authenticate), and exits 1 if any step does not behave as docs/api.md §10 says
// (2 if it cannot even start: no server, no credentials).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync, sign } from 'node:crypto';

// ------------------------------------------------------------------ arguments

function parseArgs(argv) {
  const out = { server: null, dataDir: './data', keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '--server') out.server = value();
    else if (a.startsWith('--server=')) out.server = a.slice(9);
    else if (a === '--data-dir') out.dataDir = value();
    else if (a.startsWith('--data-dir=')) out.dataDir = a.slice(11);
    else if (a === '--keep') out.keep = true;
    else if (a === '-h' || a === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  return out;
}

function usage(problem) {
  if (problem) console.error(`seed-scenario: ${problem}\n`);
  console.error('usage: node examples/seed-scenario.mjs [--server URL] [--data-dir DIR] [--keep]\n\n' +
    '  --server URL    verbatim base URL (default: from DIR/listen.json, else http://127.0.0.1:8080)\n' +
    '  --data-dir DIR  the server\'s data dir, for dev-credentials.json (default ./data)\n' +
    '  --keep          keep the crm-integration client this script creates (default: delete it at the end)');
  process.exit(problem ? 2 : 0);
}

const args = parseArgs(process.argv.slice(2));

function readJsonFile(path) {
  return JSON.parse(readFileSync(path, 'utf8'));
}

let creds;
try {
  creds = readJsonFile(join(args.dataDir, 'dev-credentials.json'));
} catch (e) {
  console.error(`seed-scenario: cannot read ${join(args.dataDir, 'dev-credentials.json')}: ${e.message}\n` +
    'Start the server with `make run` (verbatim serve --dev --data-dir ./data) or pass --data-dir.');
  process.exit(2);
}
let server = args.server;
if (!server) {
  try {
    server = `http://${readJsonFile(join(args.dataDir, 'listen.json')).http}`;
  } catch {
    server = 'http://127.0.0.1:8080';
  }
}
server = server.replace(/\/+$/, '');

// ------------------------------------------------------------------ output

const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
const paint = (code) => (s) => (useColor ? `\x1b[${code}m${s}\x1b[0m` : s);
const bold = paint('1');
const dim = paint('2');
const green = paint('32');
const red = paint('31');

const failures = [];
let currentStep = '';

function heading(title) {
  currentStep = title;
  console.log(`\n${bold(title)}`);
}

function check(ok, what) {
  if (ok) {
    console.log(`  ${green('✔')} ${what}`);
  } else {
    console.log(`  ${red('✘')} ${what}`);
    failures.push(`${currentStep}: ${what}`);
  }
  return ok;
}

function short(tok) {
  return tok ? `${tok.slice(0, 12)}…${tok.slice(-6)}` : '(none)';
}

function show(method, path, res, note = '') {
  console.log(`  ${dim('→')} ${method} ${path}${note ? dim(`  (${note})`) : ''}`);
  const b = res.json ?? {};
  const code = b.code ?? b.error ?? '';
  console.log(`  ${dim('←')} ${res.status}${code ? ` ${code}` : ''}`);
  if (b.message) console.log(`    message: ${b.message}`);
  if (b.error_description) console.log(`    error_description: ${b.error_description}`);
  for (const f of b.explanation?.fix ?? []) console.log(`    fix: ${f}`);
  const www = res.headers.get('www-authenticate');
  if (www) console.log(`    WWW-Authenticate: ${www}`);
  const layers = b.explanation?.layers;
  if (Array.isArray(layers)) {
    console.log(`    layers: ${layers.map((l) => `${l.layer}=${l.result}`).join('  ')}`);
  }
  const ctx = res.headers.get('x-context-id');
  if (ctx) console.log(`    contextId: ${ctx}`);
}

// ------------------------------------------------------------------ HTTP

async function call(method, path, { token, body, form, headers = {} } = {}) {
  const h = { ...headers };
  if (token) h.authorization = `Bearer ${token}`;
  let payload;
  if (form) {
    h['content-type'] = 'application/x-www-form-urlencoded';
    payload = new URLSearchParams(form).toString();
  } else if (body !== undefined) {
    h['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const r = await fetch(server + path, { method, headers: h, body: payload });
  const text = await r.text();
  let json = null;
  try { json = text ? JSON.parse(text) : null; } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, json, text };
}

const basicAuth = (id, secret) => ({
  authorization: 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64'),
});

async function getToken(clientId, secret, scope) {
  const form = { grant_type: 'client_credentials' };
  if (scope) form.scope = scope;
  const res = await call('POST', '/oauth/token', { form, headers: basicAuth(clientId, secret) });
  if (res.status !== 200) throw new Error(`POST /oauth/token (scope ${scope ?? 'default'}) → ${res.status} ${res.text}`);
  return res.json.access_token;
}

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

// ------------------------------------------------------------------ the scenario

// contextId → what the response said, for step 7.
const seen = [];
function remember(step, res, decision) {
  const ctx = res.headers.get('x-context-id');
  seen.push({ step, contextId: ctx, status: res.status, decision, code: res.json?.code ?? null });
}

async function main() {
  console.log(`verbatim seed scenario (docs/api.md §10) against ${server}`);
  const ready = await call('GET', '/readyz').catch((e) => {
    console.error(`seed-scenario: cannot reach ${server}: ${e.cause?.code ?? e.message}`);
    process.exit(2);
  });
  if (ready.status !== 200) {
    console.error(`seed-scenario: ${server}/readyz answered ${ready.status}`);
    process.exit(2);
  }
  const admin = await getToken(creds.admin.clientId, creds.admin.clientSecret);

  // A conversation of our own, so the script can run again and again.
  const conv = await call('POST', '/api/v2/conversations', {
    token: admin,
    body: { participants: [{ name: 'Alice Customer', purpose: 'customer' }, { name: 'Bob Agent', purpose: 'agent' }] },
  });
  if (conv.status !== 201) throw new Error(`creating a conversation: ${conv.status} ${conv.text}`);
  const conversationId = conv.json.id;
  console.log(dim(`conversation ${conversationId} (connected)`));
  const startPath = `/api/v2/recordings/conversations/${conversationId}/actions/start`;

  // 1
  heading('Step 1 — admin creates client crm-integration (recording:write recording:control conversation:read, Recording Controller)');
  const body = {
    name: 'crm-integration',
    allowedScopes: ['recording:write', 'recording:control', 'conversation:read'],
    allowedGrantTypes: ['client_credentials'],
    roles: ['Recording Controller'],
  };
  const created = await call('POST', '/api/v2/oauth/clients', { token: admin, body });
  show('POST', '/api/v2/oauth/clients', created, 'admin token');
  remember('1', created, 'allow');
  if (!check(created.status === 201, `201 Created (got ${created.status})`)) return;
  const crm = { id: created.json.id, secret: created.json.clientSecret };
  check(typeof crm.secret === 'string' && crm.secret.length >= 43, 'the client secret is shown once, ≥ 256 bits');

  try {
    // 2
    heading('Step 2 — token with scope recording:write, start → 403 missing.scope');
    const writeTok = await getToken(crm.id, crm.secret, 'recording:write');
    const s2 = await call('POST', startPath, { token: writeTok });
    show('POST', startPath, s2, `token ${short(writeTok)}, scope recording:write`);
    remember('2', s2, 'deny');
    check(s2.status === 403 && s2.json?.code === 'missing.scope', `403 missing.scope (got ${s2.status} ${s2.json?.code})`);
    const www2 = s2.headers.get('www-authenticate') ?? '';
    check(/error="insufficient_scope"/.test(www2) && /scope="recording:control"/.test(www2),
      'WWW-Authenticate: Bearer error="insufficient_scope", scope="recording:control"');
    check(/recording:write[^.]*metadata/.test(s2.json?.message ?? ''), 'the message says recording:write only covers metadata');
    const fix2 = s2.json?.explanation?.fix ?? [];
    check(fix2.length === 1 && /new token/.test(fix2[0]) && fix2[0].includes("'recording:control'") && /allowed to request/.test(fix2[0]),
      'fix: request a new token with recording:control, which this client may request');
    const l2 = Object.fromEntries((s2.json?.explanation?.layers ?? []).map((l) => [l.layer, l]));
    check(l2.token?.result === 'pass' && l2.scope?.result === 'fail' && l2.permission?.result === 'pass' &&
      l2.resource?.result === 'not-evaluated', 'layers: token pass, scope fail, permission pass, resource not-evaluated');

    // 3
    heading('Step 3 — new token with recording:control, start → 200 active');
    const ctlTok = await getToken(crm.id, crm.secret, 'recording:control');
    const s3 = await call('POST', startPath, { token: ctlTok, body: { reason: 'seed scenario' } });
    show('POST', startPath, s3, `token ${short(ctlTok)}, scope recording:control`);
    if (s3.json?.state) console.log(`    state: ${s3.json.state}, segment ${s3.json.segment?.index}, changed ${s3.json.changed}`);
    remember('3', s3, 'allow');
    check(s3.status === 200 && s3.json?.state === 'active', `200, state active (got ${s3.status} ${s3.json?.state})`);

    // 4
    heading('Step 4 — role removed, new token, start → 403 missing.permission');
    const patched = await call('PATCH', `/api/v2/oauth/clients/${crm.id}`, { token: admin, body: { roles: [] } });
    show('PATCH', `/api/v2/oauth/clients/${crm.id}`, patched, 'admin token, {"roles":[]}');
    remember('4a', patched, 'allow');
    check(patched.status === 200, `roles removed (got ${patched.status})`);
    const tok4 = await getToken(crm.id, crm.secret, 'recording:control');
    const s4 = await call('POST', startPath, { token: tok4 });
    show('POST', startPath, s4, `new token ${short(tok4)}, scope recording:control`);
    remember('4b', s4, 'deny');
    check(s4.status === 403 && s4.json?.code === 'missing.permission', `403 missing.permission (got ${s4.status} ${s4.json?.code})`);
    const fix4 = (s4.json?.explanation?.fix ?? []).join(' ');
    check((s4.json?.message ?? '').includes('recording:recording:start') && fix4.includes('recording:recording:start'),
      'names the permission recording:recording:start');
    for (const role of ['Recording Administrator', 'Recording Controller', 'System Administrator']) {
      check(fix4.includes(role) && (s4.json?.message ?? '').includes(role), `lists the role ${role}`);
    }
    check(/new token will not help/i.test(fix4), 'says a new token will not help');

    // 5
    heading('Step 5 — conversation disconnected, start → 409 conversation.ended');
    const back = await call('PATCH', `/api/v2/oauth/clients/${crm.id}`, { token: admin, body: { roles: ['Recording Controller'] } });
    show('PATCH', `/api/v2/oauth/clients/${crm.id}`, back, 'admin token, role given back');
    remember('5a', back, 'allow');
    check(back.status === 200, `role given back (got ${back.status})`);
    const disc = await call('POST', `/api/v2/conversations/${conversationId}/disconnect`, { token: admin });
    show('POST', `/api/v2/conversations/${conversationId}/disconnect`, disc, 'admin token');
    remember('5b', disc, 'allow');
    check(disc.status === 200 && disc.json?.state === 'disconnected', `conversation disconnected (got ${disc.status})`);
    const s5 = await call('POST', startPath, { token: tok4 });
    show('POST', startPath, s5, `token ${short(tok4)} (role is back)`);
    remember('5c', s5, 'deny');
    check(s5.status === 409 && s5.json?.code === 'conversation.ended', `409 conversation.ended (got ${s5.status} ${s5.json?.code})`);
    check(!!disc.json?.endedAt && s5.json?.messageParams?.endedAt === disc.json.endedAt, `endedAt ${s5.json?.messageParams?.endedAt}`);

    // 6
    heading('Step 6 — bad tokens → 401 with the matching token.* code');
    const good = await getToken(crm.id, crm.secret, 'recording:control');
    const [h, p] = good.split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString());
    // A token signed with a key that is not the server's, under the server's own kid.
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forgedInput = `${b64url({ ...header })}.${p}`;
    const forged = `${forgedInput}.${sign('sha256', Buffer.from(forgedInput), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    const revoked = await getToken(crm.id, crm.secret, 'recording:control');
    const rv = await call('POST', '/oauth/revoke', { form: { token: revoked }, headers: basicAuth(crm.id, crm.secret) });
    check(rv.status === 200, `POST /oauth/revoke → ${rv.status}`);
    const cases = [
      ['garbage', 'not-a-jwt', 'token.malformed'],
      ['alg=none', `${b64url({ ...header, alg: 'none' })}.${p}.`, 'token.signature'],
      ['wrong key', forged, 'token.signature'],
      ['revoked', revoked, 'token.revoked'],
      ['missing', undefined, 'token.missing'],
    ];
    for (const [name, tok, code] of cases) {
      const r = await call('POST', startPath, { token: tok });
      show('POST', startPath, r, `${name} token`);
      remember(`6 ${name}`, r, 'deny');
      check(r.status === 401 && r.json?.code === code, `${name}: 401 ${code} (got ${r.status} ${r.json?.code})`);
      check(/error="invalid_token"/.test(r.headers.get('www-authenticate') ?? ''), `${name}: WWW-Authenticate error="invalid_token"`);
    }
    console.log(dim('  (expired tokens: verbatim tokens live ≥ 60 s plus 60 s leeway; the unit tests cover token.expired)'));

    // 7
    heading('Step 7 — every step is in the audit log under its contextId');
    for (const s of seen) {
      const r = await call('GET', `/api/v2/audit/events/${s.contextId}`, { token: admin });
      const ok = r.status === 200 && r.json?.decision === s.decision && (r.json?.code ?? null) === s.code && r.json?.status === s.status;
      check(ok, `step ${s.step}: ${s.contextId} → ${r.status} ${r.json?.decision ?? ''} ${r.json?.code ?? ''}`.trimEnd());
    }
  } finally {
    if (!args.keep) {
      const del = await call('DELETE', `/api/v2/oauth/clients/${crm.id}`, { token: admin });
      console.log(dim(`\n(cleanup: DELETE /api/v2/oauth/clients/${crm.id} → ${del.status}; --keep keeps it)`));
    }
  }
}

try {
  await main();
} catch (e) {
  console.error(`\nseed-scenario: ${e.message}`);
  process.exit(2);
}

if (failures.length) {
  console.log(`\n${red(bold(`${failures.length} check(s) failed:`))}`);
  for (const f of failures) console.log(`  - ${f}`);
  process.exit(1);
}
console.log(`\n${green(bold('Every step behaved as docs/api.md §10 says.'))}`);
