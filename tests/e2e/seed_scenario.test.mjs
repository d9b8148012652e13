// docs/api.md §10, the acceptance scenario, step by step against a fresh dev server.
//
// Token expiry (step 6 "expired") is not forged here: tokens live at least 60 s
// plus 60 s of leeway and the suite cannot wait that long or sign tokens itself.
// token.expired is covered by the unit tests in tests/unit/oauth (verification
// with an injected clock).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import {
  startServer, token, api, postForm, basic, assertErrorBody, layersOf, parseJwt, b64url,
  adminToken, loggedTest,
} from './lib/server.mjs';

let srv;
let other; // a second server: its tokens are signed with a different key
const t = loggedTest(test, () => [srv, other]);

// Every step's contextId with what the response said, for step 7.
const steps = [];
function remember(step, res, { decision, code }) {
  const header = res.headers.get('x-context-id');
  assert.ok(header, `${step}: X-Context-Id header missing`);
  if (res.json && typeof res.json.contextId === 'string') {
    assert.equal(res.json.contextId, header, `${step}: body contextId must equal X-Context-Id`);
  }
  steps.push({ step, contextId: header, status: res.status, decision, code, body: res.json });
}

const ROLE_CONTROLLER = 'Recording Controller';
const GRANTING_START = ['Recording Administrator', 'Recording Controller', 'System Administrator'];

let admin; // admin token (all scopes)
let conversationId;
let crm; // the client created in step 1: {id, clientSecret}
let crmControlToken; // a recording:control token (step 4's, still valid after the role returns)
const startPath = () => `/api/v2/recordings/conversations/${conversationId}/actions/start`;

before(async () => {
  srv = await startServer();
  admin = await adminToken(srv);
  conversationId = srv.creds.conversationId;
});

after(async () => {
  await srv?.dispose();
  await other?.dispose();
});

t('step 1: admin creates client crm-integration (recording:write recording:control conversation:read, Recording Controller)', async () => {
  const res = await api(srv.url, 'POST', '/api/v2/oauth/clients', {
    token: admin,
    body: {
      name: 'crm-integration',
      allowedScopes: ['recording:write', 'recording:control', 'conversation:read'],
      allowedGrantTypes: ['client_credentials'],
      roles: [ROLE_CONTROLLER],
      accessTokenValiditySeconds: 3600,
    },
  });
  assert.equal(res.status, 201, res.text);
  assert.equal(res.json.name, 'crm-integration');
  assert.deepEqual(res.json.allowedScopes, ['recording:write', 'recording:control', 'conversation:read']);
  assert.deepEqual(res.json.roles.map((r) => r.name), [ROLE_CONTROLLER]);
  assert.equal(typeof res.json.clientSecret, 'string');
  assert.ok(res.json.clientSecret.length >= 43, 'secret carries >= 256 bits (43 base64url chars)');
  crm = res.json;
  remember('1 create client', res, { decision: 'allow', code: null });
});

t('step 2: a recording:write token cannot start: 403 missing.scope, fix = request recording:control', async () => {
  const tok = await token(srv.url, crm.id, crm.clientSecret, 'recording:write');
  assert.equal(parseJwt(tok).payload.scope, 'recording:write');
  const res = await api(srv.url, 'POST', startPath(), { token: tok });
  const body = assertErrorBody(res, 403, 'missing.scope', 'step 2');
  remember('2 start with recording:write', res, { decision: 'deny', code: 'missing.scope' });

  const wwwAuth = res.headers.get('www-authenticate') ?? '';
  assert.match(wwwAuth, /^Bearer /, wwwAuth);
  assert.match(wwwAuth, /error="insufficient_scope"/, wwwAuth);
  assert.match(wwwAuth, /scope="recording:control"/, wwwAuth);

  assert.equal(body.messageParams.scope, 'recording:control');
  assert.equal(body.messageParams.action, 'start a recording');
  assert.match(body.message, /recording:control/);
  // It says that recording:write only covers recording metadata.
  assert.match(body.message, /recording:write[^.]*only[^.]*metadata/);

  const e = body.explanation;
  assert.equal(e.decision, 'deny');
  assert.equal(e.action, 'recording:recording:start');
  assert.equal(e.resource, `conversation/${conversationId}`);
  assert.deepEqual(e.principal, { type: 'client', id: crm.id, name: 'crm-integration', roles: [ROLE_CONTROLLER] });
  const L = layersOf(body);
  assert.equal(L.token.result, 'pass');
  assert.equal(L.scope.result, 'fail');
  assert.deepEqual(L.scope.required, ['recording:control']);
  assert.deepEqual(L.scope.granted, ['recording:write']);
  assert.equal(L.permission.result, 'pass');
  assert.equal(L.permission.grantedBy, ROLE_CONTROLLER);
  assert.equal(L.resource.result, 'not-evaluated');

  // One change fixes it: a new token (not a new role), which this client may request.
  assert.deepEqual(e.fix, ["Request a new token with scope 'recording:control': this client is allowed to request it."]);
});

t('step 3: a recording:control token starts the recording: 200, state active', async () => {
  const tok = await token(srv.url, crm.id, crm.clientSecret, 'recording:control');
  const res = await api(srv.url, 'POST', startPath(), { token: tok, body: { reason: 'seed step 3' } });
  assert.equal(res.status, 200, res.text);
  remember('3 start with recording:control', res, { decision: 'allow', code: null });
  assert.equal(res.json.conversationId, conversationId);
  assert.equal(res.json.state, 'active');
  assert.equal(res.json.changed, true);
  assert.equal(res.json.segment.index, 1);
  assert.equal(res.json.segment.endedAt, null);
  const tr = res.json.transition;
  assert.equal(tr.action, 'start');
  assert.equal(tr.from, 'none');
  assert.equal(tr.to, 'active');
  assert.equal(tr.seq, 1);
  assert.equal(tr.reason, 'seed step 3');
  assert.deepEqual(tr.principal, { type: 'client', id: crm.id, name: 'crm-integration' });
  assert.equal(tr.contextId, res.headers.get('x-context-id'));
  assert.ok(!Number.isNaN(Date.parse(tr.at)), `transition.at is a time: ${tr.at}`);
});

t('step 4: role removed, new token: 403 missing.permission naming the permission and the granting roles', async () => {
  const patch = await api(srv.url, 'PATCH', `/api/v2/oauth/clients/${crm.id}`, { token: admin, body: { roles: [] } });
  assert.equal(patch.status, 200, patch.text);
  assert.deepEqual(patch.json.roles, []);

  crmControlToken = await token(srv.url, crm.id, crm.clientSecret, 'recording:control');
  const res = await api(srv.url, 'POST', startPath(), { token: crmControlToken });
  const body = assertErrorBody(res, 403, 'missing.permission', 'step 4');
  remember('4 start without role', res, { decision: 'deny', code: 'missing.permission' });

  assert.ok(!/insufficient_scope/.test(res.headers.get('www-authenticate') ?? ''),
    'a role problem must not be reported as insufficient_scope');
  assert.match(body.message, /recording:recording:start/);
  for (const role of GRANTING_START) assert.ok(body.message.includes(role), `message names ${role}: ${body.message}`);
  assert.match(body.message, /new token will not help/i);
  assert.equal(body.messageParams.permission, 'recording:recording:start');

  const L = layersOf(body);
  assert.equal(L.token.result, 'pass');
  assert.equal(L.scope.result, 'pass');
  assert.deepEqual(L.scope.granted, ['recording:control']);
  assert.equal(L.permission.result, 'fail');
  assert.deepEqual(L.permission.required, ['recording:recording:start']);
  assert.deepEqual(L.permission.granted, []);
  assert.deepEqual([...L.permission.grantingRoles].sort(), GRANTING_START);
  assert.equal(L.resource.result, 'not-evaluated');
  assert.deepEqual(body.explanation.principal.roles, []);

  assert.equal(body.explanation.fix.length, 1, JSON.stringify(body.explanation.fix));
  const fix = body.explanation.fix[0];
  assert.match(fix, /recording:recording:start/);
  for (const role of GRANTING_START) assert.ok(fix.includes(role), `fix names ${role}: ${fix}`);
  assert.match(fix, /new token will not help/i);
});

t('step 5: conversation disconnected, start: 409 conversation.ended with endedAt', async () => {
  // Give the role back: the step-4 token works again at once (roles are evaluated per request),
  // so the only thing left in the way is the conversation's end.
  const patch = await api(srv.url, 'PATCH', `/api/v2/oauth/clients/${crm.id}`, { token: admin, body: { roles: [ROLE_CONTROLLER] } });
  assert.equal(patch.status, 200, patch.text);

  const disc = await api(srv.url, 'POST', `/api/v2/conversations/${conversationId}/disconnect`, { token: admin });
  assert.equal(disc.status, 200, disc.text);
  assert.equal(disc.json.state, 'disconnected');
  const endedAt = disc.json.endedAt;
  assert.ok(!Number.isNaN(Date.parse(endedAt)), `endedAt: ${endedAt}`);
  remember('5a disconnect', disc, { decision: 'allow', code: null });

  const res = await api(srv.url, 'POST', startPath(), { token: crmControlToken });
  const body = assertErrorBody(res, 409, 'conversation.ended', 'step 5');
  remember('5b start after disconnect', res, { decision: 'deny', code: 'conversation.ended' });
  assert.equal(body.messageParams.endedAt, endedAt);
  assert.equal(body.messageParams.conversationId, conversationId);
  const L = layersOf(body);
  assert.equal(L.token.result, 'pass');
  assert.equal(L.scope.result, 'pass');
  assert.equal(L.permission.result, 'pass');
  assert.equal(L.resource.result, 'fail');
  assert.equal(L.resource.code, 'conversation.ended');
  assert.equal(L.resource.endedAt, endedAt);
  assert.ok(body.explanation.fix.length >= 1);

  // The active recording of step 3 was finalized by the disconnect.
  const rec = await api(srv.url, 'GET', `/api/v2/recordings/conversations/${conversationId}`, { token: admin });
  assert.equal(rec.status, 200, rec.text);
  assert.equal(rec.json.state, 'stopped');
  assert.ok(rec.json.segments.every((s) => s.endedAt !== null), JSON.stringify(rec.json.segments));
});

t('step 6: garbage / alg=none / wrong-key / tampered / revoked / missing tokens: 401 with the matching token.* code', async () => {
  other = await startServer();
  const good = await token(srv.url, crm.id, crm.clientSecret, 'recording:control');
  const jwt = parseJwt(good);
  const [h, p, s] = good.split('.');

  const cases = [];
  cases.push({ name: 'garbage', tok: 'this-is-not-a-token', code: 'token.malformed' });
  cases.push({ name: 'garbage with dots', tok: 'a.b.c', code: 'token.malformed' });
  cases.push({ name: 'alg=none', tok: `${b64url({ ...jwt.header, alg: 'none' })}.${p}.`, code: 'token.signature', claim: 'alg' });
  cases.push({ name: 'alg=HS256 (key confusion)', tok: `${b64url({ ...jwt.header, alg: 'HS256' })}.${p}.${s}`, code: 'token.signature', claim: 'alg' });
  cases.push({
    name: 'payload altered (scope widened)',
    tok: `${h}.${b64url({ ...jwt.payload, scope: 'recording:control admin' })}.${s}`,
    code: 'token.signature',
    claim: 'signature',
  });
  // Signed with a key of our own under this server's kid: the signature does not verify.
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const forgedSig = sign('sha256', Buffer.from(`${h}.${p}`), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url');
  cases.push({ name: 'signed with a foreign key under our kid', tok: `${h}.${p}.${forgedSig}`, code: 'token.signature', claim: 'signature' });
  const foreign = await token(other.url, other.creds.crmIntegration.clientId, other.creds.crmIntegration.clientSecret, 'recording:control');
  cases.push({ name: 'signed by another server (wrong key)', tok: foreign, code: 'token.signature', claim: 'kid' });

  const revoked = await token(srv.url, crm.id, crm.clientSecret, 'recording:control');
  const rv = await postForm(srv.url, '/oauth/revoke', { token: revoked }, { authorization: basic(crm.id, crm.clientSecret) });
  assert.equal(rv.status, 200, rv.text);
  cases.push({ name: 'revoked', tok: revoked, code: 'token.revoked', claim: 'jti' });
  cases.push({ name: 'missing', tok: undefined, code: 'token.missing' });

  for (const c of cases) {
    const res = await api(srv.url, 'POST', startPath(), { token: c.tok });
    const body = assertErrorBody(res, 401, c.code, `step 6 ${c.name}`);
    remember(`6 ${c.name}`, res, { decision: 'deny', code: c.code });
    const wwwAuth = res.headers.get('www-authenticate') ?? '';
    assert.match(wwwAuth, /^Bearer /, `${c.name}: ${wwwAuth}`);
    assert.match(wwwAuth, /error="invalid_token"/, `${c.name}: ${wwwAuth}`);
    const L = layersOf(body);
    assert.equal(L.token.result, 'fail', c.name);
    assert.equal(L.token.code, c.code, c.name);
    if (c.claim) assert.equal(L.token.claim, c.claim, `${c.name}: the field that was wrong`);
    for (const later of ['scope', 'permission', 'resource']) assert.equal(L[later].result, 'not-evaluated', `${c.name}: ${later}`);
    assert.equal(body.explanation.principal, null, c.name);
    assert.ok(body.explanation.fix.length >= 1, `${c.name}: a fix is given`);
    // No secret or token is echoed back.
    const sig = c.tok?.split('.')[2];
    if (sig && sig.length > 20) assert.ok(!res.text.includes(sig), `${c.name}: token signature echoed`);
    assert.ok(!res.text.includes(crm.clientSecret), `${c.name}: secret echoed`);
  }
});

t('step 7: every step is in the audit log under its contextId, with the same decision and code', async () => {
  assert.ok(steps.length >= 13, `steps recorded: ${steps.map((s) => s.step).join(', ')}`);
  for (const s of steps) {
    const res = await api(srv.url, 'GET', `/api/v2/audit/events/${s.contextId}`, { token: admin });
    assert.equal(res.status, 200, `${s.step}: ${res.text}`);
    const ev = res.json;
    assert.equal(ev.contextId, s.contextId, s.step);
    assert.equal(ev.decision, s.decision, `${s.step}: decision`);
    assert.equal(ev.code, s.code, `${s.step}: code`);
    assert.equal(ev.status, s.status, `${s.step}: status`);
    if (s.decision === 'deny' && s.body?.explanation) {
      // The stored explanation replays the denial exactly.
      assert.deepEqual(ev.explanation.layers, s.body.explanation.layers, `${s.step}: stored layers`);
      assert.deepEqual(ev.explanation.fix, s.body.explanation.fix, `${s.step}: stored fix`);
    }
  }
  // And the conversation's audit trail (docs/api.md §6, ?conversationId=) lists steps 2 to 5, denials
  // included: support looks up "why was my start on conversation X refused?" by X.
  const list = await api(srv.url, 'GET', `/api/v2/audit/events?conversationId=${conversationId}&pageSize=200`, { token: admin });
  assert.equal(list.status, 200, list.text);
  const ids = new Set(list.json.entities.map((e) => e.contextId));
  const missing = steps.filter((x) => /^[2-5]/.test(x.step) && !ids.has(x.contextId)).map((x) => `${x.step} (${x.code ?? 'allow'})`);
  assert.deepEqual(missing, [], `steps missing from GET /api/v2/audit/events?conversationId=${conversationId}`);
});
