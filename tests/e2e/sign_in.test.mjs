// Browser sign-in (docs/users.md "Sign-in") against the real binary over real
// HTTP, the way a single-page app does it with fetch: discovery, the sign-in
// page and its CSRF cookie, the redirect with code/state/iss, the PKCE
// exchange as a public client, a person's token at work (and its explanation),
// refresh rotation with reuse detection, and revocation of a refresh token.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { startServer, api, loggedTest, adminToken, createClient, parseJwt, UUID_RE } from './lib/server.mjs';

let srv;
let admin;
let client;
const t = loggedTest(test, () => srv);
const REDIRECT = 'http://127.0.0.1:4173/callback';

const b64url = (buf) => buf.toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
const pkce = () => {
  const verifier = b64url(randomBytes(32));
  return { verifier, challenge: b64url(createHash('sha256').update(verifier).digest()) };
};

before(async () => {
  srv = await startServer();
  admin = await adminToken(srv);
  client = await createClient(srv, admin, {
    name: 'spa',
    clientType: 'public',
    allowedScopes: ['recording:read', 'conversation:read', 'admin'],
    allowedGrantTypes: ['authorization_code', 'refresh_token'],
    redirectUris: [REDIRECT],
  });
  assert.equal(client.clientSecret, undefined, 'a public client gets no secret');
});

after(async () => {
  await srv?.dispose();
});

/** Signs `username` in through the page; returns {location, query, status, text}. */
async function signIn(username, password, { challenge, state = 'st-' + randomBytes(4).toString('hex') } = {}) {
  const q = new URLSearchParams({
    response_type: 'code', client_id: client.id, redirect_uri: REDIRECT, state,
    code_challenge: challenge, code_challenge_method: 'S256',
  });
  const page = await fetch(`${srv.url}/oauth/authorize?${q}`, { redirect: 'manual' });
  const html = await page.text();
  assert.equal(page.status, 200, html);
  const cookie = page.headers.get('set-cookie').split(';')[0];
  const csrf = html.match(/name="csrf" value="([^"]+)"/)[1];
  const form = new URLSearchParams(q);
  form.set('csrf', csrf);
  form.set('username', username);
  form.set('password', password);
  const post = await fetch(`${srv.url}/oauth/authorize`, {
    method: 'POST', redirect: 'manual', body: form,
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie },
  });
  const location = post.headers.get('location');
  return { status: post.status, location, query: location ? new URL(location).searchParams : null, text: await post.text(), state };
}

async function tokenForm(params) {
  const r = await fetch(`${srv.url}/oauth/token`, {
    method: 'POST', body: new URLSearchParams({ client_id: client.id, ...params }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  return { status: r.status, json: await r.json() };
}

t('discovery advertises the authorization endpoint, S256 and iss in responses', async () => {
  const m = await api(srv.url, 'GET', '/.well-known/oauth-authorization-server');
  assert.equal(m.status, 200);
  assert.equal(m.json.authorization_endpoint, `${m.json.issuer}/oauth/authorize`);
  assert.deepEqual(m.json.code_challenge_methods_supported, ['S256']);
  assert.deepEqual(m.json.response_types_supported, ['code']);
  assert.ok(m.json.grant_types_supported.includes('refresh_token'));
  assert.ok(m.json.token_endpoint_auth_methods_supported.includes('none'));
  assert.equal(m.json.authorization_response_iss_parameter_supported, true);
});

t('the --dev demo user signs in through the page and acts as itself', async () => {
  const { verifier, challenge } = pkce();
  const s = await signIn(srv.creds.user.username, srv.creds.user.password, { challenge });
  assert.equal(s.status, 303, s.text);
  assert.ok(s.location.startsWith(REDIRECT + '?'), s.location);
  assert.equal(s.query.get('state'), s.state);
  const issuer = (await api(srv.url, 'GET', '/.well-known/oauth-authorization-server')).json.issuer;
  assert.equal(s.query.get('iss'), issuer, 'RFC 9207: the response names its issuer');

  const tok = await tokenForm({ grant_type: 'authorization_code', code: s.query.get('code'), redirect_uri: REDIRECT, code_verifier: verifier });
  assert.equal(tok.status, 200, JSON.stringify(tok.json));
  assert.ok(tok.json.refresh_token);
  const claims = parseJwt(tok.json.access_token).payload;
  assert.match(claims.sub, UUID_RE);
  assert.notEqual(claims.sub, client.id, 'sub is the person, client_id the app');
  assert.equal(claims.client_id, client.id);
  assert.ok(claims.sid && claims.auth_time);

  const me = await api(srv.url, 'GET', '/api/v2/tokens/me', { token: tok.json.access_token });
  assert.equal(me.status, 200, me.text);
  assert.equal(me.json.principal.type, 'user');
  assert.equal(me.json.principal.name, srv.creds.user.username);
  // The demo user is a System Administrator: the admin API answers.
  const users = await api(srv.url, 'GET', '/api/v2/users', { token: tok.json.access_token });
  assert.equal(users.status, 200, users.text);

  // Scopes stay the client's: recording:control is not among them, and the
  // explanation says the fix is on the client it signed in through.
  const conv = await api(srv.url, 'POST', '/api/v2/conversations', { token: admin, body: { participants: [{ name: 'A', purpose: 'customer' }] } });
  const start = await api(srv.url, 'POST', `/api/v2/recordings/conversations/${conv.json.id}/actions/start`, { token: tok.json.access_token });
  assert.equal(start.status, 403, start.text);
  assert.equal(start.json.code, 'missing.scope');
  assert.equal(start.json.explanation.principal.type, 'user');
  assert.equal(start.json.explanation.principal.viaClient.name, 'spa');
  assert.match(start.json.explanation.fix.join(' '), new RegExp(`client 'spa' \\(PATCH /api/v2/oauth/clients/${client.id}\\)`));
});

t('a wrong password and an unknown user get the same answer; a bad verifier burns the code', async () => {
  const { challenge } = pkce();
  const wrong = await signIn(srv.creds.user.username, 'not the password at all', { challenge });
  const nobody = await signIn('no-such-person', 'not the password at all', { challenge });
  assert.equal(wrong.status, 200);
  assert.equal(nobody.status, 200);
  assert.match(wrong.text, /The username or password is incorrect\./);
  assert.match(nobody.text, /The username or password is incorrect\./);

  const good = await signIn(srv.creds.user.username, srv.creds.user.password, { challenge });
  const bad = await tokenForm({ grant_type: 'authorization_code', code: good.query.get('code'), redirect_uri: REDIRECT, code_verifier: pkce().verifier });
  assert.equal(bad.status, 400);
  assert.equal(bad.json.error, 'invalid_grant');
  assert.match(bad.json.error_description, /code_verifier does not match/);
});

t('refresh tokens rotate; presenting a used one ends the sign-in; revoking one ends it too', async () => {
  const { verifier, challenge } = pkce();
  const s = await signIn(srv.creds.user.username, srv.creds.user.password, { challenge });
  const first = await tokenForm({ grant_type: 'authorization_code', code: s.query.get('code'), redirect_uri: REDIRECT, code_verifier: verifier });
  assert.equal(first.status, 200);
  const second = await tokenForm({ grant_type: 'refresh_token', refresh_token: first.json.refresh_token });
  assert.equal(second.status, 200, JSON.stringify(second.json));
  assert.notEqual(second.json.refresh_token, first.json.refresh_token);
  assert.equal((await api(srv.url, 'GET', '/api/v2/tokens/me', { token: second.json.access_token })).status, 200);

  const reuse = await tokenForm({ grant_type: 'refresh_token', refresh_token: first.json.refresh_token });
  assert.equal(reuse.status, 400);
  assert.match(reuse.json.error_description, /already used/);
  const after = await api(srv.url, 'GET', '/api/v2/tokens/me', { token: second.json.access_token });
  assert.equal(after.status, 401, 'the newest access token of the sign-in is revoked too');
  assert.equal(after.json.explanation.layers[0].claim, 'sid');

  // A new sign-in, ended by revoking its refresh token (RFC 7009).
  const p2 = pkce();
  const s2 = await signIn(srv.creds.user.username, srv.creds.user.password, { challenge: p2.challenge });
  const t2 = await tokenForm({ grant_type: 'authorization_code', code: s2.query.get('code'), redirect_uri: REDIRECT, code_verifier: p2.verifier });
  const revoke = await fetch(`${srv.url}/oauth/revoke`, {
    method: 'POST', body: new URLSearchParams({ client_id: client.id, token: t2.json.refresh_token, token_type_hint: 'refresh_token' }),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  });
  assert.equal(revoke.status, 200);
  assert.equal((await api(srv.url, 'GET', '/api/v2/tokens/me', { token: t2.json.access_token })).status, 401);
  assert.equal((await tokenForm({ grant_type: 'refresh_token', refresh_token: t2.json.refresh_token })).status, 400);
});
