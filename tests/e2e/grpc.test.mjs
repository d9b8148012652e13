// docs/grpc.md: the gRPC API against a real `verbatim serve`, with a real
// grpc-js client. The acceptance story of docs/api.md §10 over gRPC (wrong
// scope, missing role, ended conversation, bad tokens), the success path of
// every RPC, Watch, the audit trail of gRPC calls, health, reflection, TLS, and
// bad input (oversized and malformed messages, a watcher that never reads).
//
// Reflection is tested here with a minimal v1alpha reflection.proto of the
// harness (tests/e2e/lib/proto), which is wire compatible with the published
// one: list_services and file_containing_symbol.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import {
  startServer, token, api, postForm, basic, parseJwt, b64url, adminToken, createClient, createConversation,
  loggedTest, waitFor, UUID_RE,
} from './lib/server.mjs';
import {
  grpc, Code, grpcClients, bearer, unaryError, decodeStatusDetails, grpcLayers, codeName, collectStream, reflect,
  decodeMessage,
} from './lib/grpc.mjs';

let srv;
const t = loggedTest(test, () => srv);

let admin; // dev admin token, every scope
let ctl; // client: Recording Administrator; may request control/read/write
let ctlTok; // recording:control recording:read recording:write
let viewer; // client: Recording Viewer (no start permission)
let c; // gRPC clients calling with ctlTok
let adminC; // gRPC clients calling with the admin token
const UNKNOWN = '0b7f3c1e-5d2a-4e8b-9c6f-1a2b3c4d5e6f';
const clients = [];

function clientsFor(tok, options) {
  const x = grpcClients(srv, tok, options);
  clients.push(x);
  return x;
}

before(async () => {
  srv = await startServer();
  assert.match(srv.listen?.grpc ?? '', /^127\.0\.0\.1:\d+$/, `listen.json has the gRPC address: ${JSON.stringify(srv.listen)}`);
  admin = await adminToken(srv);
  ctl = await createClient(srv, admin, {
    name: 'grpc-controller',
    allowedScopes: ['recording:control', 'recording:read', 'recording:write', 'conversation:read'],
    roles: ['Recording Administrator'],
  });
  ctlTok = await token(srv.url, ctl.id, ctl.clientSecret, 'recording:control recording:read recording:write');
  viewer = await createClient(srv, admin, {
    name: 'grpc-viewer', allowedScopes: ['recording:control', 'recording:read'], roles: ['Recording Viewer'],
  });
  c = clientsFor(ctlTok);
  adminC = clientsFor(admin);
});

after(async () => {
  for (const x of clients) x.close();
  await srv?.dispose();
});

/**
 * Asserts a failed call: its status code, the google.rpc.Status trailer
 * (same code, same message as grpc-message), ErrorInfo (reason, domain,
 * metadata.code), RequestInfo (= ErrorInfo.metadata.contextId), Help, and
 * for a denial the Explanation (code, httpStatus, contextId, layers, fix), for
 * INVALID_ARGUMENT the BadRequest; returns the decoded details.
 */
function assertGrpcError(error, code, restCode, httpStatus, note = '') {
  const where = `${note}: ${error ? `${codeName(error.code)} ${error.details}` : 'the call succeeded'}`;
  assert.ok(error, where);
  assert.equal(codeName(error.code), codeName(code), where);
  const st = decodeStatusDetails(error);
  assert.ok(st, `${where}: no grpc-status-details-bin trailer`);
  assert.equal(st.code, error.code, `${where}: google.rpc.Status.code equals the call's status`);
  assert.equal(st.message, error.details, `${where}: google.rpc.Status.message equals grpc-message`);
  assert.ok(st.message.length > 0, `${where}: a human message`);
  const d = st.details;
  const info = d.ErrorInfo;
  assert.ok(info, `${where}: ErrorInfo detail (${st.typeUrls})`);
  assert.equal(info.reason, restCode.toUpperCase().replaceAll('.', '_'), `${where}: ErrorInfo.reason`);
  assert.equal(info.domain, 'verbatim', where);
  assert.equal(info.metadata.code, restCode, `${where}: ErrorInfo.metadata.code`);
  assert.equal(info.metadata.httpStatus, String(httpStatus), `${where}: ErrorInfo.metadata.httpStatus`);
  assert.match(info.metadata.contextId ?? '', UUID_RE, `${where}: ErrorInfo.metadata.contextId`);
  assert.ok(d.RequestInfo, `${where}: RequestInfo detail (${st.typeUrls})`);
  assert.equal(d.RequestInfo.requestId, info.metadata.contextId, `${where}: RequestInfo.requestId`);
  assert.ok(d.Help?.links?.length >= 1, `${where}: Help links (${st.typeUrls})`);
  for (const l of d.Help.links) assert.ok(l.url.length > 0 && l.description.length > 0, `${where}: Help link ${JSON.stringify(l)}`);
  if (code === Code.INVALID_ARGUMENT) {
    // Bad input is not a decision: no layers (REST answers an InputProblem); the
    // field and what was wrong with it are in BadRequest and ErrorInfo.metadata.
    const fv = d.BadRequest?.fieldViolations ?? [];
    assert.ok(fv.length >= 1, `${where}: BadRequest detail (${st.typeUrls})`);
    for (const v of fv) assert.ok(v.field.length > 0 && v.description.length > 0, `${where}: ${JSON.stringify(v)}`);
    assert.equal(info.metadata.field, fv[0].field, `${where}: ErrorInfo.metadata.field`);
    return d;
  }
  const ex = d.Explanation;
  assert.ok(ex, `${where}: Explanation detail (${st.typeUrls})`);
  assert.equal(ex.code, restCode, `${where}: Explanation.code`);
  assert.equal(ex.httpStatus, httpStatus, `${where}: Explanation.httpStatus`);
  assert.equal(ex.contextId, info.metadata.contextId, `${where}: Explanation.contextId`);
  assert.equal(ex.message, st.message, `${where}: Explanation.message`);
  assert.ok(ex.fix.length >= 1, `${where}: a fix`);
  assert.ok(ex.parsedJson && typeof ex.parsedJson === 'object', `${where}: Explanation.json is the REST explanation`);
  assert.deepEqual(ex.parsedJson.fix, ex.fix, `${where}: Explanation.json.fix = Explanation.fix`);
  assert.deepEqual(ex.parsedJson.layers.map((l) => [l.layer, l.result]), ex.layers.map((l) => [l.layer, l.result]), `${where}: json layers`);
  assert.deepEqual(ex.layers.map((l) => l.layer), ['token', 'scope', 'permission', 'resource'], `${where}: layer order`);
  return d;
}

/**
 * RecordingMetadata in the REST shape: retention_days is a proto3 `optional`
 * (absent = keep by policy, REST null), which proto-loader reports with a
 * `_retentionDays` oneof marker; an unset message is null.
 */
const meta = (m) => ({ labels: m?.labels ?? [], retentionDays: m?.retentionDays ?? null, notes: m?.notes ?? '' });

const results = (d) => Object.fromEntries(Object.entries(grpcLayers(d)).map(([k, v]) => [k, v.result]));

// Every call of this file that the audit test checks: {contextId, path, decision, code}.
const audited = [];

// ------------------------------------------------------------- the story

t('wrong scope: a recording:write token cannot Start: PERMISSION_DENIED, ErrorInfo names recording:control, scope layer failed', async () => {
  const id = await createConversation(srv, admin);
  const writeTok = await token(srv.url, ctl.id, ctl.clientSecret, 'recording:write');
  const { error } = await unaryError(c.raw.recordings, 'Start', { conversationId: id }, { metadata: bearer(writeTok) });
  const d = assertGrpcError(error, Code.PERMISSION_DENIED, 'missing.scope', 403, 'Start with recording:write');
  assert.equal(d.ErrorInfo.metadata.layer, 'scope');
  assert.deepEqual(d.ErrorInfo.metadata.requiredScopes.split(','), ['recording:control']);
  assert.deepEqual(d.ErrorInfo.metadata.grantedScopes.split(','), ['recording:write']);
  assert.equal(d.ErrorInfo.metadata.action, 'recording:recording:start');
  assert.equal(d.ErrorInfo.metadata.resource, `conversation/${id}`);
  assert.match(error.details, /recording:control/);
  assert.deepEqual(results(d), { token: 'pass', scope: 'fail', permission: 'pass', resource: 'not-evaluated' });
  const L = grpcLayers(d);
  assert.deepEqual(L.scope.required, ['recording:control']);
  assert.deepEqual(L.scope.granted, ['recording:write']);
  assert.equal(L.scope.code, 'missing.scope');
  assert.equal(L.permission.grantedBy, 'Recording Administrator');
  const ex = d.Explanation;
  assert.equal(ex.decision, 'deny');
  assert.equal(ex.action, 'recording:recording:start');
  assert.equal(ex.resource, `conversation/${id}`);
  assert.deepEqual({ ...ex.principal }, { type: 'client', id: ctl.id, name: 'grpc-controller' });
  assert.deepEqual(ex.principalRoles, ['Recording Administrator']);
  assert.deepEqual(ex.fix, ["Request a new token with scope 'recording:control': this client is allowed to request it."]);
  // The same denial over REST says the same thing.
  const rest = await api(srv.url, 'POST', `/api/v2/recordings/conversations/${id}/actions/start`, { token: writeTok });
  assert.equal(rest.status, 403, rest.text);
  assert.equal(rest.json.message, error.details, 'grpc-message is the REST message');
  assert.deepEqual(ex.parsedJson.layers, rest.json.explanation.layers, 'Explanation.json layers = REST explanation layers');
  // Nothing changed.
  assert.equal((await c.recordings.Get({ conversationId: id })).response.state, 'none');
  audited.push({ contextId: d.RequestInfo.requestId, path: '/verbatim.v1.Recordings/Start', decision: 'deny', code: 'missing.scope', status: 403 });
});

t('missing role: Recording Viewer with recording:control cannot Start: PERMISSION_DENIED, the permission layer failed', async () => {
  const id = await createConversation(srv, admin);
  const tok = await token(srv.url, viewer.id, viewer.clientSecret, 'recording:control');
  const { error } = await unaryError(c.raw.recordings, 'Start', { conversationId: id }, { metadata: bearer(tok) });
  const d = assertGrpcError(error, Code.PERMISSION_DENIED, 'missing.permission', 403, 'Start without a granting role');
  assert.equal(d.ErrorInfo.metadata.layer, 'permission');
  assert.deepEqual(d.ErrorInfo.metadata.requiredPermissions.split(','), ['recording:recording:start']);
  assert.deepEqual(results(d), { token: 'pass', scope: 'pass', permission: 'fail', resource: 'not-evaluated' });
  const L = grpcLayers(d);
  assert.deepEqual(L.permission.required, ['recording:recording:start']);
  assert.equal(L.permission.code, 'missing.permission');
  const fix = d.Explanation.fix.join(' ');
  assert.match(fix, /recording:recording:start/);
  for (const role of ['Recording Administrator', 'Recording Controller', 'System Administrator']) assert.ok(fix.includes(role), `fix names ${role}: ${fix}`);
  assert.match(fix, /new token will not help/i);
  audited.push({ contextId: d.RequestInfo.requestId, path: '/verbatim.v1.Recordings/Start', decision: 'deny', code: 'missing.permission', status: 403 });
});

t('ended conversation → FAILED_PRECONDITION conversation.ended; an invalid transition → FAILED_PRECONDITION with the allowed actions', async () => {
  const id = await createConversation(srv, admin);
  const inv = await unaryError(c.raw.recordings, 'Pause', { conversationId: id }, { metadata: bearer(ctlTok) });
  const di = assertGrpcError(inv.error, Code.FAILED_PRECONDITION, 'recording.invalid.transition', 409, 'Pause while none');
  assert.deepEqual(results(di), { token: 'pass', scope: 'pass', permission: 'pass', resource: 'fail' });
  assert.equal(grpcLayers(di).resource.code, 'recording.invalid.transition');
  assert.deepEqual(grpcLayers(di).resource.facts.allowedActions, ['start']);
  assert.equal(grpcLayers(di).resource.facts.state, 'none');
  assert.ok(di.PreconditionFailure?.violations?.length >= 1, `PreconditionFailure detail: ${JSON.stringify(di)}`);
  assert.equal(di.ErrorInfo.metadata.layer, 'resource');

  const disc = await adminC.conversations.Disconnect({ conversationId: id });
  assert.equal(disc.response.state, 'disconnected');
  const { error } = await unaryError(c.raw.recordings, 'Start', { conversationId: id }, { metadata: bearer(ctlTok) });
  const d = assertGrpcError(error, Code.FAILED_PRECONDITION, 'conversation.ended', 409, 'Start after disconnect');
  assert.deepEqual(results(d), { token: 'pass', scope: 'pass', permission: 'pass', resource: 'fail' });
  assert.equal(grpcLayers(d).resource.facts.endedAt, disc.response.endedAt);
  const v = d.PreconditionFailure?.violations ?? [];
  assert.ok(v.length >= 1, `PreconditionFailure detail: ${JSON.stringify(d)}`);
  assert.ok(v.some((x) => x.subject.includes(id)), `a violation names the conversation: ${JSON.stringify(v)}`);
  audited.push({ contextId: d.RequestInfo.requestId, path: '/verbatim.v1.Recordings/Start', decision: 'deny', code: 'conversation.ended', status: 409 });
});

t('unknown conversation → NOT_FOUND only after authorization; a bad id → INVALID_ARGUMENT with a BadRequest', async () => {
  for (const method of ['Start', 'Stop', 'Pause', 'Resume', 'Get']) {
    const { error } = await unaryError(c.raw.recordings, method, { conversationId: UNKNOWN }, { metadata: bearer(ctlTok) });
    const d = assertGrpcError(error, Code.NOT_FOUND, 'conversation.not.found', 404, `${method} unknown`);
    assert.equal(results(d).permission, 'pass');
    assert.equal(results(d).resource, 'fail');
  }
  // Without the scope the caller learns nothing about the conversation.
  const readOnly = await token(srv.url, ctl.id, ctl.clientSecret, 'recording:read');
  const hidden = await unaryError(c.raw.recordings, 'Start', { conversationId: UNKNOWN }, { metadata: bearer(readOnly) });
  assert.equal(results(assertGrpcError(hidden.error, Code.PERMISSION_DENIED, 'missing.scope', 403, 'unknown, no scope')).resource, 'not-evaluated');

  for (const bad of ['not-a-uuid', '', "abc'--", 'x'.repeat(300), `${UNKNOWN}x`, '../../etc/passwd']) {
    const { error } = await unaryError(c.raw.recordings, 'Start', { conversationId: bad }, { metadata: bearer(ctlTok) });
    const d = assertGrpcError(error, Code.INVALID_ARGUMENT, 'bad.request', 400, `Start ${JSON.stringify(bad.slice(0, 20))}`);
    const fv = d.BadRequest?.fieldViolations ?? [];
    assert.ok(fv.length >= 1, `BadRequest detail: ${JSON.stringify(d)}`);
    assert.match(fv[0].field, /^conversation_?id$/i, JSON.stringify(fv));
    assert.ok(fv[0].description.length > 0);
    // An unauthorized caller is denied before the id is even parsed.
    const denied = await unaryError(c.raw.recordings, 'Start', { conversationId: bad }, { metadata: bearer(readOnly) });
    assertGrpcError(denied.error, Code.PERMISSION_DENIED, 'missing.scope', 403, `bad id ${JSON.stringify(bad.slice(0, 20))} without scope`);
  }
  const conv = await createConversation(srv, admin);
  const badField = await unaryError(c.raw.recordings, 'UpdateMetadata',
    { conversationId: conv, metadata: { labels: [], retentionDays: 40_000, notes: '' }, updateMask: { paths: ['retention_days'] } },
    { metadata: bearer(ctlTok) });
  const db = assertGrpcError(badField.error, Code.INVALID_ARGUMENT, 'bad.request', 400, 'retention_days 40000');
  assert.ok((db.BadRequest?.fieldViolations ?? []).some((f) => /retention/i.test(f.field)), JSON.stringify(db.BadRequest));
  const bogusMask = await unaryError(c.raw.recordings, 'UpdateMetadata',
    { conversationId: conv, metadata: { labels: ['x'] }, updateMask: { paths: ['state'] } }, { metadata: bearer(ctlTok) });
  assertGrpcError(bogusMask.error, Code.INVALID_ARGUMENT, 'bad.request', 400, 'update_mask names state');
  assert.deepEqual(meta((await c.recordings.Get({ conversationId: conv })).response.metadata), { labels: [], retentionDays: null, notes: '' },
    'refused updates changed nothing');
});

t('forged, alg=none, garbage, revoked and missing tokens → UNAUTHENTICATED with the matching token.* reason', async () => {
  const id = await createConversation(srv, admin);
  const good = await token(srv.url, ctl.id, ctl.clientSecret, 'recording:control');
  const jwt = parseJwt(good);
  const [h, p] = good.split('.');
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const forged = `${h}.${p}.${sign('sha256', Buffer.from(`${h}.${p}`), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  const revoked = await token(srv.url, ctl.id, ctl.clientSecret, 'recording:control');
  const rv = await postForm(srv.url, '/oauth/revoke', { token: revoked }, { authorization: basic(ctl.id, ctl.clientSecret) });
  assert.equal(rv.status, 200, rv.text);
  const cases = [
    ['garbage', 'not-a-jwt', 'token.malformed'],
    ['alg=none', `${b64url({ ...jwt.header, alg: 'none' })}.${p}.`, 'token.signature'],
    ['foreign key under our kid', forged, 'token.signature'],
    ['scope widened', `${h}.${b64url({ ...jwt.payload, scope: 'recording:control admin' })}.${good.split('.')[2]}`, 'token.signature'],
    ['revoked', revoked, 'token.revoked'],
    ['no metadata', null, 'token.missing'],
  ];
  for (const [name, tok, code] of cases) {
    const { error } = await unaryError(c.raw.recordings, 'Start', { conversationId: id }, { metadata: bearer(tok) });
    const d = assertGrpcError(error, Code.UNAUTHENTICATED, code, 401, name);
    assert.equal(d.ErrorInfo.metadata.layer, 'token', name);
    assert.deepEqual(results(d), { token: 'fail', scope: 'not-evaluated', permission: 'not-evaluated', resource: 'not-evaluated' }, name);
    assert.equal(d.Explanation.principal, null, `${name}: no principal`);
    const sig = tok?.split('.')[2];
    const raw = JSON.stringify(d) + error.details;
    if (sig && sig.length > 20) assert.ok(!raw.includes(sig), `${name}: the token is not echoed`);
  }
  // Not bearer, or a bearer with nothing after it.
  for (const value of ['Basic Zm9vOmJhcg==', 'Bearer ', 'bearer']) {
    const md = new grpc.Metadata();
    md.set('authorization', value);
    const { error } = await unaryError(c.raw.recordings, 'Start', { conversationId: id }, { metadata: md });
    assert.equal(codeName(error?.code), 'UNAUTHENTICATED', `authorization: ${value}: ${error?.details}`);
    assert.match(decodeStatusDetails(error).details.ErrorInfo.reason, /^TOKEN_/, value);
  }
  // Nothing was started by any of them.
  assert.equal((await c.recordings.Get({ conversationId: id })).response.state, 'none');
});

// ------------------------------------------------------------- success path

t('success path: Conversations.Create/Get, Start/Pause/Resume/Stop/Get/UpdateMetadata, Disconnect', async () => {
  const created = await adminC.conversations.Create({
    participants: [{ name: 'Alice Customer', purpose: 'customer' }, { name: 'Bob Agent', purpose: 'agent' }],
    externalId: 'crm-grpc-1',
  });
  const conv = created.response;
  assert.match(conv.id, UUID_RE);
  assert.equal(conv.state, 'connected');
  assert.equal(conv.endedAt, '');
  assert.equal(conv.externalId, 'crm-grpc-1');
  assert.deepEqual(conv.participants.map((x) => [x.name, x.purpose]), [['Alice Customer', 'customer'], ['Bob Agent', 'agent']]);
  for (const x of conv.participants) assert.match(x.id, UUID_RE);
  const rest = await api(srv.url, 'GET', `/api/v2/conversations/${conv.id}`, { token: admin });
  assert.equal(rest.status, 200, 'a conversation created over gRPC is visible over REST');
  assert.equal(rest.json.startedAt, conv.startedAt);
  assert.deepEqual((await adminC.conversations.Get({ conversationId: conv.id })).response, conv);

  const id = conv.id;
  const step = async (method, reason, { from, to, changed = true, segment = 1, seq }) => {
    const { response: r } = await c.recordings[method]({ conversationId: id, reason });
    assert.equal(r.conversationId, id);
    assert.equal(r.state, to, `${method}: state`);
    assert.equal(r.changed, changed, `${method}: changed`);
    const tr = r.transition;
    assert.equal(tr.action, method.toLowerCase());
    assert.equal(tr.from, from);
    assert.equal(tr.to, to);
    assert.equal(tr.segment, segment);
    assert.equal(tr.seq, String(seq));
    assert.equal(tr.reason, reason);
    assert.deepEqual({ ...tr.principal }, { type: 'client', id: ctl.id, name: 'grpc-controller' });
    assert.match(tr.contextId, UUID_RE);
    assert.ok(!Number.isNaN(Date.parse(tr.at)), tr.at);
    assert.equal(r.segment.index, segment);
    audited.push({ contextId: tr.contextId, path: `/verbatim.v1.Recordings/${method}`, decision: 'allow', code: null, status: 200 });
    return r;
  };
  const started = await step('Start', 'consent given', { from: 'none', to: 'active', seq: 1 });
  assert.deepEqual(started.allowedActions, ['stop', 'pause']);
  assert.equal(started.segment.endedAt, '');
  await step('Pause', 'pci', { from: 'active', to: 'paused', seq: 2 });
  const repeat = await c.recordings.Pause({ conversationId: id });
  assert.equal(repeat.response.changed, false, 'pause while paused is an idempotent repeat');
  assert.equal(repeat.response.state, 'paused');
  await step('Resume', '', { from: 'paused', to: 'active', seq: 3 });
  const stopped = await step('Stop', 'done', { from: 'active', to: 'stopped', seq: 4 });
  assert.notEqual(stopped.segment.endedAt, '', 'stop closes the segment');

  const edited = await c.recordings.UpdateMetadata({
    conversationId: id, metadata: { labels: ['vip', 'escalation'], retentionDays: 90, notes: 'called about invoice' },
  });
  assert.deepEqual(meta(edited.response.metadata), { labels: ['vip', 'escalation'], retentionDays: 90, notes: 'called about invoice' });
  // update_mask: only notes is replaced.
  const masked = await c.recordings.UpdateMetadata({
    conversationId: id, metadata: { labels: ['ignored'], notes: 'second call' }, updateMask: { paths: ['notes'] },
  });
  assert.deepEqual(meta(masked.response.metadata), { labels: ['vip', 'escalation'], retentionDays: 90, notes: 'second call' });

  const { response: rec } = await c.recordings.Get({ conversationId: id });
  assert.equal(rec.state, 'stopped');
  assert.equal(rec.conversationEnded, false);
  assert.deepEqual(rec.timeline.map((x) => [x.seq, x.action, x.from, x.to]),
    [['1', 'start', 'none', 'active'], ['2', 'pause', 'active', 'paused'], ['3', 'resume', 'paused', 'active'], ['4', 'stop', 'active', 'stopped']]);
  assert.deepEqual(rec.allowedActions, ['start']);
  // REST sees exactly the same recording.
  const restRec = await api(srv.url, 'GET', `/api/v2/recordings/conversations/${id}`, { token: ctlTok });
  assert.equal(restRec.status, 200, restRec.text);
  assert.deepEqual(restRec.json.timeline.map((x) => x.contextId), rec.timeline.map((x) => x.contextId));
  assert.deepEqual(restRec.json.metadata, { labels: ['vip', 'escalation'], retentionDays: 90, notes: 'second call' });
  assert.equal(String(restRec.json.version), rec.version);

  const disc = await adminC.conversations.Disconnect({ conversationId: id });
  assert.equal(disc.response.state, 'disconnected');
  assert.ok(!Number.isNaN(Date.parse(disc.response.endedAt)), disc.response.endedAt);
  assert.equal((await c.recordings.Get({ conversationId: id })).response.conversationEnded, true);
});

t('Authorization.Check explains a user signing in through a client exactly as REST does', async () => {
  const u = await api(srv.url, 'POST', '/api/v2/users', {
    token: admin, body: { username: 'grpc-person', password: 'grpc-person-password-1', roles: ['Recording Viewer'] },
  });
  assert.equal(u.status, 201, u.text);
  const id = await createConversation(srv, admin);
  const ask = { action: 'recording:recording:start', resource: `conversation/${id}` };
  const rest = await api(srv.url, 'POST', '/api/v2/authorization/check', { token: admin, body: { ...ask, principal: { userId: u.json.id } } });
  assert.equal(rest.status, 200, rest.text);
  const g = (await adminC.authorization.Check({ ...ask, userId: u.json.id })).response;
  assert.equal(g.decision, 'deny');
  assert.deepEqual([g.decision, g.httpStatus, g.code], [rest.json.decision, rest.json.status, rest.json.code]);
  // The same explanation; only the simulated token's expiry (issued at each call) differs.
  const sameTime = (e) => JSON.parse(JSON.stringify(e).replace(/expires at [0-9TZ:.-]+/g, 'expires at T'));
  assert.deepEqual(sameTime(JSON.parse(g.explanation.json)), sameTime(rest.json.explanation));
  assert.equal(g.explanation.principal.type, 'user');
  const unknown = await unaryError(adminC.raw.authorization, 'Check', { ...ask, userId: '00000000-0000-4000-8000-00000000dead' },
    { metadata: bearer(admin) });
  assert.equal(codeName(unknown.error?.code), 'INVALID_ARGUMENT', unknown.error?.details);
  const nosy = await unaryError(c.raw.authorization, 'Check', { ...ask, userId: u.json.id }, { metadata: bearer(ctlTok) });
  assert.equal(codeName(nosy.error?.code), 'PERMISSION_DENIED', 'asking about a user needs authorization:decision:simulate');
});

t('Authorization.Check explains without side effects; TokensMe says what the token can do', async () => {
  const id = await createConversation(srv, admin);
  const writeTok = await token(srv.url, ctl.id, ctl.clientSecret, 'recording:write');
  const own = await c.authorization.Check({ action: 'recording:recording:start', resource: `conversation/${id}` }, { token: writeTok });
  assert.equal(own.response.decision, 'deny');
  assert.equal(own.response.httpStatus, 403);
  assert.equal(own.response.code, 'missing.scope');
  assert.deepEqual(own.response.explanation.layers.map((l) => l.result), ['pass', 'fail', 'pass', 'not-evaluated']);
  assert.deepEqual(own.response.explanation.fix, ["Request a new token with scope 'recording:control': this client is allowed to request it."]);
  const allowed = await c.authorization.Check({ action: 'recording:recording:start', resource: `conversation/${id}` });
  assert.equal(allowed.response.decision, 'allow');
  assert.equal(allowed.response.httpStatus, 200);
  // Someone else's token: the admin may ask, the controller may not.
  const byAdmin = await adminC.authorization.Check({ action: 'recording:recording:start', resource: `conversation/${id}`, token: writeTok });
  assert.equal(byAdmin.response.code, 'missing.scope');
  assert.equal(byAdmin.response.explanation.principal.id, ctl.id);
  const nosy = await unaryError(c.raw.authorization, 'Check', { action: 'recording:recording:start', resource: `conversation/${id}`, token: admin },
    { metadata: bearer(ctlTok) });
  assert.equal(codeName(nosy.error?.code), 'PERMISSION_DENIED', nosy.error?.details);
  assert.equal((await c.recordings.Get({ conversationId: id })).response.state, 'none', 'the simulator has no side effects');

  const me = (await c.authorization.TokensMe({})).response;
  assert.equal(me.principal.id, ctl.id);
  assert.equal(me.clientId, ctl.id);
  assert.deepEqual([...me.scopes].sort(), ['recording:control', 'recording:read', 'recording:write']);
  assert.deepEqual(me.roles, ['Recording Administrator']);
  for (const perm of ['recording:recording:start', 'recording:recording:view', 'recording:recording:edit']) {
    assert.ok(me.effectivePermissions.includes(perm), `${perm} in ${me.effectivePermissions}`);
  }
  assert.equal(me.jti, parseJwt(ctlTok).payload.jti);
  assert.ok(Date.parse(me.expiresAt) > Date.now());
  const restMe = await api(srv.url, 'GET', '/api/v2/tokens/me', { token: ctlTok });
  // The REST document, but for expiresIn: the seconds left, which may tick between the two calls.
  const { expiresIn: grpcLeft, ...grpcDoc } = JSON.parse(me.json);
  const { expiresIn: restLeft, ...restDoc } = restMe.json;
  assert.deepEqual(grpcDoc, restDoc, 'TokensMeResponse.json is the REST document');
  assert.ok(Math.abs(grpcLeft - restLeft) <= 1, `expiresIn ${grpcLeft} vs ${restLeft}`);
  const anon = await unaryError(c.raw.authorization, 'TokensMe', {}, { metadata: bearer(null) });
  assertGrpcError(anon.error, Code.UNAUTHENTICATED, 'token.missing', 401, 'TokensMe without a token');
});

// ------------------------------------------------------------------ Watch

t('Watch: SNAPSHOT, then a TRANSITION for each change made over REST, ENDED on disconnect, then the stream ends OK', async () => {
  const id = await createConversation(srv, admin);
  const w = collectStream(c.recordings.Watch({ conversationId: id }));
  const [snap] = await w.next((e) => e.length >= 1, { what: 'the SNAPSHOT' });
  assert.equal(snap.kind, 'SNAPSHOT');
  assert.equal(snap.conversationId, id);
  assert.equal(snap.state, 'none');
  assert.deepEqual(snap.allowedActions, ['start']);

  const rest = (action) => api(srv.url, 'POST', `/api/v2/recordings/conversations/${id}/actions/${action}`, { token: ctlTok });
  const started = await rest('start');
  assert.equal(started.status, 200, started.text);
  await w.next((e) => e.length >= 2, { what: 'the start TRANSITION' });
  assert.equal(w.events[1].kind, 'TRANSITION');
  assert.equal(w.events[1].state, 'active');
  assert.equal(w.events[1].transition.action, 'start');
  assert.equal(w.events[1].transition.contextId, started.headers.get('x-context-id'), 'the event carries the REST call\'s contextId');
  assert.deepEqual(w.events[1].allowedActions, ['stop', 'pause']);
  // A repeat changes nothing and sends nothing; the next real change does.
  assert.equal((await rest('start')).json.changed, false);
  assert.equal((await rest('pause')).status, 200);
  await w.next((e) => e.length >= 3, { what: 'the pause TRANSITION' });
  assert.deepEqual(w.events.slice(1).map((e) => [e.kind, e.transition.action, e.state]),
    [['TRANSITION', 'start', 'active'], ['TRANSITION', 'pause', 'paused']]);
  assert.ok(BigInt(w.events[2].version) > BigInt(w.events[1].version), 'versions increase');

  const disc = await api(srv.url, 'POST', `/api/v2/conversations/${id}/disconnect`, { token: admin });
  assert.equal(disc.status, 200, disc.text);
  const end = await w.done;
  assert.equal(codeName(end.status.code), 'OK', `the stream ends OK: ${end.status.details}`);
  const last = w.events.at(-1);
  assert.equal(last.kind, 'ENDED', JSON.stringify(w.events));
  assert.equal(last.state, 'stopped', 'the disconnect stopped the recording');
  assert.equal(last.transition?.action, 'disconnect');
  // Nothing but the disconnect's events after the pause.
  assert.ok(w.events.slice(3, -1).every((e) => e.kind === 'TRANSITION' && e.transition.action === 'disconnect'), JSON.stringify(w.events));

  // Watching an ended conversation: its snapshot, then ENDED, then OK.
  const again = collectStream(c.recordings.Watch({ conversationId: id }));
  const end2 = await again.done;
  assert.equal(codeName(end2.status.code), 'OK', end2.status.details);
  assert.equal(again.events[0].kind, 'SNAPSHOT');
  assert.equal(again.events.at(-1).kind, 'ENDED');
});

t('Watch is authorized like Get: wrong scope → PERMISSION_DENIED, unknown → NOT_FOUND, no token → UNAUTHENTICATED', async () => {
  const id = await createConversation(srv, admin);
  const controlOnly = await token(srv.url, ctl.id, ctl.clientSecret, 'recording:control');
  const cases = [
    [controlOnly, id, Code.PERMISSION_DENIED, 'missing.scope', 403],
    [ctlTok, UNKNOWN, Code.NOT_FOUND, 'conversation.not.found', 404],
    [null, id, Code.UNAUTHENTICATED, 'token.missing', 401],
    [ctlTok, 'nope', Code.INVALID_ARGUMENT, 'bad.request', 400],
  ];
  for (const [tok, conv, code, rc, http] of cases) {
    const w = collectStream(c.recordings.Watch({ conversationId: conv }, { token: tok }));
    const end = await w.done;
    assert.deepEqual(w.events, [], `${rc}: no event before the denial`);
    assertGrpcError(end.error, code, rc, http, `Watch ${rc}`);
  }
});

// ------------------------------------------------------------------ audit

t('every gRPC call is in the audit log: method POST, path = the gRPC method, contextId = RequestInfo.request_id, transport grpc', async () => {
  assert.ok(audited.length >= 7, `calls recorded by earlier tests: ${audited.length}`);
  const audit = await token(srv.url, srv.creds.admin.clientId, srv.creds.admin.clientSecret, 'audit:read');
  for (const a of audited) {
    const r = await api(srv.url, 'GET', `/api/v2/audit/events/${a.contextId}`, { token: audit });
    assert.equal(r.status, 200, `${a.path} ${a.decision} ${a.code} ${a.contextId}: ${r.text}`);
    assert.equal(r.json.method, 'POST', a.path);
    assert.equal(r.json.path, a.path);
    assert.equal(r.json.decision, a.decision, a.path);
    assert.equal(r.json.code, a.code, a.path);
    assert.equal(r.json.status, a.status, a.path);
    assert.equal(r.json.explanation?.transport, 'grpc', `${a.path}: explanation.transport`);
  }

});

t('a client\'s gRPC calls, allowed and denied at every layer, are listed in GET /api/v2/audit/events in order', async () => {
  const audit = await token(srv.url, srv.creds.admin.clientId, srv.creds.admin.clientSecret, 'audit:read');
  const auditor = await createClient(srv, admin, {
    name: 'grpc-audited', allowedScopes: ['recording:control', 'recording:read', 'conversation:read'], roles: ['Recording Controller'],
  });
  const tok = await token(srv.url, auditor.id, auditor.clientSecret, 'recording:control conversation:read');
  const id = await createConversation(srv, admin);
  const x = clientsFor(tok);
  const calls = [
    ['Recordings/Start', () => x.recordings.Start({ conversationId: id })],
    ['Recordings/Get', () => x.recordings.Get({ conversationId: id })], // no recording:read: denied
    ['Conversations/Get', () => x.conversations.Get({ conversationId: id })],
    ['Recordings/Pause', () => x.recordings.Pause({ conversationId: UNKNOWN })], // not found
    ['Authorization/TokensMe', () => x.authorization.TokensMe({})],
    ['Authorization/Check', () => x.authorization.Check({ action: 'recording:recording:stop', resource: `conversation/${id}` })],
    ['Recordings/Stop', () => x.recordings.Stop({ conversationId: id })],
  ];
  const contextIds = [];
  for (const [, call] of calls) {
    try {
      const r = await call();
      // Success: the x-context-id response header (docs/grpc.md §7), also the transition's id.
      const [ctx] = r.metadata.get('x-context-id');
      if (r.response.transition) assert.equal(r.response.transition.contextId, ctx);
      contextIds.push(ctx);
    } catch (e) {
      contextIds.push(decodeStatusDetails(e).details.RequestInfo.requestId);
    }
  }
  assert.ok(contextIds.every((x) => UUID_RE.test(x ?? '')), `every call has a context id: ${contextIds}`);
  const page = await api(srv.url, 'GET', `/api/v2/audit/events?principal=${auditor.id}&pageSize=200`, { token: audit });
  assert.equal(page.status, 200, page.text);
  const grpcEvents = page.json.entities.filter((e) => e.path.startsWith('/verbatim.v1.')).reverse(); // oldest first
  assert.deepEqual(grpcEvents.map((e) => e.path), calls.map(([m]) => `/verbatim.v1.${m}`), 'one event per call, in order');
  assert.ok(grpcEvents.every((e) => e.method === 'POST' && e.explanation?.transport === 'grpc'), JSON.stringify(grpcEvents.map((e) => [e.method, e.explanation?.transport])));
  assert.deepEqual(grpcEvents.map((e) => e.decision), ['allow', 'deny', 'allow', 'deny', 'allow', 'allow', 'allow']);
  assert.deepEqual(grpcEvents.map((e) => e.code), [null, 'missing.scope', null, 'conversation.not.found', null, null, null]);
  assert.deepEqual(grpcEvents.map((e) => e.contextId), contextIds, 'each event under its call\'s context id');
  assert.ok(grpcEvents.every((e) => e.clientAddress === '127.0.0.1'), JSON.stringify(grpcEvents.map((e) => e.clientAddress)));
});

// ------------------------------------------------------- health, reflection

t('grpc.health.v1.Health: the server as a whole is SERVING; no token needed', async () => {
  const anon = clientsFor(undefined);
  const { response } = await anon.health.Check({ service: '' });
  assert.equal(response.status, 'SERVING');
});

t('reflection (v1alpha) lists verbatim.v1.Recordings and describes it', async () => {
  const anon = clientsFor(undefined);
  const list = await reflect(anon, { listServices: '*' });
  assert.equal(list.messageResponse, 'listServicesResponse', JSON.stringify(list));
  const names = list.listServicesResponse.service.map((s) => s.name);
  for (const s of ['verbatim.v1.Recordings', 'verbatim.v1.Conversations', 'verbatim.v1.Authorization', 'grpc.health.v1.Health']) {
    assert.ok(names.includes(s), `${s} in ${names}`);
  }
  const file = await reflect(anon, { fileContainingSymbol: 'verbatim.v1.Recordings' });
  assert.equal(file.messageResponse, 'fileDescriptorResponse', JSON.stringify(file));
  const heads = file.fileDescriptorResponse.fileDescriptorProto.map((b) => decodeMessage('grpc.reflection.v1alpha.FileDescriptorHead', b));
  const v1 = heads.find((f) => f.name === 'verbatim/v1/verbatim.proto');
  assert.ok(v1, `files: ${heads.map((f) => f.name)}`);
  assert.equal(v1.package, 'verbatim.v1');
  const rec = v1.service.find((s) => s.name === 'Recordings');
  assert.deepEqual(rec.method.map((m) => m.name), ['Start', 'Stop', 'Pause', 'Resume', 'Get', 'UpdateMetadata', 'Watch']);
  assert.equal(rec.method.find((m) => m.name === 'Watch').serverStreaming, true);
});

// ------------------------------------------------------------ bad input

t('a message over 64 KiB is refused (RESOURCE_EXHAUSTED or INVALID_ARGUMENT), changes nothing, and the next call is served', async () => {
  const id = await createConversation(srv, admin);
  const { error } = await unaryError(c.raw.recordings, 'Start', { conversationId: id, reason: 'r'.repeat(70 * 1024) }, { metadata: bearer(ctlTok) });
  assert.ok(error, 'a 70 KiB request must not succeed');
  assert.ok(['RESOURCE_EXHAUSTED', 'INVALID_ARGUMENT'].includes(codeName(error.code)), `${codeName(error.code)} ${error.details}`);
  assert.ok(error.details.length > 0, 'the status says why');
  const big = await unaryError(c.raw.recordings, 'UpdateMetadata', { conversationId: id, metadata: { notes: 'n'.repeat(100 * 1024) } },
    { metadata: bearer(ctlTok) });
  assert.ok(['RESOURCE_EXHAUSTED', 'INVALID_ARGUMENT'].includes(codeName(big.error?.code)), `${codeName(big.error?.code)} ${big.error?.details}`);
  const { response } = await c.recordings.Get({ conversationId: id });
  assert.equal(response.state, 'none', 'the refused Start changed nothing');
  assert.equal(meta(response.metadata).notes, '');
  // Under the limit, but over the field's own bound: a field violation, not a transport error.
  const long = await unaryError(c.raw.recordings, 'Start', { conversationId: id, reason: 'r'.repeat(600) }, { metadata: bearer(ctlTok) });
  const d = assertGrpcError(long.error, Code.INVALID_ARGUMENT, 'bad.request', 400, 'reason of 600 bytes');
  assert.ok((d.BadRequest?.fieldViolations ?? []).some((f) => /reason/.test(f.field)), JSON.stringify(d.BadRequest));
  assert.equal((await c.recordings.Start({ conversationId: id, reason: 'fits' })).response.state, 'active');
});

t('malformed protobuf bytes get INVALID_ARGUMENT naming the method, and the server keeps serving', async () => {
  const id = await createConversation(srv, admin);
  const garbage = [
    Buffer.from([0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f]), // field 1, length 4 GiB, no bytes
    Buffer.from([0x0a, 0x24, 0x30]), // field 1, length 36, one byte
    Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // an endless varint tag
    Buffer.from([0x0f]), // wire type 7 does not exist
  ];
  for (const bytes of garbage) {
    for (const path of ['/verbatim.v1.Recordings/Start', '/verbatim.v1.Recordings/Get', '/verbatim.v1.Conversations/Create']) {
      const err = await new Promise((resolve) => {
        // The admin token: whatever the method needs, only the bytes are wrong.
        c.raw.recordings.makeUnaryRequest(path, () => bytes, (b) => b, {}, bearer(admin), { deadline: Date.now() + 15_000 },
          (e) => resolve(e));
      });
      const where = `${path} ${bytes.toString('hex')}: ${err ? `${codeName(err.code)} ${err.details}` : 'OK'}`;
      assert.ok(err, where);
      assert.equal(codeName(err.code), 'INVALID_ARGUMENT', where);
      assert.ok(err.details.includes(path) && /protobuf/.test(err.details), where);
    }
  }
  assert.equal((await c.recordings.Get({ conversationId: id })).response.state, 'none');
  assert.equal((await c.recordings.Start({ conversationId: id })).response.state, 'active');
});

t('a Watch client that never reads does not hold up other calls, and loses nothing it is later sent', async () => {
  const id = await createConversation(srv, admin);
  // Its own connection, as a stalled client elsewhere on the network would have.
  const slow = clientsFor(ctlTok, { 'grpc.use_local_subchannel_pool': 1 });
  const call = slow.recordings.Watch({ conversationId: id }, { deadlineMs: 120_000 });
  const w = collectStream(call);
  await w.next((e) => e.length >= 1, { what: 'the SNAPSHOT' });
  call.pause(); // stop reading: HTTP/2 flow control fills up behind it
  const ROUNDS = 150; // 300 transitions: far more than one flow-control window of events
  // Each call has a 10 s deadline: a server blocked on the stalled stream fails here.
  for (let i = 0; i < ROUNDS; i++) {
    await c.recordings.Start({ conversationId: id }, { deadlineMs: 10_000 });
    await c.recordings.Stop({ conversationId: id }, { deadlineMs: 10_000 });
  }
  // Other calls, other conversations, still answer.
  const other = await createConversation(srv, admin);
  assert.equal((await c.recordings.Start({ conversationId: other })).response.state, 'active');
  assert.equal((await adminC.health.Check({ service: '' })).response.status, 'SERVING');
  call.resume();
  // Whatever the server chose for a slow watcher (buffer, or end it), what arrives is in order with no gaps.
  const end = await Promise.race([
    w.next((e) => e.length >= 1 + 2 * ROUNDS, { deadlineMs: 30_000, what: 'every transition' }).then(() => null),
    w.done,
  ]);
  const seqs = w.events.slice(1).map((e) => Number(e.transition.seq));
  for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], seqs[i - 1] + 1, `no gap or reorder at ${i}: ${seqs.slice(Math.max(0, i - 3), i + 2)}`);
  if (end) {
    // The server ended the slow watcher: with a status that says so, never OK before ENDED.
    assert.notEqual(codeName(end.status.code), 'OK', `a slow watcher ended OK before the conversation did (${seqs.length} events)`);
    assert.ok(end.status.details.length > 0);
  } else {
    assert.equal(seqs.length, 2 * ROUNDS);
    assert.equal(seqs[0], 1);
  }
  call.cancel();
});

// -------------------------------------------------------------------- TLS

t('with --tls-cert the gRPC port speaks TLS with the same certificate; a plaintext client is refused', async () => {
  const tls = await startServer({ tls: true });
  try {
    const tok = await token(tls.url, tls.creds.admin.clientId, tls.creds.admin.clientSecret, 'recording:read');
    const x = grpcClients(tls, tok);
    try {
      assert.equal((await x.health.Check({ service: '' })).response.status, 'SERVING');
      assert.equal((await x.authorization.TokensMe({})).response.clientId, tls.creds.admin.clientId);
    } finally {
      x.close();
    }
    const plain = grpcClients({ ...tls, tls: null }, tok);
    try {
      const { error } = await unaryError(plain.health.raw, 'Check', { service: '' }, { deadlineMs: 5_000 });
      assert.ok(error, 'a plaintext call to the TLS port must fail');
      assert.ok(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'INTERNAL'].includes(codeName(error.code)), `${codeName(error.code)} ${error.details}`);
    } finally {
      plain.close();
    }
  } finally {
    await tls.dispose();
  }
});

// Expiry is pinned with a fake clock, not by waiting two minutes here:
// GrpcServer.AnExpiredTokenIsUnauthenticatedOverGrpcAsOverRest (tests/unit/transports/grpc/).
