// docs/api.md §5, §8 and §6 (CLI): the built-in OAuth 2.0 authorization server, its
// tokens, metadata, introspection, revocation, key rotation, and how client
// changes reach tokens that were already issued.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, createHmac, generateKeyPairSync, sign, verify as cryptoVerify } from 'node:crypto';
import { rmSync } from 'node:fs';
import {
  startServer, token, tokenRequest, api, postForm, basic, assertErrorBody, layersOf, parseJwt, b64url, adminToken,
  createClient, createConversation, loggedTest, runCli, tempDir, waitFor, UUID_RE,
} from './lib/server.mjs';

let srv;
let plain; // a server started without --dev on a dir prepared by `verbatim init`
const t = loggedTest(test, () => [srv, plain]);

let admin;
let crm; // dev crm-integration {clientId, clientSecret}

const ALL_SCOPES = ['recording:read', 'recording:write', 'recording:control', 'conversation:read', 'conversation:write',
  'media:ingest', 'audit:read', 'admin'];

before(async () => {
  srv = await startServer();
  admin = await adminToken(srv);
  crm = srv.creds.crmIntegration;
});

after(async () => {
  await srv?.dispose();
  await plain?.dispose();
});

function assertOAuthError(res, status, error, note = '') {
  assert.equal(res.status, status, `${note}: ${res.text}`);
  assert.equal(res.json?.error, error, `${note}: ${res.text}`);
  assert.equal(typeof res.json.error_description, 'string', `${note}: error_description`);
  assert.ok(res.json.error_description.length > 0);
  assert.match(res.headers.get('cache-control') ?? '', /no-store/, `${note}: Cache-Control`);
  return res.json;
}

async function metadata(url) {
  const r = await api(url, 'GET', '/.well-known/oauth-authorization-server');
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  return r.json;
}

async function jwks(url) {
  const r = await api(url, 'GET', '/.well-known/jwks.json');
  assert.equal(r.status, 200, r.text);
  return r.json;
}

async function me(url, tok) {
  return api(url, 'GET', '/api/v2/tokens/me', { token: tok });
}

t('client_credentials with HTTP Basic and with form fields; both at once is invalid_request', async () => {
  const viaBasic = await tokenRequest(srv.url, crm.clientId, crm.clientSecret, { scope: 'recording:control' });
  assert.equal(viaBasic.status, 200, viaBasic.text);
  assert.equal(viaBasic.json.token_type, 'Bearer');
  assert.equal(viaBasic.json.expires_in, 3600);
  assert.equal(viaBasic.json.scope, 'recording:control');
  assert.equal(typeof viaBasic.json.access_token, 'string');
  assert.match(viaBasic.headers.get('cache-control') ?? '', /no-store/);

  const viaForm = await postForm(srv.url, '/oauth/token', {
    grant_type: 'client_credentials', client_id: crm.clientId, client_secret: crm.clientSecret,
  });
  assert.equal(viaForm.status, 200, viaForm.text);
  // Default scope = every allowed scope.
  assert.deepEqual(viaForm.json.scope.split(' ').sort(), ['conversation:read', 'recording:control', 'recording:write']);

  const both = await postForm(srv.url, '/oauth/token', {
    grant_type: 'client_credentials', client_id: crm.clientId, client_secret: crm.clientSecret,
  }, { authorization: basic(crm.clientId, crm.clientSecret) });
  assertOAuthError(both, 400, 'invalid_request', 'Basic + form secret');

  const notForm = await api(srv.url, 'POST', '/oauth/token', {
    body: { grant_type: 'client_credentials' }, headers: { authorization: basic(crm.clientId, crm.clientSecret) },
  });
  assertOAuthError(notForm, 400, 'invalid_request', 'JSON body');
});

t('wrong secret / unknown client: 401 invalid_client with WWW-Authenticate; no client enumeration', async () => {
  const wrong = await tokenRequest(srv.url, crm.clientId, crm.clientSecret + 'x');
  const e1 = assertOAuthError(wrong, 401, 'invalid_client', 'wrong secret');
  assert.match(wrong.headers.get('www-authenticate') ?? '', /^Basic /, 'WWW-Authenticate');
  const unknown = await tokenRequest(srv.url, '0b7f3c1e-5d2a-4e8b-9c6f-1a2b3c4d5e6f', crm.clientSecret);
  const e2 = assertOAuthError(unknown, 401, 'invalid_client', 'unknown client');
  assert.equal(e1.error_description, e2.error_description, 'same answer for unknown client and wrong secret');
  const viaForm = await postForm(srv.url, '/oauth/token', {
    grant_type: 'client_credentials', client_id: crm.clientId, client_secret: 'nope',
  });
  assertOAuthError(viaForm, 401, 'invalid_client', 'wrong form secret');
  assert.ok(viaForm.headers.get('www-authenticate'), 'invalid_client is 401 with WWW-Authenticate (docs/api.md §3)');
  const none = await postForm(srv.url, '/oauth/token', { grant_type: 'client_credentials' });
  assertOAuthError(none, 401, 'invalid_client', 'no client authentication');
  assert.ok(!wrong.text.includes(crm.clientSecret), 'the secret is not echoed');
});

t('unknown grant type, scope not allowed, and RFC 8707 resource', async () => {
  const grant = await tokenRequest(srv.url, crm.clientId, crm.clientSecret, { grant_type: 'password' });
  assertOAuthError(grant, 400, 'unsupported_grant_type', 'password grant');

  const scope = await tokenRequest(srv.url, crm.clientId, crm.clientSecret, { scope: 'recording:control admin' });
  const e = assertOAuthError(scope, 400, 'invalid_scope', 'admin not allowed');
  assert.ok(e.error_description.includes('admin'), e.error_description);
  for (const s of ['recording:write', 'recording:control', 'conversation:read']) {
    assert.ok(e.error_description.includes(s), `description lists the allowed scope ${s}: ${e.error_description}`);
  }

  const bogus = await tokenRequest(srv.url, crm.clientId, crm.clientSecret, { scope: 'recording:everything' });
  assertOAuthError(bogus, 400, 'invalid_scope', 'unknown scope');

  // A client without the client_credentials grant.
  const noGrant = await createClient(srv, admin, { name: 'no-grant', allowedScopes: ['recording:read'], allowedGrantTypes: [] });
  assertOAuthError(await tokenRequest(srv.url, noGrant.id, noGrant.clientSecret), 400, 'unauthorized_client', 'grant not allowed');

  const other = await tokenRequest(srv.url, crm.clientId, crm.clientSecret, { resource: 'https://api.example.com/' });
  assertOAuthError(other, 400, 'invalid_target', 'foreign resource');
  const same = await tokenRequest(srv.url, crm.clientId, crm.clientSecret, { resource: `${srv.url}/api` });
  assert.equal(same.status, 200, same.text);
  assert.equal(parseJwt(same.json.access_token).payload.aud, `${srv.url}/api`);
});

t('metadata (RFC 8414) satisfies strict clients and the token is an ES256 at+jwt verifiable with the JWKS', async () => {
  const m = await metadata(srv.url);
  assert.equal(m.issuer, srv.url, 'issuer equals the discovery base URL');
  assert.equal(m.token_endpoint, `${srv.url}/oauth/token`);
  assert.equal(m.jwks_uri, `${srv.url}/.well-known/jwks.json`);
  assert.equal(m.introspection_endpoint, `${srv.url}/oauth/introspect`);
  assert.equal(m.revocation_endpoint, `${srv.url}/oauth/revoke`);
  assert.ok(m.grant_types_supported.includes('client_credentials'));
  assert.ok(m.token_endpoint_auth_methods_supported.includes('client_secret_basic'));
  assert.ok(m.token_endpoint_auth_methods_supported.includes('client_secret_post'));
  assert.deepEqual([...m.scopes_supported].sort(), [...ALL_SCOPES].sort());

  const tok = await token(srv.url, crm.clientId, crm.clientSecret, 'recording:control conversation:read');
  const { header, payload, signature, signingInput } = parseJwt(tok);
  assert.equal(header.typ, 'at+jwt');
  assert.equal(header.alg, 'ES256');
  assert.equal(typeof header.kid, 'string');
  for (const forbidden of ['jku', 'x5u', 'jwk']) assert.equal(header[forbidden], undefined);

  assert.equal(payload.iss, m.issuer);
  assert.equal(payload.sub, crm.clientId);
  assert.equal(payload.aud, `${srv.url}/api`);
  assert.equal(payload.client_id, crm.clientId);
  assert.equal(payload.scope, 'recording:control conversation:read');
  assert.match(payload.jti, /\S/);
  assert.equal(typeof payload.org, 'string');
  assert.ok(payload.org.length > 0);
  for (const c of ['exp', 'iat', 'nbf']) assert.ok(Number.isInteger(payload[c]), `${c} is an integer`);
  assert.equal(payload.exp - payload.iat, 3600);
  assert.ok(payload.nbf <= payload.iat);
  assert.ok(Math.abs(payload.iat - Date.now() / 1000) < 60, 'iat is now');

  const keys = await jwks(srv.url);
  const jwk = keys.keys.find((k) => k.kid === header.kid);
  assert.ok(jwk, `kid ${header.kid} is published in the JWKS`);
  assert.equal(jwk.kty, 'EC');
  assert.equal(jwk.crv, 'P-256');
  assert.equal(jwk.d, undefined, 'no private key material in JWKS');
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  assert.equal(signature.length, 64);
  assert.ok(cryptoVerify('sha256', Buffer.from(signingInput), { key, dsaEncoding: 'ieee-p1363' }, signature),
    'the ES256 signature verifies with the published key');
  assert.ok(!cryptoVerify('sha256', Buffer.from(signingInput + 'x'), { key, dsaEncoding: 'ieee-p1363' }, signature));

  // The API accepts it.
  const who = await me(srv.url, tok);
  assert.equal(who.status, 200, who.text);
  assert.equal(who.json.jti, payload.jti);
});

t('hostile JOSE headers are never trusted: embedded jwk, jku, x5u, crit, wrong typ, no kid, HS256 with the public key', async () => {
  const good = await token(srv.url, crm.clientId, crm.clientSecret, 'recording:control');
  const { header, payload } = parseJwt(good);
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const attackerJwk = publicKey.export({ format: 'jwk' });
  const es256 = (h, p) => {
    const input = `${b64url(h)}.${b64url(p)}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  };
  const serverJwk = (await jwks(srv.url)).keys.find((k) => k.kid === header.kid);
  const hsInput = `${b64url({ ...header, alg: 'HS256' })}.${b64url(payload)}`;
  const hs = `${hsInput}.${createHmac('sha256', JSON.stringify(serverJwk)).update(hsInput).digest('base64url')}`;
  const hsPem = `${hsInput}.${createHmac('sha256', createPublicKey({ key: serverJwk, format: 'jwk' }).export({ type: 'spki', format: 'pem' })).update(hsInput).digest('base64url')}`;
  const cases = [
    ['embedded jwk, attacker kid', es256({ ...header, kid: 'attacker', jwk: attackerJwk }, payload)],
    ['embedded jwk, server kid', es256({ ...header, jwk: attackerJwk }, payload)],
    ['jku', es256({ ...header, jku: 'https://attacker.example/jwks.json' }, payload)],
    ['x5u', es256({ ...header, x5u: 'https://attacker.example/cert.pem' }, payload)],
    ['crit', es256({ ...header, crit: ['exp'] }, payload)],
    ['typ JWT', es256({ ...header, typ: 'JWT' }, payload)],
    ['no kid', es256({ alg: 'ES256', typ: 'at+jwt' }, payload)],
    ['HS256 keyed with the public JWK', hs],
    ['HS256 keyed with the public PEM', hsPem],
    ['RS256', `${b64url({ ...header, alg: 'RS256' })}.${b64url(payload)}.${good.split('.')[2]}`],
    ['ES256 with wrong-length signature', `${good.split('.').slice(0, 2).join('.')}.${Buffer.alloc(72).toString('base64url')}`],
  ];
  for (const [name, tok] of cases) {
    const res = await me(srv.url, tok);
    const body = assertErrorBody(res, 401, res.json?.code, name);
    assert.ok(['token.malformed', 'token.signature'].includes(body.code), `${name}: ${body.code}`);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/, name);
  }
});

t('introspection (RFC 7662) needs client auth and reports active tokens only', async () => {
  const tok = await token(srv.url, crm.clientId, crm.clientSecret, 'recording:control');
  const auth = { authorization: basic(crm.clientId, crm.clientSecret) };
  const active = await postForm(srv.url, '/oauth/introspect', { token: tok }, auth);
  assert.equal(active.status, 200, active.text);
  const p = parseJwt(tok).payload;
  assert.equal(active.json.active, true);
  assert.equal(active.json.scope, 'recording:control');
  assert.equal(active.json.client_id, crm.clientId);
  assert.equal(active.json.sub, crm.clientId);
  assert.equal(active.json.iss, p.iss);
  assert.equal(active.json.jti, p.jti);
  assert.equal(active.json.exp, p.exp);
  assert.equal(active.json.iat, p.iat);
  assert.equal(active.json.token_type, 'Bearer');
  assert.ok(active.json.aud === p.aud || (Array.isArray(active.json.aud) && active.json.aud.includes(p.aud)));

  const garbage = await postForm(srv.url, '/oauth/introspect', { token: 'garbage' }, auth);
  assert.equal(garbage.status, 200, garbage.text);
  assert.deepEqual(garbage.json, { active: false });

  const anon = await postForm(srv.url, '/oauth/introspect', { token: tok });
  assertOAuthError(anon, 401, 'invalid_client', 'introspect without client auth');
  const wrong = await postForm(srv.url, '/oauth/introspect', { token: tok }, { authorization: basic(crm.clientId, 'nope') });
  assertOAuthError(wrong, 401, 'invalid_client', 'introspect with a wrong secret');
});

t('revocation (RFC 7009): the API answers 401 token.revoked at once and introspection says inactive', async () => {
  const tok = await token(srv.url, crm.clientId, crm.clientSecret, 'recording:control');
  assert.equal((await me(srv.url, tok)).status, 200);
  const auth = { authorization: basic(crm.clientId, crm.clientSecret) };

  // Another client cannot revoke it.
  const adminAuth = { authorization: basic(srv.creds.admin.clientId, srv.creds.admin.clientSecret) };
  const foreign = await postForm(srv.url, '/oauth/revoke', { token: tok }, adminAuth);
  assert.notEqual(foreign.status, 500);
  assert.equal((await me(srv.url, tok)).status, 200, 'a foreign revocation attempt does not revoke');

  const rv = await postForm(srv.url, '/oauth/revoke', { token: tok, token_type_hint: 'access_token' }, auth);
  assert.equal(rv.status, 200, rv.text);
  const res = await me(srv.url, tok);
  const body = assertErrorBody(res, 401, 'token.revoked', 'revoked token');
  assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  assert.equal(layersOf(body).token.code, 'token.revoked');
  const intro = await postForm(srv.url, '/oauth/introspect', { token: tok }, auth);
  assert.deepEqual(intro.json, { active: false });
  // Revoking garbage or an already revoked token is fine (RFC 7009 §2.2).
  assert.equal((await postForm(srv.url, '/oauth/revoke', { token: tok }, auth)).status, 200);
  assert.equal((await postForm(srv.url, '/oauth/revoke', { token: 'garbage' }, auth)).status, 200);
  // Unauthenticated revocation is refused.
  assertOAuthError(await postForm(srv.url, '/oauth/revoke', { token: tok }), 401, 'invalid_client', 'anonymous revoke');
});

t('key rotation via the admin API: old tokens stay valid, new tokens carry the new kid, JWKS has both', async () => {
  const old = await token(srv.url, crm.clientId, crm.clientSecret, 'recording:control');
  const oldKid = parseJwt(old).header.kid;
  const rot = await api(srv.url, 'POST', '/api/v2/oauth/keys/rotate', { token: admin });
  assert.equal(rot.status, 200, rot.text);
  const newKid = rot.json.kid;
  assert.notEqual(newKid, oldKid);
  const kids = (await jwks(srv.url)).keys.map((k) => k.kid);
  assert.ok(kids.includes(oldKid) && kids.includes(newKid), `JWKS has both: ${kids}`);
  assert.equal((await me(srv.url, old)).status, 200, 'a token signed with the old key still works');
  const fresh = await token(srv.url, crm.clientId, crm.clientSecret, 'recording:control');
  assert.equal(parseJwt(fresh).header.kid, newKid);
  assert.equal((await me(srv.url, fresh)).status, 200);

  // Needs admin.
  const crmTok = await token(srv.url, crm.clientId, crm.clientSecret);
  assertErrorBody(await api(srv.url, 'POST', '/api/v2/oauth/keys/rotate', { token: crmTok }), 403, 'missing.permissions', 'rotate without admin');
});

t('`verbatim keys rotate --data-dir` against a running server: the server picks the new key up', async () => {
  const old = await token(srv.url, crm.clientId, crm.clientSecret, 'recording:control');
  const before = new Set((await jwks(srv.url)).keys.map((k) => k.kid));
  const cli = await runCli(['keys', 'rotate', '--data-dir', srv.dataDir]);
  assert.equal(cli.code, 0, `keys rotate: ${cli.stderr}${cli.stdout}`);
  const newKid = await waitFor(async () => {
    const ks = (await jwks(srv.url)).keys.map((k) => k.kid);
    return ks.find((k) => !before.has(k));
  }, { deadlineMs: 15_000, intervalMs: 200, what: 'the CLI-rotated key in JWKS' });
  assert.ok(cli.stdout.includes(newKid), `the CLI names the new kid: ${cli.stdout}`);
  const fresh = await token(srv.url, crm.clientId, crm.clientSecret, 'recording:control');
  assert.equal(parseJwt(fresh).header.kid, newKid, 'new tokens are signed with the new key');
  assert.equal((await me(srv.url, fresh)).status, 200);
  assert.equal((await me(srv.url, old)).status, 200, 'old tokens stay valid');
});

t('deleting a client revokes its tokens at once', async () => {
  const c = await createClient(srv, admin, { name: 'doomed', allowedScopes: ['recording:read'], roles: ['Recording Viewer'] });
  const tok = await token(srv.url, c.id, c.clientSecret);
  assert.equal((await me(srv.url, tok)).status, 200);
  const del = await api(srv.url, 'DELETE', `/api/v2/oauth/clients/${c.id}`, { token: admin });
  assert.equal(del.status, 204, del.text);
  assertErrorBody(await me(srv.url, tok), 401, 'token.revoked', 'token of a deleted client');
  const id = await createConversation(srv, admin);
  assertErrorBody(await api(srv.url, 'GET', `/api/v2/recordings/conversations/${id}`, { token: tok }), 401, 'token.revoked', 'API with a deleted client token');
  assertOAuthError(await tokenRequest(srv.url, c.id, c.clientSecret), 401, 'invalid_client', 'deleted client asks for a token');
  const intro = await postForm(srv.url, '/oauth/introspect', { token: tok }, { authorization: basic(crm.clientId, crm.clientSecret) });
  assert.deepEqual(intro.json, { active: false });
});

t('removing a role refuses the client\'s earlier tokens (401 naming the change); a new token gets 403 missing.permission', async () => {
  const c = await createClient(srv, admin, { name: 'ctl-roles', allowedScopes: ['recording:control'], roles: ['Recording Controller'] });
  const tok = await token(srv.url, c.id, c.clientSecret);
  const id = await createConversation(srv, admin);
  const path = `/api/v2/recordings/conversations/${id}/actions`;
  assert.equal((await api(srv.url, 'POST', `${path}/start`, { token: tok })).status, 200);
  const patch = await api(srv.url, 'PATCH', `/api/v2/oauth/clients/${c.id}`, { token: admin, body: { roles: [] } });
  assert.equal(patch.status, 200, patch.text);
  assert.equal(patch.json.tokensValidAfterReason, "role 'Recording Controller' was removed from it");
  const old = assertErrorBody(await api(srv.url, 'POST', `${path}/stop`, { token: tok }), 401, 'token.revoked', 'token from before the role removal');
  assert.equal(layersOf(old).token.claim, 'iat');
  assert.match(old.message, /role 'Recording Controller' was removed from it/);
  // A new token still lacks the role: the role layer says so, and a new token will not help.
  const fresh = await token(srv.url, c.id, c.clientSecret);
  const body = assertErrorBody(await api(srv.url, 'POST', `${path}/stop`, { token: fresh }), 403, 'missing.permission', 'after role removal');
  assert.equal(layersOf(body).scope.result, 'pass', 'the token still carries its scope');
  // Roles given back apply to that token at once (roles are evaluated per request).
  await api(srv.url, 'PATCH', `/api/v2/oauth/clients/${c.id}`, { token: admin, body: { roles: ['Recording Controller'] } });
  assert.equal((await api(srv.url, 'POST', `${path}/stop`, { token: fresh })).status, 200);
});

t('narrowing allowedScopes: earlier tokens are refused (401 naming the scope), new requests for the removed scope are invalid_scope', async () => {
  const c = await createClient(srv, admin, {
    name: 'narrowed', allowedScopes: ['recording:control', 'conversation:read'], roles: ['Recording Controller'],
  });
  const tok = await token(srv.url, c.id, c.clientSecret, 'recording:control');
  const patch = await api(srv.url, 'PATCH', `/api/v2/oauth/clients/${c.id}`, { token: admin, body: { allowedScopes: ['conversation:read'] } });
  assert.equal(patch.status, 200, patch.text);
  assert.deepEqual(patch.json.allowedScopes, ['conversation:read']);
  const id = await createConversation(srv, admin);
  const start = await api(srv.url, 'POST', `/api/v2/recordings/conversations/${id}/actions/start`, { token: tok });
  const refused = assertErrorBody(start, 401, 'token.revoked', 'a token issued before its scope was removed');
  assert.match(refused.message, /scope 'recording:control' was removed from its allowed scopes/);
  const again = await tokenRequest(srv.url, c.id, c.clientSecret, { scope: 'recording:control' });
  const e = assertOAuthError(again, 400, 'invalid_scope', 'removed scope');
  assert.ok(e.error_description.includes('recording:control') && e.error_description.includes('conversation:read'), e.error_description);
  // The fix for a token without the scope now says an administrator must allow it.
  const readTok = await token(srv.url, c.id, c.clientSecret, 'conversation:read');
  const denied = await api(srv.url, 'POST', `/api/v2/recordings/conversations/${id}/actions/stop`, { token: readTok });
  const body = assertErrorBody(denied, 403, 'missing.scope', 'stop with conversation:read');
  assert.match(body.explanation.fix[0], /administrator/i);
  assert.ok(body.explanation.fix[0].includes(c.id), 'the fix names the client to change');
});

t('secret rotation: the old secret is invalid_client, the new one works', async () => {
  const c = await createClient(srv, admin, { name: 'rotating', allowedScopes: ['recording:read'], roles: [] });
  const rot = await api(srv.url, 'POST', `/api/v2/oauth/clients/${c.id}/secret`, { token: admin });
  assert.equal(rot.status, 200, rot.text);
  assert.equal(typeof rot.json.clientSecret, 'string');
  assert.notEqual(rot.json.clientSecret, c.clientSecret);
  assertOAuthError(await tokenRequest(srv.url, c.id, c.clientSecret), 401, 'invalid_client', 'old secret');
  const ok = await tokenRequest(srv.url, c.id, rot.json.clientSecret);
  assert.equal(ok.status, 200, ok.text);
});

t('`verbatim init --data-dir DIR --json` prints credentials that work on a server started without --dev', async () => {
  const dir = tempDir();
  try {
    const init = await runCli(['init', '--data-dir', dir, '--json']);
    assert.equal(init.code, 0, init.stderr);
    const creds = JSON.parse(init.stdout);
    assert.deepEqual(Object.keys(creds).sort(), ['clientId', 'clientSecret']);
    assert.match(creds.clientId, UUID_RE);
    assert.ok(creds.clientSecret.length >= 43);
    // A second init on the same dir refuses (it would mint another administrator).
    const again = await runCli(['init', '--data-dir', dir, '--json']);
    assert.notEqual(again.code, 0);

    plain = await startServer({ dev: false, dataDir: dir });
    assert.equal(plain.creds, null);
    const tok = await token(plain.url, creds.clientId, creds.clientSecret);
    const who = await me(plain.url, tok);
    assert.equal(who.status, 200, who.text);
    assert.deepEqual(who.json.roles.map((r) => r.name), ['System Administrator']);
    const clients = await api(plain.url, 'GET', '/api/v2/oauth/clients', { token: tok });
    assert.equal(clients.status, 200, clients.text);
    // The init client and the admin console's own (docs/console.md), nothing of --dev's.
    const CONSOLE_CLIENT = 'c0a50e00-0000-4000-8000-000000000001';
    assert.deepEqual(clients.json.entities.map((c) => c.id).sort(), [creds.clientId, CONSOLE_CLIENT].sort(),
      'no dev clients without --dev');
    assert.equal(clients.json.entities.find((c) => c.id === CONSOLE_CLIENT).clientType, 'public');
    const convs = await api(plain.url, 'GET', '/api/v2/conversations', { token: tok });
    assert.equal(convs.status, 200, convs.text);
    assert.deepEqual(convs.json.entities, [], 'no demo conversation without --dev');
  } finally {
    await plain?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

t('`verbatim token` and `verbatim explain` (table output, exit 3 on deny, 0 on allow)', async () => {
  const tokCli = await runCli(['token', '--client-id', crm.clientId, '--client-secret', crm.clientSecret,
    '--scope', 'recording:write', '--server', srv.url]);
  assert.equal(tokCli.code, 0, tokCli.stderr);
  const writeTok = tokCli.stdout.trim();
  assert.equal(parseJwt(writeTok).payload.scope, 'recording:write');
  const asJson = await runCli(['token', '--client-id', crm.clientId, '--client-secret', crm.clientSecret,
    '--scope', 'recording:control', '--server', srv.url, '--format', 'json']);
  assert.equal(asJson.code, 0, asJson.stderr);
  const controlTok = JSON.parse(asJson.stdout).access_token;
  const bad = await runCli(['token', '--client-id', crm.clientId, '--client-secret', 'wrong', '--server', srv.url]);
  assert.notEqual(bad.code, 0);
  assert.match(bad.stderr, /invalid_client/);

  // Through the data dir's listen.json, too.
  const viaDir = await runCli(['token', '--client-id', crm.clientId, '--client-secret', crm.clientSecret, '--data-dir', srv.dataDir]);
  assert.equal(viaDir.code, 0, viaDir.stderr);

  const id = await createConversation(srv, admin);
  const path = `/api/v2/recordings/conversations/${id}/actions/start`;
  const deny = await runCli(['explain', '--token', writeTok, '--server', srv.url, 'POST', path]);
  assert.equal(deny.code, 3, `explain deny exit code: ${deny.stdout}${deny.stderr}`);
  for (const word of ['token', 'scope', 'permission', 'resource', 'missing.scope', 'recording:control']) {
    assert.ok(deny.stdout.includes(word), `explain output contains ${word}:\n${deny.stdout}`);
  }
  // Columns line up whatever the cell widths: REQUIRED and GRANTED of the scope row sit under their headers.
  const lines = deny.stdout.split('\n');
  const header = lines.find((l) => l.startsWith('LAYER'));
  const scopeRow = lines.find((l) => l.startsWith('scope '));
  assert.ok(header && scopeRow, deny.stdout);
  assert.ok(scopeRow.slice(header.indexOf('REQUIRED')).startsWith('recording:control'), deny.stdout);
  assert.ok(scopeRow.slice(header.indexOf('GRANTED')).startsWith('recording:write'), deny.stdout);
  const allow = await runCli(['explain', '--token', controlTok, '--server', srv.url, 'POST', path]);
  assert.equal(allow.code, 0, `explain allow exit code: ${allow.stdout}${allow.stderr}`);
  for (const word of ['token', 'scope', 'permission', 'resource']) assert.ok(allow.stdout.includes(word), allow.stdout);
  // explain simulates: nothing was started.
  const rec = await api(srv.url, 'GET', `/api/v2/recordings/conversations/${id}`, { token: admin });
  assert.equal(rec.status, 200, rec.text);
  assert.equal(rec.json.state, 'none');

  // Replay a past denial by contextId.
  const denied = await api(srv.url, 'POST', path, { token: writeTok });
  assert.equal(denied.status, 403);
  const replay = await runCli(['explain', '--token', admin, '--server', srv.url, '--context-id', denied.json.contextId]);
  assert.equal(replay.code, 3, `${replay.stdout}${replay.stderr}`);
  assert.ok(replay.stdout.includes('missing.scope'), replay.stdout);
  assert.ok(replay.stdout.includes('scope'), replay.stdout);
});

t('a token of this server presented after its issuer changed: 401 token.audience', async () => {
  // Restarting on a new port changes the default issuer ({issuer}/api is the audience); the keys stay.
  const tok = await token(srv.url, crm.clientId, crm.clientSecret, 'recording:control');
  await srv.restart();
  const res = await me(srv.url, tok);
  const body = assertErrorBody(res, 401, 'token.audience', 'token of the previous issuer');
  assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  assert.ok(['iss', 'aud'].includes(layersOf(body).token.claim), JSON.stringify(layersOf(body).token));
});

t('with a fixed --issuer, tokens and revocations survive a restart (keys and revoked jtis are in the store)', async () => {
  const fixed = await startServer({ extraArgs: ['--issuer', 'http://verbatim.test'] });
  try {
    const m = await metadata(fixed.url);
    assert.equal(m.issuer, 'http://verbatim.test');
    assert.equal(m.token_endpoint, 'http://verbatim.test/oauth/token');
    // Not a dev client: `serve --dev` gives those a new secret on every start, which refuses their tokens.
    const created = await createClient(fixed, await adminToken(fixed), {
      name: 'restart-survivor', allowedScopes: ['recording:control'], roles: ['Recording Controller'],
    });
    const c = { clientId: created.id, clientSecret: created.clientSecret };
    const keep = await token(fixed.url, c.clientId, c.clientSecret, 'recording:control');
    const drop = await token(fixed.url, c.clientId, c.clientSecret, 'recording:control');
    assert.equal(parseJwt(keep).payload.iss, 'http://verbatim.test');
    assert.equal(parseJwt(keep).payload.aud, 'http://verbatim.test/api');
    const rv = await postForm(fixed.url, '/oauth/revoke', { token: drop }, { authorization: basic(c.clientId, c.clientSecret) });
    assert.equal(rv.status, 200, rv.text);
    assertErrorBody(await me(fixed.url, drop), 401, 'token.revoked', 'revoked before restart');

    await fixed.restart();
    const ok = await me(fixed.url, keep);
    assert.equal(ok.status, 200, `a valid token still works after a restart: ${ok.text}`);
    assertErrorBody(await me(fixed.url, drop), 401, 'token.revoked', 'revoked token after restart');

    await fixed.kill9();
    await fixed.restart();
    assert.equal((await me(fixed.url, keep)).status, 200);
    assertErrorBody(await me(fixed.url, drop), 401, 'token.revoked', 'revoked token after kill -9');
  } finally {
    await fixed.dispose();
  }
});
