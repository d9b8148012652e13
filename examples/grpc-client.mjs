#!/usr/bin/env node
// The acceptance scenario of docs/api.md §10 over gRPC (docs/grpc.md): the same
// denials, decoded from the `grpc-status-details-bin` trailer (ErrorInfo,
// RequestInfo, Explanation), with @grpc/grpc-js and @grpc/proto-loader
// (`npm ci` at the repo root installs them).
//
//   make run                                   # verbatim serve --dev --data-dir ./data
//   node examples/grpc-client.mjs              # in another terminal
//   node examples/grpc-client.mjs --data-dir ./data --server http://127.0.0.1:8080 --grpc 127.0.0.1:50051
//
// Tokens come from POST /oauth/token and clients are administered over REST
// (docs/api.md); recording control, conversations and the simulator are
// called over gRPC. Prints every call and what came back; exits 1 if a step
// does not behave as docs/grpc.md says, 2 if it cannot even start.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { generateKeyPairSync, sign } from 'node:crypto';

const require = createRequire(import.meta.url);
let grpc;
let protoLoader;
try {
  grpc = require('@grpc/grpc-js');
  protoLoader = require('@grpc/proto-loader');
} catch {
  console.error('grpc-client: @grpc/grpc-js is not installed: run `npm ci` at the repo root (scripts/deps.sh does).');
  process.exit(2);
}
// proto-loader's own protobufjs decodes the messages inside google.protobuf.Any.
const protobuf = createRequire(require.resolve('@grpc/proto-loader'))('protobufjs');
const PROTO_DIR = fileURLToPath(new URL('../proto', import.meta.url));

// ------------------------------------------------------------------ arguments

function parseArgs(argv) {
  const out = { server: null, grpc: null, dataDir: './data', ca: null, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, null];
    const v = () => inline ?? value();
    if (flag === '--server') out.server = v();
    else if (flag === '--grpc') out.grpc = v();
    else if (flag === '--data-dir') out.dataDir = v();
    else if (flag === '--ca') out.ca = v();
    else if (flag === '--keep') out.keep = true;
    else if (flag === '-h' || flag === '--help') usage();
    else usage(`unknown argument ${a}`);
  }
  return out;
}

function usage(problem) {
  if (problem) console.error(`grpc-client: ${problem}\n`);
  console.error('usage: node examples/grpc-client.mjs [--server URL] [--grpc HOST:PORT] [--data-dir DIR] [--ca PEM] [--keep]\n\n' +
    '  --server URL     verbatim REST base URL, for tokens and admin (default: from DIR/listen.json)\n' +
    '  --grpc HOST:PORT verbatim gRPC address (default: "grpc" of DIR/listen.json)\n' +
    '  --data-dir DIR   the server\'s data dir, for dev-credentials.json (default ./data)\n' +
    '  --ca PEM         CA certificate of a server with --tls-cert, for the gRPC channel\n' +
    '                   (for https REST, start node with NODE_EXTRA_CA_CERTS=PEM as well)\n' +
    '  --keep           keep the client this script creates (default: delete it at the end)');
  process.exit(problem ? 2 : 0);
}

const args = parseArgs(process.argv.slice(2));
const readJsonFile = (path) => JSON.parse(readFileSync(path, 'utf8'));

let creds;
try {
  creds = readJsonFile(join(args.dataDir, 'dev-credentials.json'));
} catch (e) {
  console.error(`grpc-client: cannot read ${join(args.dataDir, 'dev-credentials.json')}: ${e.message}\n` +
    'Start the server with `make run` (verbatim serve --dev --data-dir ./data) or pass --data-dir.');
  process.exit(2);
}
let listen = {};
try { listen = readJsonFile(join(args.dataDir, 'listen.json')); } catch { /* flags or defaults */ }
const server = (args.server ?? `${listen.scheme ?? 'http'}://${listen.http ?? '127.0.0.1:8080'}`).replace(/\/+$/, '');
const target = args.grpc ?? listen.grpc;
if (!target) {
  console.error(`grpc-client: no gRPC address: ${join(args.dataDir, 'listen.json')} has no "grpc" (is the server started with --grpc-listen?); pass --grpc HOST:PORT`);
  process.exit(2);
}
const ca = args.ca ? readFileSync(args.ca) : null;

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
  console.log(`  ${ok ? green('✔') : red('✘')} ${what}`);
  if (!ok) failures.push(`${currentStep}: ${what}`);
  return ok;
}
const short = (tok) => (tok ? `${tok.slice(0, 12)}…${tok.slice(-6)}` : '(none)');

// ------------------------------------------------------------------ gRPC

const loaderOptions = { keepCase: false, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: [PROTO_DIR] };
const v1 = grpc.loadPackageDefinition(protoLoader.loadSync('verbatim/v1/verbatim.proto', loaderOptions)).verbatim.v1;
const channel = ca ? grpc.credentials.createSsl(ca) : grpc.credentials.createInsecure();
const recordings = new v1.Recordings(target, channel);
const conversations = new v1.Conversations(target, channel);

const detailTypes = new protobuf.Root();
detailTypes.resolvePath = (origin, file) => (file.startsWith('google/protobuf/') ? file : join(PROTO_DIR, file));
detailTypes.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto', 'verbatim/v1/verbatim.proto'], { keepCase: false });

/** google.rpc.Status from the trailer, each Any decoded, keyed by short type name (ErrorInfo, Explanation, …). */
function statusDetails(err) {
  const [bin] = err.metadata?.get('grpc-status-details-bin') ?? [];
  if (!bin) return {};
  const st = detailTypes.lookupType('google.rpc.Status').decode(bin);
  const out = {};
  for (const any of st.details) {
    const typeUrl = any.type_url ?? any.typeUrl;
    const name = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
    try {
      const T = detailTypes.lookupType(name);
      out[name.split('.').pop()] = T.toObject(T.decode(any.value), { longs: String, enums: String, defaults: true });
    } catch { /* a detail type this example does not know */ }
  }
  return out;
}

const codeName = (code) => Object.entries(grpc.status).find(([, v]) => v === code)?.[0] ?? String(code);

/** One unary call with a bearer token; prints it and what came back; resolves {response} or {error, details}. */
function call(client, method, request, tok, note = '') {
  const md = new grpc.Metadata();
  if (tok) md.set('authorization', `Bearer ${tok}`);
  const service = client === recordings ? 'Recordings' : 'Conversations';
  console.log(`  ${dim('→')} ${service}.${method}(${JSON.stringify(request)})${note ? dim(`  (${note})`) : ''}`);
  return new Promise((resolve) => {
    client[method](request, md, { deadline: Date.now() + 15_000 }, (error, response) => {
      if (!error) {
        console.log(`  ${dim('←')} OK${response.state ? ` state ${response.state}` : ''}`);
        return resolve({ response });
      }
      const details = statusDetails(error);
      console.log(`  ${dim('←')} ${codeName(error.code)}  ${details.ErrorInfo?.reason ?? ''}`);
      console.log(`    message: ${error.details}`);
      const meta = details.ErrorInfo?.metadata ?? {};
      if (meta.requiredScopes) console.log(`    required scopes: ${meta.requiredScopes}  granted: ${meta.grantedScopes || '(none)'}`);
      if (meta.requiredPermissions) console.log(`    required permissions: ${meta.requiredPermissions}`);
      for (const f of details.Explanation?.fix ?? []) console.log(`    fix: ${f}`);
      const layers = details.Explanation?.layers ?? [];
      if (layers.length) console.log(`    layers: ${layers.map((l) => `${l.layer}=${l.result}`).join('  ')}`);
      if (details.RequestInfo) console.log(`    request_id: ${details.RequestInfo.requestId}`);
      resolve({ error, details });
    });
  });
}

// ------------------------------------------------------------------ REST (tokens, admin)

async function rest(method, path, { token, body, form, headers = {} } = {}) {
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
  return { status: r.status, json, text };
}
const basicAuth = (id, secret) => ({
  authorization: 'Basic ' + Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64'),
});
async function getToken(clientId, secret, scope) {
  const form = { grant_type: 'client_credentials' };
  if (scope) form.scope = scope;
  const r = await rest('POST', '/oauth/token', { form, headers: basicAuth(clientId, secret) });
  if (r.status !== 200) throw new Error(`POST /oauth/token (scope ${scope ?? 'default'}) → ${r.status} ${r.text}`);
  return r.json.access_token;
}
const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

// ------------------------------------------------------------------ the scenario

const seen = []; // {step, requestId, decision, code} for step 7

function expectDenied(step, r, grpcCode, reason) {
  const ok = r.error && codeName(r.error.code) === grpcCode && r.details.ErrorInfo?.reason === reason;
  check(ok, `${grpcCode} ${reason} (got ${r.error ? `${codeName(r.error.code)} ${r.details.ErrorInfo?.reason}` : 'OK'})`);
  if (r.details?.RequestInfo) seen.push({ step, requestId: r.details.RequestInfo.requestId, decision: 'deny', code: r.details.ErrorInfo?.metadata?.code });
  return ok;
}

async function main() {
  console.log(`verbatim gRPC scenario (docs/grpc.md) against ${target} (tokens from ${server})`);
  const ready = await rest('GET', '/readyz').catch((e) => {
    console.error(`grpc-client: cannot reach ${server}: ${e.cause?.code ?? e.message}`);
    process.exit(2);
  });
  if (ready.status !== 200) {
    console.error(`grpc-client: ${server}/readyz answered ${ready.status}`);
    process.exit(2);
  }
  const admin = await getToken(creds.admin.clientId, creds.admin.clientSecret);

  heading('Step 1 — admin creates client crm-grpc (recording:write recording:control, Recording Controller); a conversation over gRPC');
  const created = await rest('POST', '/api/v2/oauth/clients', {
    token: admin,
    body: { name: 'crm-grpc', allowedScopes: ['recording:write', 'recording:control', 'conversation:read'], allowedGrantTypes: ['client_credentials'], roles: ['Recording Controller'] },
  });
  console.log(`  ${dim('→')} POST /api/v2/oauth/clients  ${dim('←')} ${created.status}`);
  if (!check(created.status === 201, `201 Created (got ${created.status})`)) return;
  const crm = { id: created.json.id, secret: created.json.clientSecret };
  try {
    const conv = await call(conversations, 'Create', { participants: [{ name: 'Alice Customer', purpose: 'customer' }, { name: 'Bob Agent', purpose: 'agent' }] }, admin, 'admin token');
    if (!check(!conv.error && conv.response.state === 'connected', 'Conversations.Create → connected')) return;
    const conversationId = conv.response.id;
    const req = { conversationId };

    heading('Step 2 — token with scope recording:write, Start → PERMISSION_DENIED MISSING_SCOPE');
    const writeTok = await getToken(crm.id, crm.secret, 'recording:write');
    const s2 = await call(recordings, 'Start', req, writeTok, `token ${short(writeTok)}, scope recording:write`);
    expectDenied('2', s2, 'PERMISSION_DENIED', 'MISSING_SCOPE');
    check(s2.details?.ErrorInfo?.metadata?.requiredScopes === 'recording:control', 'ErrorInfo names the scope recording:control');
    check((s2.details?.Explanation?.fix ?? []).some((f) => f.includes("'recording:control'")), 'fix: request a new token with recording:control');

    heading('Step 3 — new token with recording:control, Start → OK, state active');
    const ctlTok = await getToken(crm.id, crm.secret, 'recording:control');
    const s3 = await call(recordings, 'Start', { ...req, reason: 'grpc scenario' }, ctlTok, `token ${short(ctlTok)}, scope recording:control`);
    check(!s3.error && s3.response.state === 'active', `state active (got ${s3.response?.state ?? codeName(s3.error?.code)})`);
    if (s3.response) seen.push({ step: '3', requestId: s3.response.transition.contextId, decision: 'allow', code: null });

    heading('Step 4 — role removed, new token, Start → PERMISSION_DENIED MISSING_PERMISSION');
    const patched = await rest('PATCH', `/api/v2/oauth/clients/${crm.id}`, { token: admin, body: { roles: [] } });
    console.log(`  ${dim('→')} PATCH /api/v2/oauth/clients/${crm.id} {"roles":[]}  ${dim('←')} ${patched.status}`);
    const tok4 = await getToken(crm.id, crm.secret, 'recording:control');
    const s4 = await call(recordings, 'Start', req, tok4, `new token ${short(tok4)}`);
    expectDenied('4', s4, 'PERMISSION_DENIED', 'MISSING_PERMISSION');
    check(/new token will not help/i.test((s4.details?.Explanation?.fix ?? []).join(' ')), 'the fix says a new token will not help');

    heading('Step 5 — conversation disconnected over gRPC, Start → FAILED_PRECONDITION CONVERSATION_ENDED');
    const back = await rest('PATCH', `/api/v2/oauth/clients/${crm.id}`, { token: admin, body: { roles: ['Recording Controller'] } });
    console.log(`  ${dim('→')} PATCH /api/v2/oauth/clients/${crm.id} (role given back)  ${dim('←')} ${back.status}`);
    const disc = await call(conversations, 'Disconnect', req, admin, 'admin token');
    check(!disc.error && disc.response.state === 'disconnected', 'Conversations.Disconnect → disconnected');
    const s5 = await call(recordings, 'Start', req, tok4, `token ${short(tok4)} (role is back)`);
    expectDenied('5', s5, 'FAILED_PRECONDITION', 'CONVERSATION_ENDED');

    heading('Step 6 — bad tokens → UNAUTHENTICATED with the matching TOKEN_* reason');
    const good = await getToken(crm.id, crm.secret, 'recording:control');
    const [h, p] = good.split('.');
    const header = JSON.parse(Buffer.from(h, 'base64url').toString());
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forged = `${h}.${p}.${sign('sha256', Buffer.from(`${h}.${p}`), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
    const revoked = await getToken(crm.id, crm.secret, 'recording:control');
    const rv = await rest('POST', '/oauth/revoke', { form: { token: revoked }, headers: basicAuth(crm.id, crm.secret) });
    check(rv.status === 200, `POST /oauth/revoke → ${rv.status}`);
    for (const [name, tok, reason] of [
      ['garbage', 'not-a-jwt', 'TOKEN_MALFORMED'],
      ['alg=none', `${b64url({ ...header, alg: 'none' })}.${p}.`, 'TOKEN_SIGNATURE'],
      ['wrong key', forged, 'TOKEN_SIGNATURE'],
      ['revoked', revoked, 'TOKEN_REVOKED'],
      ['missing', null, 'TOKEN_MISSING'],
    ]) {
      const r = await call(recordings, 'Start', req, tok, `${name} token`);
      expectDenied(`6 ${name}`, r, 'UNAUTHENTICATED', reason);
    }

    heading('Step 7 — every gRPC call is in the audit log under its request_id');
    for (const s of seen) {
      const r = await rest('GET', `/api/v2/audit/events/${s.requestId}`, { token: admin });
      const ok = r.status === 200 && r.json?.decision === s.decision && (r.json?.code ?? null) === (s.code ?? null) &&
        r.json?.path === '/verbatim.v1.Recordings/Start';
      check(ok, `step ${s.step}: ${s.requestId} → ${r.status} ${r.json?.path ?? ''} ${r.json?.decision ?? ''} ${r.json?.code ?? ''}`.trimEnd());
    }
  } finally {
    if (!args.keep) {
      const del = await rest('DELETE', `/api/v2/oauth/clients/${crm.id}`, { token: admin });
      console.log(dim(`\n(cleanup: DELETE /api/v2/oauth/clients/${crm.id} → ${del.status}; --keep keeps it)`));
    }
  }
}

try {
  await main();
} catch (e) {
  console.error(`\ngrpc-client: ${e.message}`);
  process.exit(2);
} finally {
  recordings.close();
  conversations.close();
}

if (failures.length) {
  console.log(`\n${red(bold(`${failures.length} check(s) failed:`))}`);
  for (const f of failures) console.log(`  - ${f}`);
  process.exit(1);
}
console.log(`\n${green(bold('Every step behaved as docs/grpc.md says.'))}`);
