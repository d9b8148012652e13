// Shared set-up and checks for the SIPREC e2e tests (tests/e2e/siprec*.test.mjs):
// a server with SIP + an RTP port range, API clients, recording polling, WAV
// download, Prometheus metrics, a sipp runner, and the exact analysis of a
// recorded channel against what the RTP sender sent.
//
// Node 20 built-ins only.
import { test, before, after } from 'node:test';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';
import {
  startServer, token, api, adminToken, createClient, waitFor, loggedTest,
} from './server.mjs';
import { ulawToLinear, linearToUlaw, toneSample, SAMPLES_PER_PACKET } from './rtp_sender.mjs';
import { parseWav, channel, zeroRuns, assertToneOver } from './wav.mjs';

export const SIPP_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'sipp');
export const RATE = 8000;
export const MS = RATE / 1000;  // samples per millisecond

/** A server with SIPREC on 127.0.0.1:<free> and RTP ports from `rtpPorts` ("A-B", unique per test file). */
export async function startSiprecServer({ rtpPorts, extraArgs = [], ...rest }) {
  const srv = await startServer({ extraArgs: ['--rtp-ports', rtpPorts, ...extraArgs], ...rest });
  return withSip(srv);
}

/**
 * The set-up every SIPREC test file shares: before() starts a SIPREC server on
 * `rtpPorts` and creates the API clients (setupClients), then hands both to
 * `onReady(srv, cl)`; after() disposes of the server. Returns a loggedTest `t`
 * whose failures carry that server's log. Call it at the top level of the file:
 *
 *   let srv;
 *   let cl;
 *   const t = useSiprecServer({ rtpPorts: RTP_PORTS }, (s, c) => { srv = s; cl = c; });
 */
export function useSiprecServer({ rtpPorts, ...opts }, onReady) {
  let srv;
  before(async () => {
    srv = await startSiprecServer({ rtpPorts, ...opts });
    onReady(srv, await setupClients(srv));
  });
  after(async () => {
    await srv?.dispose();
  });
  return loggedTest(test, () => srv);
}

export function withSip(srv) {
  const [host, port] = srv.listen.sip.split(':');
  srv.sipHost = host;
  srv.sipPort = Number(port);
  return srv;
}

/**
 * API principals: the dev admin, a viewer (Recording Viewer; recording:read
 * conversation:read) for reads and downloads, and a controller (Recording
 * Administrator; recording:control recording:read) for actions.
 */
export async function setupClients(srv) {
  const admin = await adminToken(srv);
  const viewer = await createClient(srv, admin, {
    name: 'siprec-viewer', allowedScopes: ['recording:read', 'conversation:read'], roles: ['Recording Viewer'],
  });
  const ctl = await createClient(srv, admin, {
    name: 'siprec-controller', allowedScopes: ['recording:control', 'recording:read'], roles: ['Recording Administrator'],
  });
  const clients = { viewerClient: viewer, ctlClient: ctl };
  return reissueTokens(srv, clients);
}

/** (Re)issues the tokens, e.g. after a restart: the issuer is the new listen address. */
export async function reissueTokens(srv, clients) {
  const { viewerClient: v, ctlClient: c } = clients;
  return {
    ...clients,
    admin: await adminToken(srv),
    viewer: await token(srv.url, v.id, v.clientSecret, 'recording:read conversation:read'),
    ctl: await token(srv.url, c.id, c.clientSecret, 'recording:control recording:read'),
  };
}

/** The id of the trunk named `name` (default: the implicit --dev trunk), from the admin API. */
export async function trunkId(srv, adminTok, name = 'dev-loopback') {
  const r = await api(srv.url, 'GET', '/api/v2/media/siprec/trunks', { token: adminTok });
  assert.equal(r.status, 200, r.text);
  const t = r.json.entities.find((e) => e.name === name);
  assert.ok(t, `no trunk ${name} in ${r.text}`);
  return t.id;
}

/**
 * A connected conversation created through the API whose media may come from
 * trunk `trunk` (id): only its owner can join a conversation (docs/sip-trunks.md).
 */
export async function createOwnedConversation(srv, adminTok, owner) {
  const r = await api(srv.url, 'POST', '/api/v2/conversations', {
    token: adminTok,
    body: {
      participants: [{ name: 'Alice Customer', purpose: 'customer' }, { name: 'Bob Agent', purpose: 'agent' }],
      mediaOwner: owner,
    },
  });
  assert.equal(r.status, 201, `creating a conversation owned by ${JSON.stringify(owner)}: ${r.text}`);
  return r.json.id;
}

export async function getRecording(srv, tok, id) {
  const r = await api(srv.url, 'GET', `/api/v2/recordings/conversations/${id}`, { token: tok });
  assert.equal(r.status, 200, `GET recording ${id}: ${r.text}`);
  return r.json;
}

export async function getConversation(srv, tok, id) {
  const r = await api(srv.url, 'GET', `/api/v2/conversations/${id}`, { token: tok });
  assert.equal(r.status, 200, `GET conversation ${id}: ${r.text}`);
  return r.json;
}

/** The conversation whose externalId is `externalId` (the SIP Call-ID), polled. */
export async function conversationByExternalId(srv, tok, externalId, deadlineMs = 5000) {
  return waitFor(async () => {
    const r = await api(srv.url, 'GET', '/api/v2/conversations?pageSize=100', { token: tok });
    assert.equal(r.status, 200, r.text);
    const list = r.json.entities ?? r.json.conversations ?? r.json;
    return Array.isArray(list) ? list.find((c) => c.externalId === externalId) : undefined;
  }, { deadlineMs, what: `a conversation with externalId ${externalId}` });
}

/** Polls until the recording lists media for `segment` with status "complete". */
export async function waitMediaComplete(srv, tok, id, segment = 1, deadlineMs = 10_000) {
  return waitFor(async () => {
    const rec = await getRecording(srv, tok, id);
    const m = rec.media.find((x) => x.segment === segment);
    return m?.status === 'complete' ? { rec, media: m } : null;
  }, { deadlineMs, what: `media segment ${segment} of ${id} to be complete` });
}

/** Downloads a segment's WAV and parses it strictly. */
export async function downloadWav(srv, tok, id, segment) {
  const q = segment === undefined ? '' : `?segment=${segment}`;
  const r = await fetch(`${srv.url}/api/v2/recordings/conversations/${id}/media${q}`, { headers: { authorization: `Bearer ${tok}` } });
  const buf = Buffer.from(await r.arrayBuffer());
  assert.equal(r.status, 200, `download ${id} segment ${segment}: ${buf.toString('utf8', 0, 500)}`);
  assert.equal(r.headers.get('content-type'), 'audio/wav');
  const wav = parseWav(buf);
  assert.equal(wav.sampleRate, RATE, 'sample rate');
  assert.equal(wav.bitsPerSample, 16, 'bits per sample');
  return { buf, wav, channels: Array.from({ length: wav.channels }, (_, i) => channel(wav, i)) };
}

/** GET /metrics (on the metrics listener) as { name: value } (samples with labels are summed per name). */
export async function metrics(srv) {
  const r = await fetch(`${srv.metricsUrl}/metrics`);
  const text = await r.text();
  assert.equal(r.status, 200, text);
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m) out[m[1]] = (out[m[1]] ?? 0) + Number(m[3]);
  }
  return out;
}

/** One labelled sample of GET /metrics (on the metrics listener), e.g. ('verbatim_sip_refusals_total', { reason: 'untrusted_source' }); 0 if absent. */
export async function metricValue(srv, name, labels = {}) {
  const r = await fetch(`${srv.metricsUrl}/metrics`);
  const text = await r.text();
  assert.equal(r.status, 200, text);
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`).sort().join(',');
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = (m[2] ?? '').split(',').filter(Boolean).sort().join(',');
    if (got === want) return Number(m[3]);
  }
  return 0;
}

/** Runs sipp; resolves { code, stdout, stderr } when it exits (killed at the deadline). */
export function runSipp(args, { deadlineMs = 40_000 } = {}) {
  const proc = spawn('sipp', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  proc.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; if (stdout.length > 200_000) stdout = stdout.slice(-100_000); });
  proc.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  const timer = setTimeout(() => proc.kill('SIGKILL'), deadlineMs);
  const done = new Promise((resolve, reject) => {
    proc.once('error', (e) => reject(e.code === 'ENOENT'
      ? new Error('sipp is not installed: it is the Debian/Ubuntu package sip-tester (scripts/deps.sh installs it)')
      : e));
    proc.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { proc, done };
}

/** Polls for a file and returns its text (a sipp <exec> writes it atomically). */
export async function waitForFile(path, deadlineMs = 10_000) {
  return waitFor(() => (existsSync(path) ? readFileSync(path, 'utf8') : null), { deadlineMs, intervalMs: 5, what: path });
}

// ------------------------------------------------------------ audio analysis

/** Sample `k` of a stream as the recorder must have decoded it (PCMU round trip). */
export function expectedSample(freq, k) {
  return ulawToLinear(linearToUlaw(toneSample(freq, k)));
}

/**
 * Compares one recorded channel with what the sender sent on it, sample by
 * sample. The stream's first packet must be in the file: its first sample is
 * the channel's first non-zero sample (no tone sample is zero), at `p0`.
 * Every sample in [p0, p0 + packets × 160) must be the expected sample or, if
 * the packet was dropped or the recording paused there, zero. Returns
 * { p0, end, mismatches, lostNotSilent, silentRuns } where silentRuns are the
 * zero runs where audio had been sent (pauses), as absolute positions.
 */
export function analyzeChannel(x, { freq, packets, drop = [], p0 }) {
  if (p0 === undefined) {
    p0 = x.findIndex((v) => v !== 0);
    assert.ok(p0 >= 0, `channel (${freq} Hz) is all silence`);
  }
  const dropped = new Set(drop);
  const end = p0 + packets * SAMPLES_PER_PACKET;
  let mismatches = 0;
  let firstMismatch = null;
  let lostNotSilent = 0;
  const silentRuns = [];
  let runStart = -1;
  for (let p = p0; p < Math.min(end, x.length); p++) {
    const k = p - p0;
    const lost = dropped.has(Math.floor(k / SAMPLES_PER_PACKET));
    const v = x[p];
    if (lost) {
      if (v !== 0) lostNotSilent++;
    } else if (v !== 0 && v !== expectedSample(freq, k)) {
      mismatches++;
      firstMismatch ??= { position: p, k, got: v, want: expectedSample(freq, k) };
    }
    const pausedHere = !lost && v === 0;
    if (pausedHere && runStart < 0) runStart = p;
    if (!pausedHere && runStart >= 0 && !(lost && v === 0)) {
      silentRuns.push({ start: runStart, end: p });
      runStart = -1;
    }
  }
  if (runStart >= 0) silentRuns.push({ start: runStart, end: Math.min(end, x.length) });
  return { p0, end, mismatches, firstMismatch, lostNotSilent, silentRuns, truncated: x.length < end };
}

/** Silence where the sender dropped packets: exact positions, to the sample. */
export function assertLostSilence(x, p0, ranges, what) {
  for (const [a, b] of ranges) {  // packet indexes a..b inclusive
    const from = p0 + a * SAMPLES_PER_PACKET;
    const to = p0 + (b + 1) * SAMPLES_PER_PACKET;
    for (let p = from; p < to; p++) assert.equal(x[p], 0, `${what}: lost packets ${a}-${b} must be silence; sample ${p} is ${x[p]}`);
    assert.notEqual(x[from - 1], 0, `${what}: the sample before lost packet ${a} is audio`);
    assert.notEqual(x[to], 0, `${what}: the sample after lost packet ${b} is audio`);
  }
}

/** Every 100 ms block of [from, to) carries `freq`, skipping the given [a, b) sample ranges. */
export function assertToneExcept(x, from, to, freq, skip, what) {
  const cuts = [...skip].sort((a, b) => a[0] - b[0]);
  let a = from;
  for (const [s, e] of cuts) {
    if (s - a >= 400) assertToneOver(x, a, s, freq, RATE, what);
    a = Math.max(a, e);
  }
  if (to - a >= 400) assertToneOver(x, a, to, freq, RATE, what);
}

export { zeroRuns };
