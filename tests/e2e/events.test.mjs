// Issue 15, part 3 (docs/changes.md "Events"): GET /api/v2/events streams the
// change log as server-sent events, in order, resumes after a disconnect with
// Last-Event-ID without gaps, sends each subscriber only what it may see, and
// keeps idle streams alive with comments.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, token, api, assertErrorBody, adminToken, createClient, createConversation, loggedTest,
} from './lib/server.mjs';
import { openEvents } from './lib/sse.mjs';
import { recordConversation } from '../browser/lib/audiohook.mjs';

let srv;
const t = loggedTest(test, () => [srv]);
let admin;
let controller; // recording:control + Recording Controller: acts
let watcher;    // recording:read + Recording Viewer: sees recordings only

before(async () => {
  srv = await startServer({ extraArgs: ['--events-heartbeat-seconds', '1'] });
  admin = await adminToken(srv);
  const c = await createClient(srv, admin, { name: 'dialer', allowedScopes: ['recording:control'], roles: ['Recording Controller'] });
  controller = await token(srv.url, c.id, c.clientSecret, 'recording:control');
  const w = await createClient(srv, admin, { name: 'watcher', allowedScopes: ['recording:read'], roles: ['Recording Viewer'] });
  watcher = await token(srv.url, w.id, w.clientSecret, 'recording:read');
});

after(async () => { await srv?.dispose(); });

const act = async (conv, action) => {
  const r = await api(srv.url, 'POST', `/api/v2/recordings/conversations/${conv}/actions/${action}`, { token: controller });
  assert.equal(r.status, 200, `${action}: ${r.text}`);
};

t('a subscriber receives start, pause, resume and stop of its conversation in order, and resumes without gaps', async () => {
  const conv = await createConversation(srv, admin);
  const other = await createConversation(srv, admin);
  const s = await openEvents(srv.url, `/api/v2/events?kinds=recording.&conversationId=${conv}`, { token: watcher });
  assert.equal(s.status, 200, s.text);
  assert.match(s.headers.get('content-type'), /^text\/event-stream/);
  assert.equal(s.headers.get('cache-control'), 'no-store');
  await act(other, 'start');  // another conversation: not for this subscriber
  await act(conv, 'start');
  await act(conv, 'pause');
  const first = await s.next();
  const second = await s.next();
  assert.deepEqual([first.event, second.event], ['recording.started', 'recording.paused']);
  assert.equal(first.json.subject.id, conv);
  assert.equal(first.json.kind, first.event);
  assert.equal(String(first.json.id), first.id);
  assert.ok(Number(second.id) > Number(first.id));
  s.close();

  // While nobody listens: two more transitions.
  await act(conv, 'resume');
  await act(conv, 'stop');
  const again = await openEvents(srv.url, `/api/v2/events?kinds=recording.&conversationId=${conv}`, {
    token: watcher, lastEventId: second.id,
  });
  assert.equal(again.status, 200, again.text);
  const third = await again.next();
  const fourth = await again.next();
  assert.deepEqual([third.event, fourth.event], ['recording.resumed', 'recording.stopped']);
  // No gap: exactly what GET /api/v2/changes has after the last seen id.
  const log = await api(srv.url, 'GET', `/api/v2/changes?subjectId=${conv}&after=${second.id}`, { token: admin });
  assert.deepEqual(log.json.entities.map((e) => String(e.id)), [third.id, fourth.id]);
  again.close();
});

t('media.ready follows the transitions of a recorded call', async () => {
  const s = await openEvents(srv.url, '/api/v2/events?kinds=recording.,media.ready', { token: admin, timeoutMs: 30_000 });
  assert.equal(s.status, 200, s.text);
  const conv = await recordConversation(srv, admin);
  const kinds = [];
  for (;;) {
    const e = await s.next();
    if (e.json.subject.id !== conv) continue;
    kinds.push(e.event);
    if (e.event === 'media.ready') break;
  }
  assert.equal(kinds[0], 'recording.started');
  assert.ok(kinds.indexOf('media.ready') > kinds.indexOf('recording.started'), kinds.join(' '));
  s.close();
});

t('each subscriber gets only what it may see; asking for more is a 403 that explains itself', async () => {
  // Without a filter, the watcher sees recordings but not client changes.
  const s = await openEvents(srv.url, '/api/v2/events', { token: watcher });
  assert.equal(s.status, 200, s.text);
  const made = await createClient(srv, admin, { name: 'unseen', allowedScopes: ['recording:read'], roles: [] });
  assert.ok(made.id);
  const conv = await createConversation(srv, admin);
  await act(conv, 'start');
  const e = await s.next();
  assert.equal(e.event, 'recording.started', 'the client.created before it was not for the watcher');
  s.close();

  const denied = await openEvents(srv.url, '/api/v2/events?kinds=client.', { token: watcher });
  const body = assertErrorBody(denied, 403, 'missing.permissions');
  assert.match(JSON.stringify(body.explanation.layers), /oauth:client:view/);

  const ingest = await createClient(srv, admin, { name: 'ingest-only', allowedScopes: ['media:ingest'], roles: ['Media Ingest'] });
  const none = await openEvents(srv.url, '/api/v2/events', { token: await token(srv.url, ingest.id, ingest.clientSecret) });
  assert.equal(none.status, 403, none.text);

  for (const [q, field] of [['kinds=planets.', 'kinds'], ['kinds=recording.,DROP', 'kinds'], ['conversationId=nope', 'conversationId'],
    ['after=-3', 'after']]) {
    const r = await openEvents(srv.url, `/api/v2/events?${q}`, { token: admin });
    const b = assertErrorBody(r, 400, 'bad.request', q);
    assert.ok(JSON.stringify(b).includes(field), `${q}: ${r.text}`);
  }
  const unauth = await openEvents(srv.url, '/api/v2/events', {});
  assertErrorBody(unauth, 401, 'token.missing');
});

t('an idle stream gets keep-alive comments, and a revoked token ends it', async () => {
  const c = await createClient(srv, admin, { name: 'short-lived', allowedScopes: ['recording:read'], roles: ['Recording Viewer'] });
  const tok = await token(srv.url, c.id, c.clientSecret, 'recording:read');
  const s = await openEvents(srv.url, '/api/v2/events', { token: tok });
  assert.equal(s.status, 200, s.text);
  let f;
  do { f = await s.nextFrame(); } while (f && f.comment === undefined);
  assert.equal(f?.comment, 'keep-alive');

  const revoke = await api(srv.url, 'DELETE', `/api/v2/oauth/clients/${c.id}/tokens`, { token: admin });
  assert.ok(revoke.status < 300, revoke.text);
  // The next entry it is checked against ends the stream.
  await act(await createConversation(srv, admin), 'start');
  let end;
  do { end = await s.nextFrame(); } while (end && end.event !== 'stream.end');
  assert.ok(end, 'the stream says why it ends');
  assert.equal(end.json.reason, 'access.lost');
  assert.equal(await s.nextFrame(), null, 'then the server closes it');
});
