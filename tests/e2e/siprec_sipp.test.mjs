// docs/api.md §7 SIPREC, with sipp as the SRC: a real multipart SIPREC INVITE
// (SDP with two labelled sendonly PCMU streams + RFC 7865 rs-metadata),
// re-INVITE a=inactive (pause), re-INVITE sendonly (resume), BYE — over UDP
// and over TCP. sipp does the signaling (tests/e2e/sipp/siprec_uac.xml) and
// writes the answer's RTP ports to a file; this process streams 440 Hz (caller)
// and 880 Hz (agent) with controlled loss, reordering and duplication, then
// checks the recorded WAV sample by sample against what was sent.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startRtp, SAMPLES_PER_PACKET } from './lib/rtp_sender.mjs';
import { zeroRuns } from './lib/wav.mjs';
import {
  useSiprecServer, getRecording, getConversation, conversationByExternalId, waitMediaComplete,
  downloadWav, metrics, runSipp, waitForFile, analyzeChannel, assertLostSilence, assertToneExcept, SIPP_DIR, MS, RATE,
} from './lib/siprec_env.mjs';

const RTP_PORTS = '42000-42199';  // unique to this file: test files run in parallel
let srv;
let cl;
const t = useSiprecServer({ rtpPorts: RTP_PORTS }, (s, c) => { srv = s; cl = c; });

/**
 * Starts sipp on siprec_uac.xml and waits for the RTP ports it extracted from
 * the 200 OK. Returns { ports, callId, done (sipp's exit), messages/errors (log paths) }.
 */
async function startSippCall({ transport, tag, mediaMs, pausedMs, resumedMs }) {
  const portsFile = join(srv.dataDir, `sipp-${tag}.ports`);
  const messages = join(srv.dataDir, `sipp-${tag}-messages.log`);
  const errors = join(srv.dataDir, `sipp-${tag}-errors.log`);
  const sipp = runSipp([
    '-sf', join(SIPP_DIR, 'siprec_uac.xml'), '-m', '1', '-t', transport, '-i', '127.0.0.1', '-nostdin',
    '-timeout', '30', '-timeout_error', '-cid_str', `siprec-${tag}-%u-%p@%s`,
    '-set', 'portsfile', portsFile, '-set', 'media_ms', String(mediaMs), '-set', 'paused_ms', String(pausedMs),
    '-set', 'resumed_ms', String(resumedMs),
    '-trace_msg', '-message_file', messages, '-trace_err', '-error_file', errors,
    `${srv.sipHost}:${srv.sipPort}`,
  ]);
  const text = await Promise.race([
    waitForFile(portsFile),
    sipp.done.then((r) => { throw new Error(`sipp exited (code ${r.code}) before the call was answered:\n${r.stdout.slice(-3000)}`); }),
  ]);
  const [p1, p2, callId] = text.trim().split(/\s+/);
  return { ports: [Number(p1), Number(p2)], callId, done: sipp.done, messages, errors };
}

async function assertSippSucceeded(call) {
  const r = await call.done;
  const errors = existsSync(call.errors) ? readFileSync(call.errors, 'utf8').slice(-3000) : '';
  assert.equal(r.code, 0, `sipp failed (code ${r.code}, signal ${r.signal}):\n${r.stdout.slice(-4000)}\n${r.stderr}\n${errors}`);
  assert.match(r.stdout, /Successful call\s*\|\s*0\s*\|\s*1/, 'sipp counts one successful call');
}

const ofAction = (rec, action) => rec.timeline.filter((x) => x.action === action);

t('sipp over UDP: multipart SIPREC INVITE, RTP with loss/reordering/duplicates, re-INVITE inactive → paused, sendonly → resumed, BYE; the WAV holds exactly what was sent', async () => {
  const before = await metrics(srv);
  const mediaMs = 2000;
  const pausedMs = 1000;
  const resumedMs = 2100;
  const call = await startSippCall({ transport: 'u1', tag: 'udp', mediaMs, pausedMs, resumedMs });
  assert.equal(call.ports.length, 2);
  assert.notEqual(call.ports[0], call.ports[1]);
  for (const p of call.ports) assert.ok(p >= 42000 && p <= 42199 && p % 2 === 0, `RTP port ${p} from --rtp-ports ${RTP_PORTS}, even`);

  // Stream until ~1 s before sipp's BYE: the file must hold these packets
  // exactly. Two clocks race here (sipp's pauses, our sender's timers); the
  // second of slack lets a loaded machine's sender lag without the BYE
  // overtaking it (the precondition checked below).
  const packets = Math.floor((mediaMs + pausedMs + resumedMs - 1000) / 20);
  const drop0 = [50, 51, 52, 53, 54, 55, 56, 57, 58, 59];  // 200 ms lost on the caller leg
  const drop1 = [170, 171, 172, 173, 174];                  // 100 ms lost on the agent leg, after the resume
  const sender = startRtp({
    streams: [
      { port: call.ports[0], freq: 440, drop: drop0, swap: [20, 30, 40, 160, 180], duplicate: [25, 165], resend: [45] },
      { port: call.ports[1], freq: 880, drop: drop1, swap: [22, 33, 44, 150], duplicate: [60, 61, 190], resend: [80] },
    ],
    packets,
  });

  // The conversation exists while the call is up, named after the metadata's participants.
  const conv = await conversationByExternalId(srv, cl.viewer, call.callId);
  assert.equal(conv.state, 'connected');
  assert.deepEqual(conv.participants.map((p) => p.name), ['Carla Caller', 'Arno Agent']);
  const id = conv.id;

  // While sipp holds the call paused, the API shows it (the re-INVITE is sipp's, at media_ms).
  const paused = await waitForState(id, 'paused', mediaMs + 5000);
  const pauseTr = ofAction(paused, 'pause').at(-1);
  assert.equal(pauseTr.principal.type, 'system', JSON.stringify(pauseTr));
  assert.equal(pauseTr.principal.id, 'siprec');
  assert.match(pauseTr.reason, /inactive/);
  assert.equal(pauseTr.from, 'active');
  assert.equal(pauseTr.to, 'paused');
  const report = await sender.done;
  await assertSippSucceeded(call);

  // BYE ended the conversation the session created; the segment is complete.
  const { rec, media } = await waitMediaComplete(srv, cl.viewer, id, 1);
  const ended = await getConversation(srv, cl.viewer, id);
  assert.equal(ended.state, 'disconnected');
  assert.ok(Date.parse(ended.endedAt) >= report.lastSlotTime, 'the RTP sender finished before the BYE');
  // autoStart, the SIP pause and resume, then the disconnect the BYE caused: all by the system principal.
  assert.deepEqual(rec.timeline.map((x) => `${x.action}:${x.principal.type}`),
    ['start:system', 'pause:system', 'resume:system', 'disconnect:system']);
  const startTr = ofAction(rec, 'start')[0];
  assert.match(startTr.reason, /autoStart/);
  const resumeTr = ofAction(rec, 'resume')[0];
  assert.equal(resumeTr.principal.id, 'siprec');
  assert.equal(media.channels, 2);
  assert.deepEqual(media.channelLabels, ['Carla Caller', 'Arno Agent']);
  assert.equal(media.sampleRate, RATE);

  const { wav, channels } = await downloadWav(srv, cl.viewer, id, 1);
  assert.equal(wav.channels, 2, 'one channel per stream');
  assert.ok(Math.abs(wav.durationMs - media.durationMs) <= 1, `catalog duration ${media.durationMs} vs file ${wav.durationMs}`);
  const [caller, agent] = channels;
  const a = analyzeChannel(caller, { freq: 440, packets, drop: drop0 });
  const b = analyzeChannel(agent, { freq: 880, packets, drop: drop1 });
  for (const [name, r] of [['caller', a], ['agent', b]]) {
    assert.equal(r.truncated, false, `${name}: the file ends before the last packet`);
    assert.equal(r.mismatches, 0, `${name}: samples differ from what was sent (reordering/duplicates mishandled?): ${JSON.stringify(r.firstMismatch)}`);
    assert.equal(r.lostNotSilent, 0, `${name}: lost packets must be silence`);
  }
  // One timeline: both legs start together (sent within the same millisecond).
  assert.ok(Math.abs(a.p0 - b.p0) <= 2 * MS, `legs misaligned: caller at ${a.p0}, agent at ${b.p0}`);
  // The audio starts where the first packet arrived on the session's clock.
  const origin = Date.parse(conv.startedAt);
  assert.ok(Math.abs(a.p0 / MS - (report.t0 - origin)) <= 60, `first audio at ${a.p0 / MS} ms, sent ${report.t0 - origin} ms after the call started`);
  // Silence before the first packet and after the last one.
  assert.equal(caller.subarray(0, a.p0).every((v) => v === 0), true);
  assert.equal(caller.subarray(a.end).every((v) => v === 0), true, 'nothing after the last packet');

  // Lost packets: silence exactly over their 20 ms slots, audio right around them.
  assertLostSilence(caller, a.p0, [[50, 59]], 'caller');
  assertLostSilence(agent, b.p0, [[170, 174]], 'agent');

  // The pause: one silent stretch in both legs, at the same file positions,
  // where the SIP pause/resume happened (±30 ms: control-plane vs media time).
  assert.equal(a.silentRuns.length, 1, `caller: expected one paused stretch, got ${JSON.stringify(a.silentRuns)}`);
  assert.equal(b.silentRuns.length, 1, `agent: expected one paused stretch, got ${JSON.stringify(b.silentRuns)}`);
  assert.deepEqual(a.silentRuns[0], b.silentRuns[0], 'the pause cuts both legs at the same sample');
  const run = a.silentRuns[0];
  const at = (iso) => a.p0 + (Date.parse(iso) - report.t0) * MS;  // wall time → file position
  const expStart = at(pauseTr.at);
  const expEnd = at(resumeTr.at);
  assert.ok(Math.abs(run.start - expStart) <= 30 * MS, `pause starts at ${run.start / MS} ms, expected ${expStart / MS} ms`);
  assert.ok(Math.abs(run.end - expEnd) <= 30 * MS, `pause ends at ${run.end / MS} ms, expected ${expEnd / MS} ms`);
  assert.ok(Math.abs((run.end - run.start) / MS - pausedMs) <= 150, `paused for ${(run.end - run.start) / MS} ms, sipp paused ${pausedMs} ms`);

  // Duration: audio from the first to the last packet, within 20 ms of what was sent.
  const lastAudio = caller.findLastIndex((v) => v !== 0);
  assert.ok(Math.abs((lastAudio + 1 - a.p0) - packets * SAMPLES_PER_PACKET) <= 20 * MS,
    `audio span ${(lastAudio + 1 - a.p0) / MS} ms, sent ${packets * 20} ms`);
  // The file runs from the INVITE towards the BYE. (Its last stretch without
  // media, up to the recorder's 300 ms max lag, is not written at the end of
  // a session: see the report; hence the lower bound is the audio's end.)
  const callMs = Date.parse(ended.endedAt) - origin;
  assert.ok(wav.frames >= a.end && wav.durationMs <= callMs + 50, `file ${wav.durationMs} ms, audio ends at ${a.end / MS} ms, call ${callMs} ms`);
  assert.ok(callMs - wav.durationMs <= 1000, `file ${wav.durationMs} ms is much shorter than the call (${callMs} ms)`);

  // The right tone on the right channel (Goertzel, every 100 ms), outside pause and loss.
  const lost0 = [a.p0 + 50 * SAMPLES_PER_PACKET, a.p0 + 60 * SAMPLES_PER_PACKET];
  const lost1 = [b.p0 + 170 * SAMPLES_PER_PACKET, b.p0 + 175 * SAMPLES_PER_PACKET];
  assertToneExcept(caller, a.p0, a.end, 440, [lost0, [run.start, run.end]], 'caller channel');
  assertToneExcept(agent, b.p0, b.end, 880, [lost1, [run.start, run.end]], 'agent channel');
  const inner = zeroRuns(caller.subarray(a.p0, a.end), SAMPLES_PER_PACKET);
  assert.equal(inner.length, 2, `caller: silent only over the loss and the pause: ${JSON.stringify(inner)}`);

  // Metrics: packets delivered (duplicates are delivered, then dropped by the jitter buffer).
  const m = await metrics(srv);
  const sent = report.sent[0] + report.sent[1];
  const received = m.verbatim_rtp_packets_received_total - (before.verbatim_rtp_packets_received_total ?? 0);
  assert.ok(received > 0, 'verbatim_rtp_packets_received_total grew');
  assert.equal(received, sent, `every datagram sent was delivered to the recording (${received} of ${sent})`);
  assert.ok(m.verbatim_rtp_packets_lost_total >= drop0.length + drop1.length, `verbatim_rtp_packets_lost_total = ${m.verbatim_rtp_packets_lost_total}`);
  assert.equal(m.verbatim_sip_dialogs, 0, 'no dialog left');
  assert.equal(m.verbatim_media_active_sessions, 0, 'no media session left');
});

t('sipp over TCP: the same call flow, shorter; the recording holds both tones and the pause', async () => {
  const mediaMs = 1000;
  const pausedMs = 400;
  const resumedMs = 800;
  const call = await startSippCall({ transport: 't1', tag: 'tcp', mediaMs, pausedMs, resumedMs });
  const packets = Math.floor((mediaMs + pausedMs + resumedMs - 400) / 20);
  const sender = startRtp({
    streams: [
      { port: call.ports[0], freq: 440, drop: [30, 31], swap: [20] },
      { port: call.ports[1], freq: 880, duplicate: [12] },
    ],
    packets,
  });
  const conv = await conversationByExternalId(srv, cl.viewer, call.callId);
  assert.deepEqual(conv.participants.map((p) => p.name), ['Carla Caller', 'Arno Agent']);
  const report = await sender.done;
  await assertSippSucceeded(call);
  const { rec } = await waitMediaComplete(srv, cl.viewer, conv.id, 1);
  assert.deepEqual(rec.timeline.map((x) => x.action), ['start', 'pause', 'resume', 'disconnect']);
  assert.ok(rec.timeline.every((x) => x.principal.type === 'system'));

  const { wav, channels } = await downloadWav(srv, cl.viewer, conv.id, 1);
  assert.equal(wav.channels, 2);
  const a = analyzeChannel(channels[0], { freq: 440, packets, drop: [30, 31] });
  const b = analyzeChannel(channels[1], { freq: 880, packets });
  for (const r of [a, b]) {
    assert.equal(r.truncated, false);
    assert.equal(r.mismatches, 0, JSON.stringify(r.firstMismatch));
    assert.equal(r.lostNotSilent, 0);
    assert.equal(r.silentRuns.length, 1, `one paused stretch: ${JSON.stringify(r.silentRuns)}`);
  }
  assertLostSilence(channels[0], a.p0, [[30, 31]], 'caller');
  const run = a.silentRuns[0];
  assert.deepEqual(run, b.silentRuns[0]);
  const at = (iso) => a.p0 + (Date.parse(iso) - report.t0) * MS;
  assert.ok(Math.abs(run.start - at(rec.timeline[1].at)) <= 30 * MS, `pause at ${run.start / MS} ms vs ${at(rec.timeline[1].at) / MS}`);
  assert.ok(Math.abs(run.end - at(rec.timeline[2].at)) <= 30 * MS, `resume at ${run.end / MS} ms vs ${at(rec.timeline[2].at) / MS}`);
  assertToneExcept(channels[0], a.p0, a.end, 440, [[a.p0 + 30 * 160, a.p0 + 32 * 160], [run.start, run.end]], 'caller');
  assertToneExcept(channels[1], b.p0, b.end, 880, [[run.start, run.end]], 'agent');
  const lastAudio = channels[1].findLastIndex((v) => v !== 0);
  assert.ok(Math.abs(lastAudio + 1 - b.p0 - packets * SAMPLES_PER_PACKET) <= 20 * MS);
});

async function waitForState(id, state, deadlineMs) {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const rec = await getRecording(srv, cl.viewer, id);
    if (rec.state === state) return rec;
    if (Date.now() > until) throw new Error(`recording ${id} did not reach ${state} within ${deadlineMs} ms (now ${rec.state})`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
