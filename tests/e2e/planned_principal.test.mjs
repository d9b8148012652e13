// The simulator's planned principals and /authorization/effective-access over
// real HTTP: a client judged before it exists, with no side effects, and only
// for callers who may simulate.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, adminToken, api, token, createClient, assertErrorBody, layersOf, loggedTest } from './lib/server.mjs';

let srv;
let admin;
const t = loggedTest(test, () => srv);

before(async () => {
  srv = await startServer();
  admin = await adminToken(srv);
});
after(async () => srv?.dispose());

const planned = { name: 'recording-api-client', scopes: ['recording:write'], roles: ['Recording Controller'] };

t('a planned client gets the 403 it would get, and nothing is created', async () => {
  const clientsBefore = (await api(srv.url, 'GET', '/api/v2/oauth/clients', { token: admin })).json.total;
  const r = await api(srv.url, 'POST', '/api/v2/authorization/check', {
    token: admin, body: { principal: planned, action: 'recording:recording:start' },
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.decision, 'deny');
  assert.equal(r.json.code, 'missing.scope');
  const layers = layersOf(r.json);
  assert.deepEqual(layers.scope.required, ['recording:control']);
  assert.equal(layers.permission.result, 'pass');
  assert.equal(layers.resource.result, 'not-evaluated');
  assert.equal(r.json.explanation.principal.name, 'recording-api-client');
  assert.match(r.json.explanation.fix[0], /add scope 'recording:control' to the allowed scopes of client 'recording-api-client'; then/);

  const fixed = await api(srv.url, 'POST', '/api/v2/authorization/check', {
    token: admin, body: { principal: { ...planned, scopes: ['recording:write', 'recording:control'] }, action: 'recording:recording:start' },
  });
  assert.equal(fixed.json.decision, 'allow', fixed.text);
  assert.equal((await api(srv.url, 'GET', '/api/v2/oauth/clients', { token: admin })).json.total, clientsBefore);
});

t('effective-access names the scope no role can use, for planned and existing clients', async () => {
  const r = await api(srv.url, 'POST', '/api/v2/authorization/effective-access', {
    token: admin, body: { principal: { ...planned, scopes: ['recording:write', 'recording:control'] } },
  });
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(r.json.unusableScopes, ['recording:write']);
  assert.ok(r.json.effectivePermissions.includes('recording:recording:start'));
  assert.equal(r.json.principal.id, null);

  const crm = await createClient(srv, admin, { name: 'ea-crm', allowedScopes: ['recording:control', 'audit:read'], roles: ['Recording Controller'] });
  const stored = await api(srv.url, 'POST', '/api/v2/authorization/effective-access', { token: admin, body: { principal: crm.id } });
  assert.equal(stored.status, 200, stored.text);
  assert.equal(stored.json.principal.id, crm.id);
  assert.deepEqual(stored.json.unusableScopes, ['audit:read']);
  // A what-if on it: the Auditor role would make audit:read usable; the stored client is unchanged.
  const whatIf = await api(srv.url, 'POST', '/api/v2/authorization/effective-access', {
    token: admin, body: { principal: { clientId: crm.id, roles: ['Recording Controller', 'Auditor'] } },
  });
  assert.deepEqual(whatIf.json.unusableScopes, []);
  const after = await api(srv.url, 'GET', `/api/v2/oauth/clients/${crm.id}`, { token: admin });
  assert.deepEqual(after.json.roles.map((x) => x.name), ['Recording Controller']);
});

t('only callers who may simulate can ask, and they learn which role does not exist', async () => {
  const crm = await createClient(srv, admin, { name: 'no-admin', allowedScopes: ['recording:control'], roles: ['Recording Controller'] });
  const tok = await token(srv.url, crm.id, crm.clientSecret, 'recording:control');
  const body = { principal: { roles: ['Ghost Role'] }, action: 'recording:recording:start' };
  assertErrorBody(await api(srv.url, 'POST', '/api/v2/authorization/check', { token: tok, body }), 403, 'missing.permissions');
  assertErrorBody(await api(srv.url, 'POST', '/api/v2/authorization/effective-access', { token: tok, body: { principal: body.principal } }),
    403, 'missing.permissions');
  const bad = assertErrorBody(await api(srv.url, 'POST', '/api/v2/authorization/check', { token: admin, body }), 400, 'bad.request');
  assert.equal(bad.explanation.field, 'principal.roles');
  assert.match(bad.message, /Role 'Ghost Role' does not exist/);
});
