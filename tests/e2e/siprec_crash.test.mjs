// docs/api.md §7 and docs/decisions.md ("Crash safety without fsync per write"):
// WAV files are written crash-safe, a kill -9 loses at most the last second.
// Kill -9 the server in the middle of a SIPREC call, restart it on the same
// data directory, and check the recovered WAV.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SipUac, SiprecCall } from './lib/sip_client.mjs';
import { startRtp } from './lib/rtp_sender.mjs';
import { parseWav, channel, assertToneOver } from './lib/wav.mjs';
import {
  useSiprecServer, withSip, reissueTokens, getRecording, getConversation, conversationByExternalId, waitMediaComplete,
  downloadWav, analyzeChannel, MS, RATE,
} from './lib/siprec_env.mjs';
import { waitFor } from './lib/server.mjs';

const RTP_PORTS = '42400-42599';  // unique to this file: test files run in parallel
let srv;
let cl;
const t = useSiprecServer({ rtpPorts: RTP_PORTS }, (s, c) => { srv = s; cl = c; });

t('kill -9 mid-call: after a restart the partial WAV is valid, listed complete, and holds the audio up to ≤ 1 s before the kill', async () => {
  const uac = await new SipUac({ transport: 'udp', host: srv.sipHost, port: srv.sipPort }).open();
  let killedAt;
  let report;
  let id;
  try {
    const call = new SiprecCall(uac);
    const inv = await call.invite();
    assert.equal(inv.status, 200, inv.raw);
    const conv = await conversationByExternalId(srv, cl.viewer, call.callId);
    id = conv.id;
    const sender = startRtp({ streams: [{ port: inv.ports[0], freq: 440 }, { port: inv.ports[1], freq: 880 }], packets: 1000 });
    // While the call runs, the catalog lists the growing segment.
    const live = await waitFor(async () => (await getRecording(srv, cl.viewer, id)).media.find((m) => m.segment === 1),
      { deadlineMs: 3000, what: 'segment 1 listed while recording' });
    assert.equal(live.status, 'recording');
    await sender.reached(100);
    // A segment still being written downloads as a valid WAV up to its last checkpoint.
    const growing = await downloadWav(srv, cl.viewer, id, 1);  // parses strictly: header matches the length
    const elapsed = Date.now() - Date.parse(conv.startedAt);
    assert.equal(growing.wav.channels, 2);
    assert.ok(growing.wav.frames > 0 && growing.wav.durationMs <= elapsed + 50, `live download: ${growing.wav.durationMs} ms of a call ${elapsed} ms old`);
    assert.equal(analyzeChannel(growing.channels[0], { freq: 440, packets: 100 }).mismatches, 0);
    await sender.reached(150);  // 3 s of audio sent
    killedAt = Date.now();
    const exit = await srv.kill9();
    assert.equal(exit.signal, 'SIGKILL');
    sender.stop();
    report = await sender.done;
  } finally {
    uac.close();
  }

  // What the crash left: a .part whose header may lag, no final file yet.
  const dir = join(srv.dataDir, 'media', id);
  assert.ok(existsSync(join(dir, 'segment-1.wav.part')), 'the open segment is a .part at the crash');
  assert.ok(!existsSync(join(dir, 'segment-1.wav')));

  await srv.restart();
  withSip(srv);
  cl = await reissueTokens(srv, cl);  // the issuer is the new HTTP address
  const { rec, media } = await waitMediaComplete(srv, cl.viewer, id, 1);
  assert.equal(media.status, 'complete', 'recovered at start-up');
  // The restarted node ended its previous run's session first (docs/deployment.md): the file says so.
  assert.ok(media.interruptedAt && Date.parse(media.interruptedAt) >= killedAt, `interruptedAt: ${media.interruptedAt}`);
  assert.ok(existsSync(join(dir, 'segment-1.wav')), 'the .part was recovered into segment-1.wav');
  assert.ok(!existsSync(join(dir, 'segment-1.wav.part')));
  assert.equal((await getConversation(srv, cl.viewer, id)).state, 'connected', 'a crash is not a hang-up');
  assert.equal(rec.state, 'active');

  // The file on disk: a valid header that matches its length.
  const disk = readFileSync(join(dir, 'segment-1.wav'));
  const w = parseWav(disk);  // asserts RIFF size = length − 8 and data chunk = rest of the file
  assert.equal(w.channels, 2);
  assert.equal(w.sampleRate, RATE);
  assert.equal(statSync(join(dir, 'segment-1.wav')).size, 44 + w.frames * 4);
  assert.equal(media.bytes, disk.length, 'catalog size = file size');
  assert.ok(Math.abs(media.durationMs - w.durationMs) <= 1);

  // The download is the same file.
  const { buf, channels } = await downloadWav(srv, cl.viewer, id, 1);
  assert.equal(Buffer.compare(buf, disk), 0);
  assert.deepEqual(Array.from(channel(w, 0).subarray(0, 100)), Array.from(channels[0].subarray(0, 100)));

  // Its audio is exactly what was sent, up to at most 1 s before the kill.
  const a = analyzeChannel(channels[0], { freq: 440, packets: report.slotsSent });
  const b = analyzeChannel(channels[1], { freq: 880, packets: report.slotsSent });
  for (const [name, r] of [['caller', a], ['agent', b]]) {
    assert.equal(r.mismatches, 0, `${name}: ${JSON.stringify(r.firstMismatch)}`);
    assert.deepEqual(r.silentRuns.filter((x) => x.end < channels[0].length), [], `${name}: no hole in the recovered audio`);
  }
  const sentMs = killedAt - report.t0;
  const heldMs = (w.frames - a.p0) / MS;
  assert.ok(heldMs >= sentMs - 1000, `the file holds ${heldMs} ms of the ${sentMs} ms sent before the kill (may lose ≤ 1 s)`);
  assert.ok(heldMs <= sentMs + 50, `the file holds ${heldMs} ms, more than was sent (${sentMs} ms)`);
  assertToneOver(channels[0], a.p0, w.frames, 440, RATE, 'recovered caller channel');
  assertToneOver(channels[1], b.p0, w.frames, 880, RATE, 'recovered agent channel');

  // And the restarted server records SIPREC calls again.
  const uac2 = await new SipUac({ transport: 'udp', host: srv.sipHost, port: srv.sipPort }).open();
  try {
    const call = new SiprecCall(uac2);
    const inv = await call.invite();
    assert.equal(inv.status, 200, inv.raw);
    const sender = startRtp({ streams: [{ port: inv.ports[0], freq: 440 }, { port: inv.ports[1], freq: 880 }], packets: 25 });
    await sender.done;
    assert.equal((await call.bye()).status, 200);
    const conv = await conversationByExternalId(srv, cl.viewer, call.callId);
    const { channels: ch2 } = await downloadWav(srv, cl.viewer, conv.id, (await waitMediaComplete(srv, cl.viewer, conv.id, 1)).media.segment);
    assert.equal(analyzeChannel(ch2[0], { freq: 440, packets: 25 }).mismatches, 0);
  } finally {
    uac2.close();
  }
});
