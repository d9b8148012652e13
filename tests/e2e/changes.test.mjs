// Issue 15, parts 1 and 2 (docs/changes.md): every change is logged with who
// made it, GET /api/v2/changes pages through the log, and a denial caused by a
// recent change names that change, its time and its author.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, token, tokenRequest, api, assertErrorBody, layersOf, adminToken, createClient, createConversation,
  loggedTest, UUID_RE,
} from './lib/server.mjs';
import { grpcClients } from './lib/grpc.mjs';

let srv;
const t = loggedTest(test, () => [srv]);
let admin; // token of the dev admin client
let adminId;
let crm; // {id, clientSecret}

before(async () => {
  srv = await startServer();
  admin = await adminToken(srv);
  adminId = JSON.parse(Buffer.from(admin.split('.')[1], 'base64url').toString()).client_id;
  crm = await createClient(srv, admin, {
    name: 'crm-integration',
    allowedScopes: ['recording:control', 'recording:read'],
    roles: ['Recording Controller'],
  });
});

after(async () => { await srv?.dispose(); });

const changes = async (query) => {
  const r = await api(srv.url, 'GET', `/api/v2/changes?${new URLSearchParams(query)}`, { token: admin });
  assert.equal(r.status, 200, r.text);
  return r.json;
};

t('removing a scope: the next token request and an older token both name the change, its time and its author', async () => {
  const old = await token(srv.url, crm.id, crm.clientSecret, 'recording:control recording:read');
  const conv = await createConversation(srv, admin);
  const start = await api(srv.url, 'POST', `/api/v2/recordings/conversations/${conv}/actions/start`, { token: old });
  assert.equal(start.status, 200, start.text);

  const patch = await api(srv.url, 'PATCH', `/api/v2/oauth/clients/${crm.id}`, {
    token: admin, body: { allowedScopes: ['recording:read'] },
  });
  assert.equal(patch.status, 200, patch.text);
  const contextId = patch.headers.get('x-context-id');

  // The log has it: who, when, before and after.
  const log = await changes({ subjectId: crm.id, kind: 'client.updated' });
  assert.equal(log.entities.length, 1, JSON.stringify(log));
  const entry = log.entities[0];
  assert.equal(entry.by.id, adminId);
  assert.equal(entry.subject.name, 'crm-integration');
  const scopes = entry.changes.find((c) => c.field === 'allowedScopes');
  assert.deepEqual(scopes, { field: 'allowedScopes', before: ['recording:control', 'recording:read'], after: ['recording:read'] });
  assert.equal(entry.contextId, contextId, 'the change names the request that made it');

  // A token asked for the removed scope: invalid_scope, with the change.
  const asked = await tokenRequest(srv.url, crm.id, crm.clientSecret, { scope: 'recording:control' });
  assert.equal(asked.status, 400, asked.text);
  assert.equal(asked.json.error, 'invalid_scope');
  assert.equal(asked.json.history?.length, 1, asked.text);
  const h = asked.json.history[0];
  assert.equal(h.changeId, entry.id);
  assert.equal(h.at, entry.at);
  assert.equal(h.by.id, adminId);
  assert.match(h.message, /had scope recording:control until/);
  assert.match(h.fix, new RegExp(`PATCH /api/v2/oauth/clients/${crm.id}`));

  // The token issued before the change: refused, and the explanation says why.
  const stop = await api(srv.url, 'POST', `/api/v2/recordings/conversations/${conv}/actions/stop`, { token: old });
  const body = assertErrorBody(stop, 401, 'token.revoked');
  const history = body.explanation.history;
  assert.equal(history?.length, 1, JSON.stringify(body.explanation));
  assert.equal(history[0].layer, 'token');
  assert.equal(history[0].changeId, entry.id);
  assert.equal(history[0].by.id, adminId);
  assert.match(history[0].message, /tokens issued until .* are refused/);

  // A new token without the scope: the scope layer fails, with the same change.
  const fresh = await token(srv.url, crm.id, crm.clientSecret);
  const denied = await api(srv.url, 'POST', `/api/v2/recordings/conversations/${conv}/actions/stop`, { token: fresh });
  const d = assertErrorBody(denied, 403, 'missing.scope');
  assert.equal(layersOf(d).scope.result, 'fail');
  assert.deepEqual(d.explanation.history.map((x) => [x.layer, x.changeId]), [['scope', entry.id]]);

  // The simulator says the same.
  const sim = await api(srv.url, 'POST', '/api/v2/authorization/check', {
    token: admin, body: { principal: crm.id, action: 'recording:recording:stop', resource: `conversation/${conv}` },
  });
  assert.equal(sim.status, 200, sim.text);
  assert.equal(sim.json.decision, 'deny');
  assert.equal(sim.json.explanation.history?.[0]?.changeId, entry.id, sim.text);
  // And gRPC: the same note, as fields and inside the REST-shaped JSON.
  const g = grpcClients(srv, admin);
  const { response } = await g.authorization.Check({ clientId: crm.id, action: 'recording:recording:stop', resource: `conversation/${conv}` })
    .finally(() => g.close());
  assert.equal(response.decision, 'deny');
  const [gh] = response.explanation.history;
  assert.equal(gh.changeId, String(entry.id));
  assert.equal(gh.layer, 'scope');
  assert.equal(gh.by.id, adminId);
  assert.equal(gh.message, sim.json.explanation.history[0].message);
  assert.equal(JSON.parse(response.explanation.json).history[0].changeId, entry.id);

  // Restoring the scope clears the history: the token request succeeds and nothing is left to explain.
  const restore = await api(srv.url, 'PATCH', `/api/v2/oauth/clients/${crm.id}`, {
    token: admin, body: { allowedScopes: ['recording:read', 'recording:control'] },
  });
  assert.equal(restore.status, 200, restore.text);
  const again = await api(srv.url, 'POST', '/api/v2/authorization/check', {
    token: admin, body: { principal: crm.id, action: 'recording:recording:stop', resource: `conversation/${conv}` },
  });
  assert.equal(again.json.decision, 'allow', again.text);
  const narrow = await api(srv.url, 'POST', `/api/v2/recordings/conversations/${conv}/actions/stop`, { token: fresh });
  // `fresh` was issued without the scope, so it is still short of it, but the client is not: nothing to explain.
  const n = assertErrorBody(narrow, 403, 'missing.scope');
  assert.equal(n.explanation.history, undefined, JSON.stringify(n.explanation));
});

t('a role taken away: the permission denial names the removal and how to restore it', async () => {
  const roles = (await api(srv.url, 'GET', '/api/v2/authorization/roles', { token: admin })).json.entities;
  const controller = roles.find((r) => r.name === 'Recording Controller');
  const client = await createClient(srv, admin, {
    name: 'dialer', allowedScopes: ['recording:control'], roles: ['Recording Controller'],
  });
  const removed = await api(srv.url, 'DELETE', `/api/v2/oauth/clients/${client.id}/roles/${controller.id}`, { token: admin });
  assert.equal(removed.status, 200, removed.text);
  const tok = await token(srv.url, client.id, client.clientSecret, 'recording:control');
  const conv = await createConversation(srv, admin);
  const res = await api(srv.url, 'POST', `/api/v2/recordings/conversations/${conv}/actions/start`, { token: tok });
  const body = assertErrorBody(res, 403, 'missing.permission');
  const [h] = body.explanation.history ?? [];
  assert.ok(h, JSON.stringify(body.explanation));
  assert.equal(h.layer, 'permission');
  assert.match(h.message, /had role 'Recording Controller', which grants recording:recording:start/);
  assert.equal(h.fix, `To restore it: PUT /api/v2/oauth/clients/${client.id}/roles/${controller.id} (permission oauth:client:edit).`);
});

t('GET /api/v2/changes pages forward by id, filters, refuses bad input, and needs audit:event:view', async () => {
  const conv = await createConversation(srv, admin);
  const tok = await token(srv.url, crm.id, crm.clientSecret, 'recording:control');
  for (const action of ['start', 'pause', 'resume', 'stop']) {
    const r = await api(srv.url, 'POST', `/api/v2/recordings/conversations/${conv}/actions/${action}`, { token: tok });
    assert.equal(r.status, 200, r.text);
  }
  const page1 = await changes({ subjectId: conv, pageSize: '2' });
  assert.deepEqual(page1.entities.map((e) => e.kind), ['recording.started', 'recording.paused']);
  assert.equal(page1.nextAfter, page1.entities[1].id);
  const page2 = await changes({ subjectId: conv, pageSize: '2', after: String(page1.nextAfter) });
  assert.deepEqual(page2.entities.map((e) => e.kind), ['recording.resumed', 'recording.stopped']);
  const page3 = await changes({ subjectId: conv, pageSize: '2', after: String(page2.nextAfter) });
  assert.deepEqual(page3.entities, []);
  assert.equal(page3.nextAfter, null);
  for (const e of page1.entities) {
    assert.equal(e.by.id, crm.id);
    assert.match(e.contextId, UUID_RE);
  }
  const family = await changes({ kind: 'recording.', principal: crm.id });
  assert.ok(family.entities.length >= 4 && family.entities.every((e) => e.kind.startsWith('recording.')));

  for (const [q, field] of [['after=-1', 'after'], ['since=yesterday', 'since'], ['kind=DROP%20TABLE', 'kind'],
    ['subjectType=planet', 'subjectType'], ['pageSize=0', 'pageSize'], ['pageSize=1001', 'pageSize']]) {
    const r = await api(srv.url, 'GET', `/api/v2/changes?${q}`, { token: admin });
    const b = assertErrorBody(r, 400, 'bad.request', q);
    assert.ok(JSON.stringify(b).includes(field), `${q}: ${r.text}`);
  }
  const denied = await api(srv.url, 'GET', '/api/v2/changes', { token: tok });
  assertErrorBody(denied, 403, 'missing.permissions');
});
