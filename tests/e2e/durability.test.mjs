// docs/api.md §9 durability: several clients drive random start/stop/pause/resume on
// a few shared conversations; at a random moment the server is killed with
// SIGKILL and restarted on the same data directory. Every transition that got
// a 2xx must be in the timeline with the same seq/action/from/to/contextId,
// timelines must be gap-free and chained, segments must agree with the
// start/stop transitions, and each acknowledged action's audit event must
// exist. Three rounds: two kills on one data directory (default sync), one
// with `--sync full`.
//
// Randomness is seeded: a failure prints the seed; rerun with
// VERBATIM_DURABILITY_SEED=<seed> to drive the same choices (timing differs).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, token, api, adminToken, createClient, createConversation, loggedTest } from './lib/server.mjs';

const SEED = Number(process.env.VERBATIM_DURABILITY_SEED ?? (Date.now() % 2 ** 31));
const CLIENTS = 4;
const CONVERSATIONS = 3;
const ACTIONS = ['start', 'stop', 'pause', 'resume'];
const OPENS = new Set(['none', 'stopped']); // start from these opens a segment

// mulberry32: small, seedable, good enough to pick actions and delays.
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}
const random = rng(SEED);
const pick = (xs) => xs[Math.floor(random() * xs.length)];

let srv; // the server of the round being run (for loggedTest)
const servers = [];
const t = loggedTest(test, () => srv);
after(async () => {
  for (const s of servers) await s.dispose();
});

const recPath = (id) => `/api/v2/recordings/conversations/${id}`;

/** Creates the round's controller clients; returns [{id, secret, name}]. */
async function createControllers(s, admin, round) {
  const out = [];
  for (let i = 0; i < CLIENTS; i++) {
    const c = await createClient(s, admin, {
      name: `durability-r${round}-c${i}`,
      allowedScopes: ['recording:control', 'recording:read'],
      roles: ['Recording Administrator'],
    });
    out.push({ id: c.id, secret: c.clientSecret, name: c.name });
  }
  return out;
}

/**
 * Drives random actions from every client until the server is killed at a
 * random moment. Returns the acknowledged responses and how many requests
 * were in flight when it died.
 */
async function driveAndKill(s, controllers, conversations) {
  const tokens = await Promise.all(controllers.map((c) => token(s.url, c.id, c.secret, 'recording:control recording:read')));
  const acked = []; // {conversationId, action, changed, transition}
  const unexpected = [];
  let dead = false;
  let inFlightAtDeath = 0;
  let inFlight = 0;

  const worker = async (tok) => {
    while (!dead) {
      const conversationId = pick(conversations);
      const action = pick(ACTIONS);
      let res;
      inFlight++;
      try {
        res = await api(s.url, 'POST', `${recPath(conversationId)}/actions/${action}`, { token: tok, body: { reason: `fuzz ${action}` } });
      } catch {
        return; // the server died mid-request: not acknowledged
      } finally {
        inFlight--;
      }
      if (res.status >= 200 && res.status < 300) {
        acked.push({ conversationId, action, changed: res.json.changed, transition: res.json.transition, contextId: res.headers.get('x-context-id') });
      } else if (res.status !== 409 || res.json?.code !== 'recording.invalid.transition') {
        unexpected.push(`${action} ${conversationId}: ${res.status} ${res.text.slice(0, 300)}`);
      }
    }
  };
  const workers = tokens.map(worker);

  // Kill once a random number of transitions has been acknowledged, then a
  // random delay later, while requests are in flight.
  const minAcked = 15 + Math.floor(random() * 30);
  const delayMs = Math.floor(random() * 800);
  const until = Date.now() + 15_000;
  while (acked.length < minAcked) {
    if (Date.now() > until) throw new Error(`workers made no progress (seed ${SEED}): ${acked.length} acknowledged; ${unexpected.join('; ')}`);
    await new Promise((r) => setTimeout(r, 5));
  }
  await new Promise((r) => setTimeout(r, delayMs));
  inFlightAtDeath = inFlight;
  const exit = await s.kill9();
  dead = true;
  await Promise.all(workers);
  assert.equal(exit?.signal, 'SIGKILL', `the server was killed, not exited on its own: ${JSON.stringify(exit)}`);
  assert.deepEqual(unexpected, [], `only 2xx or 409 recording.invalid.transition before the kill (seed ${SEED})`);
  return { acked, inFlightAtDeath, minAcked, delayMs };
}

/** Checks one recording against every acknowledged action on it. */
function checkRecording(rec, acks, note) {
  const tl = rec.timeline;
  // Gap-free and chained.
  tl.forEach((tr, i) => {
    assert.equal(tr.seq, i + 1, `${note}: timeline seq ${i + 1} (${JSON.stringify(tl.map((x) => x.seq))})`);
    assert.equal(tr.from, i === 0 ? 'none' : tl[i - 1].to, `${note}: seq ${tr.seq} starts where seq ${i} ended`);
    assert.notEqual(tr.from, tr.to, `${note}: seq ${tr.seq} changed the state`);
  });
  assert.equal(rec.state, tl.length ? tl[tl.length - 1].to : 'none', `${note}: state is the last transition's`);

  // Every acknowledged change is there, exactly as acknowledged.
  const bySeq = new Map(tl.map((tr) => [tr.seq, tr]));
  const seen = new Set();
  for (const a of acks) {
    assert.equal(a.transition.contextId, a.contextId, `${note}: transition.contextId is X-Context-Id`);
    if (!a.changed) {
      // An idempotent repeat is acknowledged but adds nothing to the timeline.
      assert.equal(a.transition.seq, 0, `${note}: a repeat has seq 0`);
      assert.ok(!tl.some((tr) => tr.contextId === a.contextId), `${note}: repeat ${a.contextId} is not in the timeline`);
      continue;
    }
    assert.ok(!seen.has(a.transition.seq), `${note}: seq ${a.transition.seq} acknowledged twice`);
    seen.add(a.transition.seq);
    assert.deepEqual(bySeq.get(a.transition.seq), a.transition,
      `${note}: acknowledged ${a.action} (seq ${a.transition.seq}, contextId ${a.contextId}) survived kill -9`);
  }

  // Segments agree with the transitions that open and close them.
  const opened = tl.filter((tr) => tr.to === 'active' && OPENS.has(tr.from));
  assert.equal(rec.segments.length, opened.length, `${note}: one segment per start from none/stopped`);
  let current = 0;
  for (const tr of tl) {
    if (tr.to === 'active' && OPENS.has(tr.from)) {
      current++;
      const seg = rec.segments[current - 1];
      assert.equal(seg.index, current, `${note}: segment indexes are 1..n`);
      assert.equal(seg.startedAt, tr.at, `${note}: segment ${current} starts at seq ${tr.seq}`);
    }
    assert.equal(tr.segment, current, `${note}: seq ${tr.seq} belongs to segment ${current}`);
    if (tr.to === 'stopped') assert.equal(rec.segments[current - 1].endedAt, tr.at, `${note}: segment ${current} ends at seq ${tr.seq}`);
  }
  rec.segments.forEach((seg, i) => {
    const last = i === rec.segments.length - 1;
    const open = last && (rec.state === 'active' || rec.state === 'paused');
    assert.equal(seg.endedAt === null, open, `${note}: segment ${seg.index} is ${open ? 'open' : 'closed'}`);
  });
  return tl.filter((tr) => !seen.has(tr.seq)).length; // transitions nobody saw acknowledged
}

async function checkAfterRestart(s, state, round) {
  const admin = await adminToken(s);
  const note = (id) => `round ${round}, conversation ${id}, seed ${SEED}`;
  let unacknowledged = 0;
  for (const id of state.conversations) {
    const r = await api(s.url, 'GET', recPath(id), { token: admin });
    assert.equal(r.status, 200, `${note(id)}: ${r.text}`);
    unacknowledged += checkRecording(r.json, state.acked.filter((a) => a.conversationId === id), note(id));
  }
  // A transition may commit without its response arriving, but only for a
  // request that was in flight when the server died.
  assert.ok(unacknowledged <= state.inFlightAtDeath,
    `round ${round}: ${unacknowledged} unacknowledged transitions, but only ${state.inFlightAtDeath} requests were in flight at the kills (seed ${SEED})`);

  // The audit event of each acknowledged action committed with it.
  for (let i = 0; i < state.acked.length; i += 8) {
    await Promise.all(state.acked.slice(i, i + 8).map(async (a) => {
      const ev = await api(s.url, 'GET', `/api/v2/audit/events/${a.contextId}`, { token: admin });
      assert.equal(ev.status, 200, `round ${round}: audit event of acknowledged ${a.action} ${a.contextId} (seed ${SEED}): ${ev.text}`);
      assert.equal(ev.json.decision, 'allow');
      assert.equal(ev.json.status, 200);
      assert.equal(ev.json.conversationId, a.conversationId);
      assert.equal(ev.json.path, `${recPath(a.conversationId)}/actions/${a.action}`);
    }));
  }
  return unacknowledged;
}

/**
 * One round on `s`: fresh clients and CONVERSATIONS new conversations (earlier
 * rounds' conversations on the same data directory keep being driven, so their
 * timelines span kills), drive + kill, restart, check everything acknowledged
 * on this data directory so far.
 */
async function round(ctx, s, n, state) {
  const admin = await adminToken(s);
  const controllers = await createControllers(s, admin, n);
  for (let i = 0; i < CONVERSATIONS; i++) state.conversations.push(await createConversation(s, admin));
  const { acked, inFlightAtDeath, minAcked, delayMs } = await driveAndKill(s, controllers, state.conversations);
  assert.ok(acked.length >= minAcked);
  const changed = acked.filter((a) => a.changed).length;
  assert.ok(changed > 0, `round ${n}: some acknowledged actions changed a state (seed ${SEED})`);
  state.acked.push(...acked);
  state.inFlightAtDeath += inFlightAtDeath;
  await s.restart();
  const unacknowledged = await checkAfterRestart(s, state, n);
  ctx.diagnostic(`round ${n}: ${acked.length} acknowledged (${changed} changes) on ${state.conversations.length} ` +
    `conversations; killed after ${minAcked} acks + ${delayMs} ms with ${inFlightAtDeath} requests in flight; ` +
    `${unacknowledged} unacknowledged transitions committed so far on this data directory`);
}

const fresh = () => ({ conversations: [], acked: [], inFlightAtDeath: 0 });
let shared;

t(`kill -9 at a random moment keeps every acknowledged transition (round 1, seed ${SEED})`, { timeout: 60_000 }, async (ctx) => {
  srv = await startServer();
  servers.push(srv);
  shared = fresh();
  await round(ctx, srv, 1, shared);
});

t('… and again on the same data directory (round 2: timelines span two kills)', { timeout: 60_000 }, async (ctx) => {
  assert.ok(shared, 'round 1 ran');
  await round(ctx, srv, 2, shared);
});

t('… with --sync full (round 3)', { timeout: 60_000 }, async (ctx) => {
  srv = await startServer({ extraArgs: ['--sync', 'full'] });
  servers.push(srv);
  await round(ctx, srv, 3, fresh());
});
