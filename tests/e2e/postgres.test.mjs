// verbatim on PostgreSQL (docs/deployment.md), single node, against a private
// PostgreSQL (lib/pg.mjs): the acceptance story of the seed scenario, the
// offline commands (init, keys rotate, kek rotate) on a database URL, and a
// PostgreSQL restart under light load: 503 store.unavailable while it is
// down, recovery after, and every acknowledged transition still there.
//
// Skipped (with the reason) when PostgreSQL is not installed, unless CI=true.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, token, api, adminToken, createClient, createConversation, assertErrorBody, layersOf, loggedTest,
  runCli, tempDir, waitFor,
} from './lib/server.mjs';
import { startPostgres, pgSkipReason, freePort, assertOutageAnswer } from './lib/pg.mjs';

const skip = pgSkipReason();
let pg;
let srv;
let db;
const t = loggedTest(test, () => srv);
const PASSWORD = 'never-logged-4711'; // trust authentication ignores it; the logs must not show it

async function metric(server, name) {
  const text = await (await fetch(`${server.metricsUrl}/metrics`)).text();
  const m = new RegExp(`^${name}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

before(async () => {
  if (skip) return;
  pg = await startPostgres();
  db = await pg.createDatabase('story');
  const url = pg.url(db).replace('verbatim@', `verbatim:${PASSWORD}@`);
  srv = await startServer({ extraArgs: ['--database-url', url], logLevel: 'info' });
});

after(async () => {
  await srv?.dispose();
  await pg?.dispose();
});

t('the server keeps its data in PostgreSQL and logs the URL without its password', { skip }, async () => {
  assert.equal(await pg.query(db, 'SELECT count(*) FROM organizations'), '1');
  assert.ok(Number(await pg.query(db, 'SELECT max(version) FROM schema_version')) >= 1);
  assert.ok(Number(await pg.query(db, "SELECT count(*) FROM pg_class WHERE relname LIKE 'audit_events_2%'")) >= 3,
    'audit partitions for today and the days ahead');
  assert.match(srv.stderr, /"store opened","store":"postgresql","database":"postgresql:\/\/verbatim:\*\*\*@127\.0\.0\.1:/);
  assert.ok(!srv.stderr.includes(PASSWORD) && !srv.stdout.includes(PASSWORD), 'the password is in the output');
});

// The acceptance story (tests/e2e/seed_scenario.test.mjs, examples/seed-scenario.mjs), step by step.
t('a libpq multi-host URL (docs/deployment.md "Topologies"): the first host is down, the node uses the next', { skip }, async () => {
  const other = await pg.createDatabase('multihost');
  const down = await freePort();  // nothing listens there
  const url = `postgresql://verbatim@127.0.0.1:${down},127.0.0.1:${pg.port}/${other}?target_session_attrs=read-write&connect_timeout=2`;
  const node = await startServer({ extraArgs: ['--database-url', url] });
  try {
    const ready = await api(node.url, 'GET', '/readyz');
    assert.equal(ready.status, 200, ready.text);
    assert.equal(await pg.query(other, 'SELECT count(*) FROM organizations'), '1', 'its data is in the second host\'s database');
  } finally {
    await node.dispose();
  }
});

const story = { steps: [] };
function remember(step, res, decision, code) {
  story.steps.push({ step, contextId: res.headers.get('x-context-id'), decision, code, status: res.status });
}

t('story: a client gets a token; recording:write cannot start (403 missing.scope); recording:control can (200)', { skip }, async () => {
  story.admin = await adminToken(srv);
  story.conversation = await createConversation(srv, story.admin);
  story.crm = await createClient(srv, story.admin, {
    name: 'crm-integration',
    allowedScopes: ['recording:write', 'recording:control', 'conversation:read'],
    roles: ['Recording Controller'],
  });
  const path = `/api/v2/recordings/conversations/${story.conversation}/actions/start`;
  const write = await token(srv.url, story.crm.id, story.crm.clientSecret, 'recording:write');
  const denied = await api(srv.url, 'POST', path, { token: write });
  const body = assertErrorBody(denied, 403, 'missing.scope', 'recording:write token');
  assert.deepEqual(layersOf(body).scope.required, ['recording:control']);
  remember('missing scope', denied, 'deny', 'missing.scope');

  story.control = await token(srv.url, story.crm.id, story.crm.clientSecret, 'recording:control');
  const started = await api(srv.url, 'POST', path, { token: story.control });
  assert.equal(started.status, 200, started.text);
  assert.equal(started.json.state, 'active');
  assert.equal(started.json.changed, true);
  remember('start', started, 'allow', null);
  const again = await api(srv.url, 'POST', path, { token: story.control });
  assert.equal(again.status, 200, again.text);
  assert.equal(again.json.changed, false, 'the idempotent repeat');
});

t('story: without its role the client cannot pause (403 missing.permission), with it again it can', { skip }, async () => {
  const path = `/api/v2/recordings/conversations/${story.conversation}/actions/pause`;
  const patch = await api(srv.url, 'PATCH', `/api/v2/oauth/clients/${story.crm.id}`, { token: story.admin, body: { roles: [] } });
  assert.equal(patch.status, 200, patch.text);
  // Removing a role ends the client's tokens (docs/decisions.md "Tokens follow their client"): a new one.
  story.control = await token(srv.url, story.crm.id, story.crm.clientSecret, 'recording:control');
  const denied = await api(srv.url, 'POST', path, { token: story.control });
  assertErrorBody(denied, 403, 'missing.permission', 'role removed');
  remember('missing permission', denied, 'deny', 'missing.permission');
  const back = await api(srv.url, 'PATCH', `/api/v2/oauth/clients/${story.crm.id}`,
    { token: story.admin, body: { roles: ['Recording Controller'] } });
  assert.equal(back.status, 200, back.text);
  // The same token works again at once: roles are evaluated per request.
  const paused = await api(srv.url, 'POST', path, { token: story.control });
  assert.equal(paused.status, 200, paused.text);
  assert.equal(paused.json.state, 'paused');
});

t('story: once the conversation is disconnected, start is 409 conversation.ended', { skip }, async () => {
  const disc = await api(srv.url, 'POST', `/api/v2/conversations/${story.conversation}/disconnect`, { token: story.admin });
  assert.equal(disc.status, 200, disc.text);
  const res = await api(srv.url, 'POST', `/api/v2/recordings/conversations/${story.conversation}/actions/start`,
    { token: story.control });
  assertErrorBody(res, 409, 'conversation.ended', 'after disconnect');
  remember('ended', res, 'deny', 'conversation.ended');
  const rec = await api(srv.url, 'GET', `/api/v2/recordings/conversations/${story.conversation}`, { token: story.admin });
  assert.equal(rec.status, 200, rec.text);
  assert.equal(rec.json.state, 'stopped', 'the disconnect finalized the paused recording');
  assert.deepEqual(rec.json.timeline.map((x) => x.action), ['start', 'pause', 'disconnect']);
});

t('story: every step is found in the audit log by its contextId, with its decision and code', { skip }, async () => {
  assert.ok(story.steps.length >= 4);
  for (const s of story.steps) {
    const res = await api(srv.url, 'GET', `/api/v2/audit/events/${s.contextId}`, { token: story.admin });
    assert.equal(res.status, 200, `${s.step}: ${res.text}`);
    assert.equal(res.json.contextId, s.contextId);
    assert.equal(res.json.decision, s.decision, s.step);
    assert.equal(res.json.code, s.code, s.step);
    assert.equal(res.json.status, s.status, s.step);
  }
});

t('a PostgreSQL restart under light load: 503 store.unavailable while it is down, recovery after, nothing acknowledged lost', { skip }, async () => {
  const admin = await adminToken(srv);
  const conv = await createConversation(srv, admin);
  const base = `/api/v2/recordings/conversations/${conv}`;
  const first = await api(srv.url, 'POST', `${base}/actions/start`, { token: admin });
  assert.equal(first.status, 200, first.text);

  let phase = 'up';
  let stop = false;
  const results = [];
  async function load(worker) {
    for (let i = 0; !stop; i++) {
      const action = (i + worker) % 2 ? 'pause' : 'resume';
      const started = phase;
      const res = await api(srv.url, 'POST', `${base}/actions/${action}`, { token: admin });
      results.push({ phase: started, ended: phase, action, res });
      const read = await api(srv.url, 'GET', base, { token: admin });
      results.push({ phase: started, ended: phase, action: 'get', res: read });
    }
  }
  async function stopLoad(workers) {
    stop = true;
    await Promise.all(workers);
    stop = false;
  }
  const acknowledged = () => results.filter((r) => r.action !== 'get' && r.res.status === 200 && r.res.json.changed);
  let workers = [load(0), load(1)];
  let probe;
  try {
    await waitFor(() => acknowledged().length >= 10, { what: '10 acknowledged transitions before the outage' });

    // The load pauses while PostgreSQL goes down, so that the first request
    // to meet the outage is a known one: an action, answered 503
    // store.unavailable. (Its audit event cannot be written either, so the
    // requests after it are refused 503 audit.unavailable: the audit log
    // fails closed, docs/decisions.md "Audit fails closed".)
    await stopLoad(workers);
    workers = [];
    await waitFor(async () => (await metric(srv, 'verbatim_audit_queued_events')) === 0, { what: 'an idle audit writer' });
    await pg.stop('immediate'); // a crash: PostgreSQL recovers from its WAL at the next start
    phase = 'down';
    probe = await api(srv.url, 'POST', `${base}/actions/pause`, { token: admin });
    results.push({ phase, ended: phase, action: 'pause', res: probe });
    workers = [load(0), load(1)];
    await waitFor(() => results.filter((r) => r.phase === 'down').length >= 10, { what: 'load while PostgreSQL is down' });
    const ready = await api(srv.url, 'GET', '/readyz');
    assertErrorBody(ready, 503, 'not.ready', 'readyz while the database is down');

    phase = 'starting'; // from here on PostgreSQL may answer at any moment
    await pg.start();
    phase = 'up again';
    await waitFor(() => results.some((r) => r.phase === 'up again' && r.action !== 'get' && r.res.status === 200),
      { deadlineMs: 20_000, what: 'an action answered 200 after PostgreSQL is back' });
    await waitFor(() => results.filter((r) => r.phase === 'up again' && r.res.status === 200).length >= 10,
      { what: 'load served again after the restart' });
  } finally {
    await stopLoad(workers);
  }
  const probeBody = assertErrorBody(probe, 503, 'store.unavailable', 'the first action while PostgreSQL is down');
  assert.match(probeBody.message, /retry/i);

  // What the clients were told: never a 500; while down, 503 with the error contract.
  const down = results.filter((r) => r.phase === 'down' && r.ended === 'down');
  assert.ok(down.length > 0, 'requests were made while PostgreSQL was down');
  for (const r of results) assertOutageAnswer(r.res, `${r.phase} ${r.action}`);
  for (const r of down) {
    assert.ok(r.res.status === 503 || (r.action === 'get' && r.res.status === 200),
      `while down, actions are refused and only cached reads may answer: ${r.action} got ${r.res.status} ${r.res.text}`);
  }

  // Nothing acknowledged is lost: every 200 changed:true is in the timeline,
  // with its seq, action and contextId, and the timeline is whole.
  const rec = await api(srv.url, 'GET', base, { token: admin });
  assert.equal(rec.status, 200, rec.text);
  const timeline = rec.json.timeline;
  timeline.forEach((x, i) => {
    assert.equal(x.seq, i + 1, 'gap-free');
    if (i > 0) assert.equal(x.from, timeline[i - 1].to, 'chained');
  });
  const byContext = new Map(timeline.map((x) => [x.contextId, x]));
  for (const r of acknowledged()) {
    const tr = byContext.get(r.res.json.transition.contextId);
    assert.ok(tr, `acknowledged ${r.action} (${r.phase}) is missing from the timeline`);
    assert.equal(tr.seq, r.res.json.transition.seq);
    assert.equal(tr.action, r.action);
  }
  assert.ok(acknowledged().some((r) => r.phase === 'up again'), 'transitions resumed after the restart');

  // The audit event of the refused request was kept and written once the database was back.
  const ctx = probeBody.contextId;
  const event = await waitFor(async () => {
    const res = await api(srv.url, 'GET', `/api/v2/audit/events/${ctx}`, { token: admin });
    return res.status === 200 ? res.json : null;
  }, { deadlineMs: 20_000, what: `the audit event of the refused request ${ctx}` });
  assert.equal(event.status, 503);
  assert.equal(event.code, 'store.unavailable');
  assert.match(srv.stderr, /database unreachable/, 'the outage is in the server log');
  assert.ok(!srv.stderr.includes(PASSWORD), 'the password is in the output');
});

t('init, keys rotate, kek rotate and trunks add/list work on a database URL, and serve starts on what they made', { skip }, async () => {
  const other = await pg.createDatabase('offline');
  const url = pg.url(other);
  const dataDir = tempDir();
  const init = await runCli(['init', '--data-dir', dataDir, '--database-url', url, '--json']);
  assert.equal(init.code, 0, init.stderr);
  const adminCreds = JSON.parse(init.stdout);
  assert.equal(await pg.query(other, 'SELECT count(*) FROM oauth_clients'), '1');

  const again = await runCli(['init', '--data-dir', dataDir, '--json'], { env: { VERBATIM_DATABASE_URL: url } });
  assert.equal(again.code, 1, 'a second init on the same database is refused (the environment variable is read)');
  assert.match(again.stderr, /already has 1 client/);

  const rotate = await runCli(['keys', 'rotate', '--data-dir', dataDir, '--database-url', url]);
  assert.equal(rotate.code, 0, rotate.stderr);
  assert.equal(await pg.query(other, 'SELECT count(*) FROM signing_keys WHERE retired_at IS NULL'), '1');
  const kid = await pg.query(other, 'SELECT kid FROM signing_keys WHERE retired_at IS NULL');
  assert.match(await pg.query(other, 'SELECT private_key_pem FROM signing_keys LIMIT 1'), /^v1:/, 'sealed at rest');

  const kek = await runCli(['kek', 'rotate', '--data-dir', dataDir, '--database-url', url]);
  assert.equal(kek.code, 0, kek.stderr);
  assert.match(kek.stdout, /Re-sealed [1-9]\d* secret/);

  const bad = await runCli(['keys', 'rotate', '--data-dir', dataDir, '--database-url', 'postgresql://u:topsecret@127.0.0.1:1/x']);
  assert.equal(bad.code, 2, 'an unreachable database is a server error');
  assert.ok(!bad.stderr.includes('topsecret'), bad.stderr);
  assert.match(bad.stderr, /store\.unavailable|cannot be reached/);

  const trunkAdd = await runCli(['trunks', 'add', '--data-dir', dataDir, '--name', 'pg-trunk', '--network', '192.0.2.0/24', '--json'],
    { env: { VERBATIM_DATABASE_URL: url } });
  assert.equal(trunkAdd.code, 0, trunkAdd.stderr);
  assert.equal(await pg.query(other, "SELECT name FROM sip_trunks"), 'pg-trunk', 'trunks add wrote to PostgreSQL');
  const trunkList = await runCli(['trunks', 'list', '--data-dir', dataDir, '--database-url', url]);
  assert.equal(trunkList.code, 0, trunkList.stderr);
  assert.match(trunkList.stdout, /pg-trunk/);

  const node = await startServer({ dev: false, dataDir, extraArgs: ['--database-url', url] });
  try {
    const tok = await token(node.url, adminCreds.clientId, adminCreds.clientSecret, 'admin');
    const jwks = await api(node.url, 'GET', '/.well-known/jwks.json');
    assert.equal(jwks.status, 200, jwks.text);
    assert.ok(jwks.json.keys.some((k) => k.kid === kid), 'the key rotated offline is published');
    const me = await api(node.url, 'GET', '/api/v2/tokens/me', { token: tok });
    assert.equal(me.status, 200, me.text);
    const trunks = await api(node.url, 'GET', '/api/v2/media/siprec/trunks', { token: tok });
    assert.equal(trunks.status, 200, trunks.text);
    assert.ok(trunks.json.entities.some((e) => e.name === 'pg-trunk'), 'the trunk added offline is served');
  } finally {
    await node.dispose();
  }
});
