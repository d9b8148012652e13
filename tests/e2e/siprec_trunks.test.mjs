// SIP trunks on a server without --dev (docs/sip-trunks.md): only configured
// recording sources may record, with digest credentials where the trunk has
// them; a source cannot hijack another's call (Call-ID, X-Conversation-Id,
// forged or tagless BYE) nor inject RTP; the trunk admin API and the CLI.
//
// Sources are distinct loopback addresses (127.0.0.0/8 is all this host):
// 127.0.0.3 and .4 are trunks of the config file, .5-.9 trunks the tests
// create, and 127.0.0.1 belongs to no trunk at all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  startServer, token, api, tempDir, runCli, loggedTest, createClient, assertErrorBody, waitFor,
} from './lib/server.mjs';
import { SipUac, SiprecCall, parseChallenge, digestAuthorization } from './lib/sip_client.mjs';
import { startRtp, rtpPacket, tonePayload } from './lib/rtp_sender.mjs';
import {
  withSip, conversationByExternalId, waitMediaComplete, downloadWav, analyzeChannel, assertToneExcept, metricValue,
} from './lib/siprec_env.mjs';

const RTP_PORTS = '43400-43599';  // unique to this file: test files run in parallel
const FILE_SRC = '127.0.0.3';     // [[siprec.trunks]] "file-trunk"
const DIGEST_SRC = '127.0.0.4';   // [[siprec.trunks]] "digest-trunk", with a password
const PASSWORD = 'trunk-password-0123';
const STRANGER = '127.0.0.1';     // in no trunk (and there is no --dev trunk)

let srv;
let admin;
let dataDir;
const t = loggedTest(test, () => srv);

before(async () => {
  dataDir = tempDir('verbatim-e2e-trunks-');
  const config = join(dataDir, 'verbatim.toml');
  writeFileSync(config, [
    '[[siprec.trunks]]', 'name = "file-trunk"', `networks = ["${FILE_SRC}/32"]`, '',
    '[[siprec.trunks]]', 'name = "digest-trunk"', `networks = ["${DIGEST_SRC}"]`, 'digest_username = "sbc"',
    `digest_password = "${PASSWORD}"`, '',
  ].join('\n'));
  const init = await runCli(['init', '--data-dir', dataDir, '--json']);
  assert.equal(init.code, 0, init.stderr);
  const creds = JSON.parse(init.stdout);
  srv = withSip(await startServer({
    dev: false, dataDir,
    extraArgs: ['--config', config, '--rtp-ports', RTP_PORTS, '--sip-nonce-lifetime', '3'],
  }));
  admin = await token(srv.url, creds.clientId, creds.clientSecret);
});

after(async () => {
  await srv?.dispose();
  if (dataDir && !process.env.VERBATIM_E2E_KEEP) rmSync(dataDir, { recursive: true, force: true });
});

async function uacFrom(localAddress, transport = 'udp') {
  return new SipUac({ transport, host: srv.sipHost, port: srv.sipPort, localAddress }).open();
}

async function createTrunk(body, tok = admin) {
  const r = await api(srv.url, 'POST', '/api/v2/media/siprec/trunks', { token: tok, body });
  assert.equal(r.status, 201, r.text);
  return r.json;
}

async function conversationIds() {
  const r = await api(srv.url, 'GET', '/api/v2/conversations?pageSize=100', { token: admin });
  assert.equal(r.status, 200, r.text);
  return r.json.entities.map((c) => c.externalId);
}

t('an INVITE from outside every trunk is a bare 403, counted, and records nothing; an OPTIONS from there is not answered', async () => {
  const before = await metricValue(srv, 'verbatim_sip_refusals_total', { reason: 'untrusted_source' });
  const stranger = await uacFrom(STRANGER);
  const trunk = await uacFrom(FILE_SRC);
  try {
    const call = new SiprecCall(stranger);
    const res = await call.invite();
    assert.equal(res.status, 403, res.raw);
    assert.equal(res.header('warning'), null, 'no reason is given to a stranger');
    assert.equal(res.header('server'), null);
    assert.ok(!(await conversationIds()).includes(call.callId), 'no conversation was created');

    const options = stranger.build('OPTIONS', { callId: `${randomUUID()}@s`, cseq: 1, fromTag: 'x' });
    await stranger.sendRaw(options);
    // One UDP socket is served in order: two round trips of the trunk's own OPTIONS prove the stranger's was read.
    for (let i = 0; i < 2; i++) {
      const ping = await trunk.request('OPTIONS', { callId: `${randomUUID()}@t`, cseq: 1, fromTag: 'y' });
      assert.equal(ping.status, 200, 'a trunk\'s OPTIONS ping is answered');
    }
    assert.deepEqual(stranger.inbox.map((m) => m.status), [], 'the stranger\'s OPTIONS got no answer');
    const after = await metricValue(srv, 'verbatim_sip_refusals_total', { reason: 'untrusted_source' });
    assert.equal(after - before, 3, 'the INVITE, the ACK of its 403 and the OPTIONS are counted (and dropped)');
  } finally {
    stranger.close();
    trunk.close();
  }
});

t('a trunk of the config file records over UDP and TCP; it is listed, read-only', async () => {
  for (const transport of ['udp', 'tcp']) {
    const uac = await uacFrom(FILE_SRC, transport);
    try {
      const call = new SiprecCall(uac);
      const inv = await call.invite();
      assert.equal(inv.status, 200, inv.raw);
      assert.equal((await call.bye()).status, 200);
      const conv = await conversationByExternalId(srv, admin, call.callId);
      assert.equal(conv.mediaOwner?.type, 'trunk', JSON.stringify(conv));
    } finally {
      uac.close();
    }
  }
  const list = await api(srv.url, 'GET', '/api/v2/media/siprec/trunks', { token: admin });
  assert.equal(list.status, 200, list.text);
  const file = list.json.entities.find((e) => e.name === 'file-trunk');
  assert.equal(file.source, 'config');
  assert.deepEqual(file.networks, [`${FILE_SRC}/32`]);
  const digest = list.json.entities.find((e) => e.name === 'digest-trunk');
  assert.deepEqual(digest.digest, { username: 'sbc', realm: 'verbatim', algorithms: ['SHA-256', 'MD5'], passwordSet: true });
  assert.ok(!list.text.includes(PASSWORD), 'the password is never returned');
  const patch = await api(srv.url, 'PATCH', `/api/v2/media/siprec/trunks/${file.id}`, { token: admin, body: { networks: ['0.0.0.0/0'] } });
  assertErrorBody(patch, 409, 'trunk.read.only');
  const del = await api(srv.url, 'DELETE', `/api/v2/media/siprec/trunks/${file.id}`, { token: admin });
  assertErrorBody(del, 409, 'trunk.read.only');
});

t('digest: an INVITE is challenged (SHA-256, MD5); a wrong password is 403, the right one records; a stale nonce gets stale=true', async () => {
  const uac = await uacFrom(DIGEST_SRC);
  const uri = `sip:srs@${srv.sipHost}:${srv.sipPort}`;
  let cseq = 1;
  try {
    const call = new SiprecCall(uac);
    const challenge = await call.invite();
    assert.equal(challenge.status, 401, challenge.raw);
    const offered = challenge.headers.get('www-authenticate') ?? [];
    assert.deepEqual(offered.map((v) => parseChallenge(v).algorithm), ['SHA-256', 'MD5']);
    assert.ok(!(await conversationIds()).includes(call.callId), 'a challenged INVITE creates nothing');

    const retry = async (password, { nc = 1, challengeValue = offered[0] } = {}) => {
      call.cseq = ++cseq;
      return call.invite({ headers: { Authorization: digestAuthorization({ challenge: challengeValue, uri, username: 'sbc', password, nc }) } });
    };
    const wrong = await retry('not-the-password');
    assert.equal(wrong.status, 403, wrong.raw);
    assert.equal(wrong.header('warning'), null, 'no hint for a guesser');
    const md5 = await retry(PASSWORD, { nc: 2, challengeValue: offered[1] });
    assert.equal(md5.status, 200, md5.raw);
    assert.equal((await call.bye()).status, 200);

    // A nonce is good for --sip-nonce-lifetime (3 s here). Each attempt is a new call with the next nc;
    // once the nonce is old the right password gets 401 stale=true and a fresh nonce.
    let nc = 3;
    const stale = await waitFor(async () => {
      const c = new SiprecCall(uac);
      c.cseq = 1;
      const r = await c.invite({ headers: { Authorization: digestAuthorization({ challenge: offered[0], uri, username: 'sbc', password: PASSWORD, nc: nc++ }) } });
      if (r.status === 200) {
        assert.equal((await c.bye()).status, 200);
        return null;
      }
      return { r, c };
    }, { deadlineMs: 15_000, intervalMs: 200, what: 'the nonce to go stale' });
    assert.equal(stale.r.status, 401, stale.r.raw);
    const fresh = stale.r.headers.get('www-authenticate');
    assert.equal(parseChallenge(fresh[0]).stale, 'true');
    assert.notEqual(parseChallenge(fresh[0]).nonce, parseChallenge(offered[0]).nonce);
    stale.c.cseq = 2;
    const again = await stale.c.invite({ headers: { Authorization: digestAuthorization({ challenge: fresh[0], uri, username: 'sbc', password: PASSWORD }) } });
    assert.equal(again.status, 200, again.raw);
    assert.equal((await stale.c.bye()).status, 200);
    assert.ok(await metricValue(srv, 'verbatim_sip_refusals_total', { reason: 'auth_failed' }) >= 1);
    assert.ok(await metricValue(srv, 'verbatim_sip_refusals_total', { reason: 'auth_stale_nonce' }) >= 1);
  } finally {
    uac.close();
  }
});

t('hijack attempts: another trunk reusing the Call-ID or naming the conversation is refused, forged and tagless BYEs are 481; the recording goes on, whole', async () => {
  const second = '127.0.0.5';
  await createTrunk({ name: 'second-trunk', networks: [`${second}/32`] });
  const owner = await uacFrom(FILE_SRC);
  const intruder = await uacFrom(second);
  try {
    const call = new SiprecCall(owner);
    const inv = await call.invite();
    assert.equal(inv.status, 200, inv.raw);
    const conv = await conversationByExternalId(srv, admin, call.callId);
    const packets = 150;
    const sender = startRtp({ bindHost: FILE_SRC, streams: [{ port: inv.ports[0], freq: 440 }, { port: inv.ports[1], freq: 880 }], packets });
    await sender.reached(20);

    // The same Call-ID from another trunk: refused, never joined to the dialog.
    const sameCallId = new SiprecCall(intruder, { callId: call.callId });
    const r1 = await sameCallId.invite();
    assert.equal(r1.status, 482, r1.raw);
    // Naming the conversation by X-Conversation-Id: it belongs to the other trunk.
    const named = new SiprecCall(intruder, { headers: { 'X-Conversation-Id': conv.id } });
    const r2 = await named.invite();
    assert.equal(r2.status, 403, r2.raw);
    assert.match(r2.header('warning') ?? '', /another media source/);
    // A BYE with the dialog's exact Call-ID and tags, from the other trunk.
    const forged = await intruder.request('BYE', { callId: call.callId, cseq: 9, fromTag: call.fromTag, toTag: call.toTag });
    assert.equal(forged.status, 481, forged.raw);
    // From the owner's own address, but without the To tag (or with a wrong one).
    const tagless = await owner.request('BYE', { callId: call.callId, cseq: 10, fromTag: call.fromTag });
    assert.equal(tagless.status, 481, tagless.raw);
    const wrongTag = await owner.request('BYE', { callId: call.callId, cseq: 11, fromTag: call.fromTag, toTag: 'guess' });
    assert.equal(wrongTag.status, 481, wrongTag.raw);

    const report = await sender.done;
    call.cseq = 11;
    assert.equal((await call.bye()).status, 200, 'the real BYE ends it');
    await waitMediaComplete(srv, admin, conv.id, 1);
    const { channels } = await downloadWav(srv, admin, conv.id, 1);
    const a = analyzeChannel(channels[0], { freq: 440, packets });
    const b = analyzeChannel(channels[1], { freq: 880, packets });
    for (const [name, r] of [['caller', a], ['agent', b]]) {
      assert.equal(r.mismatches, 0, `${name}: ${JSON.stringify(r.firstMismatch)}`);
      assert.deepEqual(r.silentRuns, [], `${name}: the recording never stopped`);
    }
    assert.equal(report.sent[0], packets);
    const listed = await conversationIds();
    assert.ok(!listed.includes(named.callId) && listed.filter((x) => x === call.callId).length === 1, 'no second conversation');
  } finally {
    owner.close();
    intruder.close();
  }
});

t('RTP from a stranger is dropped and counted, even when it arrives first; the file holds only the real source\'s audio', async () => {
  const uac = await uacFrom(FILE_SRC);
  try {
    const call = new SiprecCall(uac);
    const inv = await call.invite();
    assert.equal(inv.status, 200, inv.raw);
    assert.match(inv.body, /a=recvonly/);
    const before = await metricValue(srv, 'verbatim_rtp_packets_from_strangers_total');
    // A stranger races the SRC to the ports with well-formed PCMU of another tone.
    const packets = 120;
    const stranger = startRtp({ bindHost: '127.0.0.9', streams: [{ port: inv.ports[0], freq: 1000 }, { port: inv.ports[1], freq: 1000 }], packets: 60 });
    await stranger.reached(5);
    const sender = startRtp({ bindHost: FILE_SRC, streams: [{ port: inv.ports[0], freq: 440 }, { port: inv.ports[1], freq: 880 }], packets });
    const strangerReport = await stranger.done;
    const report = await sender.done;
    assert.equal((await call.bye()).status, 200);
    const dropped = (await metricValue(srv, 'verbatim_rtp_packets_from_strangers_total')) - before;
    assert.equal(dropped, strangerReport.sent[0] + strangerReport.sent[1], 'every stranger packet is counted');

    const conv = await conversationByExternalId(srv, admin, call.callId);
    await waitMediaComplete(srv, admin, conv.id, 1);
    const { channels } = await downloadWav(srv, admin, conv.id, 1);
    const a = analyzeChannel(channels[0], { freq: 440, packets: report.sent[0] });
    const b = analyzeChannel(channels[1], { freq: 880, packets: report.sent[1] });
    for (const [name, r] of [['caller', a], ['agent', b]]) {
      assert.equal(r.mismatches, 0, `${name}: the stranger's audio leaked in: ${JSON.stringify(r.firstMismatch)}`);
      assert.deepEqual(r.silentRuns, [], name);
    }
    assertToneExcept(channels[0], a.p0, a.end, 440, [], 'caller');
  } finally {
    uac.close();
  }
});

t('the trunk admin API: CRUD, denials explained, the password never returned, and every change applies to the next INVITE', async () => {
  const src = '127.0.0.6';
  const password = 'another-trunk-secret-42';
  const limited = await createClient(srv, admin, { name: 'recording-admin', allowedScopes: ['admin'], roles: ['Recording Administrator'] });
  const limitedTok = await token(srv.url, limited.id, limited.clientSecret, 'admin');
  const denied = await api(srv.url, 'POST', '/api/v2/media/siprec/trunks', { token: limitedTok, body: { name: 'x', networks: ['192.0.2.0/24'] } });
  const body = assertErrorBody(denied, 403, 'missing.permission');
  assert.match(denied.text, /organization:trunk:add/);
  assert.ok(body.explanation.fix.length > 0);

  const bad = await api(srv.url, 'POST', '/api/v2/media/siprec/trunks', { token: admin, body: { name: 'bad', networks: ['10.0.0.5/24'] } });
  assertErrorBody(bad, 400, 'bad.request');
  assert.match(bad.text, /10\.0\.0\.0\/24/, 'says what was probably meant');

  const created = await createTrunk({ name: 'api-trunk', networks: [`${src}/32`], transports: ['udp'], digest: { username: 'api', password }, limits: { maxSessions: 5 } });
  assert.equal(created.source, 'api');
  const uri = `sip:srs@${srv.sipHost}:${srv.sipPort}`;
  const uac = await uacFrom(src);
  try {
    const call = new SiprecCall(uac);
    const ch = await call.invite();
    assert.equal(ch.status, 401, 'takes effect at once, digest included');
    call.cseq = 2;
    const ok = await call.invite({ headers: { Authorization: digestAuthorization({ challenge: ch.headers.get('www-authenticate')[0], uri, username: 'api', password }) } });
    assert.equal(ok.status, 200, ok.raw);
    assert.equal((await call.bye()).status, 200);

    for (const r of [await api(srv.url, 'GET', `/api/v2/media/siprec/trunks/${created.id}`, { token: admin }),
      await api(srv.url, 'GET', '/api/v2/media/siprec/trunks', { token: admin })]) {
      assert.equal(r.status, 200, r.text);
      assert.ok(!r.text.includes(password), 'never the password');
    }
    const patched = await api(srv.url, 'PATCH', `/api/v2/media/siprec/trunks/${created.id}`, { token: admin, body: { networks: ['127.0.0.7/32'], digest: null } });
    assert.equal(patched.status, 200, patched.text);
    assert.equal(patched.json.digest, null);
    const moved = new SiprecCall(uac);
    assert.equal((await moved.invite()).status, 403, 'its old network admits nobody now');
    const del = await api(srv.url, 'DELETE', `/api/v2/media/siprec/trunks/${created.id}`, { token: admin });
    assert.equal(del.status, 204, del.text);
    assertErrorBody(await api(srv.url, 'GET', `/api/v2/media/siprec/trunks/${created.id}`, { token: admin }), 404, 'trunk.not.found');
  } finally {
    uac.close();
  }
});

t('verbatim trunks add / list / remove work on the data dir of a running server, which picks the change up', async () => {
  const src = '127.0.0.8';
  const add = await runCli(['trunks', 'add', '--data-dir', dataDir, '--name', 'cli-trunk', '--network', `${src}/32`, '--transport', 'udp', '--max-sessions', '2', '--json']);
  assert.equal(add.code, 0, add.stderr);
  const added = JSON.parse(add.stdout);
  assert.equal(added.name, 'cli-trunk');
  assert.equal(added.limits.maxSessions, 2);
  const list = await runCli(['trunks', 'list', '--data-dir', dataDir]);
  assert.equal(list.code, 0, list.stderr);
  assert.match(list.stdout, /cli-trunk/);
  const dup = await runCli(['trunks', 'add', '--data-dir', dataDir, '--name', 'CLI-TRUNK', '--network', '192.0.2.1']);
  assert.equal(dup.code, 1, 'a taken name is a usage error');
  const badNet = await runCli(['trunks', 'add', '--data-dir', dataDir, '--name', 'x', '--network', '192.0.2.1/40']);
  assert.equal(badNet.code, 1);
  assert.match(badNet.stderr, /prefix/);

  // The API's list reloads from the store: from then on the trunk admits.
  const seen = await api(srv.url, 'GET', '/api/v2/media/siprec/trunks', { token: admin });
  assert.ok(seen.json.entities.some((e) => e.name === 'cli-trunk' && e.source === 'api'), seen.text);
  const uac = await uacFrom(src);
  try {
    const call = new SiprecCall(uac);
    assert.equal((await call.invite()).status, 200);
    assert.equal((await call.bye()).status, 200);
    const rm = await runCli(['trunks', 'remove', '--data-dir', dataDir, 'cli-trunk']);
    assert.equal(rm.code, 0, rm.stderr);
    await api(srv.url, 'GET', '/api/v2/media/siprec/trunks', { token: admin });
    assert.equal((await new SiprecCall(uac).invite()).status, 403, 'removed: refused again');
  } finally {
    uac.close();
  }
});
