// Issue 10, part 3 (docs/decisions.md "Delegation ceiling", "Role names never
// look like ids", "The last full administrator stays"): a principal grants only
// what it holds, role names never shadow ids, and the last client that can
// grant everything cannot be deleted or demoted. Each denial explains itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import {
  startServer, token, api, assertErrorBody, layersOf, adminToken, createClient, loggedTest,
} from './lib/server.mjs';

let srv;
let lastAdminSrv;
const t = loggedTest(test, () => [srv, lastAdminSrv]);
let admin;

const ALL_SCOPES = ['recording:read', 'recording:write', 'recording:control', 'conversation:read', 'conversation:write',
  'media:ingest', 'audit:read', 'admin'];
const SYSADMIN_ID = '7f2b6c80-0000-4000-8000-000000000001';
const AUDITOR_ID = '7f2b6c80-0000-4000-8000-000000000007';

// A delegated administrator: it manages clients, roles and integrations, and
// holds Recording Controller. Its client may request recording:read, but the
// token it works with does not carry it.
let managerRole;
let delegate; // {id, clientSecret}
let delegateTok;

before(async () => {
  srv = await startServer();
  admin = await adminToken(srv);
  const role = await api(srv.url, 'POST', '/api/v2/authorization/roles', {
    token: admin,
    body: { name: 'Client Manager', permissions: ['oauth:client:*', 'authorization:role:*', 'oauth:integration:*'] },
  });
  assert.equal(role.status, 201, role.text);
  managerRole = role.json;
  delegate = await createClient(srv, admin, {
    name: 'delegate',
    allowedScopes: ['admin', 'recording:control', 'conversation:read', 'recording:read'],
    roles: ['Client Manager', 'Recording Controller'],
  });
  delegateTok = await token(srv.url, delegate.id, delegate.clientSecret, 'admin recording:control conversation:read');
});

after(async () => {
  await srv?.dispose();
  await lastAdminSrv?.dispose();
});

const clientNames = async () =>
  (await api(srv.url, 'GET', '/api/v2/oauth/clients', { token: admin })).json.entities.map((c) => c.name).sort();

/** Asserts a 403 delegation.exceeds.grantor and returns its resource layer. */
function assertBeyond(res, note) {
  const body = assertErrorBody(res, 403, 'delegation.exceeds.grantor', note);
  const layers = layersOf(body);
  for (const l of ['token', 'scope', 'permission']) assert.equal(layers[l].result, 'pass', `${note}: ${l} layer`);
  const r = layers.resource;
  assert.equal(r.result, 'fail', note);
  assert.equal(r.code, 'delegation.exceeds.grantor', note);
  assert.ok(r.requested && Array.isArray(r.requested.permissions), `${note}: requested`);
  assert.ok(r.held && Array.isArray(r.held.permissions) && Array.isArray(r.held.scopes), `${note}: held`);
  assert.ok(Array.isArray(r.beyond) && r.beyond.length > 0, `${note}: beyond`);
  assert.ok(body.explanation.fix.length > 0, `${note}: a fix`);
  assert.equal(res.headers.get('www-authenticate'), null, `${note}: not a scope problem of this request`);
  return { body, layer: r };
}

// ------------------------------------------------------------------ the ceiling

t('creating a client with System Administrator by a caller holding less: 403 naming *:*:* and who could', async () => {
  const before = await clientNames();
  const res = await api(srv.url, 'POST', '/api/v2/oauth/clients', {
    token: delegateTok, body: { name: 'escalated', allowedScopes: ['admin'], roles: ['System Administrator'] },
  });
  const { body, layer } = assertBeyond(res, 'client with System Administrator');
  const star = layer.beyond.find((b) => b.item === '*:*:*');
  assert.ok(star, JSON.stringify(layer.beyond));
  assert.equal(star.kind, 'permission');
  assert.equal(star.source, "role 'System Administrator'");
  assert.deepEqual(star.notHeldByRoles, ['*:*:*']);
  assert.match(body.message, /Client 'delegate' cannot grant what it does not hold: .*'\*:\*:\*' \(role 'System Administrator'\)/);
  assert.equal(body.messageParams.principal, 'delegate');
  assert.ok(body.explanation.fix.some((f) => f.includes("Ask a principal whose roles grant '*:*:*' (granted by 'System Administrator')")),
    body.explanation.fix.join('\n'));
  assert.deepEqual(await clientNames(), before, 'nothing was created');

  // The denial is in the audit log with its explanation.
  const ev = await api(srv.url, 'GET', `/api/v2/audit/events/${body.contextId}`, { token: admin });
  assert.equal(ev.status, 200, ev.text);
  assert.equal(ev.json.decision, 'deny');
  assert.equal(ev.json.code, 'delegation.exceeds.grantor');
  assert.equal(ev.json.layer, 'resource');
  assert.equal(ev.json.principal.id, delegate.id);
});

t('a grant within the caller\'s authority works; one its token cannot use names the scope to request', async () => {
  // Recording Controller includes recording:recording:view, which only recording:read unlocks: the delegate's
  // token lacks it, its client may request it.
  const res = await api(srv.url, 'POST', '/api/v2/oauth/clients', {
    token: delegateTok, body: { name: 'controller', allowedScopes: ['recording:control'], roles: ['Recording Controller'] },
  });
  const { body, layer } = assertBeyond(res, 'Recording Controller with a token lacking recording:read');
  assert.deepEqual(layer.beyond.map((b) => b.item), ['recording:recording:view']);
  assert.deepEqual(layer.beyond[0].scopesNotCarried, ['recording:read']);
  assert.deepEqual(layer.beyond[0].notHeldByRoles, []);
  assert.ok(body.explanation.fix.some((f) => f.startsWith("Request a new token with scope 'recording:read' (client 'delegate' is allowed")),
    body.explanation.fix.join('\n'));

  // Following the fix works.
  const wider = await token(srv.url, delegate.id, delegate.clientSecret, 'admin recording:control conversation:read recording:read');
  const ok = await api(srv.url, 'POST', '/api/v2/oauth/clients', {
    token: wider, body: { name: 'controller', allowedScopes: ['recording:control'], roles: ['Recording Controller'] },
  });
  assert.equal(ok.status, 201, ok.text);
});

t('allowedScopes beyond the caller\'s: a scope is grantable only if the caller holds all it unlocks', async () => {
  const res = await api(srv.url, 'POST', '/api/v2/oauth/clients', {
    token: delegateTok, body: { name: 'scoped', allowedScopes: ['recording:control', 'recording:write', 'admin'], roles: [] },
  });
  const { layer } = assertBeyond(res, 'allowedScopes beyond');
  const items = Object.fromEntries(layer.beyond.map((b) => [b.item, b]));
  assert.deepEqual(Object.keys(items).sort(), ['admin', 'recording:write']);
  assert.equal(items['recording:write'].kind, 'scope');
  assert.deepEqual(items['recording:write'].notHeldByRoles, ['recording:recording:edit']);
  assert.deepEqual(items['recording:write'].scopesNotCarried, ['recording:write']);
  // The delegate's token carries admin, but its roles hold only part of what admin unlocks.
  assert.deepEqual(items.admin.scopesNotCarried, []);
  assert.ok(items.admin.notHeldByRoles.includes('authorization:*:*'), JSON.stringify(items.admin));
  assert.deepEqual(layer.requested.scopes, ['recording:control', 'recording:write', 'admin']);
  assert.ok(!(await clientNames()).includes('scoped'));
});

t('adding *:*:* to one\'s own role is refused, and the role is unchanged', async () => {
  const path = `/api/v2/authorization/roles/${managerRole.id}`;
  const res = await api(srv.url, 'PUT', path, {
    token: delegateTok, body: { permissions: [...managerRole.permissions, '*:*:*'] },
  });
  const { layer } = assertBeyond(res, 'own role gets *:*:*');
  assert.deepEqual(layer.beyond.map((b) => b.item), ['*:*:*']);
  assert.equal(layer.requested.target, "role 'Client Manager'");
  const got = await api(srv.url, 'GET', path, { token: admin });
  assert.deepEqual(got.json.permissions, managerRole.permissions);
});

t('assigning roles to an AudioHook integration beyond the caller\'s is refused', async () => {
  for (const roles of [['Recording Administrator'], undefined /* the default, Media Ingest */]) {
    const res = await api(srv.url, 'POST', '/api/v2/media/integrations', {
      token: delegateTok, body: { name: `hook-${roles ? 'admin' : 'default'}`, ...(roles ? { roles } : {}) },
    });
    const { layer } = assertBeyond(res, `integration with ${roles ?? 'the default role'}`);
    assert.equal(layer.requested.target, `integration 'hook-${roles ? 'admin' : 'default'}'`);
    // Every integration request carries media:ingest: the caller must hold that too.
    assert.ok(layer.requested.scopes.includes('media:ingest'));
  }
  const list = await api(srv.url, 'GET', '/api/v2/media/integrations', { token: admin });
  assert.ok(!list.json.entities.some((m) => m.name.startsWith('hook-')));
  // Holding it all, the full administrator may.
  const ok = await api(srv.url, 'POST', '/api/v2/media/integrations', { token: admin, body: { name: 'hook-by-admin' } });
  assert.equal(ok.status, 201, ok.text);
});

t('a wildcard that would leak a future permission: listing every recording permission does not let you grant recording:*:*', async () => {
  const every = ['recording:recording:start', 'recording:recording:stop', 'recording:recording:pause',
    'recording:recording:resume', 'recording:recording:view', 'recording:recording:edit', 'recording:media:download'];
  const listed = await api(srv.url, 'POST', '/api/v2/authorization/roles', {
    token: admin, body: { name: 'Every Recording Permission', permissions: every },
  });
  assert.equal(listed.status, 201, listed.text);
  const lister = await createClient(srv, admin, {
    name: 'lister', allowedScopes: ['admin', 'recording:read', 'recording:write', 'recording:control'],
    roles: ['Every Recording Permission', 'Client Manager'],
  });
  const tok = await token(srv.url, lister.id, lister.clientSecret);
  const wild = await api(srv.url, 'POST', '/api/v2/authorization/roles', {
    token: tok, body: { name: 'Recording Everything', permissions: ['recording:*:*'] },
  });
  const { layer } = assertBeyond(wild, 'recording:*:* from a caller holding each listed');
  assert.deepEqual(layer.beyond.map((b) => [b.item, b.notHeldByRoles]), [['recording:*:*', ['recording:*:*']]]);
  // Each permission it holds, listed, is fine.
  const same = await api(srv.url, 'POST', '/api/v2/authorization/roles', {
    token: tok, body: { name: 'Recording Everything Listed', permissions: every },
  });
  assert.equal(same.status, 201, same.text);
});

t('a principal manages only clients within its authority: it cannot rotate, revoke, edit or delete a stronger one', async () => {
  const target = srv.creds.admin.clientId;
  const calls = [
    ['POST', `/api/v2/oauth/clients/${target}/secret`],
    ['DELETE', `/api/v2/oauth/clients/${target}/tokens`],
    ['PATCH', `/api/v2/oauth/clients/${target}`, { description: 'mine now' }],
    ['DELETE', `/api/v2/oauth/clients/${target}`],
  ];
  for (const [method, path, body] of calls) {
    const { layer } = assertBeyond(await api(srv.url, method, path, { token: delegateTok, body }), `${method} ${path}`);
    assert.ok(layer.beyond.some((b) => b.item === '*:*:*'), `${method} ${path}: ${JSON.stringify(layer.beyond)}`);
  }
  // The administrator's token and secret are untouched.
  assert.equal((await api(srv.url, 'GET', '/api/v2/tokens/me', { token: admin })).status, 200);
  await token(srv.url, target, srv.creds.admin.clientSecret);
  // Nor can it give a client it manages a role beyond its own.
  const c = await createClient(srv, admin, { name: 'managed', allowedScopes: ['recording:control'], roles: [] });
  assertBeyond(await api(srv.url, 'PUT', `/api/v2/oauth/clients/${c.id}/roles/${SYSADMIN_ID}`, { token: delegateTok }),
    'role assignment beyond');
  assertBeyond(await api(srv.url, 'PATCH', `/api/v2/oauth/clients/${c.id}`, {
    token: delegateTok, body: { roles: ['Recording Administrator'] },
  }), 'PATCH roles beyond');
  const ok = await api(srv.url, 'PATCH', `/api/v2/oauth/clients/${c.id}`, { token: delegateTok, body: { description: 'within' } });
  assert.equal(ok.status, 200, ok.text);
});

// ------------------------------------------------------------------ role names and lookups

t('role names: not a UUID, not any role\'s id, not another role\'s name (built-ins included)', async () => {
  const custom = await api(srv.url, 'POST', '/api/v2/authorization/roles', {
    token: admin, body: { name: 'Label Editor', permissions: ['recording:recording:edit'] },
  });
  assert.equal(custom.status, 201, custom.text);
  const refused = [
    [randomUUID(), 400, 'bad.request', /looks like a UUID/],
    [SYSADMIN_ID, 400, 'bad.request', /looks like a UUID/],
    [custom.json.id.toUpperCase(), 400, 'bad.request', /looks like a UUID/],
    [`{${randomUUID()}}`, 400, 'bad.request', /looks like a UUID/],
    ['recording viewer', 400, 'bad.request', /built-in/],
    ['LABEL EDITOR', 409, 'role.name.taken', /already exists/],
  ];
  for (const [name, status, code, message] of refused) {
    const res = await api(srv.url, 'POST', '/api/v2/authorization/roles', { token: admin, body: { name, permissions: [] } });
    const e = assertErrorBody(res, status, code, `name ${name}`);
    assert.match(e.message, message, name);
    if (status === 400) assert.equal(e.explanation.field, 'name');
  }
  // Renaming to an id is refused too.
  const rename = await api(srv.url, 'PUT', `/api/v2/authorization/roles/${custom.json.id}`, {
    token: admin, body: { name: AUDITOR_ID },
  });
  assertErrorBody(rename, 400, 'bad.request', 'rename to a built-in id');
  const names = (await api(srv.url, 'GET', '/api/v2/authorization/roles', { token: admin })).json.entities.map((r) => r.name);
  assert.equal(names.filter((n) => /^[{]?[0-9a-f-]{32,36}[}]?$/i.test(n)).length, 0, 'no UUID-shaped role name exists');
});

t('roles are looked up by id or by name on separate paths: a UUID only as an id, a path {roleId} only as an id', async () => {
  const role = await api(srv.url, 'POST', '/api/v2/authorization/roles', {
    token: admin, body: { name: 'Lookup Probe', permissions: ['recording:recording:view'] },
  });
  assert.equal(role.status, 201, role.text);
  const byName = await createClient(srv, admin, { name: 'by-name', allowedScopes: [], roles: ['lookup probe'] });
  assert.deepEqual(byName.roles, [{ id: role.json.id, name: 'Lookup Probe' }]);
  const byId = await createClient(srv, admin, { name: 'by-id', allowedScopes: [], roles: [role.json.id.toUpperCase()] });
  assert.deepEqual(byId.roles, [{ id: role.json.id, name: 'Lookup Probe' }]);

  const unknownId = randomUUID();
  const missing = await api(srv.url, 'POST', '/api/v2/oauth/clients', {
    token: admin, body: { name: 'x', allowedScopes: [], roles: [unknownId] },
  });
  assert.match(assertErrorBody(missing, 400, 'bad.request', 'unknown id').message, /No role has id/);
  const missingName = await api(srv.url, 'POST', '/api/v2/oauth/clients', {
    token: admin, body: { name: 'x', allowedScopes: [], roles: ['No Such Role'] },
  });
  assert.match(assertErrorBody(missingName, 400, 'bad.request', 'unknown name').message, /No role is named/);

  // The path parameter is an id: a name there is a 400, never a lookup by name.
  const byPathName = await api(srv.url, 'PUT', `/api/v2/oauth/clients/${byId.id}/roles/Auditor`, { token: admin });
  assertErrorBody(byPathName, 400, 'bad.request', 'role name in {roleId}');
  const byPathId = await api(srv.url, 'PUT', `/api/v2/oauth/clients/${byId.id}/roles/${AUDITOR_ID}`, { token: admin });
  assert.equal(byPathId.status, 200, byPathId.text);
});

// ------------------------------------------------------------------ the last full administrator

t('the last full administrator cannot be deleted, disabled or demoted (409 admin.last with a fix), nor its only source of *:*:*', async () => {
  lastAdminSrv = await startServer();
  const s = lastAdminSrv;
  const adminId = s.creds.admin.clientId;
  let tok = await adminToken(s);
  const base = `/api/v2/oauth/clients/${adminId}`;

  const assertLast = async (res, note) => {
    const e = assertErrorBody(res, 409, 'admin.last', note);
    assert.match(e.message, /verbatim-dev-admin/, note);
    assert.equal(layersOf(e).resource.code, 'admin.last', note);
    assert.match(e.explanation.fix[0], /another client a full administrator/, note);
    return e;
  };
  await assertLast(await api(s.url, 'DELETE', base, { token: tok }), 'delete');
  await assertLast(await api(s.url, 'PATCH', base, { token: tok, body: { roles: ['Recording Viewer'] } }), 'demote');
  await assertLast(await api(s.url, 'PATCH', base, { token: tok, body: { enabled: false } }), 'disable');
  await assertLast(await api(s.url, 'PATCH', base, { token: tok, body: { allowedScopes: ['admin'] } }), 'fewer scopes');
  await assertLast(await api(s.url, 'DELETE', `${base}/roles/${SYSADMIN_ID}`, { token: tok }), 'unassign');
  const me = await api(s.url, 'GET', '/api/v2/tokens/me', { token: tok });
  assert.equal(me.status, 200, 'nothing changed: the token still works');
  assert.deepEqual(me.json.roles.map((r) => r.name), ['System Administrator']);

  // A second full administrator whose only source of *:*:* is a custom role.
  const root = await api(s.url, 'POST', '/api/v2/authorization/roles', { token: tok, body: { name: 'Root', permissions: ['*:*:*'] } });
  assert.equal(root.status, 201, root.text);
  const second = await createClient(s, tok, { name: 'second-admin', allowedScopes: ALL_SCOPES, roles: ['Root'] });
  const secondTok = await token(s.url, second.id, second.clientSecret);
  // Now the dev admin may be demoted (by the second one, which holds everything).
  const demote = await api(s.url, 'PATCH', base, { token: secondTok, body: { roles: ['Recording Viewer'] } });
  assert.equal(demote.status, 200, demote.text);
  // The custom role is now the only source: it may be neither deleted nor narrowed; its holder not deleted.
  const rootPath = `/api/v2/authorization/roles/${root.json.id}`;
  const e = assertErrorBody(await api(s.url, 'DELETE', rootPath, { token: secondTok }), 409, 'admin.last', 'delete the only source');
  assert.match(e.message, /second-admin/);
  assertErrorBody(await api(s.url, 'PUT', rootPath, { token: secondTok, body: { permissions: ['recording:*:*'] } }),
    409, 'admin.last', 'narrow the only source');
  assertErrorBody(await api(s.url, 'DELETE', `/api/v2/oauth/clients/${second.id}`, { token: secondTok }), 409, 'admin.last',
    'delete the last holder');
  // Give the dev admin System Administrator back; then the second one may go.
  const restore = await api(s.url, 'PATCH', base, { token: secondTok, body: { roles: ['System Administrator'] } });
  assert.equal(restore.status, 200, restore.text);
  tok = await adminToken(s);
  assert.equal((await api(s.url, 'DELETE', `/api/v2/oauth/clients/${second.id}`, { token: tok })).status, 204);
  assert.equal((await api(s.url, 'DELETE', rootPath, { token: tok })).status, 204);
});
