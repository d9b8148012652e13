// HTTPS and wss:// on the HTTP listener (--tls-cert/--tls-key), with a test
// certificate made now by openssl: real clients (curl --cacert, Node https
// with a CA, Node fetch with NODE_EXTRA_CA_CERTS, the verbatim CLI with
// SSL_CERT_FILE) get the API and the OAuth server over TLS, an AudioHook
// session streams over wss://, plain HTTP on the TLS port is refused (no
// downgrade), the issuer and the discovery metadata say https, and SIGHUP
// reloads the certificate for new connections.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import tls from 'node:tls';
import {
  startServer, token, api, adminToken, createClient, rawHttp, assertErrorBody, loggedTest, waitFor, runCli,
  httpRequest, makeTestCert, tempDir,
} from './lib/server.mjs';
import { connectWs } from './lib/ws.mjs';

let srv;
const t = loggedTest(test, () => srv);

before(async () => { srv = await startServer({ tls: true }); });
after(async () => { await srv?.dispose(); });

function run(cmd, args, env = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { env: { ...process.env, ...env }, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

/** The subject CN of the certificate the server presents to a new connection. */
function presentedCommonName(url) {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const s = tls.connect({ host: u.hostname, port: Number(u.port), rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] },
      () => {
        const cn = s.getPeerCertificate().subject?.CN;
        s.end();
        resolve(cn);
      });
    s.on('error', reject);
  });
}

t('listen.json, the issuer and the discovery metadata say https', async () => {
  const listen = JSON.parse(readFileSync(join(srv.dataDir, 'listen.json'), 'utf8'));
  assert.equal(listen.scheme, 'https');
  assert.match(listen.http, /^127\.0\.0\.1:\d+$/, '"http" stays HOST:PORT');
  assert.equal(srv.url, `https://${listen.http}`);
  const meta = await api(srv.url, 'GET', '/.well-known/oauth-authorization-server');
  assert.equal(meta.status, 200, meta.text);
  assert.equal(meta.json.issuer, srv.url);
  assert.equal(meta.json.token_endpoint, `${srv.url}/oauth/token`);
  const crm = srv.creds.crmIntegration;
  const tok = await token(srv.url, crm.clientId, crm.clientSecret, 'recording:control');
  const claims = JSON.parse(Buffer.from(tok.split('.')[1], 'base64url').toString('utf8'));
  assert.equal(claims.iss, srv.url);
  assert.equal(claims.aud, `${srv.url}/api`);
});

t('curl --cacert gets a token and starts a recording over TLS, with ALPN http/1.1', async () => {
  const crm = srv.creds.crmIntegration;
  const tokRes = await run('curl', ['-sS', '--cacert', srv.tls.cert, '-u', `${crm.clientId}:${crm.clientSecret}`,
    '-d', 'grant_type=client_credentials', '-d', 'scope=recording:control', `${srv.url}/oauth/token`]);
  assert.equal(tokRes.code, 0, tokRes.stderr);
  const tok = JSON.parse(tokRes.stdout).access_token;
  const start = await run('curl', ['-sS', '--http2', '--cacert', srv.tls.cert, '-X', 'POST', '-H', `Authorization: Bearer ${tok}`,
    '-w', '\n%{http_code} %{http_version}', `${srv.url}/api/v2/recordings/conversations/${srv.creds.conversationId}/actions/start`]);
  assert.equal(start.code, 0, start.stderr);
  const [body, status] = start.stdout.split('\n');
  assert.equal(status, '200 1.1', `curl offered h2 and http/1.1; the server picks http/1.1: ${start.stdout}`);
  assert.equal(JSON.parse(body).state, 'active');
  // Without the CA, curl refuses the certificate: verification is real.
  const untrusted = await run('curl', ['-sS', `${srv.url}/healthz`]);
  assert.equal(untrusted.code, 60, untrusted.stderr);
  // TLS 1.1 is refused.
  const old = await run('curl', ['-sS', '--cacert', srv.tls.cert, '--tlsv1.1', '--tls-max', '1.1', `${srv.url}/healthz`]);
  assert.notEqual(old.code, 0, 'a TLS 1.1 client must not get in');
});

t('Node https with a CA, and fetch with NODE_EXTRA_CA_CERTS in a child node', async () => {
  const r = await httpRequest(srv.url, '/healthz', { ca: srv.tls.pem });
  assert.equal(r.status, 200);
  assert.deepEqual(r.json, { status: 'ok' });
  await assert.rejects(httpRequest(srv.url, '/healthz', { ca: makeTestCert().pem }), /self[- ]signed|unable to verify|certificate/i,
    'another CA is not trusted');
  const script = `fetch(process.argv[1]).then(async (r) => console.log(r.status, JSON.stringify(await r.json())))` +
    `.catch((e) => { console.error(e.cause?.code ?? e.message); process.exit(3); });`;
  const child = await run(process.execPath, ['-e', script, `${srv.url}/.well-known/oauth-authorization-server`],
    { NODE_EXTRA_CA_CERTS: srv.tls.cert });
  assert.equal(child.code, 0, child.stderr);
  const [status, json] = [child.stdout.slice(0, 3), JSON.parse(child.stdout.slice(4))];
  assert.equal(status, '200');
  assert.equal(json.issuer, srv.url);
});

t('plain HTTP on the TLS port gets 400 tls.required and nothing is served (no downgrade)', async () => {
  const plain = srv.url.replace('https://', 'http://');
  const admin = await adminToken(srv);
  const conv = await api(srv.url, 'POST', '/api/v2/conversations', {
    token: admin, body: { participants: [{ name: 'A', purpose: 'customer' }] },
  });
  assert.equal(conv.status, 201, conv.text);
  const r = await rawHttp(plain, 'POST', `/api/v2/conversations/${conv.json.id}/disconnect`,
    { headers: { authorization: `Bearer ${admin}` } });
  const body = assertErrorBody(r, 400, 'tls.required');
  assert.match(body.explanation.fix[0], /https/);
  const after = await api(srv.url, 'GET', `/api/v2/conversations/${conv.json.id}`, { token: admin });
  assert.equal(after.json.state, 'connected', 'the plain request was not executed');
  const m = await fetch(`${srv.metricsUrl}/metrics`).then((x) => x.text());
  assert.match(m, /^verbatim_tls_handshake_failures_total\{reason="plain_http"\} [1-9]/m);
});

t('an AudioHook session streams over wss:// and is recorded', async () => {
  const admin = await adminToken(srv);
  const ingest = await createClient(srv, admin, { name: 'wss-ingest', allowedScopes: ['media:ingest'], roles: ['Media Ingest'] });
  const tok = await token(srv.url, ingest.id, ingest.clientSecret, 'media:ingest');
  const url = srv.url.replace('https://', 'wss://') + '/api/v2/media/audiohook';
  const refused = await connectWs(url, { ca: srv.tls.pem });
  assertErrorBody(refused, 401, 'token.missing');  // a refusal over TLS keeps the error contract

  const r = await connectWs(url, { ca: srv.tls.pem, headers: { Authorization: `Bearer ${tok}` } });
  assert.equal(r.status, 101, `upgrade refused: ${r.status} ${r.text}`);
  const id = randomUUID();
  const conversationId = randomUUID();
  let seq = 0;
  let serverseq = 0;
  const send = (type, parameters = {}, pos = 0) => r.ws.sendJson({
    version: '2', id, type, seq: ++seq, serverseq, position: `PT${pos / 8000}S`, parameters,
  });
  const expect = async (type) => {
    const m = await r.ws.next();
    assert.equal(m.json?.type, type, JSON.stringify(m).slice(0, 300));
    serverseq = m.json.seq;
    return m.json;
  };
  send('open', {
    organizationId: randomUUID(), conversationId,
    participant: { id: randomUUID(), ani: '+15551230000', aniName: 'Wss Caller', dnis: '+15550001111' },
    media: [{ type: 'audio', format: 'PCMU', channels: ['external'], rate: 8000 }], language: 'en-US',
  });
  await expect('opened');
  const frame = Buffer.alloc(160, 0x10);  // 20 ms of loud-ish PCMU
  for (let k = 0; k < 25; k++) r.ws.sendBinary(frame);  // 0.5 s, as fast as TLS carries it
  send('close', { reason: 'end' }, 25 * 160);
  await expect('closed');
  assert.equal((await r.ws.close()).code, 1000);
  const rec = await waitFor(async () => {
    const x = await api(srv.url, 'GET', `/api/v2/recordings/conversations/${conversationId}`, { token: admin });
    const m = x.json?.media?.find((f) => f.segment === 1);
    return m?.status === 'complete' ? m : null;
  }, { what: 'the wss session\'s segment 1' });
  assert.ok(rec.durationMs >= 400, `recorded ${rec.durationMs} ms of the 500 ms sent`);
});

t('the verbatim CLI reads https from listen.json and verifies the server (SSL_CERT_FILE)', async () => {
  const crm = srv.creds.crmIntegration;
  const args = ['token', '--data-dir', srv.dataDir, '--client-id', crm.clientId, '--client-secret', crm.clientSecret,
    '--scope', 'recording:write'];
  const ok = await runCli(args, { env: { SSL_CERT_FILE: srv.tls.cert } });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(ok.stdout.trim().split('.').length, 3, 'a JWT');
  const untrusted = await runCli(args, { env: { SSL_CERT_FILE: makeTestCert().cert } });
  assert.equal(untrusted.code, 2, untrusted.stderr);
  assert.match(untrusted.stderr, /certificate verify failed/);
});

t('SIGHUP reloads the certificate for new connections; a broken pair keeps the old one', async () => {
  assert.equal(await presentedCommonName(srv.url), 'localhost');
  const next = makeTestCert({ cn: 'reloaded.test' });
  copyFileSync(next.cert, srv.tls.cert);
  copyFileSync(next.key, srv.tls.key);
  srv.proc.kill('SIGHUP');
  await waitFor(async () => (await presentedCommonName(srv.url)) === 'reloaded.test', { what: 'the reloaded certificate' });
  // A key that does not match: the reload fails, the server keeps serving the last good pair.
  copyFileSync(makeTestCert().key, srv.tls.key);
  srv.proc.kill('SIGHUP');
  const m = await waitFor(async () => {
    const text = await fetch(`${srv.metricsUrl}/metrics`).then((x) => x.text());
    return /^verbatim_tls_reloads_total\{result="error"\} 1$/m.test(text) ? text : null;
  }, { what: 'the failed reload to be counted' });
  assert.match(m, /^verbatim_tls_reloads_total\{result="ok"\} 1$/m);
  assert.equal(await presentedCommonName(srv.url), 'reloaded.test');
  const r = await httpRequest(srv.url, '/healthz', { ca: next.pem });
  assert.equal(r.status, 200);
});

t('the network settings come from a TOML file and VERBATIM_* variables too', async () => {
  const cert = makeTestCert();
  const dir = tempDir();
  const config = join(dir, 'verbatim.toml');
  writeFileSync(config, [`tls_cert = "${cert.cert}"`, `tls_key = "${cert.key}"`, 'trusted_proxies = "127.0.0.2/32"',
    'forwarded_header = "forwarded"', 'max_connections = 50', ''].join('\n'));
  const other = await startServer({ extraArgs: ['--config', config], env: { VERBATIM_MAX_CONNECTIONS_PER_IP: '3' }, trustCa: cert.pem });
  try {
    assert.equal(other.listen.scheme, 'https', 'tls_cert/tls_key from the file');
    const admin = await adminToken(other);
    const r = await httpRequest(other.url, '/api/v2/conversations',
      { localAddress: '127.0.0.2', headers: { authorization: `Bearer ${admin}`, forwarded: 'for=198.51.100.77' } });
    assert.equal(r.status, 200, r.text);
    const e = await api(other.url, 'GET', `/api/v2/audit/events/${r.headers.get('x-context-id')}`, { token: admin });
    assert.equal(e.json.clientAddress, '198.51.100.77', 'trusted_proxies and forwarded_header from the file');
    // VERBATIM_MAX_CONNECTIONS_PER_IP=3: a fourth connection from one address (not the trusted
    // proxy, which is exempt) is closed at accept (TLS). A fresh address: nothing of it is open.
    const { hostname, port } = new URL(other.url);
    const open = () => new Promise((resolve) => {
      const s = net.connect({ host: hostname, port: Number(port), localAddress: '127.0.0.5' }, () => resolve(s));
    });
    const held = [await open(), await open(), await open()];
    const fourth = net.connect({ host: hostname, port: Number(port), localAddress: '127.0.0.5' });
    fourth.on('error', () => { /* a reset is a close too */ });
    await new Promise((resolve) => fourth.on('close', resolve));
    for (const s of held) s.destroy();
    const m = await fetch(`${other.metricsUrl}/metrics`).then((x) => x.text());
    assert.match(m, /^verbatim_http_connections_refused_total\{reason="per_address"\} 1$/m);
  } finally {
    await other.dispose();
    rmSync(dir, { recursive: true, force: true });
    rmSync(cert.dir, { recursive: true, force: true });
  }
});
