// docs/api.md §3, §6, §8, §9: the administration API, bad input (clear errors, store
// unchanged), the error body contract, health/metrics, GET /tokens/me, the
// authorization simulator and the audit log's filters and paging.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { statSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import {
  startServer, token, tokenRequest, api, postForm, basic, assertErrorBody, layersOf, adminToken, createClient,
  createConversation, loggedTest, rawHttp, UUID_RE,
} from './lib/server.mjs';

let srv;
const t = loggedTest(test, () => srv);
let admin;

const BUILTIN = {
  'System Administrator': '7f2b6c80-0000-4000-8000-000000000001',
  'Recording Administrator': '7f2b6c80-0000-4000-8000-000000000002',
  'Recording Controller': '7f2b6c80-0000-4000-8000-000000000003',
  'Recording Viewer': '7f2b6c80-0000-4000-8000-000000000004',
  'Conversation Control': '7f2b6c80-0000-4000-8000-000000000005',
  'Media Ingest': '7f2b6c80-0000-4000-8000-000000000006',
  Auditor: '7f2b6c80-0000-4000-8000-000000000007',
};

before(async () => {
  srv = await startServer();
  admin = await adminToken(srv);
});

after(async () => {
  await srv?.dispose();
});

const listClients = async () => {
  const r = await api(srv.url, 'GET', '/api/v2/oauth/clients', { token: admin });
  assert.equal(r.status, 200, r.text);
  return r.json;
};

/** Fails if any key or value of a client view could be a secret or its hash. */
function assertNoSecret(view, secret, note) {
  const text = JSON.stringify(view);
  if (secret) assert.ok(!text.includes(secret), `${note}: the secret is returned`);
  const keys = [];
  const walk = (v) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) { keys.push(k); walk(x); }
  };
  walk(view);
  for (const k of keys) assert.ok(!/secret|hash/i.test(k), `${note}: field ${k} must not be returned`);
}

// ------------------------------------------------------------------ clients

t('clients: create / list / get / patch / delete, roles by name or id, never a secret except on create', async () => {
  const create = await api(srv.url, 'POST', '/api/v2/oauth/clients', {
    token: admin,
    body: {
      name: 'reporting', allowedScopes: ['recording:read', 'conversation:read'], allowedGrantTypes: ['client_credentials'],
      roles: ['Recording Viewer', BUILTIN.Auditor], accessTokenValiditySeconds: 120,
    },
  });
  assert.equal(create.status, 201, create.text);
  const c = create.json;
  assert.match(c.id, UUID_RE);
  assert.equal(create.headers.get('location'), `/api/v2/oauth/clients/${c.id}`);
  assert.equal(typeof c.clientSecret, 'string');
  assert.ok(c.clientSecret.length >= 43, 'secret has >= 256 bits');
  assert.deepEqual(c.roles, [{ id: BUILTIN['Recording Viewer'], name: 'Recording Viewer' }, { id: BUILTIN.Auditor, name: 'Auditor' }]);
  assert.deepEqual(c.allowedScopes, ['recording:read', 'conversation:read']);
  assert.deepEqual(c.allowedGrantTypes, ['client_credentials']);
  assert.equal(c.accessTokenValiditySeconds, 120);
  const { clientSecret, ...withoutSecret } = c;
  assertNoSecret(withoutSecret, null, 'create (apart from clientSecret)');

  const tok = await tokenRequest(srv.url, c.id, clientSecret);
  assert.equal(tok.status, 200, tok.text);
  assert.equal(tok.json.expires_in, 120, 'lifetime per client');

  const list = await listClients();
  const listed = list.entities.find((x) => x.id === c.id);
  assert.ok(listed);
  assertNoSecret(list, clientSecret, 'list');
  const got = await api(srv.url, 'GET', `/api/v2/oauth/clients/${c.id}`, { token: admin });
  assert.equal(got.status, 200, got.text);
  assertNoSecret(got.json, clientSecret, 'get');
  assert.deepEqual(got.json, listed);
  assert.deepEqual(got.json, withoutSecret);

  const patch = await api(srv.url, 'PATCH', `/api/v2/oauth/clients/${c.id}`, {
    token: admin, body: { name: 'reporting-2', roles: [BUILTIN['Recording Administrator']], accessTokenValiditySeconds: 600 },
  });
  assert.equal(patch.status, 200, patch.text);
  assertNoSecret(patch.json, clientSecret, 'patch');
  assert.equal(patch.json.name, 'reporting-2');
  assert.deepEqual(patch.json.roles.map((r) => r.name), ['Recording Administrator'], 'roles replaces the list');
  assert.deepEqual(patch.json.allowedScopes, ['recording:read', 'conversation:read'], 'untouched fields stay');
  const got2 = await api(srv.url, 'GET', `/api/v2/oauth/clients/${c.id}`, { token: admin });
  assert.deepEqual(got2.json, patch.json);

  // Assign / unassign one role.
  const assign = await api(srv.url, 'PUT', `/api/v2/oauth/clients/${c.id}/roles/${BUILTIN.Auditor}`, { token: admin });
  assert.equal(assign.status, 200, assign.text);
  assert.deepEqual(assign.json.roles.map((r) => r.name).sort(), ['Auditor', 'Recording Administrator']);
  const twice = await api(srv.url, 'PUT', `/api/v2/oauth/clients/${c.id}/roles/${BUILTIN.Auditor}`, { token: admin });
  assert.equal(twice.status, 200);
  assert.equal(twice.json.roles.length, 2, 'assigning twice is idempotent');
  const unassign = await api(srv.url, 'DELETE', `/api/v2/oauth/clients/${c.id}/roles/${BUILTIN['Recording Administrator']}`, { token: admin });
  assert.equal(unassign.status, 200, unassign.text);
  assert.deepEqual(unassign.json.roles.map((r) => r.name), ['Auditor']);
  assertNoSecret(unassign.json, clientSecret, 'unassign');

  const del = await api(srv.url, 'DELETE', `/api/v2/oauth/clients/${c.id}`, { token: admin });
  assert.equal(del.status, 204, del.text);
  assertErrorBody(await api(srv.url, 'GET', `/api/v2/oauth/clients/${c.id}`, { token: admin }), 404, 'client.not.found', 'get deleted');
  assertErrorBody(await api(srv.url, 'DELETE', `/api/v2/oauth/clients/${c.id}`, { token: admin }), 404, 'client.not.found', 'delete twice');
  assert.ok(!(await listClients()).entities.some((x) => x.id === c.id));
});

t('admin endpoints without the admin scope: 403 missing.scope naming admin', async () => {
  // The dev admin client has every role permission; a token without 'admin' still may not administer.
  const tok = await token(srv.url, srv.creds.admin.clientId, srv.creds.admin.clientSecret, 'recording:read audit:read');
  const calls = [
    ['GET', '/api/v2/oauth/clients'],
    ['POST', '/api/v2/oauth/clients', { name: 'x', allowedScopes: [] }],
    ['GET', '/api/v2/authorization/roles'],
    ['GET', '/api/v2/organization/settings'],
    ['PATCH', '/api/v2/organization/settings', { pauseBehavior: 'skip' }],
    ['POST', '/api/v2/oauth/keys/rotate'],
  ];
  const before = await listClients();
  const settingsBefore = (await api(srv.url, 'GET', '/api/v2/organization/settings', { token: admin })).json;
  for (const [method, path, body] of calls) {
    const res = await api(srv.url, method, path, { token: tok, body });
    const e = assertErrorBody(res, 403, 'missing.scope', `${method} ${path}`);
    assert.equal(e.messageParams.scope, 'admin', `${method} ${path}`);
    assert.match(e.message, /'admin'/);
    assert.deepEqual(layersOf(e).scope.required, ['admin']);
    assert.match(res.headers.get('www-authenticate') ?? '', /scope="admin"/);
    assert.match(e.explanation.fix[0], /admin/);
  }
  assert.deepEqual(await listClients(), before);
  const settings = await api(srv.url, 'GET', '/api/v2/organization/settings', { token: admin });
  assert.deepEqual(settings.json, settingsBefore, 'the refused PATCH changed nothing');
});

// ------------------------------------------------------------------ roles

t('roles: built-ins listed with stable ids and read-only; custom roles CRUD; role changes apply at once', async () => {
  const list = await api(srv.url, 'GET', '/api/v2/authorization/roles', { token: admin });
  assert.equal(list.status, 200, list.text);
  for (const [name, id] of Object.entries(BUILTIN)) {
    const r = list.json.entities.find((x) => x.id === id);
    assert.ok(r, `built-in ${name} listed`);
    assert.equal(r.name, name);
    assert.equal(r.builtin, true);
  }
  const ctrl = list.json.entities.find((x) => x.id === BUILTIN['Recording Controller']);
  assert.deepEqual([...ctrl.permissions].sort(), ['conversation:conversation:view', 'recording:recording:pause',
    'recording:recording:resume', 'recording:recording:start', 'recording:recording:stop', 'recording:recording:view']);

  for (const method of ['PUT', 'DELETE']) {
    const res = await api(srv.url, method, `/api/v2/authorization/roles/${BUILTIN['Recording Viewer']}`, {
      token: admin, body: method === 'PUT' ? { permissions: ['*:*:*'] } : undefined,
    });
    assertErrorBody(res, 403, 'role.builtin', `${method} built-in role`);
  }
  const viewer = await api(srv.url, 'GET', `/api/v2/authorization/roles/${BUILTIN['Recording Viewer']}`, { token: admin });
  assert.deepEqual(viewer.json.permissions, ['recording:recording:view', 'recording:media:download', 'conversation:conversation:view']);

  const create = await api(srv.url, 'POST', '/api/v2/authorization/roles', {
    token: admin, body: { name: 'Label Editor', description: 'edits labels', permissions: ['recording:recording:edit', 'recording:recording:view'] },
  });
  assert.equal(create.status, 201, create.text);
  const role = create.json;
  assert.match(role.id, UUID_RE);
  assert.equal(role.builtin, false);
  const got = await api(srv.url, 'GET', `/api/v2/authorization/roles/${role.id}`, { token: admin });
  assert.deepEqual(got.json, role);

  // The custom role is usable, by name, and changes to it apply to existing tokens at once.
  const c = await createClient(srv, admin, { name: 'labeler', allowedScopes: ['recording:write', 'recording:read'], roles: ['Label Editor'] });
  const tok = await token(srv.url, c.id, c.clientSecret);
  const conv = await createConversation(srv, admin);
  const patchRec = () => api(srv.url, 'PATCH', `/api/v2/recordings/conversations/${conv}`, { token: tok, body: { labels: ['a'] } });
  assert.equal((await patchRec()).status, 200);

  const put = await api(srv.url, 'PUT', `/api/v2/authorization/roles/${role.id}`, {
    token: admin, body: { permissions: ['recording:recording:view'] },
  });
  assert.equal(put.status, 200, put.text);
  assert.deepEqual(put.json.permissions, ['recording:recording:view']);
  assert.equal(put.json.name, 'Label Editor');
  const denied = assertErrorBody(await patchRec(), 403, 'missing.permission', 'after the role lost the permission');
  assert.ok(denied.explanation.layers[2].grantingRoles.includes('Recording Administrator'));

  const bad = await api(srv.url, 'POST', '/api/v2/authorization/roles', { token: admin, body: { name: 'Bad', permissions: ['recording'] } });
  assert.match(assertErrorBody(bad, 400, 'bad.request', 'bad permission').message, /recording/);
  const clash = await api(srv.url, 'POST', '/api/v2/authorization/roles', { token: admin, body: { name: 'Auditor', permissions: [] } });
  assertErrorBody(clash, 400, 'bad.request', 'built-in name');

  const del = await api(srv.url, 'DELETE', `/api/v2/authorization/roles/${role.id}`, { token: admin });
  assert.equal(del.status, 204, del.text);
  assertErrorBody(await api(srv.url, 'GET', `/api/v2/authorization/roles/${role.id}`, { token: admin }), 404, 'role.not.found', 'deleted role');
  const after = await api(srv.url, 'GET', `/api/v2/oauth/clients/${c.id}`, { token: admin });
  assert.deepEqual(after.json.roles, [], 'a deleted role is no longer listed on its clients');
});

t('organization settings: GET / PATCH', async () => {
  const get = await api(srv.url, 'GET', '/api/v2/organization/settings', { token: admin });
  assert.equal(get.status, 200, get.text);
  assert.equal(typeof get.json.autoStart, 'boolean');
  assert.ok(['silence', 'skip'].includes(get.json.pauseBehavior));
  assert.ok(Number.isInteger(get.json.retentionDays));
  const patch = await api(srv.url, 'PATCH', '/api/v2/organization/settings', {
    token: admin, body: { pauseBehavior: 'skip', retentionDays: 30 },
  });
  assert.equal(patch.status, 200, patch.text);
  assert.deepEqual(patch.json, { ...get.json, pauseBehavior: 'skip', retentionDays: 30 });
  const again = await api(srv.url, 'GET', '/api/v2/organization/settings', { token: admin });
  assert.deepEqual(again.json, patch.json);
  for (const body of [{ pauseBehavior: 'mute' }, { retentionDays: 0 }, { autoStart: 'yes' }, { colour: 'red' }]) {
    const res = await api(srv.url, 'PATCH', '/api/v2/organization/settings', { token: admin, body });
    assertErrorBody(res, 400, 'bad.request', `settings ${JSON.stringify(body)}`);
  }
  assert.deepEqual((await api(srv.url, 'GET', '/api/v2/organization/settings', { token: admin })).json, patch.json);
  await api(srv.url, 'PATCH', '/api/v2/organization/settings', { token: admin, body: get.json });
});

// ------------------------------------------------------------------ bad input

const JSON_CT = { 'content-type': 'application/json' };
// [name, request options, status, code, what the message must mention, the field at fault]
const CLIENT_INPUT_CASES = [
  ['malformed JSON', { rawBody: '{"name": "x", ', headers: JSON_CT }, 400, 'bad.request'],
  ['not an object', { rawBody: '["name"]', headers: JSON_CT }, 400, 'bad.request'],
  // Declared over a raw socket, body not sent: the server answers 413 from Content-Length and
  // closes without draining, so a client still uploading (Node's fetch) often gets EPIPE instead
  // of the 413 (see rawHttp). Declaring it keeps this test deterministic.
  ['2 MB body', { raw: true, rawBody: JSON.stringify({ name: 'x', description: 'a'.repeat(2 * 1024 * 1024) }), headers: JSON_CT }, 413, 'payload.too.large'],
  ['text/plain', { rawBody: JSON.stringify({ name: 'plain', allowedScopes: [] }), headers: { 'content-type': 'text/plain' } }, 415, 'unsupported.media.type'],
  ['no content type', { rawBody: JSON.stringify({ name: 'plain', allowedScopes: [] }) }, 415, 'unsupported.media.type'],
  ['duplicate keys', { rawBody: '{"name":"a","name":"b","allowedScopes":[]}', headers: JSON_CT }, 400, 'bad.request', /name/],
  ['unknown field', { body: { name: 'x', allowedScopes: [], colour: 'red' } }, 400, 'bad.request', /colour/, 'colour'],
  ['wrong type', { body: { name: 'x', allowedScopes: 'recording:read' } }, 400, 'bad.request', /allowedScopes/, 'allowedScopes'],
  ['unknown scope', { body: { name: 'x', allowedScopes: ['recording:everything'] } }, 400, 'bad.request', /recording:everything/, 'allowedScopes'],
  ['unknown role', { body: { name: 'x', allowedScopes: [], roles: ['Janitor'] } }, 400, 'bad.request', /Janitor/, 'roles'],
  ['unknown grant type', { body: { name: 'x', allowedScopes: [], allowedGrantTypes: ['password'] } }, 400, 'bad.request', /password/, 'allowedGrantTypes'],
  ['validity too short', { body: { name: 'x', allowedScopes: [], accessTokenValiditySeconds: 5 } }, 400, 'bad.request', /accessTokenValiditySeconds/, 'accessTokenValiditySeconds'],
  ['missing name', { body: { allowedScopes: [] } }, 400, 'bad.request', /name/, 'name'],
  ['invalid UTF-8', { rawBody: Buffer.from([0x7b, 0x22, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), headers: JSON_CT }, 400, 'bad.request'],
  ['deeply nested', { rawBody: '['.repeat(100000), headers: JSON_CT }, 400, 'bad.request'],
];
const postClient = (opts) => (opts.raw
  ? rawHttp(srv.url, 'POST', '/api/v2/oauth/clients', {
    headers: { authorization: `Bearer ${admin}`, ...opts.headers }, body: opts.rawBody, declareOnly: true,
  })
  : api(srv.url, 'POST', '/api/v2/oauth/clients', { token: admin, ...opts }));

t('bad input to POST /api/v2/oauth/clients: a clear error each time and the store unchanged', async () => {
  const before = await listClients();
  for (const [name, opts, status, code, mentions, field] of CLIENT_INPUT_CASES) {
    const e = assertErrorBody(await postClient(opts), status, code, name);
    if (mentions) assert.match(e.message, mentions, `${name}: ${e.message}`);
    if (field) assert.equal(e.explanation?.field, field, `${name}: explanation.field names the field`);
  }
  assert.deepEqual(await listClients(), before, 'no bad input created or changed a client');
});

t('every input error gives a fix (docs/api.md §3: "which field, what was expected")', async () => {
  // Collected over all cases so that one run lists every error without a fix.
  const withoutFix = [];
  for (const [name, opts, status, code] of CLIENT_INPUT_CASES) {
    const e = assertErrorBody(await postClient(opts), status, code, name);
    if (!(Array.isArray(e.explanation?.fix) && e.explanation.fix.length >= 1)) withoutFix.push(`${name}: ${e.message}`);
  }
  assert.deepEqual(withoutFix, [], 'every input error has a non-empty explanation.fix');
});

t('a too-long request line gets 414 uri.too.long and too-large header fields 431 header.too.large, each with a fix', async () => {
  const longUrl = await rawHttp(srv.url, 'GET', `/api/v2/conversations?pageSize=1&x=${'a'.repeat(20000)}`,
    { headers: { authorization: `Bearer ${admin}` } });
  const e414 = assertErrorBody(longUrl, 414, 'uri.too.long');
  assert.match(e414.explanation.fix[0], /shorter/);
  // Past the request line's own limit (8 KiB) while the header block fits (16 KiB).
  const e414b = assertErrorBody(await rawHttp(srv.url, 'GET', `/api/v2/conversations?x=${'a'.repeat(9000)}`,
    { headers: { authorization: `Bearer ${admin}` } }), 414, 'uri.too.long');
  assert.match(e414b.message, /8192 bytes/);
  // One header field too large (after a short request line), then many small ones.
  const bigHeader = await rawHttp(srv.url, 'GET', '/api/v2/conversations',
    { headers: { authorization: `Bearer ${admin}`, 'x-padding': 'b'.repeat(20000) } });
  const e431 = assertErrorBody(bigHeader, 431, 'header.too.large');
  assert.match(e431.explanation.fix[0], /headers/);
  const many = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`x-h${i}`, 'c'.repeat(100)]));
  assertErrorBody(await rawHttp(srv.url, 'GET', '/api/v2/conversations', { headers: many }), 431, 'header.too.large');
  // The server keeps serving.
  assert.equal((await api(srv.url, 'GET', '/healthz')).status, 200);
});

t('bad input to recording actions and PATCH leaves the recording unchanged', async () => {
  const conv = await createConversation(srv, admin);
  const base = `/api/v2/recordings/conversations/${conv}`;
  const json = { 'content-type': 'application/json' };
  const cases = [
    ['malformed JSON', { rawBody: '{"reason":', headers: json }, 400, 'bad.request'],
    ['text/plain', { rawBody: '{"reason":"x"}', headers: { 'content-type': 'text/plain' } }, 415, 'unsupported.media.type'],
    ['duplicate keys', { rawBody: '{"reason":"a","reason":"b"}', headers: json }, 400, 'bad.request'],
    ['unknown field', { body: { reason: 'x', force: true } }, 400, 'bad.request', /force/],
    ['reason not a string', { body: { reason: 42 } }, 400, 'bad.request', /reason/],
  ];
  const before = await api(srv.url, 'GET', base, { token: admin });
  for (const [name, opts, status, code, mentions] of cases) {
    const e = assertErrorBody(await api(srv.url, 'POST', `${base}/actions/start`, { token: admin, ...opts }), status, code, `start: ${name}`);
    if (mentions) assert.match(e.message, mentions);
    const p = assertErrorBody(await api(srv.url, 'PATCH', base, { token: admin, ...opts }), status, code, `PATCH: ${name}`);
    if (mentions && name !== 'unknown field' && name !== 'reason not a string') assert.match(p.message, mentions);
  }
  const after = await api(srv.url, 'GET', base, { token: admin });
  assert.deepEqual(after.json, before.json);
  assert.equal(after.json.state, 'none');
  // Media type parameters and case are fine (RFC 9110 §8.3.1).
  for (const ct of ['application/json; charset=utf-8', 'Application/JSON']) {
    const ok = await api(srv.url, 'PATCH', base, { token: admin, rawBody: '{"notes":"ok"}', headers: { 'content-type': ct } });
    assert.equal(ok.status, 200, `${ct}: ${ok.text}`);
  }
});

t('token endpoint: repeated form parameter and unknown grant type are 400, nothing issued', async () => {
  const c = srv.creds.crmIntegration;
  const auth = { authorization: basic(c.clientId, c.clientSecret) };
  const twice = await postForm(srv.url, '/oauth/token', 'grant_type=client_credentials&scope=recording:write&scope=admin', auth);
  assert.equal(twice.status, 400, twice.text);
  assert.equal(twice.json.error, 'invalid_request');
  assert.match(twice.json.error_description, /scope/);
  const grantTwice = await postForm(srv.url, '/oauth/token', 'grant_type=client_credentials&grant_type=client_credentials', auth);
  assert.equal(grantTwice.json.error, 'invalid_request');
  const unknown = await postForm(srv.url, '/oauth/token', 'grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer', auth);
  assert.equal(unknown.status, 400, unknown.text);
  assert.equal(unknown.json.error, 'unsupported_grant_type');
  const missing = await postForm(srv.url, '/oauth/token', 'scope=recording:write', auth);
  assert.equal(missing.status, 400);
  assert.equal(missing.json.error, 'invalid_request');
  for (const r of [twice, grantTwice, unknown, missing]) {
    assert.equal(r.json.access_token, undefined);
    assert.match(r.json.contextId, UUID_RE);
    assert.equal(r.headers.get('x-context-id'), r.json.contextId);
  }
});

t('bad HTTP never crashes the server and gets the error body (docs/api.md §9)', async () => {
  const { hostname: host, port } = new URL(srv.url);
  const raw = (data) => new Promise((resolve, reject) => {
    const sock = net.connect({ host, port: Number(port) });
    let out = '';
    sock.setEncoding('utf8');
    sock.on('data', (d) => { out += d; });
    sock.on('end', () => resolve(out));
    sock.on('error', (e) => (out ? resolve(out) : reject(e)));
    sock.setTimeout(10_000, () => { sock.destroy(); reject(new Error(`no answer to ${JSON.stringify(data.slice(0, 40))}`)); });
    sock.write(data);
  });
  const cases = [
    ['not HTTP', 'GARBAGE\r\n\r\n', 400],
    ['bad chunk', 'POST /api/v2/conversations HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
    ['bad Content-Length', 'POST /oauth/token HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n', 400],
    ['NUL in header', 'GET /healthz HTTP/1.1\r\nHost: x\r\nX-A: a\u0000b\r\n\r\n', 400],
  ];
  for (const [name, data, status] of cases) {
    const out = await raw(data);
    const [head, body] = out.split('\r\n\r\n');
    assert.match(head, new RegExp(`^HTTP/1.1 ${status} `), `${name}: ${out.slice(0, 200)}`);
    const json = JSON.parse(body);
    assert.equal(json.status, status, name);
    assert.equal(json.code, 'bad.request', name);
    assert.match(head, new RegExp(`X-Context-Id: ${json.contextId}`, 'i'), name);
  }
  assert.equal((await api(srv.url, 'GET', '/healthz')).status, 200, 'still alive');
});

t('unknown endpoints and methods get the error body too', async () => {
  const nf = await api(srv.url, 'GET', '/api/v2/nothing-here', { token: admin });
  assertErrorBody(nf, 404, 'not.found', 'unknown path');
  const na = await api(srv.url, 'DELETE', '/api/v2/conversations', { token: admin });
  assertErrorBody(na, 405, 'method.not.allowed', 'wrong method');
  assert.match(na.headers.get('allow') ?? '', /GET/);
});

// ------------------------------------------------------------------ operation

t('listen.json names the bound HTTP and SIP addresses (docs/api.md §9)', async () => {
  const listen = JSON.parse(readFileSync(join(srv.dataDir, 'listen.json'), 'utf8'));
  assert.match(listen.http, /^127\.0\.0\.1:\d+$/);
  assert.equal(`http://${listen.http}`, srv.url);
  assert.equal(listen.scheme, 'http', 'no --tls-cert: plain HTTP');
  assert.match(listen.metrics ?? '', /^127\.0\.0\.1:[1-9]\d*$/, 'the --metrics-listen address actually bound');
  // Started with --sip-listen 127.0.0.1:0: the port actually bound, not 0.
  assert.match(listen.sip ?? '', /^127\.0\.0\.1:[1-9]\d*$/, `listen.json must name the bound SIP address: ${JSON.stringify(listen)}`);
});

t('healthz, readyz, metrics, openapi.json and dev-credentials.json', async () => {
  const h = await api(srv.url, 'GET', '/healthz');
  assert.equal(h.status, 200, h.text);
  assert.match(h.headers.get('x-context-id') ?? '', UUID_RE, 'every response carries X-Context-Id');
  const r = await api(srv.url, 'GET', '/readyz');
  assert.equal(r.status, 200, r.text);
  const m = await api(srv.url, 'GET', '/metrics', { token: admin });  // organization:metrics:view
  assert.equal(m.status, 200);
  assert.match(m.headers.get('content-type') ?? '', /^text\/plain/);
  assert.match(m.text, /^verbatim_http_requests_total\{[^}]*\} \d+/m);
  assert.match(m.text, /^# TYPE verbatim_http_requests_total counter$/m);
  const o = await api(srv.url, 'GET', '/api/v2/openapi.json');
  assert.equal(o.status, 200);
  assert.match(o.json.openapi, /^3\.1\./);

  // docs/api.md §9: dev-credentials.json, mode 0600, with this shape.
  const path = join(srv.dataDir, 'dev-credentials.json');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  const creds = JSON.parse(readFileSync(path, 'utf8'));
  for (const k of ['admin', 'crmIntegration']) {
    assert.match(creds[k].clientId, UUID_RE);
    assert.equal(typeof creds[k].clientSecret, 'string');
  }
  assert.match(creds.conversationId, UUID_RE);
  const conv = await api(srv.url, 'GET', `/api/v2/conversations/${creds.conversationId}`, { token: admin });
  assert.equal(conv.status, 200, conv.text);
  assert.equal(conv.json.state, 'connected');
});

// ------------------------------------------------------------------ introspection for humans

t('GET /api/v2/tokens/me: effective permissions are roles ∩ scopes', async () => {
  const c = await createClient(srv, admin, {
    name: 'me-client', allowedScopes: ['recording:control', 'recording:write', 'recording:read'], roles: ['Recording Controller'],
  });
  const tok = await token(srv.url, c.id, c.clientSecret, 'recording:control recording:write');
  const res = await api(srv.url, 'GET', '/api/v2/tokens/me', { token: tok });
  assert.equal(res.status, 200, res.text);
  const m = res.json;
  assert.equal(m.principal.id, c.id);
  assert.equal(m.principal.name, 'me-client');
  assert.deepEqual([...m.scopes].sort(), ['recording:control', 'recording:write']);
  assert.deepEqual(m.roles.map((r) => r.name), ['Recording Controller']);
  assert.deepEqual([...m.effectivePermissions].sort(),
    ['recording:recording:pause', 'recording:recording:resume', 'recording:recording:start', 'recording:recording:stop']);
  assert.deepEqual(m.scopeUnlocks['recording:write'], ['recording:recording:edit']);
  assert.ok(m.grantedByRolesButNotByScopes.includes('recording:recording:view'));
  assert.ok(m.unlockedByScopesButNotByRoles.includes('recording:recording:edit'));
  assert.ok(Date.parse(m.expiresAt) > Date.now());
  assertErrorBody(await api(srv.url, 'GET', '/api/v2/tokens/me'), 401, 'token.missing', 'me without token');
});

t('POST /api/v2/authorization/check: own token, other principals, method+path, and predictions without side effects', async () => {
  const crm = srv.creds.crmIntegration;
  const writeTok = await token(srv.url, crm.clientId, crm.clientSecret, 'recording:write');
  const ctlTok = await token(srv.url, crm.clientId, crm.clientSecret, 'recording:control recording:write');
  const conv = await createConversation(srv, admin);
  const startPath = `/api/v2/recordings/conversations/${conv}/actions/start`;
  const check = (tok, body) => api(srv.url, 'POST', '/api/v2/authorization/check', { token: tok, body });

  // Own token, by action.
  const own = await check(writeTok, { action: 'recording:recording:start', resource: `conversation/${conv}` });
  assert.equal(own.status, 200, own.text);
  assert.equal(own.json.decision, 'deny');
  assert.equal(own.json.status, 403);
  assert.equal(own.json.code, 'missing.scope');
  assert.equal(layersOf(own.json).scope.result, 'fail');
  assert.deepEqual(own.json.explanation.fix, ["Request a new token with scope 'recording:control': this client is allowed to request it."]);

  // Method + path resolves the route.
  const route = await check(writeTok, { method: 'POST', path: startPath });
  assert.equal(route.status, 200, route.text);
  assert.equal(route.json.explanation.action, 'recording:recording:start');
  assert.equal(route.json.explanation.resource, `conversation/${conv}`);
  assert.equal(route.json.code, 'missing.scope');
  const allowed = await check(ctlTok, { method: 'POST', path: startPath });
  assert.equal(allowed.json.decision, 'allow', allowed.text);

  // Another principal needs admin.
  const nosy = await check(ctlTok, { principal: srv.creds.admin.clientId, action: 'recording:recording:start', resource: `conversation/${conv}` });
  assert.equal(nosy.status, 403, nosy.text);
  assert.ok(['missing.scope', 'missing.permission', 'missing.permissions'].includes(nosy.json.code), nosy.text);
  const nosyToken = await check(ctlTok, { token: admin, method: 'POST', path: startPath });
  assert.equal(nosyToken.status, 403, nosyToken.text);

  const byAdmin = await check(admin, { principal: crm.clientId, action: 'recording:recording:start', resource: `conversation/${conv}` });
  assert.equal(byAdmin.status, 200, byAdmin.text);
  assert.equal(byAdmin.json.explanation.principal.id, crm.clientId);
  assert.equal(byAdmin.json.explanation.principal.name, 'crm-integration');
  const byAdminTok = await check(admin, { token: writeTok, method: 'POST', path: startPath });
  assert.equal(byAdminTok.status, 200, byAdminTok.text);
  assert.equal(byAdminTok.json.code, 'missing.scope');
  assert.equal(byAdminTok.json.explanation.principal.id, crm.clientId);

  // A stopped recording: pause is predicted as 409, start as allowed; nothing changes.
  for (const a of ['start', 'stop']) assert.equal((await api(srv.url, 'POST', `/api/v2/recordings/conversations/${conv}/actions/${a}`, { token: ctlTok })).status, 200);
  const before = await api(srv.url, 'GET', `/api/v2/recordings/conversations/${conv}`, { token: admin });
  const pause = await check(ctlTok, { method: 'POST', path: `/api/v2/recordings/conversations/${conv}/actions/pause` });
  assert.equal(pause.status, 200, pause.text);
  assert.equal(pause.json.decision, 'deny');
  assert.equal(pause.json.status, 409);
  assert.equal(pause.json.code, 'recording.invalid.transition');
  assert.deepEqual(layersOf(pause.json).resource.allowedActions, ['start']);
  const restart = await check(ctlTok, { method: 'POST', path: startPath });
  assert.equal(restart.json.decision, 'allow', restart.text);
  const after = await api(srv.url, 'GET', `/api/v2/recordings/conversations/${conv}`, { token: admin });
  assert.deepEqual(after.json, before.json, 'the simulator has no side effects');
  assert.equal(after.json.state, 'stopped');

  // Unknown conversation and ended conversation.
  const unknown = await check(ctlTok, { method: 'POST', path: '/api/v2/recordings/conversations/0b7f3c1e-5d2a-4e8b-9c6f-1a2b3c4d5e6f/actions/start' });
  assert.equal(unknown.json.code, 'conversation.not.found', unknown.text);
  await api(srv.url, 'POST', `/api/v2/conversations/${conv}/disconnect`, { token: admin });
  const ended = await check(ctlTok, { method: 'POST', path: startPath });
  assert.equal(ended.json.code, 'conversation.ended', ended.text);
  assert.equal(ended.json.status, 409);

  // Bad simulator input.
  assertErrorBody(await check(ctlTok, { method: 'POST' }), 400, 'bad.request', 'method without path');
  assertErrorBody(await check(ctlTok, { method: 'POST', path: '/nowhere' }), 400, 'bad.request', 'no such route');
  assertErrorBody(await check(ctlTok, { action: 'recording:recording:start', bogus: 1 }), 400, 'bad.request', 'unknown field');
});

// ------------------------------------------------------------------ audit

t('audit list: filters by conversationId, decision, principal, since; pages with nextCursor', async () => {
  const crm = srv.creds.crmIntegration;
  const writeTok = await token(srv.url, crm.clientId, crm.clientSecret, 'recording:write');
  const ctlTok = await token(srv.url, crm.clientId, crm.clientSecret, 'recording:control');
  const conv = await createConversation(srv, admin);
  const other = await createConversation(srv, admin);
  const ctx = (r) => r.headers.get('x-context-id');
  const events = [];
  events.push({ r: await api(srv.url, 'POST', `/api/v2/recordings/conversations/${other}/actions/start`, { token: ctlTok }), conv: other, decision: 'allow' });
  events.push({ r: await api(srv.url, 'POST', `/api/v2/recordings/conversations/${conv}/actions/start`, { token: ctlTok }), conv, decision: 'allow' });
  events.push({ r: await api(srv.url, 'POST', `/api/v2/recordings/conversations/${conv}/actions/pause`, { token: ctlTok }), conv, decision: 'allow' });
  events.push({ r: await api(srv.url, 'POST', `/api/v2/recordings/conversations/${conv}/actions/stop`, { token: writeTok }), conv, decision: 'deny' });
  events.push({ r: await api(srv.url, 'POST', `/api/v2/recordings/conversations/${conv}/actions/stop`, { token: ctlTok }), conv, decision: 'allow' });
  const list = async (q) => {
    const r = await api(srv.url, 'GET', `/api/v2/audit/events?${q}`, { token: admin });
    assert.equal(r.status, 200, `${q}: ${r.text}`);
    return r.json;
  };

  const byConv = await list(`conversationId=${conv}&pageSize=200`);
  assert.ok(byConv.entities.every((e) => e.conversationId === conv), 'conversationId filter');
  for (const e of events.filter((x) => x.conv === conv && x.decision === 'allow')) {
    assert.ok(byConv.entities.some((x) => x.contextId === ctx(e.r)), `${ctx(e.r)} listed for its conversation`);
  }
  assert.ok(!byConv.entities.some((x) => x.contextId === ctx(events[0].r)), 'other conversations are not listed');

  const denies = await list('decision=deny&pageSize=200');
  assert.ok(denies.entities.length >= 1);
  assert.ok(denies.entities.every((e) => e.decision === 'deny'));
  assert.ok(denies.entities.some((e) => e.contextId === ctx(events[3].r)));
  const allows = await list('decision=allow&pageSize=200');
  assert.ok(allows.entities.every((e) => e.decision === 'allow'));

  const byPrincipal = await list(`principal=${crm.clientId}&pageSize=200`);
  assert.ok(byPrincipal.entities.length >= events.length);
  assert.ok(byPrincipal.entities.every((e) => e.principal.id === crm.clientId), 'principal filter');
  for (const e of events) assert.ok(byPrincipal.entities.some((x) => x.contextId === ctx(e.r)));

  const pivot = byPrincipal.entities.find((x) => x.contextId === ctx(events[2].r));
  const since = await list(`since=${encodeURIComponent(pivot.at)}&principal=${crm.clientId}&pageSize=200`);
  assert.ok(since.entities.every((e) => Date.parse(e.at) >= Date.parse(pivot.at)), 'since filter');
  for (const e of events.slice(2)) assert.ok(since.entities.some((x) => x.contextId === ctx(e.r)), 'later events included');
  for (const e of byPrincipal.entities.filter((x) => Date.parse(x.at) < Date.parse(pivot.at))) {
    assert.ok(!since.entities.some((x) => x.contextId === e.contextId), 'earlier events excluded');
  }
  // The same instant written with a UTC offset (RFC 3339) selects the same events.
  const shifted = new Date(Date.parse(pivot.at) + 2 * 3600_000).toISOString().replace('Z', '+02:00');
  const sinceOffset = await list(`since=${encodeURIComponent(shifted)}&principal=${crm.clientId}&pageSize=200`);
  assert.deepEqual(sinceOffset.entities.map((e) => e.contextId), since.entities.map((e) => e.contextId), `since=${shifted}`);

  // Paging: pageSize 2, follow nextCursor to the end; same events, no duplicates, newest first.
  const all = byPrincipal.entities.map((e) => e.contextId);
  const paged = [];
  let cursor = null;
  let pages = 0;
  do {
    const page = await list(`principal=${crm.clientId}&pageSize=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    assert.ok(page.entities.length <= 2);
    paged.push(...page.entities);
    cursor = page.nextCursor;
    pages++;
    assert.ok(pages < 100, 'paging terminates');
  } while (cursor);
  assert.ok(pages >= 3, `several pages (${pages})`);
  assert.deepEqual(paged.map((e) => e.contextId), all, 'pages concatenate to the full list');
  assert.equal(new Set(paged.map((e) => e.contextId)).size, paged.length, 'no duplicates');
  for (let i = 1; i < paged.length; i++) assert.ok(Date.parse(paged[i - 1].at) >= Date.parse(paged[i].at), 'newest first');

  for (const q of ['decision=maybe', 'since=yesterday', 'conversationId=abc', 'cursor=garbage', 'pageSize=0']) {
    const r = await api(srv.url, 'GET', `/api/v2/audit/events?${q}`, { token: admin });
    assertErrorBody(r, 400, 'bad.request', q);
  }
  // Reading the audit log needs audit:read.
  assertErrorBody(await api(srv.url, 'GET', '/api/v2/audit/events', { token: ctlTok }), 403, 'missing.permissions', 'audit without scope or role');
  // One event, by contextId, carries the full explanation.
  const one = await api(srv.url, 'GET', `/api/v2/audit/events/${ctx(events[3].r)}`, { token: admin });
  assert.equal(one.status, 200, one.text);
  assert.equal(one.json.code, 'missing.scope');
  assert.equal(one.json.layer, 'scope');
  assert.equal(one.json.explanation.decision, 'deny');
  assertErrorBody(await api(srv.url, 'GET', '/api/v2/audit/events/0b7f3c1e-5d2a-4e8b-9c6f-1a2b3c4d5e6f', { token: admin }), 404, 'audit.not.found', 'unknown contextId');
});

t('logs are JSON lines with contextId and never contain secrets or tokens (docs/api.md §9)', async () => {
  const logged = await startServer({ logLevel: 'debug' });
  try {
    const c = logged.creds.crmIntegration;
    const a = logged.creds.admin;
    // Secrets travel in a Basic header, in a form body and in a query string; tokens in headers and bodies.
    const tok = await token(logged.url, c.clientId, c.clientSecret, 'recording:write');
    await postForm(logged.url, '/oauth/token', { grant_type: 'client_credentials', client_id: a.clientId, client_secret: a.clientSecret });
    await postForm(logged.url, '/oauth/token', { grant_type: 'client_credentials', client_id: c.clientId, client_secret: 'wrong-secret-value-xyz' });
    await api(logged.url, 'GET', `/api/v2/tokens/me?access_token=${tok}&client_secret=${c.clientSecret}`, { token: tok });
    await postForm(logged.url, '/oauth/introspect', { token: tok }, { authorization: basic(c.clientId, c.clientSecret) });
    const denied = await api(logged.url, 'POST', `/api/v2/recordings/conversations/${logged.creds.conversationId}/actions/start`, { token: tok });
    assert.equal(denied.status, 403);
    const created = await api(logged.url, 'POST', '/api/v2/oauth/clients', {
      token: await token(logged.url, a.clientId, a.clientSecret), body: { name: 'logged', allowedScopes: [] },
    });
    assert.equal(created.status, 201);
    const exit = await logged.stop('SIGTERM');
    assert.equal(exit.code, 0);

    const lines = logged.stderr.split('\n').filter((l) => l.trim() !== '');
    assert.ok(lines.length > 0, 'the server logged something at debug level');
    const parsed = lines.map((l) => {
      try { return JSON.parse(l); } catch { assert.fail(`log line is not JSON: ${l}`); }
      return null;
    });
    assert.ok(parsed.some((l) => l.contextId === denied.json.contextId), 'the denial is logged with its contextId');
    for (const l of parsed.filter((x) => x.msg === 'request')) assert.match(l.contextId ?? '', UUID_RE, JSON.stringify(l));
    const secrets = [c.clientSecret, a.clientSecret, created.json.clientSecret, 'wrong-secret-value-xyz', tok, tok.split('.')[2]];
    for (const s of secrets) {
      assert.ok(!logged.stderr.includes(s), `a secret or token appears in the log: ${s.slice(0, 10)}…`);
      assert.ok(!logged.stdout.includes(s), `a secret or token appears on stdout: ${s.slice(0, 10)}…`);
    }
  } finally {
    await logged.dispose();
  }
});

t('docs/api.md §7: serve --dev writes the AudioHook integration to dev-credentials.json; integrations are admin-managed', async () => {
  const creds = JSON.parse(readFileSync(join(srv.dataDir, 'dev-credentials.json'), 'utf8'));
  assert.equal(creds.audiohook?.path, '/api/v2/media/audiohook', JSON.stringify(Object.keys(creds)));
  assert.equal(typeof creds.audiohook.apiKey, 'string');
  assert.equal(typeof creds.audiohook.clientSecret, 'string');
  const list = await api(srv.url, 'GET', '/api/v2/media/integrations', { token: admin });
  assert.equal(list.status, 200, list.text);
  assert.ok(!list.text.includes(creds.audiohook.clientSecret), 'the integration secret is shown once only');
  const crm = srv.creds.crmIntegration;
  const noAdmin = await api(srv.url, 'GET', '/api/v2/media/integrations', { token: await token(srv.url, crm.clientId, crm.clientSecret) });
  assert.equal(noAdmin.status, 403, noAdmin.text);
});

t('audit list: a filter that cannot be decoded is a 400, never silently dropped', async () => {
  // Dropping it would answer with the unfiltered log, e.g. every principal's events.
  const dropped = [];
  for (const q of ['principal=%ZZ', 'conversationId=%ZZ', 'decision=%ZZ', 'since=%ZZ', 'pageSize=%ZZ', 'cursor=%ZZ']) {
    const r = await api(srv.url, 'GET', `/api/v2/audit/events?${q}`, { token: admin });
    if (r.status !== 400) dropped.push(`${q} → ${r.status} with ${r.json?.entities?.length} entities`);
    else assertErrorBody(r, 400, 'bad.request', q);
  }
  assert.deepEqual(dropped, [], 'undecodable filters must be refused');
});
