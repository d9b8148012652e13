// docs/api.md §3 and docs/security.md ("Rate limits and connection caps"): the token endpoint and failed authentications
// are rate-limited per client id and per source address; a limited request gets
// 429 too.many.requests with Retry-After and the usual error body.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, tokenRequest, api, assertErrorBody, loggedTest } from './lib/server.mjs';

let srv;
const t = loggedTest(test, () => [srv]);

before(async () => {
  srv = await startServer({
    extraArgs: ['--rate-limit-token', '2', '--rate-limit-auth-failures', '0.5', '--rate-limit-auth-burst', '3'],
  });
});
after(async () => { await srv?.dispose(); });

t('token requests beyond the per-client rate get 429 with Retry-After; other clients are unaffected', async () => {
  const crm = srv.creds.crmIntegration;
  const results = [];
  for (let i = 0; i < 12; i++) results.push(await tokenRequest(srv.url, crm.clientId, crm.clientSecret));
  const ok = results.filter((r) => r.status === 200).length;
  const limited = results.filter((r) => r.status === 429);
  assert.ok(ok >= 4 && ok <= 6, `burst of 2 s worth at 2/s lets 4 (+ refill) through, got ${ok}`);
  assert.ok(limited.length >= 6, `expected most of the rest to be limited, got ${limited.length}`);
  const r = limited[0];
  assertErrorBody(r, 429, 'too.many.requests');
  assert.match(r.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
  assert.equal(r.json.messageParams.retryAfterSeconds, r.headers.get('retry-after'));
  // OAuth client libraries read RFC 6749 fields: the token endpoint's 429 has them too.
  assert.equal(r.json.error, 'too_many_requests');
  assert.equal(r.json.error_description, r.json.message);
  const admin = srv.creds.admin;
  const other = await tokenRequest(srv.url, admin.clientId, admin.clientSecret);
  assert.equal(other.status, 200, 'another client keeps its own budget');
});

t('failed bearer authentications from one address are cut off with 429 before any verification', async () => {
  const statuses = [];
  let last;
  for (let i = 0; i < 6; i++) {
    last = await api(srv.url, 'GET', '/api/v2/tokens/me', { token: `garbage-${i}` });
    statuses.push(last.status);
  }
  assert.deepEqual(statuses.slice(0, 3), [401, 401, 401], 'the burst of failures is answered normally');
  assert.ok(statuses.slice(3).every((s) => s === 429), `then 429: ${statuses}`);
  assertErrorBody(last, 429, 'too.many.requests');
  assert.match(last.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
  const tokenLayer = last.json.explanation.layers[0];
  assert.equal(tokenLayer.layer, 'token');
  assert.equal(tokenLayer.code, 'too.many.requests');
  // Even a valid client authentication from the blocked address waits.
  const crm = srv.creds.crmIntegration;
  const blocked = await tokenRequest(srv.url, crm.clientId, 'wrong-secret');
  assert.equal(blocked.status, 429);
  assert.equal(blocked.json.error, 'too_many_requests');
  // Non-OAuth endpoints keep the plain docs/api.md §3 body.
  assert.equal(last.json.error, undefined);
});
