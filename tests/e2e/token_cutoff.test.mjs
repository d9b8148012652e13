// Issue 10, part 3 (docs/decisions.md "Tokens follow their client"): removing a
// scope or role, rotating the secret, disabling the client or an administrator's
// revoke-all refuses the client's earlier tokens at once, with a 401 that says
// what changed and when, while a token requested right after works. And
// introspection (RFC 7662) tells a client only about its own tokens unless it
// holds oauth:token:introspect; every introspection is audited.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, token, tokenRequest, api, postForm, basic, assertErrorBody, layersOf, adminToken, createClient,
  createConversation, loggedTest, parseJwt,
} from './lib/server.mjs';

let srv;
const t = loggedTest(test, () => srv);
let admin;

before(async () => {
  srv = await startServer();
  admin = await adminToken(srv);
});

after(async () => {
  await srv?.dispose();
});

const me = (tok) => api(srv.url, 'GET', '/api/v2/tokens/me', { token: tok });
const clientPath = (id) => `/api/v2/oauth/clients/${id}`;

async function newClient(name, extra = {}) {
  return createClient(srv, admin, {
    name, allowedScopes: ['recording:control', 'recording:read', 'conversation:read'], roles: ['Recording Controller'], ...extra,
  });
}

/** The old token gets 401 token.revoked whose message names `change`; returns the body. */
async function assertRefused(tok, change, note) {
  const res = await me(tok);
  const body = assertErrorBody(res, 401, 'token.revoked', note);
  assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/, note);
  assert.ok(body.message.includes(change), `${note}: ${body.message}`);
  return body;
}

/** The client's tokensValidAfter, which the 401 quotes, and which the refused token's iat is not after. */
function assertCutoffQuoted(body, client, tok, note) {
  assert.ok(client.tokensValidAfter, `${note}: tokensValidAfter set`);
  assert.ok(body.message.includes(client.tokensValidAfter), `${note}: the 401 says when (${client.tokensValidAfter}): ${body.message}`);
  assert.ok(parseJwt(tok).payload.iat * 1000 <= Date.parse(client.tokensValidAfter), `${note}: iat is not after the cutoff`);
}

t('rotating the secret refuses earlier tokens at once; a token got with the new secret works', async () => {
  const c = await newClient('rotated');
  const old = await token(srv.url, c.id, c.clientSecret);
  assert.equal((await me(old)).status, 200);
  const rot = await api(srv.url, 'POST', `${clientPath(c.id)}/secret`, { token: admin });
  assert.equal(rot.status, 200, rot.text);
  assert.equal(rot.json.tokensValidAfterReason, 'its secret was rotated');
  const body = await assertRefused(old, 'its secret was rotated', 'token of the old secret');
  assert.equal(layersOf(body).token.claim, 'iat');
  assertCutoffQuoted(body, rot.json, old, 'rotation');
  // Same second or not, a token requested now is after the cutoff.
  const fresh = await token(srv.url, c.id, rot.json.clientSecret);
  assert.equal((await me(fresh)).status, 200);
  assert.ok(parseJwt(fresh).payload.iat * 1000 > Date.parse(rot.json.tokensValidAfter));
});

t('removing a scope refuses earlier tokens (even ones without that scope); new tokens for the rest work', async () => {
  const c = await newClient('scope-removed');
  const withControl = await token(srv.url, c.id, c.clientSecret, 'recording:control');
  const readOnly = await token(srv.url, c.id, c.clientSecret, 'recording:read');
  const patch = await api(srv.url, 'PATCH', clientPath(c.id), { token: admin, body: { allowedScopes: ['recording:read', 'conversation:read'] } });
  assert.equal(patch.status, 200, patch.text);
  const change = "scope 'recording:control' was removed from its allowed scopes";
  assertCutoffQuoted(await assertRefused(withControl, change, 'token with the removed scope'), patch.json, withControl, 'scope');
  await assertRefused(readOnly, change, 'token without it, issued before');
  const fresh = await token(srv.url, c.id, c.clientSecret, 'recording:read');
  assert.equal((await me(fresh)).status, 200);
  // Adding a scope takes nothing away: tokens stay.
  const add = await api(srv.url, 'PATCH', clientPath(c.id), { token: admin, body: { allowedScopes: ['recording:read', 'conversation:read', 'recording:control'] } });
  assert.equal(add.status, 200, add.text);
  assert.equal(add.json.tokensValidAfter, patch.json.tokensValidAfter, 'the cutoff did not move');
  assert.equal((await me(fresh)).status, 200);
});

t('removing a role refuses earlier tokens; renaming or adding a role does not', async () => {
  const c = await newClient('role-removed', { roles: ['Recording Controller', 'Auditor'] });
  const old = await token(srv.url, c.id, c.clientSecret);
  const rename = await api(srv.url, 'PATCH', clientPath(c.id), { token: admin, body: { name: 'role-removed-2', description: 'x' } });
  assert.equal(rename.status, 200, rename.text);
  assert.equal(rename.json.tokensValidAfter, null);
  assert.equal((await me(old)).status, 200, 'a rename refuses nothing');
  const un = await api(srv.url, 'DELETE', `${clientPath(c.id)}/roles/7f2b6c80-0000-4000-8000-000000000007`, { token: admin });
  assert.equal(un.status, 200, un.text);
  assertCutoffQuoted(await assertRefused(old, "role 'Auditor' was removed from it", 'after unassign'), un.json, old, 'role');
  const fresh = await token(srv.url, c.id, c.clientSecret);
  const id = await createConversation(srv, admin);
  const start = await api(srv.url, 'POST', `/api/v2/recordings/conversations/${id}/actions/start`, { token: fresh });
  assert.equal(start.status, 200, `the role it kept still works with a new token: ${start.text}`);
});

t('disabling a client refuses its tokens and new token requests; enabling it lets new tokens work, not old ones', async () => {
  const c = await newClient('disabled');
  const old = await token(srv.url, c.id, c.clientSecret);
  const off = await api(srv.url, 'PATCH', clientPath(c.id), { token: admin, body: { enabled: false } });
  assert.equal(off.status, 200, off.text);
  assert.equal(off.json.enabled, false);
  const body = await assertRefused(old, "client 'disabled' is disabled", 'token of a disabled client');
  assert.equal(layersOf(body).token.claim, 'client_id');
  assert.match(body.explanation.fix[0], /disabled/);
  const refused = await tokenRequest(srv.url, c.id, c.clientSecret);
  assert.equal(refused.status, 401, refused.text);
  assert.equal(refused.json.error, 'invalid_client');
  assert.match(refused.json.error_description, /is disabled/);

  const on = await api(srv.url, 'PATCH', clientPath(c.id), { token: admin, body: { enabled: true } });
  assert.equal(on.status, 200, on.text);
  assert.equal(on.json.enabled, true);
  await assertRefused(old, 'it was disabled', 'a token from before the disable stays refused');
  const fresh = await token(srv.url, c.id, c.clientSecret);
  assert.equal((await me(fresh)).status, 200);
});

t('an administrator revokes every token of a client at once (DELETE …/tokens); the next token works', async () => {
  const c = await newClient('revoked-all');
  const a = await token(srv.url, c.id, c.clientSecret);
  const b = await token(srv.url, c.id, c.clientSecret, 'recording:read');
  const rv = await api(srv.url, 'DELETE', `${clientPath(c.id)}/tokens`, { token: admin });
  assert.equal(rv.status, 200, rv.text);
  assert.equal(rv.json.id, c.id);
  assert.equal(rv.json.tokensValidAfterReason, 'an administrator revoked all its tokens');
  for (const tok of [a, b]) {
    assertCutoffQuoted(await assertRefused(tok, 'an administrator revoked all its tokens', 'revoked'), rv.json, tok, 'revoke-all');
  }
  const fresh = await token(srv.url, c.id, c.clientSecret);
  assert.equal((await me(fresh)).status, 200, 'a token requested right after the revocation works');
  // Other clients are untouched.
  assert.equal((await me(admin)).status, 200);
  // Needs the admin scope and oauth:client:edit, like every client write.
  const crm = srv.creds.crmIntegration;
  const crmTok = await token(srv.url, crm.clientId, crm.clientSecret);
  assertErrorBody(await api(srv.url, 'DELETE', `${clientPath(c.id)}/tokens`, { token: crmTok }), 403, 'missing.permissions', 'crm');
});

// ------------------------------------------------------------------ introspection

async function introspect(tok, who) {
  const res = await postForm(srv.url, '/oauth/introspect', { token: tok }, { authorization: basic(who.id, who.secret) });
  assert.equal(res.status, 200, res.text);
  return res;
}

async function auditOf(res) {
  const id = res.headers.get('x-context-id');
  const ev = await api(srv.url, 'GET', `/api/v2/audit/events/${id}`, { token: admin });
  assert.equal(ev.status, 200, `introspection ${id} is in the audit log: ${ev.text}`);
  return ev.json;
}

t('introspection: own token → full answer; another client\'s → active:false, and the denial is audited', async () => {
  const crm = { id: srv.creds.crmIntegration.clientId, secret: srv.creds.crmIntegration.clientSecret };
  const other = await newClient('introspected');
  const otherTok = await token(srv.url, other.id, other.clientSecret);
  const otherJti = parseJwt(otherTok).payload.jti;

  const foreign = await introspect(otherTok, crm);
  assert.deepEqual(foreign.json, { active: false }, 'nothing about a token of another client');
  const denied = await auditOf(foreign);
  assert.equal(denied.decision, 'deny');
  assert.equal(denied.action, 'oauth:token:introspect');
  assert.equal(denied.resource, `token/${otherJti}`);
  assert.equal(denied.principal.id, crm.id);
  assert.equal(denied.path, '/oauth/introspect');
  assert.equal(denied.explanation.decision, 'deny');

  const crmTok = await token(srv.url, crm.id, crm.secret, 'recording:control');
  const own = await introspect(crmTok, crm);
  assert.equal(own.json.active, true);
  assert.equal(own.json.client_id, crm.id);
  assert.equal(own.json.jti, parseJwt(crmTok).payload.jti);
  const allowed = await auditOf(own);
  assert.equal(allowed.decision, 'allow');
  assert.equal(allowed.resource, `token/${parseJwt(crmTok).payload.jti}`);
});

t('introspection with oauth:token:introspect (System Administrator, scope admin) → full answer, audited; refused tokens are inactive', async () => {
  const adminClient = { id: srv.creds.admin.clientId, secret: srv.creds.admin.clientSecret };
  const c = await newClient('watched');
  const tok = await token(srv.url, c.id, c.clientSecret, 'recording:read');
  const res = await introspect(tok, adminClient);
  assert.equal(res.json.active, true);
  assert.equal(res.json.client_id, c.id);
  assert.equal(res.json.scope, 'recording:read');
  const ev = await auditOf(res);
  assert.equal(ev.decision, 'allow');
  assert.equal(ev.principal.id, adminClient.id);
  assert.equal(ev.resource, `token/${parseJwt(tok).payload.jti}`);

  // Refused by its client's cutoff: inactive for everyone, its own client included.
  assert.equal((await api(srv.url, 'DELETE', `${clientPath(c.id)}/tokens`, { token: admin })).status, 200);
  assert.deepEqual((await introspect(tok, adminClient)).json, { active: false });
  assert.deepEqual((await introspect(tok, { id: c.id, secret: c.clientSecret })).json, { active: false });
});
