// Limits and timers of the SIPREC server (docs/sip-trunks.md), against a --dev
// server with short timers (--rtp-timeout 1, --sip-min-se 2): a silent call
// and an unrefreshed session timer end with a BYE and a finished file; a
// 64-stream offer records only the trunk's channel limit; a TCP peer that does
// not read is cut off at the write-queue bound; below the free-disk watermark
// nothing new starts; AudioHook cannot open another source's conversation;
// the dev trunk is loopback-only.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { api, token, createClient } from './lib/server.mjs';
import { SipUac, SiprecCall, offerSdp, answerPorts } from './lib/sip_client.mjs';
import { startRtp } from './lib/rtp_sender.mjs';
import { connectWs } from './lib/ws.mjs';
import {
  useSiprecServer, startSiprecServer, conversationByExternalId, waitMediaComplete, downloadWav, analyzeChannel,
  getConversation, metricValue, trunkId, createOwnedConversation,
} from './lib/siprec_env.mjs';

const RTP_PORTS = '43600-43799';     // unique to this file: test files run in parallel
const DISK_RTP_PORTS = '43800-43809';
let srv;
let cl;
const t = useSiprecServer({ rtpPorts: RTP_PORTS, extraArgs: ['--rtp-timeout', '1', '--sip-min-se', '2'] }, (s, c) => { srv = s; cl = c; });

async function openUac(transport = 'udp', localAddress = '127.0.0.1') {
  return new SipUac({ transport, host: srv.sipHost, port: srv.sipPort, localAddress }).open();
}

const bye = (m, callId) => m.method === 'BYE' && m.callId === callId;

t('a call that goes silent ends after --rtp-timeout: the SRS sends a BYE, the file is finished with all the audio sent', async () => {
  const before = await metricValue(srv, 'verbatim_siprec_sessions_ended_total', { reason: 'rtp_timeout' });
  const uac = await openUac();
  try {
    const call = new SiprecCall(uac);
    const inv = await call.invite();
    assert.equal(inv.status, 200, inv.raw);
    const packets = 50;  // 1 s of audio, then nothing
    const report = await startRtp({ streams: [{ port: inv.ports[0], freq: 440 }, { port: inv.ports[1], freq: 880 }], packets }).done;
    const srsBye = await uac.waitFor((m) => bye(m, call.callId), { deadlineMs: 10_000, what: 'the SRS BYE after the silence' });
    assert.match(srsBye.header('reason') ?? '', /no RTP/);
    assert.match(srsBye.header('to') ?? '', new RegExp(`tag=${call.fromTag}`), 'in the dialog\'s own terms');
    const conv = await conversationByExternalId(srv, cl.viewer, call.callId);
    const { media } = await waitMediaComplete(srv, cl.viewer, conv.id, 1);
    assert.equal(media.status, 'complete');
    const { channels } = await downloadWav(srv, cl.viewer, conv.id, 1);
    const a = analyzeChannel(channels[0], { freq: 440, packets: report.sent[0] });
    assert.equal(a.mismatches, 0, JSON.stringify(a.firstMismatch));
    assert.deepEqual(a.silentRuns, []);
    assert.equal(a.truncated, false, 'every packet sent is in the file');
    assert.equal((await getConversation(srv, cl.viewer, conv.id)).state, 'disconnected', 'the session created it and ended it');
    assert.equal((await call.bye()).status, 481, 'the dialog is gone');
    assert.equal(await metricValue(srv, 'verbatim_siprec_sessions_ended_total', { reason: 'rtp_timeout' }) - before, 1);
  } finally {
    uac.close();
  }
});

t('session timers: below Min-SE is 422; the interval is granted with refresher=uac; a refresh is answered; without more the SRS ends the call', async () => {
  const uac = await openUac();
  try {
    const short = new SiprecCall(uac, { headers: { Supported: 'timer', 'Session-Expires': '1' } });
    const tooSmall = await short.invite();
    assert.equal(tooSmall.status, 422, tooSmall.raw);
    assert.equal(tooSmall.header('min-se'), '2');

    const call = new SiprecCall(uac, { headers: { Supported: 'timer', 'Session-Expires': '4;refresher=uac', 'Min-SE': '2' } });
    const inv = await call.invite();
    assert.equal(inv.status, 200, inv.raw);
    assert.equal(inv.header('session-expires'), '4;refresher=uac');
    assert.equal(inv.header('require'), 'timer');
    // RTP flows the whole time, so only the session timer can end the call.
    const sender = startRtp({ streams: [{ port: inv.ports[0], freq: 440 }, { port: inv.ports[1], freq: 880 }], packets: 1500 });
    await sender.reached(10);
    call.cseq += 1;
    const refresh = await uac.request('INVITE', {
      callId: call.callId, cseq: call.cseq, fromTag: call.fromTag, toTag: call.toTag,
      headers: { Supported: 'timer', 'Session-Expires': '4;refresher=uac' },
    });
    assert.equal(refresh.status, 200, refresh.raw);
    assert.equal(refresh.header('session-expires'), '4;refresher=uac');
    assert.match(refresh.body, /m=audio/, 'a refresh without an offer gets ours');
    const srsBye = await uac.waitFor((m) => bye(m, call.callId), { deadlineMs: 15_000, what: 'the BYE at session expiry' });
    assert.match(srsBye.header('reason') ?? '', /session timer/);
    sender.stop();
    await sender.done;
    const conv = await conversationByExternalId(srv, cl.viewer, call.callId);
    await waitMediaComplete(srv, cl.viewer, conv.id, 1);
    assert.ok(await metricValue(srv, 'verbatim_siprec_sessions_ended_total', { reason: 'session_expired' }) >= 1);
  } finally {
    uac.close();
  }
});

t('an INVITE with 64 audio m-lines records the trunk\'s 8 channels and declines the other 56 (port 0), and says so', async () => {
  const uac = await openUac();
  try {
    // SDP only (metadata for 64 participants would not fit a datagram): labels name the channels.
    const streams = Array.from({ length: 64 }, (_, i) => ({ port: 30000 + 2 * i, label: `s${i}` }));
    const callId = `${randomUUID()}@wide.test`;
    const before = await metricValue(srv, 'verbatim_siprec_streams_declined_total', { reason: 'channels' });
    const inv = await uac.request('INVITE', {
      callId, cseq: 1, fromTag: 'w', headers: { Require: 'siprec' }, contentType: 'application/sdp', body: offerSdp({ streams }),
    });
    assert.equal(inv.status, 200, inv.raw);
    const ports = answerPorts(inv.body);
    assert.equal(ports.length, 64, 'one answer line per offered line');
    assert.deepEqual(ports.map((p) => p !== 0), Array.from({ length: 64 }, (_, i) => i < 8));
    assert.match(inv.header('warning') ?? '', /8 of 64/);
    const conv = await conversationByExternalId(srv, cl.viewer, callId);
    assert.deepEqual(conv.participants.map((p) => p.name), streams.slice(0, 8).map((s) => `stream ${s.label}`));
    assert.equal(await metricValue(srv, 'verbatim_siprec_streams_declined_total', { reason: 'channels' }) - before, 1);
    const toTag = /;tag=([^;>\s]+)/.exec(inv.header('to'))[1];
    assert.equal((await uac.request('BYE', { callId, cseq: 2, fromTag: 'w', toTag })).status, 200);
  } finally {
    uac.close();
  }
});

t('SIP over TCP: a peer that sends requests but never reads the answers is disconnected at the write-queue bound, and counted', async () => {
  const before = await metricValue(srv, 'verbatim_sip_tcp_write_overflows_total');
  const uac = await openUac('tcp');
  try {
    uac.sock.pause();  // never read: the answers pile up in the kernel, then in the server's queue
    const requests = [];
    for (let i = 0; i < 6000; i++) requests.push(uac.build('OPTIONS', { callId: `flood-${i}@x`, cseq: 1, fromTag: 'f' }));
    uac.sock.write(requests.join(''));
    const closed = new Promise((r) => uac.sock.once('close', r));
    uac.sock.resume();  // now read (and drop) what was sent before the cut, until the server closes
    uac.sock.on('data', () => {});
    await closed;
    assert.ok(await metricValue(srv, 'verbatim_sip_tcp_write_overflows_total') - before >= 1);
    // The server keeps serving TCP.
    const fresh = await openUac('tcp');
    const ping = await fresh.request('OPTIONS', { callId: `${randomUUID()}@x`, cseq: 1, fromTag: 'p' });
    assert.equal(ping.status, 200);
    fresh.close();
  } finally {
    uac.close();
  }
});

t('the --dev trunk admits this host\'s 127.0.0.1 only: 127.0.0.2 is a stranger', async () => {
  const other = await openUac('udp', '127.0.0.2');
  try {
    const res = await new SiprecCall(other).invite();
    assert.equal(res.status, 403, res.raw);
    assert.equal(res.header('warning'), null);
  } finally {
    other.close();
  }
  const trunks = await api(srv.url, 'GET', '/api/v2/media/siprec/trunks', { token: cl.admin });
  assert.deepEqual(trunks.json.entities.map((e) => [e.name, e.source, e.networks]), [['dev-loopback', 'dev', ['127.0.0.1/32', '::1/128']]]);
});

/** Opens an AudioHook session with a bearer token and `open`s `conversationId`; resolves the first server message. */
async function audiohookOpen(tok, conversationId) {
  const sessionId = randomUUID();
  const org = randomUUID();
  const r = await connectWs(`${srv.url.replace('http://', 'ws://')}/api/v2/media/audiohook`, {
    headers: { Authorization: `Bearer ${tok}`, 'Audiohook-Session-Id': sessionId, 'Audiohook-Organization-Id': org },
  });
  assert.equal(r.status, 101, r.text);
  r.ws.sendJson({
    version: '2', id: sessionId, type: 'open', seq: 1, serverseq: 0, position: 'PT0S',
    parameters: {
      organizationId: org, conversationId, participant: { id: randomUUID(), ani: '+15551230000', aniName: 'C', dnis: '+1555' },
      media: [{ type: 'audio', format: 'PCMU', channels: ['external', 'internal'], rate: 8000 }], language: 'en-US',
    },
  });
  const m = await r.ws.next();
  return { ws: r.ws, msg: m.json };
}

t('AudioHook: open naming a conversation of another media source gets a disconnect that says why; its own media owner may open', async () => {
  const ingest = await createClient(srv, cl.admin, { name: `ingest-${randomUUID().slice(0, 8)}`, allowedScopes: ['media:ingest'], roles: ['Media Ingest'] });
  const tok = await token(srv.url, ingest.id, ingest.clientSecret, 'media:ingest');

  // A conversation the SIPREC trunk owns (here created through the API with that owner).
  const foreign = await createOwnedConversation(srv, cl.admin, { type: 'trunk', id: await trunkId(srv, cl.admin) });
  const refused = await audiohookOpen(tok, foreign);
  assert.equal(refused.msg.type, 'disconnect', JSON.stringify(refused.msg));
  assert.equal(refused.msg.parameters.reason, 'error');
  assert.match(refused.msg.parameters.info, /^conversation\.not\.owned/);
  await refused.ws.close();
  assert.equal((await getConversation(srv, cl.viewer, foreign)).participants.length, 2, 'nothing joined it');

  // One whose mediaOwner is this client: it opens.
  const own = await createOwnedConversation(srv, cl.admin, { type: 'client', id: ingest.id });
  const opened = await audiohookOpen(tok, own);
  assert.equal(opened.msg.type, 'opened', JSON.stringify(opened.msg));
  await opened.ws.close();
});

t('below the free-disk watermark new SIPREC calls get 503 with Retry-After and AudioHook opens a disconnect; nothing is created', async () => {
  // A watermark no disk meets (--media-min-free-mb 10^9): every new session is refused.
  const full = await startSiprecServer({ rtpPorts: DISK_RTP_PORTS, extraArgs: ['--media-min-free-mb', '1000000000'] });
  const uac = await new SipUac({ transport: 'udp', host: full.sipHost, port: full.sipPort }).open();
  try {
    const admin = await token(full.url, full.creds.admin.clientId, full.creds.admin.clientSecret);
    const call = new SiprecCall(uac);
    const res = await call.invite();
    assert.equal(res.status, 503, res.raw);
    assert.match(res.header('retry-after') ?? '', /^\d+$/);
    assert.match(res.header('warning') ?? '', /media-min-free-mb/);
    assert.equal(await metricValue(full, 'verbatim_sip_refusals_total', { reason: 'disk_low' }), 1);
    const list = await api(full.url, 'GET', '/api/v2/conversations?pageSize=100', { token: admin });
    assert.ok(!list.json.entities.some((c) => c.externalId === call.callId), 'no conversation');

    const ingest = await createClient(full, admin, { name: 'ingest', allowedScopes: ['media:ingest'], roles: ['Media Ingest'] });
    const tok = await token(full.url, ingest.id, ingest.clientSecret, 'media:ingest');
    const sessionId = randomUUID();
    const r = await connectWs(`${full.url.replace('http://', 'ws://')}/api/v2/media/audiohook`, {
      headers: { Authorization: `Bearer ${tok}`, 'Audiohook-Session-Id': sessionId },
    });
    assert.equal(r.status, 101);
    r.ws.sendJson({
      version: '2', id: sessionId, type: 'open', seq: 1, serverseq: 0, position: 'PT0S',
      parameters: { organizationId: randomUUID(), conversationId: randomUUID(), participant: { id: randomUUID(), ani: '1', aniName: 'a', dnis: '2' },
        media: [{ type: 'audio', format: 'PCMU', channels: ['external'], rate: 8000 }], language: 'en-US' },
    });
    const m = await r.ws.next();
    assert.equal(m.json?.type, 'disconnect', m.data);
    assert.match(m.json.parameters.info, /^media\.disk\.low/);
    await r.ws.close();
  } finally {
    uac.close();
    await full.dispose();
  }
});
