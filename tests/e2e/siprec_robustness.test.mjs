// docs/api.md §7 and docs/sip-trunks.md: robustness of the SIPREC recording server: bad SIP, SDP and RTP
// inputs over UDP and TCP get the right SIP error or are dropped and counted,
// and the server keeps serving — a normal call afterwards records exactly.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { adminToken, api } from './lib/server.mjs';
import { SipUac, SiprecCall, siprecBody, offerSdp, answerPorts, token as tok } from './lib/sip_client.mjs';
import { startRtp, sendDatagrams, rtpPacket, tonePayload } from './lib/rtp_sender.mjs';
import { join } from 'node:path';
import {
  startSiprecServer, useSiprecServer, conversationByExternalId, waitMediaComplete, downloadWav, metrics,
  analyzeChannel, assertToneExcept, runSipp, SIPP_DIR,
} from './lib/siprec_env.mjs';

const RTP_PORTS = '42600-42799';  // unique to this file: test files run in parallel
const SMALL_RTP_PORTS = '42800-42803';  // two RTP ports: one two-stream call
let srv;
let cl;
const t = useSiprecServer({ rtpPorts: RTP_PORTS }, (s, c) => { srv = s; cl = c; });

const CRLF = '\r\n';

/** A request as text; `head` lines are joined with CRLF, then the blank line and the body. */
function message(uac, { method = 'INVITE', callId = `${tok(6)}@bad.test`, cseq = 1, headers = [], body = '', contentLength, noContentLength = false } = {}) {
  const lines = [
    `${method} sip:srs@${srv.sipHost}:${srv.sipPort} SIP/2.0`,
    `Via: ${uac.via()}`,
    'Max-Forwards: 70',
    `From: <sip:src@127.0.0.1:${uac.localPort}>;tag=${tok(4)}`,
    `To: <sip:srs@${srv.sipHost}:${srv.sipPort}>`,
    `Call-ID: ${callId}`,
    `CSeq: ${cseq} ${method}`,
    // A recording session's Contact (RFC 7866 §6.1.1): without it every INVITE here would be 403.
    `Contact: <sip:src@127.0.0.1:${uac.localPort}>;+sip.src`,
    ...headers,
  ];
  if (!noContentLength) lines.push(`Content-Length: ${contentLength ?? Buffer.byteLength(body, 'latin1')}`);
  return { callId, text: lines.join(CRLF) + CRLF + CRLF + body };
}

/** Sends `bytes` and waits for the response with `callId`. */
async function answer(uac, bytes, callId, what) {
  await uac.sendRaw(bytes);
  return uac.waitFor((m) => m.status && m.callId === callId, { what: `an answer to ${what}` });
}

/**
 * Sends `bytes`, then an OPTIONS probe; the probe's 200 proves the server is
 * alive, and since one UDP socket is served in order (and loopback keeps
 * order), nothing received before it means the bad datagram got no answer.
 */
async function noAnswerUdp(uac, bytes, what) {
  await uac.sendRaw(bytes);
  const probe = message(uac, { method: 'OPTIONS' });
  const res = await answer(uac, probe.text, probe.callId, `the OPTIONS probe after ${what}`);
  assert.equal(res.status, 200);
  assert.deepEqual(uac.inbox.map((m) => `${m.status} ${m.reason}`), [], `${what} must be dropped without an answer`);
}

function assertWarning(res, re) {
  assert.match(res.header('warning') ?? '', re, `Warning header of ${res.status}: ${res.header('warning')}`);
}

t('bad SIP and SDP over UDP: the right error, or dropped (and counted); the server keeps answering', async () => {
  const before = await metrics(srv);
  const uac = await new SipUac({ transport: 'udp', host: srv.sipHost, port: srv.sipPort }).open();
  try {
    let malformed = 0;
    // Garbage bytes, an empty datagram's cousin (CRLF keep-alive), a SIP response: silently dropped.
    await noAnswerUdp(uac, randomBytes(300), 'random bytes');
    malformed++;
    await noAnswerUdp(uac, Buffer.from('\r\n\r\n'), 'a CRLF keep-alive');
    await noAnswerUdp(uac, Buffer.from(`SIP/2.0 200 OK${CRLF}Via: ${uac.via()}${CRLF}From: <sip:a@x>;tag=1${CRLF}To: <sip:b@x>;tag=2${CRLF}Call-ID: stray@x${CRLF}CSeq: 1 INVITE${CRLF}Content-Length: 0${CRLF}${CRLF}`), 'a stray response');

    // Truncated inside the first header: nothing to address an answer to.
    const full = message(uac, { method: 'OPTIONS' });
    await noAnswerUdp(uac, full.text.slice(0, full.text.indexOf('Via:') + 12), 'a message truncated in its Via');
    malformed++;

    // Truncated after the mandatory headers (no end of the header section): 400.
    const cut = message(uac, { method: 'OPTIONS' });
    let res = await answer(uac, cut.text.slice(0, cut.text.indexOf('Content-Length')), cut.callId, 'a truncated header section');
    assert.equal(res.status, 400);
    malformed++;

    // Content-Length larger than the body (RFC 3261 §18.3): 400.
    const sdp = offerSdp({ streams: [{ label: '1' }, { label: '2' }] });
    const longer = message(uac, { headers: ['Content-Type: application/sdp'], body: sdp, contentLength: sdp.length + 200 });
    res = await answer(uac, longer.text, longer.callId, 'Content-Length past the datagram');
    assert.equal(res.status, 400);
    assert.ok(res.header('to').includes(';tag='), 'a final response to INVITE has a To tag');
    malformed++;

    // Content-Length not a number: 400.
    const nan = message(uac, { method: 'OPTIONS', contentLength: 'abc' });
    res = await answer(uac, nan.text, nan.callId, 'Content-Length: abc');
    assert.equal(res.status, 400);
    malformed++;

    // Content-Length shorter than what follows: the rest of the datagram is discarded (§18.3), the request served.
    const shorter = message(uac, { method: 'OPTIONS', body: 'trailing junk that is not part of the message', contentLength: 0 });
    res = await answer(uac, shorter.text, shorter.callId, 'Content-Length: 0 with trailing bytes');
    assert.equal(res.status, 200);

    // A maximal datagram (~64 KB) whose header section breaks the limits: 400, not a crash.
    const pad = Array.from({ length: 650 }, (_, i) => `X-Pad-${i}: ${'p'.repeat(80)}`);
    const huge = message(uac, { method: 'OPTIONS', headers: pad });
    assert.ok(huge.text.length > 60_000 && huge.text.length < 65_000, `datagram size ${huge.text.length}`);
    res = await answer(uac, huge.text, huge.callId, 'a 60 KB header section');
    assert.equal(res.status, 400);
    malformed++;
    const longLine = message(uac, { method: 'OPTIONS', headers: [`Subject: ${'s'.repeat(9000)}`] });
    res = await answer(uac, longLine.text, longLine.callId, 'a 9 KB header line');
    assert.equal(res.status, 400);
    malformed++;

    // Well-formed SIP the recorder cannot take: 415, 488, 420, 400, 481, 501.
    const plain = message(uac, { headers: ['Require: siprec', 'Content-Type: text/plain'], body: 'record me please\r\n' });
    res = await answer(uac, plain.text, plain.callId, 'INVITE with text/plain');
    assert.equal(res.status, 415);
    assert.match(res.header('accept'), /application\/sdp/);
    assert.match(res.header('accept'), /multipart\/mixed/);

    const g729 = siprecBody({
      streams: [{ label: '1', codecs: [{ pt: 18, name: 'G729', rate: 8000 }] }, { label: '2', codecs: [{ pt: 18, name: 'G729', rate: 8000 }] }],
      participants: [{ name: 'A', aor: 'sip:a@x', label: '1' }, { name: 'B', aor: 'sip:b@x', label: '2' }],
    });
    const only729 = message(uac, { headers: ['Require: siprec', `Content-Type: ${g729.contentType}`], body: g729.body });
    res = await answer(uac, only729.text, only729.callId, 'INVITE offering only G729');
    assert.equal(res.status, 488);
    assertWarning(res, /^305 /);

    const require = message(uac, { headers: ['Require: siprec, foo', 'Content-Type: application/sdp'], body: sdp });
    res = await answer(uac, require.text, require.callId, 'INVITE with Require: foo');
    assert.equal(res.status, 420);
    assert.equal(res.header('unsupported'), 'foo');

    const brokenSdp = message(uac, { headers: ['Content-Type: application/sdp'], body: 'v=0\r\nm=audio banana RTP/AVP 0\r\n' });
    res = await answer(uac, brokenSdp.text, brokenSdp.callId, 'INVITE with broken SDP');
    assert.equal(res.status, 400);
    assertWarning(res, /SDP/);

    const noBoundary = message(uac, { headers: ['Content-Type: multipart/mixed;boundary=missing'], body: `--other${CRLF}Content-Type: application/sdp${CRLF}${CRLF}${sdp}--other--${CRLF}` });
    res = await answer(uac, noBoundary.text, noBoundary.callId, 'multipart without its boundary');
    assert.equal(res.status, 400);

    const badXml = siprecBody({ streams: [{ label: '1' }], participants: [{ name: 'A', aor: 'sip:a@x', label: '1' }] });
    const xmlBroken = message(uac, { headers: [`Content-Type: ${badXml.contentType}`], body: badXml.body.replace('</recording>', '</recordin') });
    res = await answer(uac, xmlBroken.text, xmlBroken.callId, 'broken rs-metadata');
    assert.equal(res.status, 400);
    assertWarning(res, /rs-metadata/);

    const bye = message(uac, { method: 'BYE', callId: 'no-such-call@bad.test', headers: [] });
    res = await answer(uac, bye.text.replace(/^(To: .*)$/m, '$1;tag=nope'), bye.callId, 'BYE for an unknown Call-ID');
    assert.equal(res.status, 481);

    const cancel = message(uac, { method: 'CANCEL' });
    res = await answer(uac, cancel.text, cancel.callId, 'CANCEL for an unknown INVITE');
    assert.equal(res.status, 481);

    const options = message(uac, { method: 'OPTIONS' });
    res = await answer(uac, options.text, options.callId, 'OPTIONS');
    assert.equal(res.status, 200);
    assert.match(res.header('allow'), /INVITE/);
    assert.match(res.header('supported') ?? '', /siprec/);

    const subscribe = message(uac, { method: 'SUBSCRIBE' });
    res = await answer(uac, subscribe.text, subscribe.callId, 'SUBSCRIBE');
    assert.equal(res.status, 501);

    // A 200 to INVITE is retransmitted over UDP until the ACK (RFC 3261 §13.3.1.4).
    const call = { callId: `${tok(6)}@rtx.test`, cseq: 1, fromTag: tok(4) };
    const offer = siprecBody({ streams: [{ label: '1' }, { label: '2' }], participants: [{ name: 'R1', aor: 'sip:r1@x', label: '1' }, { name: 'R2', aor: 'sip:r2@x', label: '2' }] });
    await uac.sendRaw(uac.build('INVITE', { ...call, headers: { Require: 'siprec' }, contentType: offer.contentType, body: offer.body }));
    const ok1 = await uac.waitFor((m) => m.callId === call.callId && m.status === 200, { what: 'the 200 to INVITE' });
    const ok2 = await uac.waitFor((m) => m.callId === call.callId && m.status === 200, { deadlineMs: 3000, what: 'the 200 retransmitted without an ACK' });
    assert.equal(ok2.raw, ok1.raw, 'the retransmission is the same response');
    const toTag = /;tag=([^;>\s]+)/.exec(ok1.header('to'))[1];
    await uac.sendRaw(uac.build('ACK', { ...call, toTag }));
    const byeRes = await uac.request('BYE', { ...call, cseq: 2, toTag });
    assert.equal(byeRes.status, 200);

    const after = await metrics(srv);
    assert.ok(after.verbatim_sip_malformed_total - (before.verbatim_sip_malformed_total ?? 0) >= malformed,
      `verbatim_sip_malformed_total grew by ${after.verbatim_sip_malformed_total - (before.verbatim_sip_malformed_total ?? 0)}, expected ≥ ${malformed}`);
    assert.equal(after.verbatim_sip_dialogs, 0, 'no dialog was created by any of it');
    assert.equal(after.verbatim_media_active_sessions, 0);
  } finally {
    uac.close();
  }
});

t('sipp as the SRC: 415, 488, 420, 400, 481 and OPTIONS 200 are what a real SIP stack expects, over UDP and TCP', async () => {
  for (const transport of ['u1', 't1']) {
    const errors = join(srv.dataDir, `sipp-rejects-${transport}-errors.log`);
    const r = await runSipp(['-sf', join(SIPP_DIR, 'siprec_rejects.xml'), '-m', '1', '-t', transport, '-i', '127.0.0.1', '-nostdin',
      '-timeout', '20', '-timeout_error', '-trace_err', '-error_file', errors, `${srv.sipHost}:${srv.sipPort}`]).done;
    assert.equal(r.code, 0, `sipp ${transport} (code ${r.code}):\n${r.stdout.slice(-3000)}`);
    assert.match(r.stdout, /Successful call\s*\|\s*0\s*\|\s*1/);
  }
  const m = await metrics(srv);
  assert.equal(m.verbatim_sip_dialogs, 0);
});

t('bad SIP over TCP: oversized and unframeable messages get a 400 and the connection is closed; split and pipelined messages are framed', async () => {
  const tcp = () => new SipUac({ transport: 'tcp', host: srv.sipHost, port: srv.sipPort }).open();

  // 70 KB: Content-Length beyond the 64 KiB limit → 400, then the connection is closed.
  let c = await tcp();
  const big = message(c, { method: 'INVITE', headers: ['Content-Type: application/sdp'], body: 'a'.repeat(70_000) });
  let res = await answer(c, big.text, big.callId, 'a 70 KB INVITE over TCP');
  assert.equal(res.status, 400);
  assert.ok(await c.waitClosed(), 'the server closes a connection whose framing is lost');
  c.close();

  // 70 KB of headers without the blank line that ends them → 400 and close.
  c = await tcp();
  const endless = message(c, { method: 'OPTIONS', noContentLength: true, headers: Array.from({ length: 800 }, (_, i) => `X-Pad-${i}: ${'q'.repeat(80)}`) });
  await c.sendRaw(endless.text.slice(0, endless.text.length - 4) + CRLF);
  res = await c.waitFor((m) => m.status, { what: 'an answer to 70 KB of headers' });
  assert.equal(res.status, 400);
  assert.ok(await c.waitClosed());
  c.close();

  // No Content-Length on a stream transport → 400 (with the reason) and close.
  c = await tcp();
  const nolen = message(c, { method: 'OPTIONS', noContentLength: true });
  res = await answer(c, nolen.text, nolen.callId, 'OPTIONS without Content-Length over TCP');
  assert.equal(res.status, 400);
  assert.match(res.header('warning') ?? '', /content.length/i);
  assert.ok(await c.waitClosed());
  c.close();

  // Garbage with a header terminator: nothing readable to answer; closed.
  c = await tcp();
  await c.sendRaw(Buffer.concat([randomBytes(200), Buffer.from('\r\n\r\n')]));
  assert.ok(await c.waitClosed(), 'garbage closes the connection');
  assert.deepEqual(c.inbox, []);
  c.close();

  // A message split across writes (the body arrives later): framed once it is complete.
  c = await tcp();
  const body = 'x'.repeat(100);
  const split = message(c, { method: 'OPTIONS', headers: ['Content-Type: text/plain'], body });
  await c.sendRaw(split.text.slice(0, split.text.length - 60));
  // The server must not answer a partial message: pipeline a second one right after
  // the completion and check the answers come in order, exactly one each.
  const second = message(c, { method: 'OPTIONS' });
  await c.sendRaw(split.text.slice(split.text.length - 60) + second.text);
  const r1 = await c.waitFor((m) => m.status, { what: 'the first answer' });
  const r2 = await c.waitFor((m) => m.status, { what: 'the second answer' });
  assert.deepEqual([r1.callId, r1.status, r2.callId, r2.status], [split.callId, 200, second.callId, 200]);

  // Content-Length shorter than the body: the excess is the next "message" (junk) → 400/close,
  // but the request before it was answered.
  const shortLen = message(c, { method: 'OPTIONS', body: 'NOT A SIP LINE\r\nstill not\r\n\r\n', contentLength: 0 });
  await c.sendRaw(shortLen.text);
  res = await c.waitFor((m) => m.status, { what: 'an answer to the OPTIONS before the junk' });
  assert.equal(res.callId, shortLen.callId);
  assert.equal(res.status, 200);
  assert.ok(await c.waitClosed(), 'junk after a message closes the connection');
  c.close();

  // The server keeps serving TCP: a fresh connection, a full SIPREC call signaling.
  c = await tcp();
  try {
    const call = new SiprecCall(c);
    const inv = await call.invite();
    assert.equal(inv.status, 200, inv.raw);
    assert.equal((await call.reinvite('inactive')).status, 200);
    // A re-INVITE without an offer (a session refresh): 200 with the SRS's SDP as the offer.
    call.cseq += 1;
    const refresh = await c.request('INVITE', { callId: call.callId, cseq: call.cseq, fromTag: call.fromTag, toTag: call.toTag });
    assert.equal(refresh.status, 200, refresh.raw);
    assert.equal(refresh.header('content-type'), 'application/sdp');
    assert.deepEqual(answerPorts(refresh.body), inv.ports);
    assert.match(refresh.body, /a=inactive/);
    assert.equal((await call.bye()).status, 200);
  } finally {
    c.close();
  }
});

t('bad RTP: junk, RTCP, a wrong payload type and another source are dropped and counted; the call still records exactly', async () => {
  const before = await metrics(srv);
  const uac = await new SipUac({ transport: 'udp', host: srv.sipHost, port: srv.sipPort }).open();
  try {
    const call = new SiprecCall(uac);
    const inv = await call.invite();
    assert.equal(inv.status, 200, inv.raw);
    const [p0, p1] = inv.ports;
    const rtcpSr = Buffer.from('80c80006' + '1a2b3c4d' + '00'.repeat(20), 'hex');  // RTCP sender report
    const pcma = rtpPacket({ payloadType: 8, sequence: 1, timestamp: 160, ssrc: 7, payload: tonePayload(300, 1) });
    const g729 = rtpPacket({ payloadType: 18, sequence: 2, timestamp: 320, ssrc: 7, payload: Buffer.alloc(20, 0x55) });
    const badVersion = Buffer.from(rtpPacket({ sequence: 3, timestamp: 480, ssrc: 7, payload: tonePayload(300, 2) }));
    badVersion[0] = 0x40;  // version 1
    const packets = 100;
    // Before the SRC's first packet: a stray RTP packet of a payload type not
    // negotiated, from another address. It must not capture the stream (source
    // latching is on the first packet the stream accepts).
    const stray = rtpPacket({ payloadType: 18, sequence: 9, timestamp: 9, ssrc: 0x5742a7, payload: Buffer.alloc(20, 0x55) });
    await sendDatagrams(p0, [stray, rtcpSr]);
    await sendDatagrams(p1, [stray]);
    const sender = startRtp({
      packets,
      streams: [
        // From the latched source itself: RTCP (rtcp-mux) and payload types not negotiated.
        { port: p0, freq: 440, inject: [{ at: 20, data: rtcpSr }, { at: 21, data: pcma }, { at: 22, data: g729 }, { at: 23, data: badVersion }] },
        { port: p1, freq: 880, inject: [{ at: 30, data: Buffer.from([1, 2, 3]) }, { at: 31, data: rtcpSr }] },
      ],
    });
    await sender.reached(40);
    // From another address once the source is latched: junk, RTCP, and well-formed RTP (another source).
    const intruder = rtpPacket({ sequence: 500, timestamp: 80_000, ssrc: 0xbad, payload: tonePayload(1000, 500) });
    await sendDatagrams(p0, [randomBytes(40), rtcpSr, intruder, intruder]);
    await sendDatagrams(p1, [Buffer.alloc(0), Buffer.from('hello'), intruder]);
    const report = await sender.done;
    assert.equal((await call.bye()).status, 200);

    const injected = report.injected[0] + report.injected[1];
    const foreign = 2 + 1 + 4 + 3;
    const m = await metrics(srv);
    const dropped = m.verbatim_rtp_packets_dropped_total - (before.verbatim_rtp_packets_dropped_total ?? 0);
    const received = m.verbatim_rtp_packets_received_total - (before.verbatim_rtp_packets_received_total ?? 0);
    // The empty datagram may or may not reach the socket as a read; everything else is counted.
    assert.ok(dropped >= injected + foreign - 1 && dropped <= injected + foreign,
      `verbatim_rtp_packets_dropped_total grew by ${dropped}; ${injected + foreign} bad datagrams were sent`);
    assert.equal(received, report.sent[0] + report.sent[1], 'only the real audio packets are delivered');

    const conv = await conversationByExternalId(srv, cl.viewer, call.callId);
    await waitMediaComplete(srv, cl.viewer, conv.id, 1);
    const { wav, channels } = await downloadWav(srv, cl.viewer, conv.id, 1);
    assert.equal(wav.channels, 2);
    const a = analyzeChannel(channels[0], { freq: 440, packets });
    const b = analyzeChannel(channels[1], { freq: 880, packets });
    for (const [name, r] of [['caller', a], ['agent', b]]) {
      assert.equal(r.mismatches, 0, `${name}: junk leaked into the audio: ${JSON.stringify(r.firstMismatch)}`);
      assert.deepEqual(r.silentRuns, [], `${name}: no gap`);
      assert.equal(r.truncated, false);
    }
    assertToneExcept(channels[0], a.p0, a.end, 440, [], 'caller');
    assertToneExcept(channels[1], b.p0, b.end, 880, [], 'agent');

    // After the BYE the RTP ports are closed: more packets go nowhere, and nothing is counted.
    const m2 = await metrics(srv);
    await sendDatagrams(p0, [rtcpSr]);
    const alive = new SiprecCall(uac);
    const inv2 = await alive.invite();  // a round trip through the server's io thread
    assert.equal(inv2.status, 200);
    assert.equal((await alive.bye()).status, 200);
    assert.equal((await metrics(srv)).verbatim_rtp_packets_dropped_total, m2.verbatim_rtp_packets_dropped_total);
  } finally {
    uac.close();
  }
});

t('RTP ports used up: 503 with Retry-After, the refused call leaves no conversation behind, freed ports are reused', async () => {
  const small = await startSiprecServer({ rtpPorts: SMALL_RTP_PORTS });
  const uac = await new SipUac({ transport: 'udp', host: small.sipHost, port: small.sipPort }).open();
  try {
    const admin = await adminToken(small);
    const first = new SiprecCall(uac);
    const ok = await first.invite();
    assert.equal(ok.status, 200, ok.raw);
    assert.deepEqual(ok.ports, [42800, 42802]);
    const second = new SiprecCall(uac);
    const busy = await second.invite();
    assert.equal(busy.status, 503, busy.raw);
    assert.match(busy.header('retry-after') ?? '', /^\d+$/);
    assert.match(busy.header('warning') ?? '', /RTP port/);
    const list = await api(small.url, 'GET', '/api/v2/conversations?pageSize=100', { token: admin });
    assert.equal(list.status, 200, list.text);
    const ext = list.json.entities.map((c) => c.externalId);
    assert.ok(ext.includes(first.callId));
    assert.ok(!ext.includes(second.callId), 'a refused INVITE creates no conversation (nor a recording, nor a file)');
    assert.equal((await first.bye()).status, 200);
    const third = new SiprecCall(uac);
    const again = await third.invite();
    assert.equal(again.status, 200, 'the ports of the ended call are free again');
    assert.deepEqual(new Set(again.ports), new Set([42800, 42802]));
    assert.equal((await third.bye()).status, 200);
  } finally {
    uac.close();
    await small.dispose();
  }
});
