// Issue "safe on a real network", audit and limits (docs/decisions.md "Audit
// fails closed", "Unauthenticated denials are aggregated", "Failed
// authentications are counted per address and per (client, address)"):
// against live servers, with clients on distinct loopback addresses (on
// Linux every 127.x.y.z is local, so a socket can be bound to any of them).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer, api, assertErrorBody, adminToken, basic, waitFor, loggedTest } from './lib/server.mjs';

let limited; // strict failure limits: 3 in a burst, then 0.5/s
let roomy; // a large failure budget, so a flood is answered with 401 rather than 429
let failing; // its audit store is broken and healed during the test
const t = loggedTest(test, () => [limited, roomy, failing]);

before(async () => {
  [limited, roomy, failing] = await Promise.all([
    startServer({ extraArgs: ['--rate-limit-auth-failures', '0.5', '--rate-limit-auth-burst', '3'] }),
    // Its RSS is measured: under ASan (make test's sanitizer stage) freed memory
    // waits in a 256 MiB quarantine that would count as growth, so keep it small.
    startServer({
      extraArgs: ['--rate-limit-auth-failures', '100', '--rate-limit-auth-burst', '100000'],
      env: { ASAN_OPTIONS: [process.env.ASAN_OPTIONS, 'quarantine_size_mb=4'].filter(Boolean).join(':') },
    }),
    startServer(),
  ]);
});
after(async () => {
  await Promise.all([limited?.dispose(), roomy?.dispose(), failing?.dispose()]);
});

/** One HTTP request from `localAddress`; resolves {status, headers, json, text}. */
function requestFrom(url, { method = 'GET', path, headers = {}, body, localAddress = '127.0.0.1' }) {
  const { hostname, port } = new URL(url);
  const payload = body === undefined ? undefined : Buffer.from(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: hostname, port, method, path, localAddress, agent: false,
        headers: { ...headers, ...(payload ? { 'content-length': payload.length } : {}) } },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json = null;
          try { json = JSON.parse(text); } catch { json = null; }
          resolve({ status: res.statusCode, headers: { get: (k) => res.headers[k.toLowerCase()] ?? null }, json, text });
        });
      });
    req.on('error', reject);
    if (payload) req.write(payload);
    req.end();
  });
}

function tokenFrom(srv, localAddress, clientId, secret) {
  return requestFrom(srv.url, {
    method: 'POST', path: '/oauth/token', localAddress, body: 'grant_type=client_credentials',
    headers: { authorization: basic(clientId, secret), 'content-type': 'application/x-www-form-urlencoded' },
  });
}

async function metric(srv, name) {
  const text = await (await fetch(`${srv.metricsUrl}/metrics`)).text();
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

function rssKiB(srv) {
  const m = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${srv.proc.pid}/status`, 'utf8'));
  assert.ok(m, 'VmRSS readable');
  return Number(m[1]);
}

function sqlite(dataDir, sql) {
  return new Promise((resolve, reject) => {
    execFile('sqlite3', ['-cmd', '.timeout 5000', join(dataDir, 'verbatim.db'), sql], (err, stdout, stderr) =>
      (err ? reject(new Error(`sqlite3: ${stderr || err.message}`)) : resolve(stdout)));
  });
}

t('wrong secrets from one address cut that address off, never the client from its own address', async () => {
  const victim = limited.creds.crmIntegration;
  let r;
  for (let i = 0; i < 20; i++) {
    r = await tokenFrom(limited, '127.0.0.2', victim.clientId, `wrong-${i}`);
    if (r.status === 429) break;
    assert.equal(r.status, 401, r.text);
  }
  assert.equal(r.status, 429, 'the attacker\'s address is rate limited');
  assert.match(r.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
  const stillBlocked = await tokenFrom(limited, '127.0.0.2', victim.clientId, victim.clientSecret);
  assert.equal(stillBlocked.status, 429, 'even the right secret waits, from that address');
  for (let i = 0; i < 3; i++) {
    const own = await tokenFrom(limited, '127.0.0.1', victim.clientId, victim.clientSecret);
    assert.equal(own.status, 200, `the victim from its own address, attempt ${i}: ${own.text}`);
    assert.ok(own.json.access_token);
  }
});

t('requests without a token are not failed authentications', async () => {
  for (let i = 0; i < 12; i++) {
    const r = await requestFrom(limited.url, { path: '/api/v2/conversations', localAddress: '127.0.0.3' });
    assertErrorBody(r, 401, 'token.missing', `request ${i} without a token`);
  }
  // The failure budget of 3 is intact: a wrong token is still answered, not cut off.
  const wrong = await requestFrom(limited.url, {
    path: '/api/v2/conversations', localAddress: '127.0.0.3', headers: { authorization: 'Bearer garbage' },
  });
  assertErrorBody(wrong, 401, 'token.malformed');
});

t('an unauthenticated flood is a few audit events per address, with the count', async () => {
  const ids = [];
  for (let i = 0; i < 40; i++) {
    const r = await requestFrom(limited.url, { path: '/api/v2/conversations', localAddress: '127.0.0.4' });
    ids.push(r.json?.contextId);
  }
  const admin = await adminToken(limited, 'audit:read');
  // The audit queries end the aggregation interval, so the aggregate is visible at once.
  const page = await api(limited.url, 'GET', '/api/v2/audit/events?decision=deny&pageSize=200', { token: admin });
  assert.equal(page.status, 200, page.text);
  const mine = page.json.entities.filter((e) => ids.includes(e.contextId));
  // docs/decisions.md: the first 10 per address, code and minute keep events of their own.
  assert.equal(mine.length, 11, `ten events of their own and one aggregate: ${JSON.stringify(mine.map((e) => e.contextId))}`);
  const agg = mine.find((e) => e.aggregate);
  assert.ok(agg, 'one aggregate');
  assert.equal(agg.contextId, ids[10], 'the first folded request is the sample');
  assert.equal(agg.aggregate.count, 30);
  assert.equal(agg.aggregate.address, '127.0.0.4');
  assert.deepEqual(agg.aggregate.codes, { 'token.missing': 30 });
  assert.equal(agg.code, 'token.missing');
  assert.equal(agg.path, '/api/v2/conversations');
});

t('client_ids of ~1 MiB are refused before they become limiter keys: memory stays flat', async () => {
  const body = (i) => {
    const head = 'grant_type=client_credentials&client_secret=x&client_id=';
    return head + String(i).padStart(8, '0') + 'c'.repeat(1024 * 1024 - head.length - 8 - 64);
  };
  const send = async (from, to) => {
    for (let i = from; i < to; i += 4) {
      const rs = await Promise.all([0, 1, 2, 3].map((k) => requestFrom(roomy.url, {
        method: 'POST', path: '/oauth/token', body: body(i + k), localAddress: `127.0.1.${1 + k}`,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      })));
      for (const r of rs) {
        assert.equal(r.status, 401, r.text.slice(0, 300));
        assert.equal(r.json.error, 'invalid_client');
        assert.ok(r.text.length < 2000, 'the id is not echoed');
      }
    }
  };
  await send(0, 24); // warm the allocator up
  const before = rssKiB(roomy);
  await send(24, 224); // 200 distinct ids, ~200 MiB sent
  const growthMiB = (rssKiB(roomy) - before) / 1024;
  assert.ok(growthMiB < 48, `RSS grew ${growthMiB.toFixed(1)} MiB over 200 distinct 1 MiB client_ids`);
  const keys = await metric(roomy, 'verbatim_rate_limiter_keys');
  assert.ok(keys !== null && keys <= 8, `limiter keys: ${keys} (one per source address at most)`);
});

t('a failing audit store: protected requests get 503 audit.unavailable, /readyz says so, nothing answered is lost', async () => {
  const srv = failing;
  const admin = await adminToken(srv, 'audit:read conversation:write');
  const answered = [];
  for (let i = 0; i < 3; i++) {
    const r = await api(srv.url, 'GET', '/api/v2/tokens/me', { token: admin });
    assert.equal(r.status, 200, r.text);
    answered.push(r.headers.get('x-context-id'));
  }
  assert.equal(await metric(srv, 'verbatim_audit_available'), 1);
  // Their events are committed: the writer is idle and has seen no failure.
  await waitFor(async () => (await metric(srv, 'verbatim_audit_queued_events')) === 0, { what: 'an idle audit writer' });

  // A real storage failure: every insert into the audit table aborts.
  await sqlite(srv.dataDir, "CREATE TRIGGER e2e_refuse_audit BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'e2e: audit store broken'); END;");
  const refused = await waitFor(async () => {
    const r = await api(srv.url, 'GET', '/api/v2/tokens/me', { token: admin });
    if (r.status === 200) answered.push(r.headers.get('x-context-id'));
    return r.status === 503 ? r : null;
  }, { what: 'a 503 once the audit writer fails' });
  const body = assertErrorBody(refused, 503, 'audit.unavailable');
  assert.match(refused.headers.get('retry-after') ?? '', /^[1-9][0-9]*$/);
  assert.equal(body.explanation.reason, 'audit-write-failing');
  assert.ok(body.explanation.fix.length >= 1);
  const create = await api(srv.url, 'POST', '/api/v2/conversations', { token: admin, body: {} });
  assertErrorBody(create, 503, 'audit.unavailable', 'a write is refused before it happens');
  const ready = await api(srv.url, 'GET', '/readyz');
  assertErrorBody(ready, 503, 'audit.unavailable', '/readyz');
  assert.equal(await metric(srv, 'verbatim_audit_available'), 0);
  assert.ok((await metric(srv, 'verbatim_audit_write_errors_total')) >= 1);
  assert.ok((await metric(srv, 'verbatim_audit_queued_events')) >= 1);

  await sqlite(srv.dataDir, 'DROP TRIGGER e2e_refuse_audit;');
  await waitFor(async () => (await fetch(`${srv.url}/readyz`)).status === 200, { what: '/readyz 200 after the store healed' });
  for (const id of answered) {
    const ev = await api(srv.url, 'GET', `/api/v2/audit/events/${id}`, { token: admin });
    assert.equal(ev.status, 200, `answered request ${id} must be in the audit log: ${ev.text}`);
  }
  assert.ok(answered.length > 3, 'the request that met the failure (the writer was idle) was answered and kept');
  const gone = await api(srv.url, 'GET', `/api/v2/audit/events/${create.json.contextId}`, { token: admin });
  assert.equal(gone.status, 404, 'a refused request did nothing and has no event');
  const list = await api(srv.url, 'GET', '/api/v2/conversations', { token: await adminToken(srv, 'conversation:read') });
  assert.equal(list.status, 200);
  assert.equal(await metric(srv, 'verbatim_audit_available'), 1);
});
