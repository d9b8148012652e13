// Three verbatim nodes on one PostgreSQL (issue 14, "changes propagate"): what
// one node changes, the others act on within a second, without a restart;
// actions through all three serialize into one timeline; a node killed
// mid-call has its recording marked interrupted by another after its media
// lease, and recovers the file when it starts again (the last test).
// Node A (--dev) creates the organization and the signing keys; nodes B and C start
// after it on the same database with A's key-encryption key file (every node
// of a cluster needs the same one: docs/secrets-at-rest.md) and the same
// --issuer (a token's iss and aud must be the cluster's, not one node's
// address). Each propagation check polls the other node every 20 ms for at
// most 1 s and reports the measured staleness (test diagnostic
// "staleness: N ms": from the answer to the write on one node to the first
// answer on the other that shows it).
//
// The fixtures that several nodes must know before a test starts (clients,
// the custom role, the user, the conversation) are made on A before B starts:
// B loads them at start, so each test exercises only the propagation of the
// change it makes.
//
// Skipped (with the reason) when PostgreSQL is not installed, unless CI=true.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  startServer, token, tokenRequest, api, postForm, basic, adminToken, createClient, createConversation,
  assertErrorBody, layersOf, loggedTest, parseJwt, waitFor,
} from './lib/server.mjs';
import { startPostgres, pgSkipReason, freePort, assertOutageAnswer } from './lib/pg.mjs';
import { SipUac, SiprecCall } from './lib/sip_client.mjs';
import { startRtp } from './lib/rtp_sender.mjs';
import { conversationByExternalId, waitMediaComplete, downloadWav, analyzeChannel, getRecording, MS } from './lib/siprec_env.mjs';
import { grpcClients, collectStream } from './lib/grpc.mjs';

const skip = pgSkipReason();
const ISSUER = 'http://verbatim-cluster.test';
const REDIRECT = 'http://127.0.0.1:4173/callback';
const PASSWORD = 'cluster-user-password-4711';
const PROPAGATION_MS = 1000;
const B_RTP_PORTS = '44100-44199';  // unique to this file: test files run in parallel
const C_RTP_PORTS = '44200-44299';
let pg;
let a;
let b;
let c;
const f = {}; // the fixtures, made on A before B starts
const t = loggedTest(test, () => [a, b, c]);

// Every node polls others' changes with requests that fail until the change
// arrives (an unknown client secret, a key not yet known): no limit on failed
// authentications, so that a slow propagation in one test cannot throttle the next.
// A 2 s media lease (default 10 s) so that a node's death shows within seconds.
const LEASE_MS = 2000;
const nodeArgs = (url) => ['--database-url', url, '--issuer', ISSUER, '--rate-limit-auth-failures', '0',
  '--media-lease-seconds', String(LEASE_MS / 1000)];

const me = (node, tok) => api(node.url, 'GET', '/api/v2/tokens/me', { token: tok });
const action = (node, tok, name) =>
  api(node.url, 'POST', `/api/v2/recordings/conversations/${f.conversation}/actions/${name}`, { token: tok });

before(async () => {
  if (skip) return;
  pg = await startPostgres();
  const url = pg.url(await pg.createDatabase('cluster'));
  a = await startServer({ extraArgs: nodeArgs(url) });
  await makeFixtures();
  // B advertises its address: downloads of the files it records, asked on
  // another node, are redirected there. A fixed port, kept when B restarts.
  const bListen = `127.0.0.1:${await freePort()}`;
  b = await startServer({
    dev: false,
    httpListen: bListen,
    extraArgs: [...nodeArgs(url), '--key-encryption-key-file', join(a.dataDir, 'kek'), '--rtp-ports', B_RTP_PORTS,
      '--grpc-listen', '127.0.0.1:0', '--advertise-url', `http://${bListen}`],
  });
  c = await startServer({
    dev: false,
    extraArgs: [...nodeArgs(url), '--key-encryption-key-file', join(a.dataDir, 'kek'), '--rtp-ports', C_RTP_PORTS],
  });
});

after(async () => {
  await c?.dispose();
  await b?.dispose();
  await a?.dispose();
  await pg?.dispose();
});

async function makeFixtures() {
  f.admin = await adminToken(a);
  f.conversation = await createConversation(a, f.admin);
  const recording = await action(a, f.admin, 'start'); // so that pause is a real action in every test
  assert.equal(recording.status, 200, recording.text);
  f.revoker = await createClient(a, f.admin, { name: 'revoker', allowedScopes: ['conversation:read'] });
  f.controller = await createClient(a, f.admin, {
    name: 'controller', allowedScopes: ['recording:control'], roles: ['Recording Controller'],
  });
  const role = await api(a.url, 'POST', '/api/v2/authorization/roles', {
    token: f.admin, body: { name: 'Pauser', permissions: ['recording:recording:pause', 'recording:recording:resume'] },
  });
  assert.equal(role.status, 201, role.text);
  f.pauserRole = role.json;
  f.pauser = await createClient(a, f.admin, { name: 'pauser', allowedScopes: ['recording:control'], roles: ['Pauser'] });
  f.spa = await createClient(a, f.admin, {
    name: 'cluster-spa', clientType: 'public', allowedScopes: ['recording:read'],
    allowedGrantTypes: ['authorization_code', 'refresh_token'], redirectUris: [REDIRECT],
  });
  const user = await api(a.url, 'POST', '/api/v2/users', {
    token: f.admin, body: { username: 'carol', password: PASSWORD, roles: ['Recording Viewer'] },
  });
  assert.equal(user.status, 201, user.text);
  f.user = user.json;
  // SIPREC into B: a stored trunk (B has no --dev trunk) for the loopback SRC, and autoStart.
  const trunk = await api(a.url, 'POST', '/api/v2/media/siprec/trunks', {
    token: f.admin, body: { name: 'cluster-src', networks: ['127.0.0.1/32'], transports: ['udp'] },
  });
  assert.equal(trunk.status, 201, trunk.text);
  const settings = await api(a.url, 'PATCH', '/api/v2/organization/settings', { token: f.admin, body: { autoStart: true } });
  assert.equal(settings.status, 200, settings.text);
}

/** Polls `fn` on the other node until it is truthy (1 s at most); reports and returns {value, ms}. */
async function propagated(ctx, what, fn) {
  const start = performance.now();
  const value = await waitFor(fn, { deadlineMs: PROPAGATION_MS, intervalMs: 20, what });
  const ms = Math.round(performance.now() - start);
  ctx.diagnostic(`staleness: ${ms} ms (${what})`);
  return { value, ms };
}

t('a token issued by A is accepted by B: the nodes share the signing keys and the issuer', { skip }, async () => {
  const tok = await token(a.url, f.revoker.id, f.revoker.clientSecret);
  assert.equal(parseJwt(tok).payload.iss, ISSUER);
  const res = await me(b, tok);
  assert.equal(res.status, 200, res.text);
  assert.equal(res.json.principal.id, f.revoker.id, res.text);
});

t('a token revoked on B is refused on C (and A) within 1 s', { skip }, async (ctx) => {
  const tok = await token(a.url, f.revoker.id, f.revoker.clientSecret);
  assert.equal((await me(a, tok)).status, 200);
  assert.equal((await me(b, tok)).status, 200);
  assert.equal((await me(c, tok)).status, 200);
  const revoke = await postForm(b.url, '/oauth/revoke', { token: tok, token_type_hint: 'access_token' },
    { authorization: basic(f.revoker.id, f.revoker.clientSecret) });
  assert.equal(revoke.status, 200, revoke.text);
  assertErrorBody(await me(b, tok), 401, 'token.revoked', 'on B, where it was revoked');
  for (const [name, node] of [['C', c], ['A', a]]) {
    const { value } = await propagated(ctx, `revocation B -> ${name}`, async () => {
      const res = await me(node, tok);
      return res.status === 200 ? null : res;
    });
    assertErrorBody(value, 401, 'token.revoked', `on ${name}`);
  }
});

t('a role taken from a client on C: A refuses its earlier token (401) and denies a new one (403 missing.permission) within 1 s', { skip }, async (ctx) => {
  const old = await token(a.url, f.controller.id, f.controller.clientSecret, 'recording:control');
  const allowed = await action(a, old, 'pause');
  assert.equal(allowed.status, 200, allowed.text);
  const roleId = f.controller.roles.find((r) => r.name === 'Recording Controller').id;
  const removed = await api(c.url, 'DELETE', `/api/v2/oauth/clients/${f.controller.id}/roles/${roleId}`, { token: f.admin });
  assert.equal(removed.status, 200, removed.text);
  assert.deepEqual(removed.json.roles, []);

  // Taking a role away refuses the client's earlier tokens (docs/api.md
  // "Tokens follow their client"): the old token is refused at the token layer.
  const { value } = await propagated(ctx, 'client role removal C -> A', async () => {
    const res = await action(a, old, 'pause');
    return res.status === 200 ? null : res;
  });
  const refused = assertErrorBody(value, 401, 'token.revoked', 'the token from before the change, on A');
  assert.match(JSON.stringify(refused), /role 'Recording Controller' was removed/, 'the 401 names the change');

  // A token issued after the change (by B) passes the token layer on A and is
  // denied where roles are judged: A evaluates the client's roles as C left them.
  const fresh = await token(b.url, f.controller.id, f.controller.clientSecret, 'recording:control');
  const denied = assertErrorBody(await action(a, fresh, 'pause'), 403, 'missing.permission', 'a new token on A');
  const L = layersOf(denied);
  assert.equal(L.token.result, 'pass');
  assert.equal(L.scope.result, 'pass');
  assert.equal(L.permission.result, 'fail', 'the permission layer denies');
  assert.deepEqual(L.permission.required, ['recording:recording:pause']);
  assert.deepEqual(L.permission.granted, []);
  assert.equal(L.resource.result, 'not-evaluated');
  assert.deepEqual(denied.explanation.principal.roles, []);
});

t('a custom role changed on B: A denies the same token (403 missing.permission) within 1 s, roles being judged per request', { skip }, async (ctx) => {
  const tok = await token(a.url, f.pauser.id, f.pauser.clientSecret, 'recording:control');
  const allowed = await action(a, tok, 'pause');
  assert.equal(allowed.status, 200, allowed.text);
  const changed = await api(b.url, 'PUT', `/api/v2/authorization/roles/${f.pauserRole.id}`, {
    token: f.admin, body: { permissions: ['recording:recording:resume'] },
  });
  assert.equal(changed.status, 200, changed.text);

  const { value } = await propagated(ctx, 'role definition change B -> A', async () => {
    const res = await action(a, tok, 'pause');
    return res.status === 200 ? null : res;
  });
  const L = layersOf(assertErrorBody(value, 403, 'missing.permission', 'the same token on A'));
  assert.equal(L.token.result, 'pass', 'the token is still good: only the role changed');
  assert.equal(L.permission.result, 'fail', 'the permission layer denies');
  assert.deepEqual(L.permission.required, ['recording:recording:pause']);
});

t('a client created on B gets a token from A within 1 s; its secret rotated on B stops working on A within 1 s', { skip }, async (ctx) => {
  const created = await createClient(b, f.admin, { name: 'made-on-b', allowedScopes: ['conversation:read'] });
  const { value } = await propagated(ctx, 'new client B -> A', async () => {
    const res = await tokenRequest(a.url, created.id, created.clientSecret);
    return res.status === 200 ? res : null;
  });
  assert.equal(parseJwt(value.json.access_token).payload.client_id, created.id);
  assert.equal((await me(a, value.json.access_token)).status, 200);

  // A change to a client A already holds: the old secret must stop working there too.
  const rotated = await api(b.url, 'POST', `/api/v2/oauth/clients/${created.id}/secret`, { token: f.admin });
  assert.equal(rotated.status, 200, rotated.text);
  const { value: refused } = await propagated(ctx, 'secret rotation B -> A', async () => {
    const res = await tokenRequest(a.url, created.id, created.clientSecret);
    return res.status === 200 ? null : res;
  });
  assert.equal(refused.status, 401, refused.text);
  assert.equal(refused.json.error, 'invalid_client');
  assert.equal((await tokenRequest(a.url, created.id, rotated.json.clientSecret)).status, 200, 'the new secret works on A');
});

t('after a key rotation on A, a token signed with the new key is accepted by B within 1 s', { skip }, async (ctx) => {
  const rotated = await api(a.url, 'POST', '/api/v2/oauth/keys/rotate', { token: f.admin });
  assert.equal(rotated.status, 200, rotated.text);
  const tok = await token(a.url, f.revoker.id, f.revoker.clientSecret);
  assert.equal(parseJwt(tok).header.kid, rotated.json.kid, 'A signs with its new key');
  await propagated(ctx, 'signing key A -> B', async () => (await me(b, tok)).status === 200);
  const jwks = await api(b.url, 'GET', '/.well-known/jwks.json');
  assert.ok(jwks.json.keys.some((k) => k.kid === rotated.json.kid), 'B publishes the new key');
  assert.equal((await me(b, f.admin)).status, 200, 'a token signed with the old key still works on B');
});

// ---------------------------------------------------------------- a person

const b64url = (buf) => buf.toString('base64url');

/** The browser sign-in of docs/users.md on `node` (page, CSRF cookie, PKCE exchange): the token response. */
async function signIn(node, username, password) {
  const verifier = b64url(randomBytes(32));
  const q = new URLSearchParams({
    response_type: 'code', client_id: f.spa.id, redirect_uri: REDIRECT, state: b64url(randomBytes(8)),
    code_challenge: b64url(createHash('sha256').update(verifier).digest()), code_challenge_method: 'S256',
  });
  const page = await fetch(`${node.url}/oauth/authorize?${q}`, { redirect: 'manual' });
  const html = await page.text();
  assert.equal(page.status, 200, html);
  const form = new URLSearchParams(q);
  form.set('csrf', html.match(/name="csrf" value="([^"]+)"/)[1]);
  form.set('username', username);
  form.set('password', password);
  const post = await fetch(`${node.url}/oauth/authorize`, {
    method: 'POST', redirect: 'manual', body: form,
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: page.headers.get('set-cookie').split(';')[0] },
  });
  assert.equal(post.status, 303, await post.text());
  const code = new URL(post.headers.get('location')).searchParams.get('code');
  const tok = await postForm(node.url, '/oauth/token', {
    grant_type: 'authorization_code', client_id: f.spa.id, code, redirect_uri: REDIRECT, code_verifier: verifier,
  });
  assert.equal(tok.status, 200, tok.text);
  return tok.json;
}

t('a user disabled on A: the token it signed in for is refused on B within 1 s', { skip }, async (ctx) => {
  const signedIn = await signIn(a, 'carol', PASSWORD);
  const claims = parseJwt(signedIn.access_token).payload;
  assert.equal(claims.sub, f.user.id);
  assert.ok(claims.sid, 'a sign-in token');
  const ok = await me(b, signedIn.access_token);
  assert.equal(ok.status, 200, ok.text);
  assert.equal(ok.json.principal.type, 'user');

  const disabled = await api(a.url, 'PATCH', `/api/v2/users/${f.user.id}`, { token: f.admin, body: { enabled: false } });
  assert.equal(disabled.status, 200, disabled.text);
  const { value } = await propagated(ctx, 'user disabled A -> B', async () => {
    const res = await me(b, signedIn.access_token);
    return res.status === 200 ? null : res;
  });
  const refused = assertErrorBody(value, 401, 'token.revoked', 'the user\'s token on B');
  assert.match(JSON.stringify(refused), /user 'carol' is disabled/);
});

t('a SIPREC call recorded on B, paused and resumed through A: B\'s file is silent from the pause to the resume (±50 ms)', { skip }, async () => {
  const [host, port] = b.listen.sip.split(':');
  const uac = await new SipUac({ transport: 'udp', host, port: Number(port) }).open();
  try {
    const call = new SiprecCall(uac, {
      participants: [{ name: 'Cleo Caller', aor: 'sip:cleo@example.com', label: 'a' }, { name: 'Aldo Agent', aor: 'sip:aldo@example.com', label: 'b' }],
    });
    const inv = await call.invite();
    assert.equal(inv.status, 200, inv.raw);
    const conv = await conversationByExternalId(a, f.admin, call.callId);  // one database: A knows B's call
    const actOnA = async (name) => {
      const sent = Date.now();
      const res = await api(a.url, 'POST', `/api/v2/recordings/conversations/${conv.id}/actions/${name}`, { token: f.admin });
      const answered = Date.now();
      assert.equal(res.status, 200, `${name} on A: ${res.text}`);
      assert.equal(res.json.changed, true);
      return { sent, answered };
    };
    const packets = 150;  // 3 s
    const sender = startRtp({ streams: [{ port: inv.ports[0], freq: 440 }, { port: inv.ports[1], freq: 880 }], packets });
    await sender.reached(50);
    const pause = await actOnA('pause');
    await sender.reached(100);
    const resume = await actOnA('resume');
    const report = await sender.done;
    assert.equal((await call.bye()).status, 200);

    await waitMediaComplete(b, f.admin, conv.id, 1);
    const s1 = await downloadWav(b, f.admin, conv.id, 1);  // the file is on B, which took the call
    f.recordedOnB = { id: conv.id, buf: s1.buf };  // for the download-from-any-node test
    const x = analyzeChannel(s1.channels[0], { freq: 440, packets });
    assert.equal(x.mismatches, 0, JSON.stringify(x.firstMismatch));
    assert.equal(x.silentRuns.length, 1, `one paused stretch: ${JSON.stringify(x.silentRuns)}`);
    const [run] = x.silentRuns;
    const pos = (tms) => x.p0 + (tms - report.t0) * MS;  // wall time → file position
    assert.ok(run.start >= pos(pause.sent) - 50 * MS && run.start <= pos(pause.answered) + 50 * MS,
      `pause at ${run.start / MS} ms; the call to A ran ${pos(pause.sent) / MS}–${pos(pause.answered) / MS} ms`);
    assert.ok(run.end >= pos(resume.sent) - 50 * MS && run.end <= pos(resume.answered) + 50 * MS,
      `resume at ${run.end / MS} ms; the call to A ran ${pos(resume.sent) / MS}–${pos(resume.answered) / MS} ms`);
  } finally {
    uac.close();
  }
});

const mediaPath = (id, segment = 1) => `/api/v2/recordings/conversations/${id}/media?segment=${segment}`;

t('a recording made on B downloads through A and C: a 307 to a short-lived signed URL on B, with Range, audited on both', { skip }, async () => {
  assert.ok(f.recordedOnB, 'needs the file the SIPREC test recorded on B');
  const { id, buf } = f.recordedOnB;
  const bNode = b.listen.node;
  // Asked on A (the file is on B): a redirect, never the token sent along.
  const asked = await fetch(a.url + mediaPath(id), { headers: { authorization: `Bearer ${f.admin}` }, redirect: 'manual' });
  assert.equal(asked.status, 307, await asked.clone().text());
  assert.equal(asked.headers.get('cache-control'), 'no-store');
  const location = asked.headers.get('location');
  const body = await asked.json();
  assert.equal(body.location, location);
  assert.equal(body.node, bNode);
  assert.ok(location.startsWith(`${b.url}/api/v2/recordings/conversations/${id}/media?`), location);
  const expiresIn = Date.parse(body.expiresAt) - Date.now();
  assert.ok(expiresIn > 0 && expiresIn <= 61_000, `expires in ${expiresIn} ms`);

  // The signed URL needs no token; Range works as on B directly.
  const head = await fetch(location, { headers: { range: 'bytes=0-43' } });
  assert.equal(head.status, 206);
  assert.equal(head.headers.get('content-range'), `bytes 0-43/${buf.length}`);
  assert.deepEqual(Buffer.from(await head.arrayBuffer()), buf.subarray(0, 44));
  const tail = await fetch(location, { headers: { range: `bytes=${buf.length - 1000}-` } });
  assert.equal(tail.status, 206);
  assert.deepEqual(Buffer.from(await tail.arrayBuffer()), buf.subarray(buf.length - 1000));

  // A client that follows redirects (fetch drops Authorization across origins) gets the same bytes through C.
  const followed = await fetch(c.url + mediaPath(id), { headers: { authorization: `Bearer ${f.admin}` } });
  assert.equal(followed.status, 200);
  assert.equal(followed.url.startsWith(b.url), true, followed.url);
  assert.deepEqual(Buffer.from(await followed.arrayBuffer()), buf);

  // Changed, or used on another node: refused with the explained error body.
  const forgedUrl = new URL(location);
  forgedUrl.searchParams.set('segment', '2');
  const forged = await api(b.url, 'GET', forgedUrl.pathname + forgedUrl.search);
  const refused = assertErrorBody(forged, 403, 'media.url.invalid', 'a changed signed URL');
  assert.equal(layersOf(refused).token.result, 'fail');
  assert.equal(layersOf(refused).token.code, 'media.url.invalid');
  const url = new URL(location);
  const elsewhere = await api(c.url, 'GET', url.pathname + url.search);
  assertErrorBody(elsewhere, 403, 'media.url.wrong.node', 'B\'s signed URL on C');

  // Both decisions are in the one audit log: A's redirect and B's download, by the same principal.
  const aContext = asked.headers.get('x-context-id');
  const bContext = head.headers.get('x-context-id');
  const events = await waitFor(async () => {
    const r = await api(a.url, 'GET', `/api/v2/audit/events?conversationId=${id}&pageSize=200`, { token: f.admin });
    const byCtx = (ctxId) => r.json?.entities?.find((e) => e.contextId === ctxId);
    return byCtx(aContext) && byCtx(bContext) ? [byCtx(aContext), byCtx(bContext)] : null;
  }, { deadlineMs: 3000, what: 'both downloads in the audit log' });
  assert.equal(events[0].status, 307);
  assert.equal(events[1].status, 206);
  assert.equal(events[1].decision, 'allow');
  assert.equal(events[1].principal.id, events[0].principal.id);
});

t('a gRPC Watch on B sees a transition made through A within 1 s', { skip }, async (ctx) => {
  const id = await createConversation(a, f.admin);
  const clients = grpcClients(b, f.admin);
  const w = collectStream(clients.recordings.Watch({ conversationId: id }));
  try {
    const [snap] = await w.next((e) => e.length >= 1, { what: 'the SNAPSHOT' });
    assert.equal(snap.state, 'none');
    const started = await api(a.url, 'POST', `/api/v2/recordings/conversations/${id}/actions/start`, { token: f.admin });
    assert.equal(started.status, 200, started.text);
    const t0 = performance.now();
    await w.next((e) => e.length >= 2, { what: 'the start made on A', deadlineMs: PROPAGATION_MS });
    ctx.diagnostic(`staleness: ${Math.round(performance.now() - t0)} ms (Watch on B, start on A)`);
    assert.equal(w.events[1].kind, 'TRANSITION');
    assert.equal(w.events[1].transition.action, 'start');
    assert.equal(w.events[1].transition.contextId, started.headers.get('x-context-id'));
    assert.equal(w.events.length, 2, 'once');
  } finally {
    w.call.cancel();
  }
});

t('100 concurrent pauses and resumes split over three nodes leave one consistent timeline', { skip }, async () => {
  const id = await createConversation(a, f.admin);
  const act = async (node, name) => {
    const r = await api(node.url, 'POST', `/api/v2/recordings/conversations/${id}/actions/${name}`, { token: f.admin });
    assert.equal(r.status, 200, `${name} on ${node.url}: ${r.text}`);
    return { name, changed: r.json.changed, contextId: r.headers.get('x-context-id') };
  };
  assert.equal((await act(a, 'start')).changed, true);
  const nodes = [a, b, c];
  const results = await Promise.all(Array.from({ length: 100 }, (_, i) => act(nodes[i % 3], i % 2 ? 'resume' : 'pause')));
  const rec = (await api(b.url, 'GET', `/api/v2/recordings/conversations/${id}`, { token: f.admin })).json;
  const timeline = rec.timeline.slice(1);  // after the start
  const changed = results.filter((x) => x.changed);
  // Every action that said it changed the state is in the timeline once, and nothing else is.
  assert.equal(timeline.length, changed.length, JSON.stringify(rec.timeline.map((x) => x.action)));
  assert.deepEqual(new Set(timeline.map((x) => x.contextId)), new Set(changed.map((x) => x.contextId)));
  // One chain: each transition starts where the previous one ended, pause and resume alternate.
  let state = 'active';
  for (const [i, tr] of timeline.entries()) {
    assert.equal(tr.from, state, `transition ${i} (${tr.action}) starts from ${tr.from}, not ${state}`);
    assert.equal(tr.action, state === 'active' ? 'pause' : 'resume');
    state = tr.to;
  }
  assert.equal(rec.state, state);
  assert.ok(changed.length >= 1 && changed.length <= 100);
});

t('PostgreSQL restarted under load from all three nodes: 503s while it is down, every node serves again after, nothing acknowledged lost', { skip }, async () => {
  const id = await createConversation(a, f.admin);
  const base = `/api/v2/recordings/conversations/${id}`;
  assert.equal((await api(a.url, 'POST', `${base}/actions/start`, { token: f.admin })).status, 200);
  let phase = 'up';
  let stop = false;
  const results = [];
  const load = async (node, worker) => {
    for (let i = 0; !stop; i++) {
      const name = (i + worker) % 2 ? 'pause' : 'resume';
      const started = phase;
      const res = await api(node.url, 'POST', `${base}/actions/${name}`, { token: f.admin });
      results.push({ node: node.url, phase: started, ended: phase, name, res });
    }
  };
  const acknowledged = () => results.filter((r) => r.res.status === 200 && r.res.json.changed);
  const workers = [load(a, 0), load(b, 1), load(c, 0)];
  try {
    await waitFor(() => acknowledged().length >= 10, { what: '10 acknowledged transitions before the outage' });
    await pg.stop('immediate');  // a crash: recovered from the WAL at the next start
    phase = 'down';
    await waitFor(() => results.filter((r) => r.phase === 'down' && r.ended === 'down').length >= 15,
      { what: 'requests on the three nodes while PostgreSQL is down' });
    phase = 'starting';
    await pg.start();
    phase = 'up again';
    for (const node of [a, b, c]) {
      await waitFor(() => results.some((r) => r.node === node.url && r.phase === 'up again' && r.res.status === 200),
        { deadlineMs: 20_000, what: `${node.url} answering actions again after the restart` });
    }
    await waitFor(() => acknowledged().filter((r) => r.phase === 'up again').length >= 10,
      { deadlineMs: 20_000, what: 'transitions acknowledged again after the restart' });
  } finally {
    stop = true;
    await Promise.all(workers);
  }
  for (const r of results) assertOutageAnswer(r.res, `${r.phase} ${r.name}`);
  for (const r of results.filter((x) => x.phase === 'down' && x.ended === 'down')) {
    assert.equal(r.res.status, 503, `while down, ${r.name} got ${r.res.status} ${r.res.text}`);
  }
  // Every acknowledged transition, from whichever node, is in the one timeline, which is whole.
  const rec = (await api(c.url, 'GET', base, { token: f.admin })).json;
  rec.timeline.forEach((x, i) => {
    assert.equal(x.seq, i + 1, 'gap-free');
    if (i > 0) assert.equal(x.from, rec.timeline[i - 1].to, 'chained');
  });
  const byContext = new Map(rec.timeline.map((x) => [x.contextId, x]));
  for (const r of acknowledged()) {
    const tr = byContext.get(r.res.json.transition.contextId);
    assert.ok(tr, `acknowledged ${r.name} (${r.phase}) is missing from the timeline`);
    assert.equal(tr.seq, r.res.json.transition.seq);
  }
});

// Last in this file: B is killed and started again.
t('kill -9 of B mid-call: after B\'s lease, A marks the recording interrupted (API, change log, audit); B recovers the file when it starts again', { skip }, async (ctx) => {
  const [host, port] = b.listen.sip.split(':');
  const bNode = b.listen.node;
  assert.match(bNode ?? '', /^[0-9a-f-]{36}$/, `B's node id in listen.json: ${JSON.stringify(b.listen)}`);
  const uac = await new SipUac({ transport: 'udp', host, port: Number(port) }).open();
  let conv;
  let killedAt;
  try {
    const call = new SiprecCall(uac);
    const inv = await call.invite();
    assert.equal(inv.status, 200, inv.raw);
    conv = await conversationByExternalId(a, f.admin, call.callId);
    const sender = startRtp({ streams: [{ port: inv.ports[0], freq: 440 }, { port: inv.ports[1], freq: 880 }], packets: 1000 });
    const growing = await waitFor(async () => (await getRecording(a, f.admin, conv.id)).media.find((m) => m.segment === 1),
      { deadlineMs: 5000, what: 'segment 1 listed (through A) while B records' });
    assert.equal(growing.status, 'recording');
    assert.equal(growing.node, bNode, 'the file is on B');
    assert.equal(growing.interruptedAt, null);
    await sender.reached(100);
    killedAt = Date.now();
    const exit = await b.kill9();
    assert.equal(exit.signal, 'SIGKILL');
    sender.stop();
    await sender.done;
  } finally {
    uac.close();
  }

  // A's presence interrupts B's session once B's lease has run out, not before.
  const media = await waitFor(async () => {
    const m = (await getRecording(a, f.admin, conv.id)).media.find((x) => x.segment === 1);
    return m?.status === 'interrupted' ? m : null;
  }, { deadlineMs: 3 * LEASE_MS + 2000, intervalMs: 50, what: 'segment 1 interrupted, seen through A' });
  const after = Date.parse(media.interruptedAt) - killedAt;
  ctx.diagnostic(`interrupted ${after} ms after the kill (lease ${LEASE_MS} ms, renewed every ${LEASE_MS / 3} ms)`);
  // B renewed at most a third of a lease before the kill, so its lease ran at least 2/3 of it past the kill.
  assert.ok(after >= (2 * LEASE_MS) / 3 - 50, `interrupted ${after} ms after the kill: before B's lease ran out`);
  assert.equal(media.node, bNode);

  const log = await api(a.url, 'GET', `/api/v2/changes?kind=media.interrupted&subjectId=${conv.id}`, { token: f.admin });
  assert.equal(log.status, 200, log.text);
  assert.equal(log.json.entities.length, 1, log.text);
  const entry = log.json.entities[0];
  assert.equal(entry.by.type, 'system');
  assert.deepEqual(entry.changes.find((c) => c.field === 'node'), { field: 'node', after: bNode });

  const audit = await waitFor(async () => {
    const r = await api(a.url, 'GET', `/api/v2/audit/events?conversationId=${conv.id}&pageSize=200`, { token: f.admin });
    return r.json?.entities?.find((e) => e.action === 'media:session:interrupt');
  }, { deadlineMs: 3000, what: 'the interruption in the audit log' });
  assert.equal(audit.principal.type, 'system');
  assert.match(JSON.stringify(audit), new RegExp(`Node ${bNode} stopped renewing its lease`));

  // While B is down, A cannot send a download there: 503 with what to do, not a redirect to a dead node.
  const down = await api(a.url, 'GET', mediaPath(conv.id), { token: f.admin });
  const why = assertErrorBody(down, 503, 'media.node.down', 'download through A while B is down');
  assert.ok(Number(down.headers.get('retry-after')) > 0);
  assert.match(why.message, new RegExp(bNode));

  // B starts again on its data directory: the partial file is recovered, complete and still marked.
  await b.restart();
  const { media: recovered } = await waitMediaComplete(b, f.admin, conv.id, 1);
  assert.equal(recovered.interruptedAt, media.interruptedAt, 'recovered, and still saying it was interrupted');
  assert.equal(recovered.node, bNode);
  const { wav, channels } = await downloadWav(b, f.admin, conv.id, 1);
  assert.ok(wav.frames > 0);
  assert.equal(analyzeChannel(channels[0], { freq: 440, packets: 100 }).mismatches, 0);
});
