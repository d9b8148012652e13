// SIP over TLS and SRTP (docs/sip-trunks.md "SIP over TLS", "SRTP"): a SIPREC
// call over TLS whose media is SRTP keyed with SDES (a=crypto), encrypted by
// tests/e2e/lib/srtp.mjs (RFC 3711 with node:crypto, not libsrtp2), is
// recorded sample-exact; a tampered packet and a replayed one are dropped and
// counted; SDES over plain UDP and plain RTP to an srtp=required trunk are 488;
// plain SIP on the TLS port gets no answer.
//
// The SRC is our own Node SIP client over node:tls: Debian's sipp
// (sip-tester 3.6) is built without TLS ("To use a TLS transport you must
// compile SIPp with OpenSSL").
import assert from 'node:assert/strict';
import net from 'node:net';
import { rmSync } from 'node:fs';
import { makeTestCert, api, waitFor } from './lib/server.mjs';
import { SipUac, SiprecCall } from './lib/sip_client.mjs';
import { startRtp } from './lib/rtp_sender.mjs';
import { newMasterKey } from './lib/srtp.mjs';
import {
  useSiprecServer, conversationByExternalId, waitMediaComplete, downloadWav, analyzeChannel, metricValue,
} from './lib/siprec_env.mjs';

const RTP_PORTS = '44000-44099';  // unique to this file: test files run in parallel
const REQUIRED_SRC = '127.0.0.6'; // the srtp=required trunk the tests create

const cert = makeTestCert({ name: 'sip' });
let srv;
let cl;
let tlsHost;
let tlsPort;
const t = useSiprecServer({
  rtpPorts: RTP_PORTS,
  extraArgs: ['--sip-tls-listen', '127.0.0.1:0', '--sip-tls-cert', cert.cert, '--sip-tls-key', cert.key],
}, (s, c) => {
  srv = s;
  cl = c;
  assert.ok(s.listen.sipTls, `listen.json names the SIP/TLS port: ${JSON.stringify(s.listen)}`);
  [tlsHost, tlsPort] = [s.listen.sipTls.split(':')[0], Number(s.listen.sipTls.split(':')[1])];
});
process.on('exit', () => rmSync(cert.dir, { recursive: true, force: true }));

function tlsUac(localAddress = '127.0.0.1') {
  return new SipUac({ transport: 'tls', host: tlsHost, port: tlsPort, localAddress, ca: cert.pem }).open();
}

t('a SIPREC call over TLS with SRTP is recorded sample-exact; a tampered and a replayed packet are dropped and counted', async () => {
  const uac = await tlsUac();
  try {
    const keys = [newMasterKey(), newMasterKey()];
    const call = new SiprecCall(uac, { crypto: keys.map((k) => [`1 AES_CM_128_HMAC_SHA1_80 inline:${k}|2^31`]) });
    const authBefore = await metricValue(srv, 'verbatim_srtp_auth_failures_total');
    const replayBefore = await metricValue(srv, 'verbatim_srtp_replays_total');

    const inv = await call.invite();
    assert.equal(inv.status, 200, inv.raw);
    // Counted once the server side of the handshake is done: surely before it read the INVITE.
    assert.ok(await metricValue(srv, 'verbatim_sip_tls_handshakes_total') >= 1, 'our TLS connection is counted');
    assert.match(inv.header('contact') ?? '', new RegExp(`^<sips:verbatim@127\\.0\\.0\\.1:${tlsPort}>`), 'a sips: Contact on the TLS port');
    assert.match(inv.header('via') ?? '', /^SIP\/2\.0\/TLS /);
    const answers = [...inv.body.matchAll(/^a=crypto:(\d+) (\S+) inline:([A-Za-z0-9+/=]+)/gm)];
    assert.equal(answers.length, 2, inv.body);
    for (const [i, a] of answers.entries()) {
      assert.equal(a[1], '1', 'the offered tag');
      assert.equal(a[2], 'AES_CM_128_HMAC_SHA1_80');
      assert.equal(Buffer.from(a[3], 'base64').length, 30);
      assert.notEqual(a[3], keys[i], 'our own key, not the SRC\'s');
    }
    assert.notEqual(answers[0][3], answers[1][3], 'a key per stream');
    assert.equal([...inv.body.matchAll(/^m=audio \d+ RTP\/SAVP /gm)].length, 2, inv.body);

    const conv = await conversationByExternalId(srv, cl.viewer, call.callId);
    const packets = 100;
    const sender = startRtp({
      streams: [
        { port: inv.ports[0], freq: 440, srtpKey: keys[0], tamper: [30, 31] },
        { port: inv.ports[1], freq: 880, srtpKey: keys[1], resend: [50] },
      ],
      packets,
    });
    const report = await sender.done;
    assert.equal(report.sent[0], packets);
    // Everything sent is read before the BYE is answered (docs/sip-trunks.md): then the counters are final.
    assert.equal((await call.bye()).status, 200);
    assert.equal(await metricValue(srv, 'verbatim_srtp_auth_failures_total') - authBefore, 2, 'the two tampered copies');
    assert.equal(await metricValue(srv, 'verbatim_srtp_replays_total') - replayBefore, 1, 'the resent packet');

    await waitMediaComplete(srv, cl.viewer, conv.id, 1);
    const { channels } = await downloadWav(srv, cl.viewer, conv.id, 1);
    for (const [i, freq] of [[0, 440], [1, 880]]) {
      const r = analyzeChannel(channels[i], { freq, packets });
      assert.equal(r.mismatches, 0, `channel ${i}: ${JSON.stringify(r.firstMismatch)}`);
      assert.deepEqual(r.silentRuns, [], `channel ${i}: every genuine packet is in the file, nothing is missing`);
      assert.equal(r.truncated, false, `channel ${i}: all ${packets} packets are in the file`);
    }
  } finally {
    uac.close();
  }
});

t('a=crypto over plain UDP is 488 with a Warning that says why, and records nothing', async () => {
  const uac = await new SipUac({ transport: 'udp', host: srv.sipHost, port: srv.sipPort }).open();
  try {
    const before = await metricValue(srv, 'verbatim_sip_refusals_total', { reason: 'srtp_insecure_transport' });
    const key = newMasterKey();
    const call = new SiprecCall(uac, { crypto: [[`1 AES_CM_128_HMAC_SHA1_80 inline:${key}`], [`1 AES_CM_128_HMAC_SHA1_80 inline:${key}`]] });
    const res = await call.invite();
    assert.equal(res.status, 488, res.raw);
    assert.match(res.header('warning') ?? '', /SIP\/TLS only/);
    assert.ok(!(res.header('warning') ?? '').includes(key.slice(0, 12)), 'the Warning never carries the key');
    assert.equal(await metricValue(srv, 'verbatim_sip_refusals_total', { reason: 'srtp_insecure_transport' }) - before, 1);
    const list = await api(srv.url, 'GET', '/api/v2/conversations?pageSize=100', { token: cl.viewer });
    assert.ok(!list.json.entities.some((c) => c.externalId === call.callId), 'no conversation');
  } finally {
    uac.close();
  }
});

t('a plain RTP/AVP offer to an srtp=required trunk is 488; the same trunk records an SRTP offer', async () => {
  const created = await api(srv.url, 'POST', '/api/v2/media/siprec/trunks', {
    token: cl.admin, body: { name: 'srtp-required', networks: [`${REQUIRED_SRC}/32`], transports: ['tls'], srtp: 'required' },
  });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.json.srtp, 'required');
  assert.deepEqual(created.json.transports, ['tls']);
  // required without tls could never record: refused with the field named.
  const bad = await api(srv.url, 'POST', '/api/v2/media/siprec/trunks', {
    token: cl.admin, body: { name: 'srtp-no-tls', networks: ['127.0.0.7/32'], transports: ['udp'], srtp: 'required' },
  });
  assert.equal(bad.status, 400, bad.text);
  assert.match(bad.text, /srtp/);

  const uac = await tlsUac(REQUIRED_SRC);
  try {
    // Trunk changes apply to the next INVITE; poll until the new trunk admits us.
    const plain = await waitFor(async () => {
      const res = await new SiprecCall(uac).invite();
      return res.status === 403 ? null : res;
    }, { what: 'the new trunk to be in force' });
    assert.equal(plain.status, 488, plain.raw);
    assert.match(plain.header('warning') ?? '', /requires SRTP/);

    const secure = new SiprecCall(uac, { crypto: [[`1 AES_CM_128_HMAC_SHA1_80 inline:${newMasterKey()}`], [`1 AES_CM_128_HMAC_SHA1_80 inline:${newMasterKey()}`]] });
    const ok = await secure.invite();
    assert.equal(ok.status, 200, ok.raw);
    assert.equal((await secure.bye()).status, 200);
  } finally {
    uac.close();
  }
});

t('plain SIP on the TLS port gets no answer and counts as a failed handshake', async () => {
  const before = await metricValue(srv, 'verbatim_sip_tls_handshake_failures_total');
  const sock = net.connect({ host: tlsHost, port: tlsPort });
  let received = '';
  sock.on('data', (d) => { received += d.toString('latin1'); });
  sock.on('error', () => {});
  const closed = new Promise((r) => sock.once('close', r));
  await new Promise((r) => sock.once('connect', r));
  sock.write('OPTIONS sip:srs@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1;branch=z9hG4bKx\r\nFrom: <sip:a@b>;tag=1\r\n' +
    'To: <sip:srs@127.0.0.1>\r\nCall-ID: plain-on-tls\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n');
  await closed;
  assert.ok(!received.includes('SIP/2.0'), `no SIP answer on the TLS port: ${received}`);
  await waitFor(async () => (await metricValue(srv, 'verbatim_sip_tls_handshake_failures_total')) > before,
    { what: 'the failed handshake to be counted' });
});

t('an API disconnect sends the SRC its BYE over the dialog\'s own TLS connection, with a TLS Via', async () => {
  const uac = await tlsUac();
  try {
    const call = new SiprecCall(uac, { crypto: [[`1 AES_CM_128_HMAC_SHA1_80 inline:${newMasterKey()}`], [`1 AES_CM_128_HMAC_SHA1_80 inline:${newMasterKey()}`]] });
    const inv = await call.invite();
    assert.equal(inv.status, 200, inv.raw);
    const conv = await conversationByExternalId(srv, cl.viewer, call.callId);
    const d = await api(srv.url, 'POST', `/api/v2/conversations/${conv.id}/disconnect`, { token: cl.admin });
    assert.equal(d.status, 200, d.text);
    const bye = await uac.waitFor((m) => m.method === 'BYE' && m.callId === call.callId, { what: 'the SRS BYE over TLS' });
    assert.match(bye.header('via') ?? '', new RegExp(`^SIP/2\\.0/TLS 127\\.0\\.0\\.1:${tlsPort};branch=z9hG4bK`));
    assert.match(bye.header('from') ?? '', /tag=/);
  } finally {
    uac.close();
  }
});
