// Issue 15, part 4 (docs/webhooks.md): webhooks deliver the change log as
// signed POSTs a receiver can verify, retry a failing receiver with the same
// id until it answers, lose nothing when the server is killed mid-delivery,
// disable a receiver that stays down with the reason visible, and refuse
// targets inside the server's network (SSRF).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, token, api, assertErrorBody, waitFor, adminToken, createClient, createConversation, loggedTest, layersOf,
} from './lib/server.mjs';
import { startReceiver, verifyWebhook } from './lib/webhook_receiver.mjs';
import { metricValue } from './lib/siprec_env.mjs';
import { spawn } from 'node:child_process';
import { createServer as createNetServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let srv;
const t = loggedTest(test, () => [srv]);
let admin;
let controller;
const receivers = [];

// Private targets allowed (the receiver is on loopback); fast retries; a
// short attempt timeout so a claim lapses soon after a kill -9.
const FAST = ['--webhook-allow-private', '--webhook-retry-base-ms', '200', '--webhook-timeout-seconds', '1'];

before(async () => {
  srv = await startServer({ extraArgs: FAST });
  admin = await adminToken(srv);
  const c = await createClient(srv, admin, { name: 'dialer', allowedScopes: ['recording:control'], roles: ['Recording Controller'] });
  controller = await token(srv.url, c.id, c.clientSecret, 'recording:control');
});

after(async () => {
  for (const r of receivers) await r.close();
  await srv?.dispose();
});

async function receiver(opts) {
  const r = await startReceiver(opts);
  receivers.push(r);
  return r;
}

async function createWebhook(s, tok, body) {
  const r = await api(s.url, 'POST', '/api/v2/webhooks', { token: tok, body });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

const act = async (s, conv, action) => {
  const r = await api(s.url, 'POST', `/api/v2/recordings/conversations/${conv}/actions/${action}`, { token: controller });
  assert.equal(r.status, 200, `${action}: ${r.text}`);
};

const deliveriesOf = async (s, id, query = '') => {
  const r = await api(s.url, 'GET', `/api/v2/webhooks/${id}/deliveries${query}`, { token: admin });
  assert.equal(r.status, 200, r.text);
  return r.json.entities;
};

// The delivery log once `done(entries)` holds: a receiver has its request
// before the server has recorded the answer, so the log is read until it
// shows it (or the deadline passes and the last entries are in the error).
const deliveriesWhen = async (s, id, done, what) => {
  let last;
  try {
    return await waitFor(async () => {
      last = await deliveriesOf(s, id);
      return done(last) && last;
    }, { what });
  } catch (e) {
    throw new Error(`${e.message}; the delivery log: ${JSON.stringify(last)}`);
  }
};

t('deliveries are signed, verifiable, in the Standard Webhooks shape, and listed in the delivery log', async () => {
  const rx = await receiver();
  const hook = await createWebhook(srv, admin, { url: `${rx.url}/hooks/verbatim`, kinds: ['recording.'], description: 'CRM' });
  assert.match(hook.secret, /^whsec_[A-Za-z0-9+/]+=*$/);
  assert.equal(hook.enabled, true);
  assert.deepEqual(hook.kinds, ['recording.']);
  // The secret is shown once: never in a read.
  const listed = await api(srv.url, 'GET', '/api/v2/webhooks', { token: admin });
  assert.equal(listed.status, 200);
  assert.ok(listed.json.entities.some((w) => w.id === hook.id));
  assert.ok(!listed.text.includes(hook.secret.slice(6)), 'no secret in the list');
  const one = await api(srv.url, 'GET', `/api/v2/webhooks/${hook.id}`, { token: admin });
  assert.equal(one.json.url, `${rx.url}/hooks/verbatim`);
  assert.equal(one.json.secret, undefined);

  const conv = await createConversation(srv, admin);
  await act(srv, conv, 'start');
  await act(srv, conv, 'pause');
  await act(srv, conv, 'stop');
  const got = await rx.waitFor((ds) => ds.filter((d) => d.json?.data?.subject?.id === conv).length >= 3 &&
    ds.filter((d) => d.json?.data?.subject?.id === conv));
  assert.deepEqual(got.map((d) => d.json.type).sort(), ['recording.paused', 'recording.started', 'recording.stopped']);
  for (const d of got) {
    assert.equal(d.method, 'POST');
    assert.equal(d.path, '/hooks/verbatim');
    assert.match(d.headers['content-type'], /^application\/json/);
    assert.match(d.headers['user-agent'], /^verbatim-webhooks\//);
    assert.match(d.id, /^msg_[0-9a-f]{32}$/);
    assert.ok(verifyWebhook(hook.secret, d.headers, d.body), `signature verifies: ${JSON.stringify(d.headers)}`);
    // The verifier is not a rubber stamp: another body or secret fails.
    assert.equal(verifyWebhook(hook.secret, d.headers, d.body.replace('recording', 'Recording')), false);
    assert.equal(verifyWebhook(`whsec_${Buffer.alloc(24, 1).toString('base64')}`, d.headers, d.body), false);
    assert.equal(d.json.data.kind, d.json.type);
    assert.equal(typeof d.json.timestamp, 'string');
  }
  // The payload is the change log's entry, with its id.
  const log = await api(srv.url, 'GET', `/api/v2/changes?subjectId=${conv}`, { token: admin });
  assert.deepEqual(got.map((d) => d.json.data.id).sort(), log.json.entities.map((e) => e.id).sort());

  const entries = await deliveriesWhen(srv, hook.id, (es) => es.length === 3 && es.every((e) => e.attempts === 1),
    'the three attempts recorded');
  for (const e of entries) {
    assert.equal(e.status, 'delivered');
    assert.equal(e.attempts, 1);
    assert.equal(e.lastStatus, 204);
    assert.ok(got.some((d) => d.id === e.id));
  }
  assert.equal((await deliveriesOf(srv, hook.id, '?status=failed')).length, 0);
  assert.equal((await api(srv.url, 'DELETE', `/api/v2/webhooks/${hook.id}`, { token: admin })).status, 204);
  assertErrorBody(await api(srv.url, 'GET', `/api/v2/webhooks/${hook.id}`, { token: admin }), 404, 'webhook.not.found');
});

t('a receiver that fails three times then succeeds gets the event exactly once more, with the same id', async () => {
  const retriesBefore = await metricValue(srv, 'verbatim_webhook_attempts_total', { outcome: 'retry' });
  const answers = [500, 500, 503];
  const rx = await receiver({ respond: (d) => (d.json?.data?.subject?.id === flaky.conv ? answers.shift() ?? 200 : 204) });
  const flaky = {};
  const hook = await createWebhook(srv, admin, { url: rx.url, kinds: ['recording.started', 'recording.stopped'] });
  flaky.conv = await createConversation(srv, admin);
  await act(srv, flaky.conv, 'start');
  const attempts = await rx.waitFor((ds) => {
    const mine = ds.filter((d) => d.json?.data?.subject?.id === flaky.conv);
    return mine.length >= 4 && mine;
  });
  assert.deepEqual(attempts.map((d) => d.answered), [500, 500, 503, 200]);
  assert.equal(new Set(attempts.map((d) => d.id)).size, 1, 'every attempt carries one webhook-id');
  assert.equal(new Set(attempts.map((d) => d.body)).size, 1, 'and one body');
  for (const d of attempts) assert.ok(verifyWebhook(hook.secret, d.headers, d.body));
  const [entry] = await deliveriesWhen(srv, hook.id, ([e]) => e?.attempts === 4, 'the fourth attempt recorded');
  assert.equal(entry.status, 'delivered');
  assert.equal(entry.attempts, 4);
  // Operators see it in /metrics: three attempts to try again (later tests' attempts only add).
  assert.ok(await metricValue(srv, 'verbatim_webhook_attempts_total', { outcome: 'retry' }) - retriesBefore >= 3);
  assert.ok(await metricValue(srv, 'verbatim_webhook_attempts_total', { outcome: 'delivered' }) >= 1);
  // Nothing more comes for it: the next event is delivered, and the first was not sent again.
  await act(srv, flaky.conv, 'stop');
  await rx.waitFor((ds) => ds.some((d) => d.json?.type === 'recording.stopped' && d.json.data.subject.id === flaky.conv));
  assert.equal(rx.deliveries.filter((d) => d.id === attempts[0].id).length, 4);
});

t('a redirect is not followed: the attempt fails and says so', async () => {
  const target = await receiver();
  const rx = await receiver({ respond: () => ({ status: 302, headers: { location: `${target.url}/elsewhere` } }) });
  const hook = await createWebhook(srv, admin, { url: rx.url, kinds: ['recording.started'] });
  const conv = await createConversation(srv, admin);
  await act(srv, conv, 'start');
  await rx.waitFor((ds) => ds.length >= 2, { what: 'a retry after the redirect' });
  const [entry] = await deliveriesOf(srv, hook.id);
  assert.equal(entry.status, 'pending');
  assert.equal(entry.lastStatus, 302);
  assert.match(entry.lastError, /redirect/i);
  assert.equal(target.deliveries.length, 0, 'the Location was never requested');
  await api(srv.url, 'DELETE', `/api/v2/webhooks/${hook.id}`, { token: admin });
});

t('a webhook may only carry what its creator may read, and the denial explains it', async () => {
  const c = await createClient(srv, admin, { name: 'hooks-admin', allowedScopes: ['admin'], roles: ['System Administrator'] });
  const adminOnly = await token(srv.url, c.id, c.clientSecret, 'admin');
  const r = await api(srv.url, 'POST', '/api/v2/webhooks', { token: adminOnly, body: { url: 'http://127.0.0.1:9/', kinds: ['recording.'] } });
  const body = assertErrorBody(r, 403, 'missing.scope');
  const layers = layersOf(body);
  assert.deepEqual(layers.scope.required, ['recording:read']);
  assert.match(body.message, /recording:read/);
  // Client changes it may read: allowed.
  const ok = await api(srv.url, 'POST', '/api/v2/webhooks', { token: adminOnly, body: { url: 'http://127.0.0.1:9/', kinds: ['client.'] } });
  assert.equal(ok.status, 201, ok.text);
  await api(srv.url, 'DELETE', `/api/v2/webhooks/${ok.json.id}`, { token: admin });
  // Bad input: a clear 400 for each, nothing stored.
  const before = (await api(srv.url, 'GET', '/api/v2/webhooks', { token: admin })).json.total;
  for (const [bodyIn, field] of [
    [{ url: 'ftp://example.com/x', kinds: ['recording.'] }, 'url'],
    [{ url: 'http://user:pw@example.com/', kinds: ['recording.'] }, 'url'],
    [{ url: 'http://127.0.0.1:9/', kinds: [] }, 'kinds'],
    [{ url: 'http://127.0.0.1:9/', kinds: ['nonsense.'] }, 'kinds'],
    [{ url: 'http://127.0.0.1:9/', kinds: ['recording.'], secret: 'mine' }, 'secret'],
  ]) {
    const bad = await api(srv.url, 'POST', '/api/v2/webhooks', { token: admin, body: bodyIn });
    const e = assertErrorBody(bad, 400, 'bad.request', JSON.stringify(bodyIn));
    assert.match(JSON.stringify(e), new RegExp(field));
  }
  assert.equal((await api(srv.url, 'GET', '/api/v2/webhooks', { token: admin })).json.total, before);
});

t('SSRF: targets in loopback, private and link-local ranges are refused with a clear error', async () => {
  const strict = await startServer();  // no --webhook-allow-private
  try {
    const tok = await adminToken(strict);
    for (const [url, range] of [
      ['http://127.0.0.1:9/hook', /loopback/],
      ['http://localhost:9/hook', /loopback/],
      ['http://2130706433/', /loopback/],
      ['http://[::1]:8080/', /loopback/],
      ['http://[::ffff:127.0.0.1]/', /loopback/],
      ['http://169.254.169.254/latest/meta-data/', /link-local/],
      ['http://10.1.2.3/', /private/],
      ['https://192.168.0.10/', /private/],
      ['http://0.0.0.0:80/', /unspecified|loopback/],
    ]) {
      const r = await api(strict.url, 'POST', '/api/v2/webhooks', { token: tok, body: { url, kinds: ['recording.'] } });
      const e = assertErrorBody(r, 400, 'webhook.target.forbidden', url);
      assert.match(e.message, range, url);
      assert.match(e.message, /--webhook-allow-private/, url);
    }
    const list = await api(strict.url, 'GET', '/api/v2/webhooks', { token: tok });
    assert.equal(list.json.total, 0, 'nothing was stored');
  } finally {
    await strict.dispose();
  }
  // The operator's way out, here from the --config file: the same target is accepted.
  const dir = mkdtempSync(join(tmpdir(), 'verbatim-wh-config-'));
  writeFileSync(join(dir, 'verbatim.toml'), 'webhook_allow_private = true\n');
  const open = await startServer({ extraArgs: ['--config', join(dir, 'verbatim.toml')] });
  try {
    const r = await api(open.url, 'POST', '/api/v2/webhooks', {
      token: await adminToken(open), body: { url: 'http://127.0.0.1:9/hook', kinds: ['recording.'] },
    });
    assert.equal(r.status, 201, r.text);
  } finally {
    await open.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

t('a receiver that stays down is disabled with the reason visible, and can be enabled again', async () => {
  const s = await startServer({ extraArgs: [...FAST, '--webhook-retry-window-seconds', '2'] });
  try {
    const tok = await adminToken(s);
    const rx = await receiver({ respond: () => 500 });
    const hook = await createWebhook(s, tok, { url: rx.url, kinds: ['recording.'] });
    const conv = await createConversation(s, tok);
    const r = await api(s.url, 'POST', `/api/v2/recordings/conversations/${conv}/actions/start`, { token: tok });
    assert.equal(r.status, 200, r.text);
    const disabled = await waitFor(async () => {
      const w = await api(s.url, 'GET', `/api/v2/webhooks/${hook.id}`, { token: tok });
      return w.json.enabled === false && w.json;
    }, { deadlineMs: 30_000, what: 'the webhook to be disabled' });
    assert.match(disabled.disabledReason, /failed for 2 s/);
    assert.match(disabled.disabledReason, /HTTP 500/);
    assert.equal(typeof disabled.dateDisabled, 'string');
    const [entry] = await api(s.url, 'GET', `/api/v2/webhooks/${hook.id}/deliveries`, { token: tok }).then((x) => x.json.entities);
    assert.equal(entry.status, 'failed');
    assert.ok(entry.attempts >= 2, JSON.stringify(entry));
    // Who disabled it is in the change log.
    const log = await api(s.url, 'GET', `/api/v2/changes?subjectType=webhook&subjectId=${hook.id}`, { token: tok });
    assert.deepEqual(log.json.entities.map((e) => e.kind), ['webhook.created', 'webhook.updated']);
    assert.equal(log.json.entities[1].by.type, 'system');
    const enabled = await api(s.url, 'PATCH', `/api/v2/webhooks/${hook.id}`, { token: tok, body: { enabled: true } });
    assert.equal(enabled.status, 200, enabled.text);
    assert.equal(enabled.json.enabled, true);
    assert.equal(enabled.json.disabledReason, null);
  } finally {
    await s.dispose();
  }
});

t('the README receiver (examples/webhook-receiver.mjs) verifies real deliveries and prints each event once', async () => {
  // A free port for it: the webhook (and so its secret) must exist before it starts.
  const port = await new Promise((resolve) => {
    const probe = createNetServer().listen(0, '127.0.0.1', () => { const p = probe.address().port; probe.close(() => resolve(p)); });
  });
  const hook = await createWebhook(srv, admin, { url: `http://127.0.0.1:${port}/`, kinds: ['recording.started'] });
  const script = fileURLToPath(new URL('../../examples/webhook-receiver.mjs', import.meta.url));
  const child = spawn(process.execPath, [script], { env: { ...process.env, SECRET: hook.secret, PORT: String(port) } });
  let out = '';
  const lines = [];
  const waiters = [];
  child.stdout.setEncoding('utf8').on('data', (d) => {
    out += d;
    for (;;) {
      const nl = out.indexOf('\n');
      if (nl < 0) break;
      lines.push(out.slice(0, nl));
      out = out.slice(nl + 1);
    }
    for (const w of [...waiters]) if (lines.length >= w.n) { waiters.splice(waiters.indexOf(w), 1); w.resolve(); }
  });
  const lineCount = (n) => (lines.length >= n ? Promise.resolve() : new Promise((resolve) => waiters.push({ n, resolve })));
  try {
    await lineCount(1);
    assert.equal(lines[0], 'listening');
    const conv = await createConversation(srv, admin);
    await act(srv, conv, 'start');
    await lineCount(2);
    assert.match(lines[1], new RegExp(`^recording.started conversation ${conv} \\(msg_[0-9a-f]{32}\\)$`));
    // The receiver prints before it answers: wait for the server to record the answer.
    const entry = await waitFor(async () => {
      const [e] = await deliveriesOf(srv, hook.id);
      return e?.attempts >= 1 && e;
    }, { what: 'the attempt recorded' });
    assert.equal(entry.status, 'delivered', JSON.stringify(entry));
    assert.equal(entry.lastStatus, 204, 'the example accepted the signature');
    assert.equal(entry.attempts, 1);
  } finally {
    child.kill();
    await api(srv.url, 'DELETE', `/api/v2/webhooks/${hook.id}`, { token: admin });
  }
});

t('kill -9 during delivery loses nothing: after a restart every event arrives, retries with their ids', async () => {
  let holding = true;
  const rx = await receiver({ respond: () => (holding ? 'hold' : 204) });
  const hook = await createWebhook(srv, admin, { url: rx.url, kinds: ['recording.'] });
  const conv = await createConversation(srv, admin);
  for (const action of ['start', 'pause', 'resume', 'stop']) await act(srv, conv, action);
  await rx.waitFor((ds) => ds.length >= 1, { what: 'a delivery in flight' });
  await srv.kill9();
  holding = false;
  rx.release();
  await srv.restart();
  admin = await adminToken(srv);  // a new port is a new issuer
  const changes = await api(srv.url, 'GET', `/api/v2/changes?subjectId=${conv}`, { token: admin });
  assert.equal(changes.status, 200, changes.text);
  const expected = changes.json.entities;
  assert.equal(expected.length, 4);
  const answered = await rx.waitFor((ds) => {
    const ok = new Set(ds.filter((d) => d.answered === 204).map((d) => d.json.data.id));
    return expected.every((e) => ok.has(e.id)) && ds;
  }, { timeoutMs: 60_000, what: 'all four events answered' });
  // A duplicate is only ever a retry: one webhook-id per event.
  const idsByEvent = new Map();
  for (const d of answered) {
    const set = idsByEvent.get(d.json.data.id) ?? new Set();
    set.add(d.id);
    idsByEvent.set(d.json.data.id, set);
    assert.ok(verifyWebhook(hook.secret, d.headers, d.body));
  }
  for (const [event, ids] of idsByEvent) assert.equal(ids.size, 1, `event ${event}: ${[...ids]}`);
  // Every event delivered for the server too (its record of the last answers may lag the receiver).
  await deliveriesWhen(srv, hook.id, (es) => es.length === 4 && es.every((e) => e.status === 'delivered'),
    'four deliveries recorded as delivered');
});
