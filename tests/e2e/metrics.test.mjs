// Issue "hardening" §7: GET /metrics is Prometheus text and counts what it
// says it counts: requests by route and status, authorization decisions by
// layer and code, token issuance, latency histograms, media gauges.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, token, api, adminToken, assertErrorBody, layersOf, loggedTest } from './lib/server.mjs';

let srv;
const t = loggedTest(test, () => [srv]);

before(async () => { srv = await startServer(); });
after(async () => { await srv?.dispose(); });

// name{labels} value → Map("name{labels}" → number)
function parse(text) {
  const out = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*(?:\{.*\})?) (\S+)$/);
    assert.ok(m, `not a Prometheus sample line: ${line}`);
    out.set(m[1], Number(m[2]));
  }
  return out;
}

// The metrics listener (--metrics-listen): no token.
async function scrape() {
  const r = await fetch(`${srv.metricsUrl}/metrics`);
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  return parse(await r.text());
}

function value(m, name, labels) {
  const key = `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}}`;
  return m.get(key) ?? 0;
}

t('counters move by exactly what was done', async () => {
  const crm = srv.creds.crmIntegration;
  const conv = srv.creds.conversationId;
  const before = await scrape();

  const write = await token(srv.url, crm.clientId, crm.clientSecret, 'recording:write');
  const control = await token(srv.url, crm.clientId, crm.clientSecret, 'recording:control');
  const path = `/api/v2/recordings/conversations/${conv}/actions/start`;
  assert.equal((await api(srv.url, 'POST', path, { token: write })).status, 403);
  assert.equal((await api(srv.url, 'POST', path, { token: control })).status, 200);
  assert.equal((await api(srv.url, 'POST', path, { token: 'garbage' })).status, 401);

  const after = await scrape();
  const route = '/api/v2/recordings/conversations/{conversationId}/actions/start';
  const diff = (name, labels) => value(after, name, labels) - value(before, name, labels);
  assert.equal(diff('verbatim_tokens_issued_total', { grant_type: 'client_credentials' }), 2);
  assert.equal(diff('verbatim_http_requests_total', { route, method: 'POST', status: '403' }), 1);
  assert.equal(diff('verbatim_http_requests_total', { route, method: 'POST', status: '200' }), 1);
  assert.equal(diff('verbatim_http_requests_total', { route, method: 'POST', status: '401' }), 1);
  assert.equal(diff('verbatim_authz_decisions_total', { decision: 'deny', layer: 'scope', code: 'missing.scope' }), 1);
  assert.equal(diff('verbatim_authz_decisions_total', { decision: 'deny', layer: 'token', code: 'token.malformed' }), 1);
  assert.equal(diff('verbatim_recording_transitions_total', { action: 'start' }), 1);
  const count = diff('verbatim_http_request_duration_seconds_count', { route });
  assert.equal(count, 3, 'every request lands in the latency histogram');
  const inf = value(after, 'verbatim_http_request_duration_seconds_bucket', { route, le: '+Inf' });
  assert.equal(inf, value(after, 'verbatim_http_request_duration_seconds_count', { route }));
  assert.ok(after.has('verbatim_media_active_sessions'), 'media gauge present');
  assert.ok(after.has('verbatim_rtp_packets_lost_total'), 'RTP loss counter present');
});

t('on the API listener /metrics needs organization:metrics:view; the metrics listener serves it openly', async () => {
  const anonymous = await api(srv.url, 'GET', '/metrics');
  assertErrorBody(anonymous, 401, 'token.missing');
  const crm = srv.creds.crmIntegration;
  const control = await token(srv.url, crm.clientId, crm.clientSecret, 'recording:control');
  const denied = assertErrorBody(await api(srv.url, 'GET', '/metrics', { token: control }), 403, 'missing.permissions');
  assert.equal(denied.explanation.action, 'organization:metrics:view');
  const layers = layersOf(denied);
  assert.deepEqual(layers.scope.required, ['admin']);
  assert.ok(denied.explanation.fix.length >= 1, JSON.stringify(denied.explanation));

  const admin = await api(srv.url, 'GET', '/metrics', { token: await adminToken(srv, 'admin') });
  assert.equal(admin.status, 200, admin.text);
  assert.match(admin.text, /^# TYPE verbatim_http_requests_total counter$/m);

  const open = await fetch(`${srv.metricsUrl}/metrics`);
  assert.equal(open.status, 200);
  assert.match(await open.text(), /^verbatim_http_connections \d+$/m);
  const other = await fetch(`${srv.metricsUrl}/api/v2/conversations`);
  assert.equal(other.status, 404, 'the metrics listener serves nothing but /metrics');
  await other.arrayBuffer();
  // /healthz and /readyz stay open on the API listener (load balancers).
  assert.equal((await api(srv.url, 'GET', '/healthz')).status, 200);
  assert.equal((await api(srv.url, 'GET', '/readyz')).status, 200);
});
