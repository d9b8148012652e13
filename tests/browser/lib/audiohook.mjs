// Real audio for the console's media tests: one AudioHook v2 session (docs/api.md
// §7) streams a stereo PCMU tone at half of full scale (440 Hz customer, 880 Hz
// agent) at real-time pace into a conversation it creates, then closes; resolves
// once the server reports segment 1 complete. The protocol side is the e2e
// suite's (tests/e2e/audiohook.test.mjs), reduced to the happy path.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api, createClient, token, waitFor } from '../../e2e/lib/server.mjs';
import { connectWs } from '../../e2e/lib/ws.mjs';
import { stereoToneFrame } from '../../e2e/lib/rtp_sender.mjs';

const PATH = '/api/v2/media/audiohook';
const ORG = 'd7934305-0972-4844-938e-9060eef73d05';
const RATE = 8000;
const FRAME = 160;  // 20 ms
const MEDIA = [{ type: 'audio', format: 'PCMU', channels: ['external', 'internal'], rate: RATE }];

const stereoFrame = (pos) => stereoToneFrame(pos, FRAME, { amplitude: 16000, phase: 0 });

/** One AudioHook session over `ws`: numbered messages, answers checked by type (late pongs skipped). */
function session(ws, id) {
  let seq = 0, serverseq = 0, pos = 0;
  return {
    send(type, parameters = {}) {
      ws.sendJson({ version: '2', id, type, seq: ++seq, serverseq, position: `PT${pos / RATE}S`, parameters });
    },
    audio(k) {
      ws.sendBinary(stereoFrame(k * FRAME));
      pos = (k + 1) * FRAME;
    },
    async expect(type) {
      for (;;) {
        const m = await ws.next();
        assert.equal(m.type, 'text', `AudioHook: expected ${type}, got ${JSON.stringify(m).slice(0, 300)}`);
        serverseq = m.json.seq;
        if (m.json.type === type) return m.json;
        assert.ok(['pong', 'event'].includes(m.json.type), `AudioHook: expected ${type}, got ${m.data}`);
      }
    },
  };
}

/**
 * Streams `seconds` of audio into a new conversation as a client with the
 * Media Ingest role; returns the conversation id once segment 1 is complete.
 */
export async function recordConversation(srv, adminTok, { seconds = 1 } = {}) {
  const ingest = await createClient(srv, adminTok, {
    name: `console-media-${randomUUID().slice(0, 8)}`, allowedScopes: ['media:ingest'], roles: ['Media Ingest'],
  });
  const tok = await token(srv.url, ingest.id, ingest.clientSecret, 'media:ingest');
  const r = await connectWs(srv.url.replace(/^http/, 'ws') + PATH, { headers: { Authorization: `Bearer ${tok}` } });
  assert.equal(r.status, 101, `AudioHook upgrade refused: ${r.status} ${r.text}`);
  const hook = session(r.ws, randomUUID());
  const conversationId = randomUUID();
  hook.send('open', {
    organizationId: ORG, conversationId, media: MEDIA, language: 'en-US',
    participant: { id: randomUUID(), ani: '+15551230000', aniName: 'Console Test Customer', dnis: '+15550001111' },
  });
  await hook.expect('opened');
  const frames = Math.round(seconds * 1000 / 20);
  const t0 = performance.now();
  for (let k = 0; k < frames; k++) {
    // Pacing to an absolute schedule: this is how live audio is sent, not a wait for the server.
    const wait = t0 + k * 20 - performance.now();
    if (wait > 0) await new Promise((res) => setTimeout(res, wait));
    hook.audio(k);
  }
  hook.send('close', { reason: 'end' });
  await hook.expect('closed');
  await r.ws.close();
  await waitFor(async () => {
    const rec = await api(srv.url, 'GET', `/api/v2/recordings/conversations/${conversationId}`, { token: adminTok });
    return rec.json?.media?.find((m) => m.segment === 1)?.status === 'complete';
  }, { what: `segment 1 of ${conversationId} to be complete` });
  return conversationId;
}
