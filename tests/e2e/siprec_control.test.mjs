// docs/api.md §4 + §7: the control API governs a live SIPREC recording. A pause
// through the API silences the file from that moment; stop + start produce
// segment-1.wav and segment-2.wav; an SRC joins an existing conversation by
// X-Conversation-Id (or metadata conversationId) when its trunk owns it (the
// conversation was created with the dev trunk as mediaOwner; docs/sip-trunks.md)
// and the recording follows
// that conversation's state and the org's autoStart. The SIP side is the
// Node UAC (lib/sip_client.mjs) so that this process controls the timing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api } from './lib/server.mjs';
import { SipUac, SiprecCall } from './lib/sip_client.mjs';
import { startRtp } from './lib/rtp_sender.mjs';
import { assertToneOver, zeroRuns } from './lib/wav.mjs';
import {
  useSiprecServer, getRecording, getConversation, conversationByExternalId, waitMediaComplete, trunkId, createOwnedConversation,
  downloadWav, analyzeChannel, assertToneExcept, expectedSample, MS, RATE,
} from './lib/siprec_env.mjs';

const RTP_PORTS = '42200-42399';  // unique to this file: test files run in parallel
let srv;
let cl;
const t = useSiprecServer({ rtpPorts: RTP_PORTS }, (s, c) => { srv = s; cl = c; });

const base = (id) => `/api/v2/recordings/conversations/${id}`;

/** A recording action through the API, timed: { res, sent, answered } (wall ms). */
async function act(id, action, body) {
  const sent = Date.now();
  const res = await api(srv.url, 'POST', `${base(id)}/actions/${action}`, { token: cl.ctl, body });
  const answered = Date.now();
  assert.equal(res.status, 200, `${action}: ${res.text}`);
  assert.equal(res.json.changed, true, `${action} changed the state`);
  return { res, sent, answered, mid: (sent + answered) / 2 };
}

async function setAutoStart(on) {
  const r = await api(srv.url, 'PATCH', '/api/v2/organization/settings', { token: cl.admin, body: { autoStart: on } });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.json.autoStart, on);
}

async function openUac() {
  return new SipUac({ transport: 'udp', host: srv.sipHost, port: srv.sipPort }).open();
}

/**
 * Asserts the samples of a stretch of channel `x` are the tone `freq`
 * continuing without a glitch: every non-zero sample in [from, to) equals the
 * expected stream sample at one fixed offset (found by matching, modulo the
 * tone's period since the file does not start at the stream's first packet).
 */
function assertIntactTone(x, from, to, freq, what) {
  const period = freq === 440 ? 200 : 100;
  const first = x.findIndex((v, i) => i >= from && v !== 0);
  assert.ok(first >= 0 && first < to, `${what}: no audio in [${from}, ${to})`);
  let k0 = -1;
  for (let k = 0; k < period && k0 < 0; k++) {
    let ok = true;
    for (let i = 0; i < 64 && ok; i++) ok = x[first + i] === expectedSample(freq, k + i);
    if (ok) k0 = k;
  }
  assert.ok(k0 >= 0, `${what}: the audio at ${first} is not the ${freq} Hz stream`);
  for (let p = first; p < to; p++) {
    if (x[p] !== 0 && x[p] !== expectedSample(freq, k0 + (p - first))) {
      assert.fail(`${what}: sample ${p} is ${x[p]}, expected ${expectedSample(freq, k0 + (p - first))} (a glitch in the stream)`);
    }
  }
  return first;
}

t('control API during a live SIPREC call: pause silences the file from that moment; stop + start → segment-1.wav and segment-2.wav', async () => {
  await setAutoStart(true);
  const uac = await openUac();
  try {
    const call = new SiprecCall(uac, {
      participants: [{ name: 'Cleo Caller', aor: 'sip:cleo@example.com', label: 'a' }, { name: 'Aldo Agent', aor: 'sip:aldo@example.com', label: 'b' }],
    });
    const inv = await call.invite();
    assert.equal(inv.status, 200, inv.raw);
    assert.match(inv.body, /a=recvonly/);
    const conv = await conversationByExternalId(srv, cl.viewer, call.callId);
    const id = conv.id;
    assert.equal((await getRecording(srv, cl.viewer, id)).state, 'active', 'autoStart');

    const packets = 200;  // 4 s
    const sender = startRtp({ streams: [{ port: inv.ports[0], freq: 440 }, { port: inv.ports[1], freq: 880 }], packets });
    await sender.reached(50);
    const pause = await act(id, 'pause', { reason: 'pci' });
    await sender.reached(90);
    const resume = await act(id, 'resume');
    await sender.reached(120);
    const stop = await act(id, 'stop');
    await sender.reached(150);
    const start = await act(id, 'start');
    assert.equal(start.res.json.segment.index, 2, 'start after stop opens segment 2');
    const report = await sender.done;
    const bye = await call.bye();
    assert.equal(bye.status, 200);

    await waitMediaComplete(srv, cl.viewer, id, 1);
    const { rec } = await waitMediaComplete(srv, cl.viewer, id, 2);
    assert.deepEqual(rec.media.map((m) => [m.segment, m.status, m.channels]), [[1, 'complete', 2], [2, 'complete', 2]]);
    assert.deepEqual(rec.timeline.map((x) => `${x.action}:${x.principal.type}`),
      ['start:system', 'pause:client', 'resume:client', 'stop:client', 'start:client', 'disconnect:system']);
    assert.equal(rec.timeline[1].reason, 'pci');

    // Segment 1: from the INVITE to the stop, silent while paused.
    const s1 = await downloadWav(srv, cl.viewer, id, 1);
    assert.equal(s1.wav.channels, 2);
    const a = analyzeChannel(s1.channels[0], { freq: 440, packets });
    const b = analyzeChannel(s1.channels[1], { freq: 880, packets });
    const pos = (tms) => a.p0 + (tms - report.t0) * MS;  // wall time → segment-1 position
    for (const [name, r] of [['caller', a], ['agent', b]]) {
      assert.equal(r.mismatches, 0, `${name}: ${JSON.stringify(r.firstMismatch)}`);
      assert.equal(r.silentRuns.length, 1, `${name}: one paused stretch: ${JSON.stringify(r.silentRuns)}`);
    }
    const run = a.silentRuns[0];
    assert.deepEqual(run, b.silentRuns[0], 'the pause cuts both channels at the same sample');
    // The pause begins when the API call was made (±30 ms), and lasts until the resume.
    assert.ok(run.start >= pos(pause.sent) - 30 * MS && run.start <= pos(pause.answered) + 30 * MS,
      `pause at ${run.start / MS} ms; the API call ran ${pos(pause.sent) / MS}–${pos(pause.answered) / MS} ms`);
    assert.ok(run.end >= pos(resume.sent) - 30 * MS && run.end <= pos(resume.answered) + 30 * MS,
      `resume at ${run.end / MS} ms; the API call ran ${pos(resume.sent) / MS}–${pos(resume.answered) / MS} ms`);
    // Audio right up to the pause and right after the resume.
    assertToneOver(s1.channels[0], a.p0, run.start - 10 * MS, 440, RATE, 'segment 1 caller before the pause');
    assertToneOver(s1.channels[1], b.p0, run.start - 10 * MS, 880, RATE, 'segment 1 agent before the pause');
    // The segment ends at the stop, still with audio up to there.
    assert.ok(s1.wav.frames >= pos(stop.sent) - 30 * MS && s1.wav.frames <= pos(stop.answered) + 30 * MS,
      `segment 1 ends at ${s1.wav.frames / MS} ms; stop ran ${pos(stop.sent) / MS}–${pos(stop.answered) / MS} ms`);
    assertToneOver(s1.channels[0], run.end, s1.wav.frames - 5 * MS, 440, RATE, 'segment 1 caller after the resume', 50);
    assertToneOver(s1.channels[1], run.end, s1.wav.frames - 5 * MS, 880, RATE, 'segment 1 agent after the resume', 50);
    assert.equal(zeroRuns(s1.channels[0].subarray(a.p0), 16).length, 1, 'segment 1: no silence but the pause after the first packet');

    // Segment 2: from the start to the BYE, audio from its first sample on.
    const s2 = await downloadWav(srv, cl.viewer, id, 2);
    assert.equal(s2.wav.channels, 2);
    const [c2, g2] = s2.channels;
    const f0 = assertIntactTone(c2, 0, c2.length, 440, 'segment 2 caller');
    const f1 = assertIntactTone(g2, 0, g2.length, 880, 'segment 2 agent');
    assert.ok(f0 <= 20 * MS && f1 <= 20 * MS, `segment 2 starts with audio (first sample at ${f0}, ${f1})`);
    const audioEnd = c2.findLastIndex((v) => v !== 0) + 1;
    const expected = (report.t0 + packets * 20 - start.mid);  // ms of audio sent after the start
    assert.ok(Math.abs(audioEnd / MS - expected) <= 30 + (start.answered - start.sent) / 2,
      `segment 2 holds ${audioEnd / MS} ms of audio; ${expected} ms were sent after the start`);
    assertToneExcept(c2, f0, audioEnd, 440, [], 'segment 2 caller');
    assertToneExcept(g2, f1, audioEnd, 880, [], 'segment 2 agent');
    assert.equal(zeroRuns(c2.subarray(f0, audioEnd), 16).length, 0, 'segment 2: no gap');

    // The newest segment is the default download; Range works on it.
    const latest = await fetch(`${srv.url}${base(id)}/media`, { headers: { authorization: `Bearer ${cl.viewer}` } });
    assert.equal(Buffer.compare(Buffer.from(await latest.arrayBuffer()), s2.buf), 0, 'no ?segment = the latest segment');
    const head = await fetch(`${srv.url}${base(id)}/media?segment=1`, { headers: { authorization: `Bearer ${cl.viewer}`, range: 'bytes=0-43' } });
    assert.equal(head.status, 206);
    assert.equal(head.headers.get('content-range'), `bytes 0-43/${s1.buf.length}`);
    assert.equal(Buffer.compare(Buffer.from(await head.arrayBuffer()), s1.buf.subarray(0, 44)), 0);
    const none = await api(srv.url, 'GET', `${base(id)}/media?segment=3`, { token: cl.viewer });
    assert.equal(none.status, 404, none.text);
    assert.equal(none.json.code, 'media.not.found');
  } finally {
    uac.close();
  }
});

t('X-Conversation-Id joins a conversation created through the API: participants extended, autoStart off is respected, a second SRC is 486, BYE leaves it connected', async () => {
  await setAutoStart(false);
  // Alice Customer, Bob Agent; the SRC's trunk may feed it (without a mediaOwner no media source could join).
  const id = await createOwnedConversation(srv, cl.admin, { type: 'trunk', id: await trunkId(srv, cl.admin) });
  const uac = await openUac();
  try {
    const call = new SiprecCall(uac, {
      headers: { 'X-Conversation-Id': id },
      participants: [{ name: 'Bob Agent', aor: 'sip:bob@example.com', label: '1' }, { name: 'Carla Caller', aor: 'sip:carla@example.com', label: '2' }],
    });
    const inv = await call.invite();
    assert.equal(inv.status, 200, inv.raw);
    const conv = await getConversation(srv, cl.viewer, id);
    assert.equal(conv.state, 'connected');
    assert.deepEqual(conv.participants.map((p) => p.name), ['Alice Customer', 'Bob Agent', 'Carla Caller'],
      'the SRC\'s participants are added; a known name is not duplicated');
    let rec = await getRecording(srv, cl.viewer, id);
    assert.equal(rec.state, 'none', 'autoStart is off: the SIPREC session does not start the recording');
    assert.deepEqual(rec.media, []);

    // The conversation already has live media: a second SRC for it is refused.
    const other = new SiprecCall(uac, { headers: { 'X-Conversation-Id': id } });
    const busy = await other.invite();
    assert.equal(busy.status, 486, busy.raw);

    const packets = 120;
    const sender = startRtp({ streams: [{ port: inv.ports[0], freq: 440 }, { port: inv.ports[1], freq: 880 }], packets });
    await sender.reached(40);
    const start = await act(id, 'start');
    assert.equal(start.res.json.segment.index, 1);
    const report = await sender.done;
    assert.equal((await call.bye()).status, 200);

    ({ rec } = await waitMediaComplete(srv, cl.viewer, id, 1));
    assert.equal((await getConversation(srv, cl.viewer, id)).state, 'connected', 'BYE does not end a conversation the SRC joined');
    assert.equal(rec.state, 'active', 'the recording stays as the API left it');
    assert.deepEqual(rec.timeline.map((x) => `${x.action}:${x.principal.type}`), ['start:client']);
    assert.deepEqual(rec.media[0].channelLabels, ['Bob Agent', 'Carla Caller']);

    // The file starts at the API start, mid-stream, and holds the rest of the stream.
    const { channels } = await downloadWav(srv, cl.viewer, id, 1);
    const f0 = assertIntactTone(channels[0], 0, channels[0].length, 440, 'channel 1 (Bob Agent, label 1)');
    const f1 = assertIntactTone(channels[1], 0, channels[1].length, 880, 'channel 2 (Carla Caller, label 2)');
    assert.ok(f0 <= 20 * MS && f1 <= 20 * MS, `audio from the start on (${f0}, ${f1})`);
    const audioEnd = channels[0].findLastIndex((v) => v !== 0) + 1;
    const expected = report.t0 + packets * 20 - start.mid;
    assert.ok(Math.abs(audioEnd / MS - expected) <= 30 + (start.answered - start.sent) / 2, `${audioEnd / MS} ms of audio, ${expected} ms sent after the start`);

    // A X-Conversation-Id naming no conversation: one is created with that id, and ended by the BYE.
    const fresh = randomUUID();
    const own = new SiprecCall(uac, { headers: { 'X-Conversation-Id': fresh } });
    assert.equal((await own.invite()).status, 200);
    assert.equal((await getConversation(srv, cl.viewer, fresh)).state, 'connected');
    assert.equal((await own.bye()).status, 200);
    assert.equal((await getConversation(srv, cl.viewer, fresh)).state, 'disconnected');
  } finally {
    uac.close();
    await setAutoStart(true);
  }
});

t('metadata conversationId joins a conversation whose recording is paused: it stays paused (no audio) until the API resumes it', async () => {
  await setAutoStart(true);
  const id = await createOwnedConversation(srv, cl.admin, { type: 'trunk', id: await trunkId(srv, cl.admin) });
  await act(id, 'start');
  await act(id, 'pause', { reason: 'before the call' });
  const uac = await openUac();
  try {
    const call = new SiprecCall(uac, {
      conversationId: id,  // in the rs-metadata, no header
      participants: [{ name: 'Alice Customer', aor: 'sip:alice@example.com', label: 'x' }, { name: 'Bob Agent', aor: 'sip:bob@example.com', label: 'y' }],
    });
    const inv = await call.invite();
    assert.equal(inv.status, 200, inv.raw);
    const conv = await getConversation(srv, cl.viewer, id);
    assert.equal(conv.participants.length, 2, 'same names: nobody added');
    assert.equal((await getRecording(srv, cl.viewer, id)).state, 'paused', 'joining does not resume (autoStart only starts a recording that never started)');

    const packets = 100;
    const sender = startRtp({ streams: [{ port: inv.ports[0], freq: 440 }, { port: inv.ports[1], freq: 880 }], packets });
    await sender.reached(40);
    const resume = await act(id, 'resume');
    const report = await sender.done;
    assert.equal((await call.bye()).status, 200);
    const { rec } = await waitMediaComplete(srv, cl.viewer, id, 1);
    assert.deepEqual(rec.timeline.map((x) => x.action), ['start', 'pause', 'resume']);

    // Nothing sent while paused is in the file; everything after the resume is.
    // (The recorder opens no file for "paused" until the first "active", so
    // segment-1.wav begins at the resume rather than with silence from the
    // join: see the report.)
    const { channels } = await downloadWav(srv, cl.viewer, id, 1);
    const expected = report.t0 + packets * 20 - resume.mid;  // ms of audio sent after the resume
    for (const [x, f] of [[channels[0], 440], [channels[1], 880]]) {
      const first = assertIntactTone(x, 0, x.length, f, `${f} Hz channel`);
      assert.ok(first <= 20 * MS, `${f} Hz: audio from the resume on (first sample ${first})`);
      const end = x.findLastIndex((v) => v !== 0) + 1;
      assert.ok(Math.abs(end / MS - expected) <= 30 + (resume.answered - resume.sent) / 2,
        `${f} Hz: ${end / MS} ms of audio, ${expected} ms sent after the resume`);
      assertToneOver(x, first, end, f, RATE, `${f} Hz after the resume`);
    }
  } finally {
    uac.close();
  }
});

t('API disconnect during a live SIPREC call ends its media: the SRS sends the SRC a BYE, the segment is finalized at that moment, the SRC\'s own BYE is 481, the ended conversation refuses new SRCs (403)', async () => {
  await setAutoStart(true);
  const uac = await openUac();
  try {
    const call = new SiprecCall(uac);
    const inv = await call.invite();
    assert.equal(inv.status, 200, inv.raw);
    const id = (await conversationByExternalId(srv, cl.viewer, call.callId)).id;
    const sender = startRtp({ streams: [{ port: inv.ports[0], freq: 440 }, { port: inv.ports[1], freq: 880 }], packets: 150 });
    await sender.reached(60);
    const sent = Date.now();
    const d = await api(srv.url, 'POST', `/api/v2/conversations/${id}/disconnect`, { token: cl.admin });
    const answered = Date.now();
    assert.equal(d.status, 200, d.text);
    const { rec, media } = await waitMediaComplete(srv, cl.viewer, id, 1);
    assert.equal(rec.state, 'stopped');
    // The recorder ends the dialog itself (RFC 3261 §15), in the dialog's own terms.
    const srsBye = await uac.waitFor((m) => m.method === 'BYE' && m.callId === call.callId, { what: 'the SRS BYE' });
    assert.match(srsBye.header('to'), /tag=/, 'To carries the SRC tag');
    assert.match(srsBye.header('from'), /tag=/, 'From carries the SRS tag');
    assert.match(srsBye.cseq, /^\d+ BYE$/);
    await sender.reached(80);  // packets after the disconnect go nowhere
    sender.stop();
    const report = await sender.done;

    const bye = await call.bye();
    assert.equal(bye.status, 481, 'the dialog ended with the conversation');
    const again = await api(srv.url, 'GET', base(id), { token: cl.viewer });
    assert.deepEqual(again.json.media.map((m) => [m.segment, m.bytes]), [[1, media.bytes]], 'nothing written after the disconnect');

    const { wav, channels } = await downloadWav(srv, cl.viewer, id, 1);
    const a = analyzeChannel(channels[0], { freq: 440, packets: report.slotsSent });
    assert.equal(a.mismatches, 0, JSON.stringify(a.firstMismatch));
    assert.deepEqual(a.silentRuns.filter((r) => r.end < wav.frames), []);
    const pos = (tms) => a.p0 + (tms - report.t0) * MS;
    const lastAudio = channels[0].findLastIndex((v) => v !== 0) + 1;
    assert.ok(lastAudio >= pos(sent) - 40 * MS && lastAudio <= pos(answered) + 30 * MS,
      `audio until ${lastAudio / MS} ms; the disconnect ran ${pos(sent) / MS}–${pos(answered) / MS} ms`);
    assert.ok(wav.frames <= pos(answered) + 30 * MS, `file ends at ${wav.frames / MS} ms, after the disconnect (${pos(answered) / MS} ms)`);

    const late = new SiprecCall(uac, { headers: { 'X-Conversation-Id': id } });
    const refused = await late.invite();
    assert.equal(refused.status, 403, refused.raw);
    assert.match(refused.header('warning') ?? '', /ended/);
  } finally {
    uac.close();
  }
});
