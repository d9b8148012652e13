// terraform-provider-verbatim end to end: the real `terraform` binary, the
// built provider and a live `verbatim serve`. Each scenario runs in its own
// working directory (tests/e2e/terraform/<scenario>/main.tf); see
// lib/terraform.mjs for how the provider is installed offline.
//
// Without terraform the suite is skipped and says so; with CI=true it fails.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startServer, adminToken, api, token, createClient, createConversation, withLog,
} from './lib/server.mjs';
import { terraformAvailability, workspace } from './lib/terraform.mjs';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import https from 'node:https';
import http from 'node:http';

const { tf, skip, fail } = terraformAvailability();
if (skip) console.log(`# ${skip}`);

// One server per scenario, so scenarios cannot see each other's objects.
let srv;
let admin;
const spaces = [];
const servers = [];

after(async () => {
  for (const ws of spaces) ws.dispose();
  for (const s of servers) await s.dispose();
});

function scenario(name, fixtureName, fn) {
  test(name, { skip }, async () => {
    if (fail) assert.fail(fail);
    srv = await startServer();
    servers.push(srv);
    admin = await adminToken(srv);
    const ws = workspace(tf, srv, fixtureName);
    spaces.push(ws);
    try {
      await withLog(() => srv, () => fn(ws));
    } catch (e) {
      e.message += `\n--- terraform runs (${ws.dir}) ---\n${ws.log().slice(-20000)}`;
      throw e;
    }
  });
}

const byName = (list, name) => list.find((x) => x.name === name);

async function get(path) {
  const r = await api(srv.url, 'GET', path, { token: admin });
  assert.equal(r.status, 200, `GET ${path}: ${r.text}`);
  return r.json;
}

/** What Terraform may touch on the server, comparable with deepEqual. */
async function snapshot() {
  const clients = (await get('/api/v2/oauth/clients')).entities
    .map((c) => ({ id: c.id, name: c.name, scopes: [...c.allowedScopes].sort(), roles: c.roles.map((r) => r.id).sort(), description: c.description }))
    .sort((a, b) => a.id.localeCompare(b.id));
  const roles = (await get('/api/v2/authorization/roles')).entities.filter((r) => !r.builtin)
    .map((r) => ({ id: r.id, name: r.name, permissions: [...r.permissions].sort() }));
  const integrations = (await get('/api/v2/media/integrations')).entities.map((m) => ({ id: m.id, name: m.name }));
  const settings = await get('/api/v2/organization/settings');
  return { clients, roles, integrations, settings };
}

scenario('lifecycle: init, apply, an empty second plan, drift shown and repaired, re-creation, import, destroy leaves the server as before', 'lifecycle', async (ws) => {
  const before = await snapshot();
  await ws.expect(['init', '-input=false']);

  // The first plan cannot check supervisor-app yet: its role is made in this run.
  const plan = await ws.expect(['plan', '-detailed-exitcode'], 2);
  assert.match(plan.stdout + plan.stderr, /supervisor-app: access not checked yet/);
  assert.match(plan.stdout, /Plan: 5 to add, 0 to change, 0 to destroy/);

  await ws.expect(['apply', '-auto-approve', '-input=false']);
  const clients = (await get('/api/v2/oauth/clients')).entities;
  const apiClient = byName(clients, 'recording-api-client');
  assert.deepEqual([...apiClient.allowedScopes].sort(), ['recording:control', 'recording:read']);
  assert.deepEqual(apiClient.roles.map((r) => r.name), ['Recording Controller']);
  assert.deepEqual(byName(clients, 'supervisor-app').roles.map((r) => r.name), ['Supervisor']);
  const supervisor = byName((await get('/api/v2/authorization/roles')).entities, 'Supervisor');
  assert.deepEqual([...supervisor.permissions].sort(), ['recording:media:download', 'recording:recording:view']);
  assert.ok(byName((await get('/api/v2/media/integrations')).entities, 'genesys-audiohook'));
  assert.deepEqual(await get('/api/v2/organization/settings'), { ...before.settings, retentionDays: 365, pauseBehavior: 'skip' });

  const out = await ws.outputs();
  assert.equal(out.api_client_id.value, apiClient.id);
  assert.equal(out.api_can_start.value, true);
  assert.deepEqual(out.supervisor_app_permissions.value.sort(), ['recording:media:download', 'recording:recording:view']);
  assert.ok(out.controller_permissions.value.includes('recording:recording:start'));
  assert.equal(out.api_client_secret.sensitive, true);
  // The secret shown once at create works.
  await token(srv.url, apiClient.id, out.api_client_secret.value, 'recording:control');

  // A second plan is empty.
  await ws.expect(['plan', '-detailed-exitcode'], 0);

  // Drift: a scope removed by hand shows as exactly that in-place update.
  const patched = await api(srv.url, 'PATCH', `/api/v2/oauth/clients/${apiClient.id}`, {
    token: admin, body: { allowedScopes: ['recording:control'] },
  });
  assert.equal(patched.status, 200, patched.text);
  await ws.expect(['plan', '-detailed-exitcode', '-out=drift.tfplan'], 2);
  const drift = await ws.changes('drift.tfplan');
  const changed = Object.entries(drift).filter(([, c]) => !c.change.actions.includes('no-op'));
  assert.deepEqual(changed.map(([a, c]) => [a, c.change.actions]), [['verbatim_oauth_client.api', ['update']]]);
  const { before: was, after: will } = drift['verbatim_oauth_client.api'].change;
  assert.deepEqual(was.scopes, ['recording:control']);
  assert.deepEqual([...will.scopes].sort(), ['recording:control', 'recording:read']);
  for (const k of ['name', 'roles', 'description', 'access_token_validity_seconds']) assert.deepEqual(was[k], will[k], k);
  // Applying the plan repairs it; then nothing is left to do.
  await ws.expect(['apply', '-input=false', 'drift.tfplan']);
  assert.deepEqual([...byName((await get('/api/v2/oauth/clients')).entities, 'recording-api-client').allowedScopes].sort(),
    ['recording:control', 'recording:read']);
  await ws.expect(['plan', '-detailed-exitcode'], 0);

  // A client deleted by hand is planned for re-creation.
  const del = await api(srv.url, 'DELETE', `/api/v2/oauth/clients/${byName((await get('/api/v2/oauth/clients')).entities, 'supervisor-app').id}`, { token: admin });
  assert.equal(del.status, 204, del.text);
  await ws.expect(['plan', '-detailed-exitcode', '-out=gone.tfplan'], 2);
  const gone = await ws.changes('gone.tfplan');
  assert.deepEqual(gone['verbatim_oauth_client.supervisor_app'].change.actions, ['create']);
  assert.deepEqual(Object.values(gone).filter((c) => !c.change.actions.includes('no-op')).length, 1);
  await ws.expect(['apply', '-input=false', 'gone.tfplan']);
  assert.ok(byName((await get('/api/v2/oauth/clients')).entities, 'supervisor-app'));

  // Import of a client made by hand: after it, the configuration matches.
  const hand = await createClient(srv, admin, {
    name: 'hand-made', allowedScopes: ['audit:read'], roles: ['Auditor'], description: 'made in the console',
  });
  ws.write('hand.tf', `resource "verbatim_oauth_client" "hand" {
  name        = "hand-made"
  description = "made in the console"
  scopes      = ["audit:read"]
  roles       = ["auditor"]
}
`);
  await ws.expect(['import', '-input=false', 'verbatim_oauth_client.hand', hand.id]);
  await ws.expect(['plan', '-detailed-exitcode'], 0);

  // Destroy removes everything it made (the imported client too) and restores the settings.
  await ws.expect(['destroy', '-auto-approve', '-input=false']);
  assert.deepEqual(await snapshot(), before);
});

scenario('acceptance story: the 403 is caught at plan time with its fix; with the scope added the client can start a recording', 'acceptance', async (ws) => {
  await ws.expect(['init', '-input=false']);
  const denied = await ws.expect(['plan', '-detailed-exitcode'], 1);
  const text = denied.stdout + denied.stderr;
  assert.match(text, /Error: recording-api-client will get 403 missing\.scope on recording:recording:start: add scope recording:control/);
  assert.match(text, /scope\s+fail\s+required: recording:control\s+granted: recording:write/);
  assert.match(text, /permission\s+pass\s+\(by Recording Controller\)/);
  assert.match(text, /resource\s+not evaluated at plan time/);
  assert.match(text, /on main\.tf line \d+, in resource "verbatim_oauth_client" "recording_api":\n\s*\d+:\s+expected_actions/);
  // Planning created nothing.
  assert.equal(byName((await get('/api/v2/oauth/clients')).entities, 'recording-api-client'), undefined);

  ws.write('main.tf', ws.read('main.tf').replace('scopes           = ["recording:write"]', 'scopes           = ["recording:write", "recording:control"]'));
  const ok = await ws.expect(['plan', '-detailed-exitcode'], 2);
  assert.doesNotMatch(ok.stdout + ok.stderr, /will get 403/);
  assert.match(ok.stdout, /Plan: 1 to add/);
  // recording:write stays: no role of the client can use it, and the plan says so.
  assert.match(ok.stdout + ok.stderr, /Warning: recording-api-client: scope recording:write can never be used/);

  await ws.expect(['apply', '-auto-approve', '-input=false']);
  const out = await ws.outputs();
  const conversationId = await createConversation(srv, admin);
  const tok = await token(srv.url, out.client_id.value, out.client_secret.value, 'recording:control');
  const started = await api(srv.url, 'POST', `/api/v2/recordings/conversations/${conversationId}/actions/start`, { token: tok });
  assert.equal(started.status, 200, started.text);
  assert.equal(started.json.state, 'active');

  // The provider's debug log names every call but no secret and no token.
  const logPath = join(ws.dir, 'provider.log');
  await ws.expect(['plan', '-input=false'], 0, { extraEnv: { TF_LOG_PROVIDER: 'trace', TF_LOG_PATH: logPath } });
  const log = readFileSync(logPath, 'utf8');
  // Terraform re-prints the provider's fields in Go map order, which varies run to run: one line, any order.
  const calls = log.split('\n').filter((l) => l.includes('verbatim API call:'));
  assert.ok(calls.some((l) => l.includes('path=/api/v2/authorization/check') && / status=200\b/.test(l)),
    `a logged call to /api/v2/authorization/check with status 200 among:\n${calls.join('\n')}`);
  for (const secret of [srv.creds.admin.clientSecret, out.client_secret.value, 'Bearer ', 'eyJ']) {
    assert.ok(!log.includes(secret), `the provider log contains ${secret.slice(0, 6)}…`);
  }
  // Wrong credentials: the server's reason, and not the secret that was tried.
  const wrong = await ws.expect(['plan', '-input=false'], 1, { extraEnv: { VERBATIM_CLIENT_SECRET: 'not-the-secret-4b1d' } });
  assert.match(wrong.stderr, /answered 401 invalid_client/);
  assert.ok(!(wrong.stdout + wrong.stderr).includes('not-the-secret-4b1d'));

  await ws.expect(['destroy', '-auto-approve', '-input=false']);
  assert.equal(byName((await get('/api/v2/oauth/clients')).entities, 'recording-api-client'), undefined);
});

scenario('a role made in the same run is checked when apply plans the client again, before the client exists', 'role_in_same_run', async (ws) => {
  await ws.expect(['init', '-input=false']);
  const plan = await ws.expect(['plan', '-detailed-exitcode'], 2);
  assert.match(plan.stdout + plan.stderr, /Warning: starter: access not checked yet/);
  assert.match(plan.stdout + plan.stderr, /Role 'Viewer Only' does not exist/);

  const apply = await ws.expect(['apply', '-auto-approve', '-input=false'], 1);
  assert.match(apply.stdout + apply.stderr,
    /Error: starter will get 403 missing\.permission on recording:recording:start: add a role that grants it \(Recording Administrator, Recording Controller or System Administrator\)/);
  assert.ok(byName((await get('/api/v2/authorization/roles')).entities, 'Viewer Only'), 'the role was created first');
  assert.equal(byName((await get('/api/v2/oauth/clients')).entities, 'starter'), undefined, 'the client was not');

  // `terraform destroy` plans normally first, where the check stops it again
  // (the client it would create is still denied); access_checks = "warning"
  // lets the destroy through.
  const blocked = await ws.expect(['destroy', '-auto-approve', '-input=false'], 1);
  assert.match(blocked.stdout + blocked.stderr, /Error: starter will get 403 missing\.permission/);
  await ws.expect(['destroy', '-auto-approve', '-input=false'], 0, { extraEnv: { VERBATIM_ACCESS_CHECKS: 'warning' } });
  assert.equal(byName((await get('/api/v2/authorization/roles')).entities, 'Viewer Only'), undefined);
});

scenario('examples/terraform is a working configuration: init, apply, an empty second plan, destroy', new URL('../../examples/terraform/', import.meta.url).pathname, async (ws) => {
  const before = await snapshot();
  await ws.expect(['init', '-input=false']);
  await ws.expect(['apply', '-auto-approve', '-input=false']);
  const out = await ws.outputs();
  assert.deepEqual([...out.supervisor_app_can.value].sort(), ['audit:event:view', 'recording:media:download', 'recording:recording:view']);
  await token(srv.url, out.recording_api_client_id.value, out.recording_api_client_secret.value, 'recording:control');
  const again = await ws.expect(['plan', '-detailed-exitcode'], 0);
  assert.doesNotMatch(again.stdout + again.stderr, /Warning: (?!Provider development overrides)|Error/, 'the example plans without a warning');
  await ws.expect(['destroy', '-auto-approve', '-input=false']);
  assert.deepEqual(await snapshot(), before);
});

scenario('https: the server certificate is verified against ca_file and the endpoint host name', 'https', async (ws) => {
  // A TLS front for the server, with a certificate for "localhost" only.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '1',
    '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
    '-keyout', join(ws.dir, 'key.pem'), '-out', join(ws.dir, 'cert.pem')], { stdio: 'ignore' });
  const upstream = new URL(srv.url);
  const front = https.createServer({ key: readFileSync(join(ws.dir, 'key.pem')), cert: readFileSync(join(ws.dir, 'cert.pem')) }, (req, res) => {
    const up = http.request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise((resolve) => front.listen(0, '127.0.0.1', resolve));
  const port = front.address().port;
  try {
    const ca = { VERBATIM_CA_FILE: join(ws.dir, 'cert.pem') };
    await ws.expect(['init', '-input=false']);
    await ws.expect(['apply', '-auto-approve', '-input=false'], 0, { extraEnv: { ...ca, VERBATIM_ENDPOINT: `https://localhost:${port}` } });
    assert.equal((await ws.outputs()).auditor_id.value, '7f2b6c80-0000-4000-8000-000000000007');

    // Not trusted without ca_file; not valid for a name the certificate does not carry.
    const untrusted = await ws.expect(['plan', '-input=false'], 1, { extraEnv: { VERBATIM_ENDPOINT: `https://localhost:${port}` } });
    assert.match(untrusted.stderr, /TLS handshake with https:\/\/localhost:\d+ failed/);
    assert.match(untrusted.stderr, /ca_file or VERBATIM_CA_FILE/);
    const wrongName = await ws.expect(['plan', '-input=false'], 1, { extraEnv: { ...ca, VERBATIM_ENDPOINT: `https://127.0.0.1:${port}` } });
    assert.match(wrongName.stderr, /TLS handshake with https:\/\/127\.0\.0\.1:\d+ failed/);
  } finally {
    front.close();
    front.closeAllConnections();
  }
});
