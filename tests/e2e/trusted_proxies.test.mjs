// The client address behind a reverse proxy (--trusted-proxies,
// --forwarded-header): only when the TCP peer is a trusted proxy does its
// forwarding header name the client; the client address is what the audit
// event, the log and the failed-authentication limiter see. A stranger that
// sends X-Forwarded-For itself is recorded under its own address. On Linux
// every 127.x.y.z is local: the "proxy" is 127.0.0.2, strangers 127.0.0.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import {
  startServer, adminToken, api, httpRequest, assertErrorBody, loggedTest, runCli, tempDir,
} from './lib/server.mjs';

const PROXY = '127.0.0.2';
let srv;
let fwd;  // a second server whose proxy writes RFC 7239 Forwarded
let admin;
const t = loggedTest(test, () => [srv, fwd]);

before(async () => {
  srv = await startServer({
    extraArgs: ['--trusted-proxies', `${PROXY}/32, 2001:db8:ffff::/48`,
      '--rate-limit-auth-failures', '0.01', '--rate-limit-auth-burst', '3'],
  });
  fwd = await startServer({ extraArgs: ['--trusted-proxies', '127.0.0.0/8', '--forwarded-header', 'forwarded'] });
  admin = await adminToken(srv);
});
after(async () => {
  await srv?.dispose();
  await fwd?.dispose();
});

/** The audit event of a request, by the contextId of its answer. */
async function auditOf(server, tok, res) {
  const id = res.headers.get('x-context-id');
  assert.ok(id, `no X-Context-Id: ${res.status} ${res.text}`);
  const e = await api(server.url, 'GET', `/api/v2/audit/events/${id}`, { token: tok });
  assert.equal(e.status, 200, e.text);
  return e.json;
}

t('a stranger cannot spoof its address: its X-Forwarded-For is ignored in the audit event', async () => {
  const res = await httpRequest(srv.url, '/api/v2/conversations', {
    localAddress: '127.0.0.1', headers: { authorization: `Bearer ${admin}`, 'x-forwarded-for': '203.0.113.66' },
  });
  assert.equal(res.status, 200, res.text);
  assert.equal((await auditOf(srv, admin, res)).clientAddress, '127.0.0.1');
  const forwarded = await httpRequest(srv.url, '/api/v2/conversations', {
    localAddress: '127.0.0.1', headers: { authorization: `Bearer ${admin}`, forwarded: 'for=203.0.113.67' },
  });
  assert.equal((await auditOf(srv, admin, forwarded)).clientAddress, '127.0.0.1');
});

t('through the trusted proxy, the rightmost untrusted X-Forwarded-For hop is the client', async () => {
  // The client claimed 1.1.1.1; the proxy appended the address it saw.
  const res = await httpRequest(srv.url, '/api/v2/conversations', {
    localAddress: PROXY, headers: { authorization: `Bearer ${admin}`, 'x-forwarded-for': '1.1.1.1, 203.0.113.7' },
  });
  assert.equal(res.status, 200, res.text);
  assert.equal((await auditOf(srv, admin, res)).clientAddress, '203.0.113.7');
  // A denial is recorded under the client's address too.
  const denied = await httpRequest(srv.url, '/api/v2/conversations', {
    localAddress: PROXY, headers: { 'x-forwarded-for': '198.51.100.23' },
  });
  assertErrorBody(denied, 401, 'token.missing');
  assert.equal((await auditOf(srv, admin, denied)).clientAddress, '198.51.100.23');
  // The proxy talking for itself.
  const own = await httpRequest(srv.url, '/api/v2/conversations', { localAddress: PROXY, headers: { authorization: `Bearer ${admin}` } });
  assert.equal((await auditOf(srv, admin, own)).clientAddress, PROXY);
});

t('failed authentications are limited per client behind the proxy, not per proxy', async () => {
  const from = (client, tok) => httpRequest(srv.url, '/api/v2/conversations', {
    localAddress: PROXY, headers: { authorization: `Bearer ${tok}`, 'x-forwarded-for': client },
  });
  let limited = null;
  for (let i = 0; i < 10 && !limited; i++) {
    const r = await from('203.0.113.50', 'garbage');
    if (r.status === 429) limited = r;
    else assertErrorBody(r, 401, 'token.malformed');
  }
  assert.ok(limited, 'the attacker behind the proxy is cut off');
  assertErrorBody(limited, 429, 'too.many.requests');
  // Another client of the same proxy is not.
  const victim = await from('203.0.113.51', admin);
  assert.equal(victim.status, 200, victim.text);
  // Nor is a direct client.
  const direct = await httpRequest(srv.url, '/api/v2/conversations', { localAddress: '127.0.0.3', headers: { authorization: `Bearer ${admin}` } });
  assert.equal(direct.status, 200, direct.text);
});

t('with --forwarded-header forwarded, RFC 7239 names the client (quoted IPv6 with a port); X-Forwarded-For is ignored', async () => {
  const tok = await adminToken(fwd);
  const v6 = await httpRequest(fwd.url, '/api/v2/conversations', {
    localAddress: '127.0.0.9', headers: { authorization: `Bearer ${tok}`, forwarded: 'for="[2001:db8:cafe::17]:4711";proto=https' },
  });
  assert.equal(v6.status, 200, v6.text);
  assert.equal((await auditOf(fwd, tok, v6)).clientAddress, '2001:db8:cafe::17');
  // An obfuscated client: the proxy that hid it is the best address there is.
  const hidden = await httpRequest(fwd.url, '/api/v2/conversations', {
    localAddress: '127.0.0.9', headers: { authorization: `Bearer ${tok}`, forwarded: 'for="_gazonk"' },
  });
  assert.equal((await auditOf(fwd, tok, hidden)).clientAddress, '127.0.0.9');
  const xff = await httpRequest(fwd.url, '/api/v2/conversations', {
    localAddress: '127.0.0.9', headers: { authorization: `Bearer ${tok}`, 'x-forwarded-for': '203.0.113.9' },
  });
  assert.equal((await auditOf(fwd, tok, xff)).clientAddress, '127.0.0.9');
});

t('a bad --trusted-proxies value is a usage error that names it', async () => {
  const dir = tempDir();
  const r = await runCli(['serve', '--data-dir', dir, '--http-listen', '127.0.0.1:0', '--sip-listen', '127.0.0.1:0',
    '--trusted-proxies', '10.0.0.0/8,10.1.2.3/8']);
  rmSync(dir, { recursive: true, force: true });
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /--trusted-proxies: '10\.1\.2\.3\/8' is not a network.*10\.0\.0\.0\/8/);
});
