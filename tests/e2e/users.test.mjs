// Users (docs/users.md), end to end with the real binary: `verbatim users`
// offline against the data directory, then the admin API of a running server
// over it (a user created offline is found at once), `--dev`'s demo
// administrator, and the audit of user writes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startServer, api, tempDir, runCli, loggedTest, adminToken, assertErrorBody, createClient, token, UUID_RE,
} from './lib/server.mjs';

let srv;
const t = loggedTest(test, () => srv);
const dataDir = tempDir('verbatim-users-');
let admin;

before(async () => {
  // Offline first: the first administrator of a new installation, before any server ran.
  const created = await runCli(['users', 'create', '--data-dir', dataDir, '--username', 'alice', '--role', 'System Administrator', '--json']);
  assert.equal(created.code, 0, created.stderr);
  const alice = JSON.parse(created.stdout);
  assert.match(alice.id, UUID_RE);
  assert.equal(alice.password.length, 20);
  assert.deepEqual(alice.roles, ['System Administrator']);
  srv = await startServer({ dataDir });
  admin = await adminToken(srv);
});

after(async () => {
  await srv?.dispose();
});

t('users created offline are listed by the server and never show a password or hash', async () => {
  const list = await api(srv.url, 'GET', '/api/v2/users', { token: admin });
  assert.equal(list.status, 200, list.text);
  const names = list.json.entities.map((u) => u.username);
  assert.ok(names.includes('alice'), names.join());
  assert.ok(names.includes('admin'), 'the --dev demo administrator');
  assert.doesNotMatch(list.text, /password|argon2/i);
});

t('verbatim users create: stdin passwords, the policy, taken names and unknown roles', async () => {
  const ok = await runCli(['users', 'create', '--data-dir', dataDir, '--username', 'bob', '--role', 'Auditor', '--password-stdin'],
    { input: 'a password of my own\n' });
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /Created user:\n {0}bob/);
  assert.doesNotMatch(ok.stdout, /a password of my own/, 'a chosen password is never printed');

  const weak = await runCli(['users', 'create', '--data-dir', dataDir, '--username', 'carol', '--password-stdin'], { input: 'short\n' });
  assert.equal(weak.code, 1);
  assert.match(weak.stderr, /at least 12 characters/);
  const taken = await runCli(['users', 'create', '--data-dir', dataDir, '--username', 'BOB']);
  assert.equal(taken.code, 1);
  assert.match(taken.stderr, /already exists/);
  const role = await runCli(['users', 'create', '--data-dir', dataDir, '--username', 'dave', '--role', 'Janitor']);
  assert.equal(role.code, 1);
  assert.match(role.stderr, /no role is named 'Janitor'/);
  const name = await runCli(['users', 'create', '--data-dir', dataDir, '--username', 'has space']);
  assert.equal(name.code, 1);

  const list = await runCli(['users', 'list', '--data-dir', dataDir, '--json']);
  assert.equal(list.code, 0, list.stderr);
  const names = JSON.parse(list.stdout).entities.map((u) => u.username);
  assert.ok(names.includes('bob') && !names.includes('carol') && !names.includes('dave'), names.join());
});

t('the admin API creates, changes and deletes users, and audits each write', async () => {
  const created = await api(srv.url, 'POST', '/api/v2/users', { token: admin, body: { username: 'erin', roles: ['Recording Viewer'] } });
  assert.equal(created.status, 201, created.text);
  assert.equal(created.headers.get('location'), `/api/v2/users/${created.json.id}`);
  assert.equal(created.json.password.length, 20);
  const dup = await api(srv.url, 'POST', '/api/v2/users', { token: admin, body: { username: 'ERIN' } });
  assertErrorBody(dup, 409, 'user.name.taken');

  const patched = await api(srv.url, 'PATCH', `/api/v2/users/${created.json.id}`, { token: admin, body: { enabled: false } });
  assert.equal(patched.status, 200, patched.text);
  assert.equal(patched.json.tokensValidAfterReason, 'it was disabled');

  const del = await api(srv.url, 'DELETE', `/api/v2/users/${created.json.id}`, { token: admin });
  assert.equal(del.status, 204);
  assertErrorBody(await api(srv.url, 'GET', `/api/v2/users/${created.json.id}`, { token: admin }), 404, 'user.not.found');

  const ctx = del.headers.get('x-context-id');
  const ev = await api(srv.url, 'GET', `/api/v2/audit/events/${ctx}`, { token: admin });
  assert.equal(ev.status, 200, ev.text);
  assert.equal(ev.json.action, 'directory:user:delete');
  assert.equal(ev.json.decision, 'allow');
});

t('a client without directory permissions is told which layer failed', async () => {
  const c = await createClient(srv, admin, { name: 'no-users', allowedScopes: ['admin'], roles: ['Recording Viewer'] });
  const tok = await token(srv.url, c.id, c.clientSecret, 'admin');
  const res = await api(srv.url, 'GET', '/api/v2/users', { token: tok });
  const body = assertErrorBody(res, 403, 'missing.permission');
  assert.match(JSON.stringify(body.explanation), /directory:user:view/);
});

t('verbatim users password sets a new one offline: generated and printed once, or read from stdin', async () => {
  const res = await runCli(['users', 'password', '--data-dir', dataDir, 'Bob']);
  assert.equal(res.code, 0, res.stderr);
  assert.match(res.stdout, /New password set for bob;/);
  assert.match(res.stdout, /password [A-Za-z2-9]{20}\n/);
  const chosen = await runCli(['users', 'password', '--data-dir', dataDir, 'bob', '--password-stdin'], { input: 'another fine password\n' });
  assert.equal(chosen.code, 0, chosen.stderr);
  assert.doesNotMatch(chosen.stdout, /another fine password/);
  const weak = await runCli(['users', 'password', '--data-dir', dataDir, 'bob', '--password-stdin'], { input: 'bob\n' });
  assert.equal(weak.code, 1);
  const missing = await runCli(['users', 'password', '--data-dir', dataDir, 'nobody']);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /no user named or with id 'nobody'/);
});

t('--dev prints the demo administrator and writes it to dev-credentials.json', async () => {
  assert.match(srv.stdout, /Demo user: +admin \/ [A-Za-z2-9]{20} \(System Administrator/);
  const creds = JSON.parse(readFileSync(join(dataDir, 'dev-credentials.json'), 'utf8'));
  assert.equal(creds.user.username, 'admin');
  assert.ok(srv.stdout.includes(creds.user.password), 'the banner and the file agree');
});
