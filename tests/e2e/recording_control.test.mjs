// docs/api.md §4: the recording state machine through the REST API, the order of
// checks, metadata edits, concurrency, disconnect, and durability across
// SIGTERM and kill -9 restarts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, token, api, assertErrorBody, layersOf, adminToken, createClient, createConversation, loggedTest,
} from './lib/server.mjs';

let srv;
const t = loggedTest(test, () => srv);

let admin;
let ctl; // client: Recording Administrator, may request control/read/write
let ctlTok; // recording:control recording:read
const base = (id) => `/api/v2/recordings/conversations/${id}`;
const act = (id, action, tok = ctlTok, body) => api(srv.url, 'POST', `${base(id)}/actions/${action}`, { token: tok, body });
const getRec = async (id, tok = ctlTok) => {
  const r = await api(srv.url, 'GET', base(id), { token: tok });
  assert.equal(r.status, 200, r.text);
  return r.json;
};
const UNKNOWN = '0b7f3c1e-5d2a-4e8b-9c6f-1a2b3c4d5e6f';

before(async () => {
  srv = await startServer();
  admin = await adminToken(srv);
  ctl = await createClient(srv, admin, {
    name: 'controller',
    allowedScopes: ['recording:control', 'recording:read', 'recording:write', 'conversation:read'],
    roles: ['Recording Administrator'],
  });
  ctlTok = await token(srv.url, ctl.id, ctl.clientSecret, 'recording:control recording:read');
});

after(async () => {
  await srv?.dispose();
});

function assertTransition(res, { action, from, to, changed, segment, seq, reason = '' }) {
  assert.equal(res.status, 200, `${action}: ${res.text}`);
  assert.equal(res.json.state, to, `${action}: state`);
  assert.equal(res.json.changed, changed, `${action}: changed`);
  const tr = res.json.transition;
  assert.equal(tr.action, action);
  assert.equal(tr.from, from);
  assert.equal(tr.to, to);
  assert.equal(tr.segment, segment, `${action}: transition.segment`);
  if (seq !== undefined) assert.equal(tr.seq, seq, `${action}: seq`);
  assert.equal(tr.reason, reason);
  assert.equal(tr.principal.type, 'client');
  assert.equal(tr.principal.id, ctl.id);
  assert.equal(tr.principal.name, 'controller');
  assert.ok(!Number.isNaN(Date.parse(tr.at)), `transition.at: ${tr.at}`);
  assert.equal(tr.contextId, res.headers.get('x-context-id'));
  if (segment > 0) assert.equal(res.json.segment.index, segment);
  return res.json;
}

function assertInvalid(res, state, action, allowed) {
  const body = assertErrorBody(res, 409, 'recording.invalid.transition', `${action} while ${state}`);
  assert.deepEqual(body.messageParams.allowedActions.split(', '), allowed, `${action} while ${state}: messageParams`);
  assert.equal(body.messageParams.state, state);
  assert.equal(body.messageParams.action, action);
  const L = layersOf(body);
  assert.equal(L.token.result, 'pass');
  assert.equal(L.scope.result, 'pass');
  assert.equal(L.permission.result, 'pass');
  assert.equal(L.resource.result, 'fail');
  assert.equal(L.resource.code, 'recording.invalid.transition');
  assert.equal(L.resource.state, state);
  assert.deepEqual(L.resource.allowedActions, allowed);
  for (const a of allowed) assert.ok(body.explanation.fix.join(' ').includes(`/actions/${a}`), `fix names ${a}`);
}

t('conversations: create with participants, get, list; create needs conversation:write', async () => {
  const res = await api(srv.url, 'POST', '/api/v2/conversations', {
    token: admin,
    body: { externalId: 'crm-4711', participants: [{ name: 'Carol', purpose: 'customer' }, { name: 'Dan', purpose: 'agent' }, { name: 'Menu', purpose: 'ivr' }] },
  });
  assert.equal(res.status, 201, res.text);
  const c = res.json;
  assert.match(c.id, /^[0-9a-f-]{36}$/);
  assert.equal(res.headers.get('location'), `/api/v2/conversations/${c.id}`);
  assert.equal(c.state, 'connected');
  assert.equal(c.endedAt, null);
  assert.ok(!Number.isNaN(Date.parse(c.startedAt)));
  assert.deepEqual(c.participants.map((p) => [p.name, p.purpose]), [['Carol', 'customer'], ['Dan', 'agent'], ['Menu', 'ivr']]);
  for (const p of c.participants) assert.match(p.id, /^[0-9a-f-]{36}$/);
  const got = await api(srv.url, 'GET', `/api/v2/conversations/${c.id}`, { token: admin });
  assert.deepEqual(got.json, c);
  const list = await api(srv.url, 'GET', '/api/v2/conversations?pageSize=100', { token: admin });
  assert.equal(list.status, 200, list.text);
  assert.deepEqual(list.json.entities.find((x) => x.id === c.id), c);

  const bad = await api(srv.url, 'POST', '/api/v2/conversations', {
    token: admin, body: { participants: [{ name: 'Eve', purpose: 'supervisor' }] },
  });
  assert.match(assertErrorBody(bad, 400, 'bad.request', 'bad purpose').message, /purpose/);
  const before = await api(srv.url, 'GET', '/api/v2/conversations?pageSize=100', { token: admin });
  assert.deepEqual(before.json.entities.length, list.json.entities.length, 'the refused create stored nothing');

  const readTok = await token(srv.url, ctl.id, ctl.clientSecret, 'conversation:read');
  assert.equal((await api(srv.url, 'GET', `/api/v2/conversations/${c.id}`, { token: readTok })).status, 200);
  const denied = await api(srv.url, 'POST', '/api/v2/conversations', { token: readTok, body: { participants: [] } });
  assertErrorBody(denied, 403, 'missing.permissions', 'create with conversation:read and Recording Administrator');
});

t('GET …/media (docs/api.md §4) exists and authorizes first: no recording:read scope → 403 missing.scope', async () => {
  const id = await createConversation(srv, admin);
  const noRead = await token(srv.url, ctl.id, ctl.clientSecret, 'recording:control');
  const denied = await api(srv.url, 'GET', `${base(id)}/media`, { token: noRead });
  const body = assertErrorBody(denied, 403, 'missing.scope', 'media without recording:read');
  assert.equal(body.explanation.action, 'recording:media:download');
  const noToken = await api(srv.url, 'GET', `${base(id)}/media`);
  assertErrorBody(noToken, 401, 'token.missing', 'media without a token');
  // Authorized, nothing recorded yet: an explained answer, not "no such endpoint" and not a 500.
  const empty = await api(srv.url, 'GET', `${base(id)}/media`, { token: ctlTok });
  assert.notEqual(empty.status, 500, empty.text);
  assert.notEqual(empty.json?.code, 'not.found', `the media endpoint must exist: ${empty.text}`);
});

t('every transition of the state machine, idempotent repeats and every illegal transition', async () => {
  const id = await createConversation(srv, admin);
  let rec = await getRec(id);
  assert.equal(rec.state, 'none');
  assert.deepEqual(rec.segments, []);
  assert.deepEqual(rec.timeline, []);
  assert.deepEqual(rec.allowedActions, ['start']);

  // none: only start
  assertInvalid(await act(id, 'stop'), 'none', 'stop', ['start']);
  assertInvalid(await act(id, 'pause'), 'none', 'pause', ['start']);
  assertInvalid(await act(id, 'resume'), 'none', 'resume', ['start']);
  assert.deepEqual((await getRec(id)).timeline, [], 'illegal transitions change nothing');

  const started = assertTransition(await act(id, 'start', ctlTok, { reason: 'consent given' }),
    { action: 'start', from: 'none', to: 'active', changed: true, segment: 1, seq: 1, reason: 'consent given' });
  assert.equal(started.segment.endedAt, null);
  assert.deepEqual(started.allowedActions, ['stop', 'pause']);

  // active: start and resume are repeats
  const before1 = await getRec(id);
  for (const a of ['start', 'resume']) {
    const r = await act(id, a);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.json.changed, false, `${a} while active is a no-op`);
    assert.equal(r.json.state, 'active');
  }
  assert.deepEqual((await getRec(id)).timeline, before1.timeline, 'repeats leave the timeline unchanged');

  assertTransition(await act(id, 'pause', ctlTok, { reason: 'pci' }),
    { action: 'pause', from: 'active', to: 'paused', changed: true, segment: 1, seq: 2, reason: 'pci' });
  const before2 = await getRec(id);
  const again = await act(id, 'pause', ctlTok, { reason: 'pci' });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json.changed, false);
  assert.equal(again.json.state, 'paused');
  assertInvalid(await act(id, 'start'), 'paused', 'start', ['stop', 'resume']);
  assert.deepEqual((await getRec(id)).timeline, before2.timeline);

  assertTransition(await act(id, 'resume'), { action: 'resume', from: 'paused', to: 'active', changed: true, segment: 1, seq: 3 });
  const stopped = assertTransition(await act(id, 'stop'),
    { action: 'stop', from: 'active', to: 'stopped', changed: true, segment: 1, seq: 4 });
  assert.notEqual(stopped.segment.endedAt, null, 'stop closes the segment');

  const before3 = await getRec(id);
  const stopAgain = await act(id, 'stop');
  assert.equal(stopAgain.status, 200, stopAgain.text);
  assert.equal(stopAgain.json.changed, false);
  assertInvalid(await act(id, 'pause'), 'stopped', 'pause', ['start']);
  assertInvalid(await act(id, 'resume'), 'stopped', 'resume', ['start']);
  assert.deepEqual((await getRec(id)).timeline, before3.timeline);

  // stopped → active opens segment 2
  const restarted = assertTransition(await act(id, 'start'),
    { action: 'start', from: 'stopped', to: 'active', changed: true, segment: 2, seq: 5 });
  assert.equal(restarted.segment.index, 2);
  assert.equal(restarted.segment.endedAt, null);

  // paused → stopped also works, and closes segment 2
  assertTransition(await act(id, 'pause'), { action: 'pause', from: 'active', to: 'paused', changed: true, segment: 2, seq: 6 });
  assertTransition(await act(id, 'stop'), { action: 'stop', from: 'paused', to: 'stopped', changed: true, segment: 2, seq: 7 });

  rec = await getRec(id);
  assert.equal(rec.state, 'stopped');
  assert.deepEqual(rec.timeline.map((x) => [x.seq, x.action, x.from, x.to, x.segment]), [
    [1, 'start', 'none', 'active', 1],
    [2, 'pause', 'active', 'paused', 1],
    [3, 'resume', 'paused', 'active', 1],
    [4, 'stop', 'active', 'stopped', 1],
    [5, 'start', 'stopped', 'active', 2],
    [6, 'pause', 'active', 'paused', 2],
    [7, 'stop', 'paused', 'stopped', 2],
  ]);
  assert.equal(rec.segments.length, 2);
  assert.deepEqual(rec.segments.map((s) => s.index), [1, 2]);
  assert.ok(rec.segments.every((s) => s.endedAt !== null));
  assert.equal(rec.timeline[0].reason, 'consent given');
  assert.equal(rec.timeline[1].reason, 'pci');
});

t('order of checks: scope and role are checked before the conversation is looked up', async () => {
  // Lacks the scope: 403 missing.scope, not 404, even for a conversation that does not exist.
  const readOnly = await token(srv.url, ctl.id, ctl.clientSecret, 'recording:read');
  for (const action of ['start', 'stop', 'pause', 'resume']) {
    const res = await act(UNKNOWN, action, readOnly);
    const body = assertErrorBody(res, 403, 'missing.scope', `${action} unknown without scope`);
    assert.equal(layersOf(body).resource.result, 'not-evaluated');
  }
  // Lacks the role permission: 403 missing.permission, not 404.
  const viewer = await createClient(srv, admin, {
    name: 'viewer', allowedScopes: ['recording:control', 'recording:read'], roles: ['Recording Viewer'],
  });
  const viewerTok = await token(srv.url, viewer.id, viewer.clientSecret, 'recording:control');
  for (const action of ['start', 'stop', 'pause', 'resume']) {
    const res = await act(UNKNOWN, action, viewerTok);
    const body = assertErrorBody(res, 403, 'missing.permission', `${action} unknown without role`);
    assert.equal(layersOf(body).resource.result, 'not-evaluated');
  }
  // Lacks both: 403 missing.permissions, both fixes.
  const noRole = await token(srv.url, viewer.id, viewer.clientSecret, 'recording:read');
  const both = assertErrorBody(await act(UNKNOWN, 'start', noRole), 403, 'missing.permissions', 'both layers fail');
  const L = layersOf(both);
  assert.equal(L.scope.result, 'fail');
  assert.equal(L.permission.result, 'fail');
  assert.equal(both.explanation.fix.length, 2, JSON.stringify(both.explanation.fix));

  // Authorized: now the 404.
  for (const action of ['start', 'stop', 'pause', 'resume']) {
    const body = assertErrorBody(await act(UNKNOWN, action), 404, 'conversation.not.found', `${action} unknown`);
    const R = layersOf(body);
    assert.equal(R.permission.result, 'pass');
    assert.equal(R.resource.result, 'fail');
  }
  assertErrorBody(await api(srv.url, 'GET', base(UNKNOWN), { token: ctlTok }), 404, 'conversation.not.found', 'GET unknown');
  // Unauthenticated callers learn nothing either.
  assertErrorBody(await api(srv.url, 'POST', `${base(UNKNOWN)}/actions/start`), 401, 'token.missing', 'no token');
});

t('a non-UUID conversation id is a 400 for an authorized caller, a 403 for an unauthorized one, never a 500', async () => {
  const readOnly = await token(srv.url, ctl.id, ctl.clientSecret, 'recording:read');
  const weird = ['not-a-uuid', '123', "abc'--", '%00', 'x'.repeat(300), '%E2%98%83', UNKNOWN.toUpperCase() + 'x',
    '..%2F..%2Fetc', '%FF%FE'];
  for (const w of weird) {
    const path = `${base(w)}/actions/start`;
    const ok = await api(srv.url, 'POST', path, { token: ctlTok });
    assert.notEqual(ok.status, 500, `${w}: ${ok.text}`);
    if (ok.status !== 404) {
      // 404 is acceptable only when the path does not match a route at all.
      const body = assertErrorBody(ok, 400, 'bad.request', `id ${w}`);
      assert.match(body.message, /UUID/, body.message);
    } else {
      assert.equal(ok.json.code, 'not.found', `${w}: ${ok.text}`);
    }
    const denied = await api(srv.url, 'POST', path, { token: readOnly });
    assert.notEqual(denied.status, 500, `${w}: ${denied.text}`);
    if (ok.status === 400) assertErrorBody(denied, 403, 'missing.scope', `id ${w} without scope`);
  }
  const get = await api(srv.url, 'GET', base('not-a-uuid'), { token: ctlTok });
  assertErrorBody(get, 400, 'bad.request', 'GET non-UUID');
});

t('PATCH edits metadata with recording:write alone; state changes are refused with a pointer to the actions', async () => {
  const id = await createConversation(srv, admin);
  // Even a System Administrator's token with only recording:write cannot control a recording.
  const writer = await createClient(srv, admin, { name: 'writer', allowedScopes: ['recording:write'], roles: ['System Administrator'] });
  const wTok = await token(srv.url, writer.id, writer.clientSecret, 'recording:write');

  const patch = await api(srv.url, 'PATCH', base(id), {
    token: wTok, body: { labels: ['vip', 'escalation'], retentionDays: 90, notes: 'called about invoice' },
  });
  assert.equal(patch.status, 200, patch.text);
  assert.deepEqual(patch.json.metadata, { labels: ['vip', 'escalation'], retentionDays: 90, notes: 'called about invoice' });
  assert.equal(patch.json.state, 'none');
  const seen = await getRec(id);
  assert.deepEqual(seen.metadata, patch.json.metadata);

  for (const body of [{ state: 'active' }, { state: 'stopped', labels: ['x'] }]) {
    const res = await api(srv.url, 'PATCH', base(id), { token: wTok, body });
    const err = assertErrorBody(res, 400, 'bad.request', `PATCH ${JSON.stringify(body)}`);
    assert.match(err.message, /\/actions\//, err.message);
    assert.match(err.message, /POST/, err.message);
  }
  assert.deepEqual((await getRec(id)).metadata, patch.json.metadata, 'refused PATCH changed nothing');

  const unknown = await api(srv.url, 'PATCH', base(id), { token: wTok, body: { lables: ['typo'] } });
  const ue = assertErrorBody(unknown, 400, 'bad.request', 'PATCH unknown field');
  assert.match(ue.message, /lables/);

  for (const action of ['start', 'stop', 'pause', 'resume']) {
    const res = await act(id, action, wTok);
    const body = assertErrorBody(res, 403, 'missing.scope', `${action} with recording:write`);
    assert.deepEqual(layersOf(body).scope.required, ['recording:control']);
    assert.deepEqual(layersOf(body).scope.granted, ['recording:write']);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="insufficient_scope"/);
    // The client may not request recording:control: the fix says an admin must allow it.
    assert.match(body.explanation.fix[0], /administrator/i);
    assert.match(body.explanation.fix[0], /recording:control/);
  }
  assert.deepEqual((await getRec(id)).timeline, []);
  // And the control scope cannot edit metadata.
  const ctlPatch = await api(srv.url, 'PATCH', base(id), { token: ctlTok, body: { notes: 'x' } });
  assertErrorBody(ctlPatch, 403, 'missing.scope', 'PATCH with recording:control');
});

t('50 concurrent start/stop requests on one conversation leave a consistent timeline', async () => {
  const id = await createConversation(srv, admin);
  const first = await act(id, 'start');
  assert.equal(first.status, 200, first.text);
  const actions = Array.from({ length: 50 }, (_, i) => (i % 2 === 0 ? 'stop' : 'start'));
  const results = await Promise.all(actions.map((a) => act(id, a, ctlTok, { reason: `c${Math.random()}` })));
  for (const r of results) assert.equal(r.status, 200, r.text);

  const rec = await getRec(id);
  const tl = rec.timeline;
  const changed = [first, ...results].filter((r) => r.json.changed);
  assert.equal(tl.length, changed.length, 'every changed:true answer is one timeline entry, and nothing else is');
  tl.forEach((tr, i) => {
    assert.equal(tr.seq, i + 1, 'seq 1..N without gaps');
    assert.equal(tr.from, i === 0 ? 'none' : tl[i - 1].to, `transition ${tr.seq}: from equals previous to`);
    assert.notEqual(tr.from, tr.to);
  });
  for (const r of changed) {
    const matches = tl.filter((x) => x.contextId === r.json.transition.contextId);
    assert.equal(matches.length, 1, `transition of ${r.json.transition.contextId} appears exactly once`);
    assert.deepEqual(matches[0], r.json.transition, 'the timeline holds what the answer said');
  }
  for (const r of results.filter((x) => !x.json.changed)) {
    assert.ok(!tl.some((x) => x.contextId === r.json.transition.contextId), 'no-ops are not in the timeline');
  }
  // Segments: one per start, numbered 1..S, each stop closes the open one.
  const starts = tl.filter((x) => x.action === 'start');
  assert.equal(rec.segments.length, starts.length);
  rec.segments.forEach((s, i) => assert.equal(s.index, i + 1));
  starts.forEach((s, i) => assert.equal(s.segment, i + 1, 'each start opens the next segment'));
  for (const tr of tl.filter((x) => x.action === 'stop')) {
    const opener = [...starts].reverse().find((s) => s.seq < tr.seq);
    assert.equal(tr.segment, opener.segment, 'a stop belongs to the segment it closes');
  }
  const open = rec.segments.filter((s) => s.endedAt === null);
  assert.equal(open.length, rec.state === 'active' ? 1 : 0);
  assert.equal(rec.state, tl[tl.length - 1].to);
});

t('disconnect finalizes an active recording; every further action is 409 conversation.ended', async () => {
  for (const pausedFirst of [false, true]) {
    const id = await createConversation(srv, admin);
    assert.equal((await act(id, 'start')).status, 200);
    if (pausedFirst) assert.equal((await act(id, 'pause')).status, 200);
    const disc = await api(srv.url, 'POST', `/api/v2/conversations/${id}/disconnect`, { token: admin });
    assert.equal(disc.status, 200, disc.text);
    assert.equal(disc.json.state, 'disconnected');
    const endedAt = disc.json.endedAt;
    assert.ok(endedAt);

    const rec = await getRec(id);
    assert.equal(rec.state, 'stopped', 'the recording is finalized');
    assert.equal(rec.segments.length, 1);
    assert.notEqual(rec.segments[0].endedAt, null, 'its segment is closed');
    const last = rec.timeline[rec.timeline.length - 1];
    assert.equal(last.from, pausedFirst ? 'paused' : 'active');
    assert.equal(last.to, 'stopped');

    for (const action of ['start', 'stop', 'pause', 'resume']) {
      const body = assertErrorBody(await act(id, action), 409, 'conversation.ended', `${action} after disconnect`);
      assert.equal(body.messageParams.endedAt, endedAt);
      assert.equal(layersOf(body).resource.endedAt, endedAt);
    }
    assertErrorBody(await api(srv.url, 'POST', `/api/v2/conversations/${id}/disconnect`, { token: admin }),
      409, 'conversation.ended', 'disconnect twice');
    assert.deepEqual((await getRec(id)).timeline, rec.timeline);
  }
});

t('SIGTERM restart keeps conversations, recordings, timelines, clients and roles', async () => {
  const id = await createConversation(srv, admin);
  for (const a of ['start', 'pause', 'resume', 'stop', 'start']) assert.equal((await act(id, a)).status, 200);
  const role = await api(srv.url, 'POST', '/api/v2/authorization/roles', {
    token: admin, body: { name: 'Restart Survivor', description: 'kept', permissions: ['recording:recording:view'] },
  });
  assert.equal(role.status, 201, role.text);
  const client = await createClient(srv, admin, { name: 'survivor', allowedScopes: ['recording:read'], roles: [role.json.id] });

  const snapshot = async (tok) => ({
    rec: (await api(srv.url, 'GET', base(id), { token: tok })).json,
    conv: (await api(srv.url, 'GET', `/api/v2/conversations/${id}`, { token: tok })).json,
    client: (await api(srv.url, 'GET', `/api/v2/oauth/clients/${client.id}`, { token: tok })).json,
    role: (await api(srv.url, 'GET', `/api/v2/authorization/roles/${role.json.id}`, { token: tok })).json,
    ctl: (await api(srv.url, 'GET', `/api/v2/oauth/clients/${ctl.id}`, { token: tok })).json,
  });
  const beforeSnap = await snapshot(admin);
  assert.equal(beforeSnap.rec.timeline.length, 5);

  const exit = await srv.stop('SIGTERM');
  assert.equal(exit.code, 0, `SIGTERM exit: ${JSON.stringify(exit)}`);
  await srv.restart();
  admin = await adminToken(srv); // new port = new issuer; dev secrets are rotated on every dev start
  ctlTok = await token(srv.url, ctl.id, ctl.clientSecret, 'recording:control recording:read');

  const afterSnap = await snapshot(admin);
  assert.deepEqual(afterSnap, beforeSnap);
  // The surviving client's secret and role still work.
  const sTok = await token(srv.url, client.id, client.clientSecret, 'recording:read');
  const view = await api(srv.url, 'GET', base(id), { token: sTok });
  assert.equal(view.status, 200, view.text);
});

t('kill -9 keeps every acknowledged transition', async () => {
  const ids = [await createConversation(srv, admin), await createConversation(srv, admin), await createConversation(srv, admin)];
  const acked = new Map(ids.map((id) => [id, []]));
  let stop = false;
  const cycle = ['start', 'pause', 'resume', 'stop'];
  const worker = async (id) => {
    for (let i = 0; !stop; i++) {
      let res;
      try {
        res = await act(id, cycle[i % cycle.length]);
      } catch {
        return; // the server died mid-request: not acknowledged
      }
      if (res.status !== 200) return;
      acked.get(id).push(res.json.transition);
    }
  };
  const workers = ids.map(worker);
  // Kill once every worker has had a few transitions acknowledged, with requests still in flight.
  const until = Date.now() + 15_000;
  while ([...acked.values()].some((a) => a.length < 6)) {
    if (Date.now() > until) throw new Error('workers made no progress');
    await new Promise((r) => setImmediate(r));
  }
  await srv.kill9();
  stop = true;
  await Promise.all(workers);

  await srv.restart();
  admin = await adminToken(srv);
  ctlTok = await token(srv.url, ctl.id, ctl.clientSecret, 'recording:control recording:read');
  for (const id of ids) {
    const rec = await getRec(id);
    const list = acked.get(id);
    assert.ok(list.length >= 6);
    for (const tr of list) {
      const found = rec.timeline.find((x) => x.seq === tr.seq);
      assert.deepEqual(found, tr, `acknowledged transition ${tr.seq} of ${id} survived kill -9`);
    }
    rec.timeline.forEach((tr, i) => {
      assert.equal(tr.seq, i + 1);
      if (i > 0) assert.equal(tr.from, rec.timeline[i - 1].to);
    });
    assert.equal(rec.state, rec.timeline[rec.timeline.length - 1].to);
    // The audit event of an acknowledged transition commits with it.
    for (const tr of list.slice(-2)) {
      const ev = await api(srv.url, 'GET', `/api/v2/audit/events/${tr.contextId}`, { token: admin });
      assert.equal(ev.status, 200, `audit of acknowledged transition ${tr.contextId}: ${ev.text}`);
      assert.equal(ev.json.decision, 'allow');
    }
  }
});
