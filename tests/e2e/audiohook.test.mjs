// docs/api.md §7: the AudioHook WebSocket ingest, end to end against a live server.
// A client speaking AudioHook v2 (as the Genesys reference client does) streams
// 3 s of stereo PCMU (440 Hz customer, 880 Hz agent) at real-time pace, the
// recording is paused for ~1 s through the control API in the middle, and the
// WAV the server wrote is checked sample by sample: two channels, the right
// tone on each, digital silence over the pause, and the right duration.
// Authentication: bearer token with media:ingest, and X-API-KEY + HTTP message
// signature of the dev integration; plus the denials and a protocol error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import {
  startServer, adminToken, createClient, token, api, assertErrorBody, layersOf, loggedTest, waitFor,
} from './lib/server.mjs';
import { connectWs } from './lib/ws.mjs';
import { stereoToneFrame } from './lib/rtp_sender.mjs';

const PATH = '/api/v2/media/audiohook';
const ORG = 'd7934305-0972-4844-938e-9060eef73d05';  // the Genesys org id: opaque to verbatim
const RATE = 8000;
const FRAME = 160;      // 20 ms
const FRAMES = 150;     // 3 s
const PAUSE_AT = 50;    // frame index (1.0 s) when the test pauses the recording
const RESUME_AT = 100;  // and resumes it (2.0 s)
const EDGE = 240;       // 30 ms tolerance at the edges of the pause
const STEREO_PCMU = { type: 'audio', format: 'PCMU', channels: ['external', 'internal'], rate: 8000 };

let srv;
let admin;
let ingest;  // {id, clientSecret} of a client with role Media Ingest
const t = loggedTest(test, () => srv);

before(async () => {
  srv = await startServer({ dev: true });
  admin = await adminToken(srv);
  ingest = await createClient(srv, admin, {
    name: 'audiohook-ingest', allowedScopes: ['media:ingest', 'conversation:read'], roles: ['Media Ingest'],
  });
});

after(async () => {
  await srv?.dispose();
});

const wsUrl = () => srv.url.replace('http://', 'ws://') + PATH;

// ----------------------------------------------------------------- helpers

/** One 20 ms stereo frame at stream position `pos`: cosine, so sample 0 is loud. */
const stereoFrame = (pos) => stereoToneFrame(pos, FRAME, { amplitude: 8000, phase: Math.PI / 2 });

/** The AudioHook signature headers, built as the reference client's SignatureBuilder does. */
function signedHeaders({ apiKey, clientSecret, sessionId, host, created = Math.floor(Date.now() / 1000) }) {
  const correlationId = randomUUID();
  const components = [
    ['@request-target', PATH], ['@authority', host], ['audiohook-organization-id', ORG],
    ['audiohook-session-id', sessionId], ['audiohook-correlation-id', correlationId], ['x-api-key', apiKey],
  ];
  const params = `(${components.map(([k]) => `"${k}"`).join(' ')});keyid="${apiKey}";nonce="${randomBytes(18).toString('base64')}";` +
    `alg="hmac-sha256";created=${created};expires=${created + 30}`;
  const base = [...components.map(([k, v]) => `"${k}": ${v}`), `"@signature-params": ${params}`].join('\n');
  const sig = createHmac('sha256', Buffer.from(clientSecret, 'base64')).update(base).digest('base64');
  return {
    'Audiohook-Organization-Id': ORG, 'Audiohook-Session-Id': sessionId, 'Audiohook-Correlation-Id': correlationId,
    'X-API-KEY': apiKey, 'Signature-Input': `sig1=${params}`, Signature: `sig1=:${sig}:`,
  };
}

/** Client side of one AudioHook session: seq/serverseq bookkeeping and message builders. */
class HookClient {
  constructor(ws, sessionId) {
    this.ws = ws;
    this.id = sessionId;
    this.seq = 0;
    this.serverseq = 0;
    this.pos = 0;  // samples, paused ones included
  }
  send(type, parameters = {}) {
    this.ws.sendJson({ version: '2', id: this.id, type, seq: ++this.seq, serverseq: this.serverseq,
      position: `PT${this.pos / RATE}S`, parameters });
  }
  async expect(type, what = type) {
    let m = await this.ws.next();
    while (m.type === 'text' && m.json?.type === 'pong' && type !== 'pong') {  // a late pong is fine
      this.check(m.json);
      m = await this.ws.next();
    }
    assert.equal(m.type, 'text', `${what}: expected a text message, got ${JSON.stringify(m).slice(0, 300)}`);
    this.check(m.json);
    assert.equal(m.json.type, type, `${what}: ${m.data}`);
    return m.json;
  }
  check(msg) {
    // What the reference client validates on every server message.
    assert.equal(msg.version, '2');
    assert.equal(msg.id, this.id);
    assert.equal(msg.seq, this.serverseq + 1, `server seq: ${JSON.stringify(msg)}`);
    assert.equal(msg.clientseq, this.seq, `clientseq: ${JSON.stringify(msg)}`);
    assert.equal(typeof msg.parameters, 'object');
    this.serverseq = msg.seq;
  }
  open(conversationId, media = [STEREO_PCMU]) {
    this.send('open', {
      organizationId: ORG, conversationId,
      participant: { id: randomUUID(), ani: '+15551230000', aniName: 'Test Customer', dnis: '+15550001111' },
      media, language: 'en-US',
    });
  }
}

/** Parses a PCM WAV: {channels, rate, bits, samples: Int16Array per channel}. */
function parseWav(buf) {
  assert.equal(buf.toString('latin1', 0, 4), 'RIFF');
  assert.equal(buf.toString('latin1', 8, 12), 'WAVE');
  let off = 12, fmt = null, data = null;
  while (off + 8 <= buf.length) {
    const id = buf.toString('latin1', off, off + 4), size = buf.readUInt32LE(off + 4);
    if (id === 'fmt ') fmt = { channels: buf.readUInt16LE(off + 10), rate: buf.readUInt32LE(off + 12), bits: buf.readUInt16LE(off + 22) };
    if (id === 'data') data = buf.subarray(off + 8, off + 8 + size);
    off += 8 + size + (size & 1);
  }
  assert.ok(fmt && data, 'WAV has fmt and data chunks');
  const frames = data.length / (2 * fmt.channels);
  const samples = Array.from({ length: fmt.channels }, () => new Int16Array(frames));
  for (let i = 0; i < frames; i++) for (let c = 0; c < fmt.channels; c++) samples[c][i] = data.readInt16LE((i * fmt.channels + c) * 2);
  return { ...fmt, frames, samples };
}

/** Goertzel power of frequency f over x[start, start + n). */
function goertzel(x, start, n, f) {
  const k = 2 * Math.cos(2 * Math.PI * f / RATE);
  let s1 = 0, s2 = 0;
  for (let i = start; i < start + n; i++) {
    const s0 = x[i] + k * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - k * s1 * s2;
}

/**
 * Streams 3 s over an open session at real-time pace, pausing the recording
 * through the control API at 1 s and resuming it at 2 s. Honours the server's
 * pause/resume requests as the reference client does (no audio while paused,
 * the stream position keeps running). Returns the stream positions (samples)
 * bracketing the two control calls.
 */
async function stream(hook, conversationId) {
  const marks = {};
  const seen = [];
  let paused = false, pauseStart = 0;
  hook.ws.onMessage((m) => {
    assert.equal(m.type, 'text', 'the server sends text only');
    hook.check(m.json);
    seen.push(m.json.type);
    if (m.json.type === 'pause' && !paused) {
      paused = true;
      pauseStart = hook.pos;
      hook.send('paused');
    } else if (m.json.type === 'resume' && paused) {
      paused = false;
      hook.send('resumed', { start: `PT${pauseStart / RATE}S`, discarded: `PT${(hook.pos - pauseStart) / RATE}S` });
    }
  });
  const t0 = performance.now();
  // Frame k is sent at t0 + 20k ms, so the stream position of an instant is its time since t0.
  const streamPos = () => Math.round((performance.now() - t0) * RATE / 1000);
  const control = (action, key) => (async () => {
    marks[key + 'Request'] = streamPos();
    const r = await api(srv.url, 'POST', `/api/v2/recordings/conversations/${conversationId}/actions/${action}`, { token: admin });
    assert.equal(r.status, 200, `${action}: ${r.text}`);
    marks[key + 'Response'] = streamPos();
  })();
  let pausing, resuming;
  for (let k = 0; k < FRAMES; k++) {
    // Pacing to an absolute schedule: this is how the audio is sent, not a wait for the server.
    const wait = t0 + k * 20 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    if (k === PAUSE_AT) pausing = control('pause', 'pause');
    if (k === RESUME_AT) {
      await pausing;
      resuming = control('resume', 'resume');
    }
    if (k === 10) hook.send('ping');
    if (!paused) hook.ws.sendBinary(stereoFrame(k * FRAME));
    hook.pos = (k + 1) * FRAME;  // sent or, while paused, discarded
  }
  await resuming;
  hook.ws.onMessage(null);
  return { marks, seen };
}

/** Waits for segment 1 to be complete and downloads it. */
async function download(conversationId) {
  const rec = await waitFor(async () => {
    const r = await api(srv.url, 'GET', `/api/v2/recordings/conversations/${conversationId}`, { token: admin });
    const m = r.json?.media?.find((x) => x.segment === 1);
    return m?.status === 'complete' ? r.json : null;
  }, { deadlineMs: 15_000, what: 'segment 1 to be complete' });
  const res = await fetch(`${srv.url}/api/v2/recordings/conversations/${conversationId}/media?segment=1`,
    { headers: { authorization: `Bearer ${admin}` } });
  assert.equal(res.status, 200);
  return { rec, wav: parseWav(Buffer.from(await res.arrayBuffer())) };
}

function assertRecording({ rec, wav }, marks) {
  assert.equal(wav.channels, 2);
  assert.equal(wav.rate, 8000);
  assert.equal(wav.bits, 16);
  assert.deepEqual(rec.media.find((m) => m.segment === 1).channelLabels, ['Test Customer', 'agent']);
  const [ext, int] = wav.samples;
  // Where the stream's sample 0 sits in the file, found from the last sample
  // of audio (the stream ends loud). The jitter buffer anchors a stream on its
  // least-delayed packet, so a stream that starts within a millisecond of the
  // session may begin a few samples before the file does.
  const sent = FRAMES * FRAME;
  const lead = ext.findLastIndex((v) => v !== 0) - (sent - 1);
  assert.ok(lead > -40 && lead < RATE / 2, `stream sample 0 is at file position ${lead}`);
  assert.equal(ext.findIndex((v) => v !== 0), Math.max(lead, 0), 'audio starts where the stream starts');
  assert.ok(Math.abs(wav.frames - (lead + sent)) <= 160,
    `duration ${wav.frames / RATE} s, expected ${sent / RATE} s of stream after ${lead / RATE} s`);

  // The paused interval, in file positions, as bracketed by the control calls.
  const pauseLo = lead + marks.pauseRequest, pauseHi = lead + marks.pauseResponse;
  const resumeLo = lead + marks.resumeRequest, resumeHi = lead + marks.resumeResponse;
  const silent = (i) => ext[i] === 0 && int[i] === 0;
  for (let i = pauseHi + EDGE; i < resumeLo - EDGE; i++) {
    if (!silent(i)) assert.fail(`sample ${i} (${(i / RATE).toFixed(3)} s) is not silent while paused: ${ext[i]}, ${int[i]}`);
  }
  // The silence ends where the pause ended, not later.
  let end = Math.floor((pauseHi + resumeLo) / 2);
  while (end < wav.frames && silent(end)) end++;
  assert.ok(end >= resumeLo - EDGE && end <= resumeHi + EDGE,
    `silence ends at ${end / RATE} s; resume was between ${resumeLo / RATE} and ${resumeHi / RATE} s`);
  let start = Math.floor((pauseHi + resumeLo) / 2);
  while (start > 0 && silent(start - 1)) start--;
  assert.ok(start >= pauseLo - EDGE && start <= pauseHi + EDGE,
    `silence starts at ${start / RATE} s; pause was between ${pauseLo / RATE} and ${pauseHi / RATE} s`);

  // Outside the pause: 440 Hz on the customer channel, 880 Hz on the agent's.
  const W = 400;  // 50 ms windows
  let windows = 0;
  for (let s = lead; s + W <= lead + sent; s += W) {
    if (s < 0 || (s + W > pauseLo - EDGE && s < resumeHi + EDGE)) continue;
    const e440 = goertzel(ext, s, W, 440), e880 = goertzel(ext, s, W, 880);
    const i440 = goertzel(int, s, W, 440), i880 = goertzel(int, s, W, 880);
    assert.ok(e440 > 100 * e880 && e440 > 1e9, `customer channel at ${s / RATE} s: 440 Hz ${e440.toExponential(2)}, 880 Hz ${e880.toExponential(2)}`);
    assert.ok(i880 > 100 * i440 && i880 > 1e9, `agent channel at ${s / RATE} s: 880 Hz ${i880.toExponential(2)}, 440 Hz ${i440.toExponential(2)}`);
    windows++;
  }
  assert.ok(windows >= 30, `${windows} windows checked`);
  const timeline = rec.timeline.map((x) => x.action);
  for (const a of ['start', 'pause', 'resume']) assert.ok(timeline.includes(a), `timeline ${timeline}`);
}

async function fullSession(headers, sessionId) {
  const r = await connectWs(wsUrl(), { headers });
  assert.equal(r.status, 101, `upgrade refused: ${r.status} ${r.text}`);
  const hook = new HookClient(r.ws, sessionId);
  const conversationId = randomUUID();  // unknown to verbatim: the session creates it
  hook.open(conversationId);
  const opened = await hook.expect('opened');
  assert.deepEqual(opened.parameters.media, [STEREO_PCMU]);
  assert.equal(opened.parameters.startPaused, false);

  const { marks, seen } = await stream(hook, conversationId);
  assert.ok(seen.includes('pong'), `pong answered the ping: ${seen}`);
  assert.ok(seen.includes('pause') && seen.includes('resume'), `the server asked the client to pause and resume: ${seen}`);
  hook.send('close', { reason: 'end' });
  await hook.expect('closed');
  const closed = await r.ws.close();
  assert.equal(closed.code, 1000);
  assertRecording(await download(conversationId), marks);
  return conversationId;
}

// ----------------------------------------------------------------- tests

t('a bearer token with media:ingest streams a conversation; the WAV follows the pause', async () => {
  const tok = await token(srv.url, ingest.id, ingest.clientSecret, 'media:ingest');
  await fullSession({ Authorization: `Bearer ${tok}` }, randomUUID());
});

t('the dev integration streams with X-API-KEY and an HTTP message signature', async () => {
  const creds = srv.creds.audiohook;
  assert.equal(creds.path, PATH);
  const sessionId = randomUUID();
  const headers = signedHeaders({ ...creds, sessionId, host: new URL(wsUrl()).host });
  const conversationId = await fullSession(headers, sessionId);
  const conv = await api(srv.url, 'GET', `/api/v2/conversations/${conversationId}`, { token: admin });
  assert.equal(conv.status, 200, conv.text);
  assert.equal(conv.json.state, 'disconnected', 'the session created the conversation and ended it on close');
});

t('an upgrade without credentials is 401 token.missing with the explainable body, and is audited', async () => {
  const r = await connectWs(wsUrl());
  const body = assertErrorBody(r, 401, 'token.missing');
  assert.equal(body.explanation.action, 'media:stream:ingest');
  assert.ok(body.explanation.fix.some((f) => f.includes('X-API-KEY')), JSON.stringify(body.explanation.fix));
  const audit = await api(srv.url, 'GET', `/api/v2/audit/events/${body.contextId}`, { token: admin });
  assert.equal(audit.status, 200, audit.text);
  assert.equal(audit.json.path, PATH);
  assert.equal(audit.json.decision, 'deny');
});

t('a token without media:ingest is 403 missing.scope', async () => {
  const tok = await token(srv.url, ingest.id, ingest.clientSecret, 'conversation:read');
  const r = await connectWs(wsUrl(), { headers: { Authorization: `Bearer ${tok}` } });
  const body = assertErrorBody(r, 403, 'missing.scope');
  const layers = layersOf(body);
  assert.deepEqual(layers.scope.required, ['media:ingest']);
  assert.equal(layers.permission.result, 'pass');
  assert.match(r.headers.get('www-authenticate') ?? '', /insufficient_scope/);
});

t('a bad signature is 401 and says why; a replayed one too', async () => {
  const creds = srv.creds.audiohook;
  const host = new URL(wsUrl()).host;
  const wrong = signedHeaders({ ...creds, clientSecret: randomBytes(32).toString('base64'), sessionId: randomUUID(), host });
  const r = await connectWs(wsUrl(), { headers: wrong });
  const body = assertErrorBody(r, 401, 'token.signature');
  assert.equal(layersOf(body).token.signatureProblem, 'mismatch');

  const stale = signedHeaders({ ...creds, sessionId: randomUUID(), host, created: Math.floor(Date.now() / 1000) - 60 });
  assertErrorBody(await connectWs(wsUrl(), { headers: stale }), 401, 'token.expired');

  const good = signedHeaders({ ...creds, sessionId: randomUUID(), host });
  const first = await connectWs(wsUrl(), { headers: good });
  assert.equal(first.status, 101);
  await first.ws.close();
  const replay = await connectWs(wsUrl(), { headers: good });
  const rb = assertErrorBody(replay, 401, 'token.signature');
  assert.equal(layersOf(rb).token.signatureProblem, 'replayed');
});

t('a malformed first message gets an AudioHook disconnect and closed; the server keeps serving', async () => {
  const tok = await token(srv.url, ingest.id, ingest.clientSecret, 'media:ingest');
  const r = await connectWs(wsUrl(), { headers: { Authorization: `Bearer ${tok}` } });
  assert.equal(r.status, 101);
  r.ws.sendText('{"this is": "not AudioHook"');
  const m = await r.ws.next();
  assert.equal(m.json?.type, 'disconnect', m.data);
  assert.equal(m.json.parameters.reason, 'error');
  assert.match(m.json.parameters.info, /^audiohook\.bad\.json/);
  // The client's close transaction is still answered, then the socket closes.
  r.ws.sendJson({ version: '2', id: m.json.id, type: 'close', seq: 2, serverseq: m.json.seq, position: 'PT0S',
    parameters: { reason: 'disconnect' } });
  const closed = await r.ws.next();
  assert.equal(closed.json?.type, 'closed', closed.data);
  await r.ws.close();

  // Still serving: a new session opens, and a binary frame before `opened` is refused by name.
  const again = await connectWs(wsUrl(), { headers: { Authorization: `Bearer ${tok}` } });
  assert.equal(again.status, 101);
  const hook = new HookClient(again.ws, randomUUID());
  again.ws.sendBinary(stereoFrame(0));
  const refused = await hook.ws.next();
  assert.equal(refused.json?.type, 'disconnect');
  assert.match(refused.json.parameters.info, /^audiohook\.audio\.before\.opened/);
  await again.ws.close();
  const ready = await fetch(`${srv.url}/readyz`);
  assert.equal(ready.status, 200);
});

t('disconnecting the conversation through the API ends the stream with disconnect "completed"', async () => {
  const tok = await token(srv.url, ingest.id, ingest.clientSecret, 'media:ingest');
  const r = await connectWs(wsUrl(), { headers: { Authorization: `Bearer ${tok}` } });
  assert.equal(r.status, 101);
  const hook = new HookClient(r.ws, randomUUID());
  const conversationId = randomUUID();
  hook.open(conversationId);
  await hook.expect('opened');
  r.ws.sendBinary(stereoFrame(0));
  hook.pos = FRAME;
  const d = await api(srv.url, 'POST', `/api/v2/conversations/${conversationId}/disconnect`, { token: admin });
  assert.equal(d.status, 200, d.text);
  const m = await hook.expect('disconnect');
  assert.equal(m.parameters.reason, 'completed');
  hook.send('close', { reason: 'disconnect' });
  await hook.expect('closed');
  await r.ws.close();
});

t('a plain GET (no upgrade) is 426 with the error body', async () => {
  const r = await api(srv.url, 'GET', PATH);
  assertErrorBody(r, 426, 'upgrade.required');
  assert.equal(r.headers.get('upgrade'), 'websocket');
});
