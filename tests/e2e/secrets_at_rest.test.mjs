// Secrets at rest and private file modes (docs/secrets-at-rest.md), against
// real `verbatim` processes, real SQLite files and real key files:
//   - the database holds no private key and no integration secret in the clear;
//   - `init` creates the key-encryption key 0600; a wrong, missing or
//     world-readable key is a clear start-up error with exit code 2;
//   - a database written before secrets were sealed is migrated at start;
//   - `verbatim kek rotate` re-seals everything (not under a live server), and
//     the AudioHook signature still verifies with the re-sealed secret;
//   - after a real SIPREC recording every directory under the data dir is
//     0700 and every file 0600; loose modes left by an older version are tightened.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  chmodSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync,
  unlinkSync, writeFileSync,
} from 'node:fs';
import { createHash, createHmac, createPublicKey, generateKeyPairSync, randomBytes, randomUUID, verify } from 'node:crypto';
import { join } from 'node:path';
import {
  startServer, runCli, tempDir, token, api, adminToken, parseJwt, loggedTest, waitFor,
} from './lib/server.mjs';
import { connectWs } from './lib/ws.mjs';
import { withSip } from './lib/siprec_env.mjs';
import { SipUac, SiprecCall } from './lib/sip_client.mjs';
import { startRtp } from './lib/rtp_sender.mjs';

const RTP_PORTS = '43800-43899';  // unique to this file: test files run in parallel
const AUDIOHOOK = '/api/v2/media/audiohook';

let srv;  // a dev server shared by the tests that only read its files
const t = loggedTest(test, () => srv);
const dirs = [];

before(async () => {
  srv = withSip(await startServer({ dev: true, dataDir: fresh('shared'), extraArgs: ['--rtp-ports', RTP_PORTS] }));
});

after(async () => {
  await srv?.dispose();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** A data dir path that does not exist yet (so that verbatim creates it), removed after the file. */
function fresh(name) {
  const parent = tempDir();
  dirs.push(parent);
  return join(parent, name);
}

function sqlite(db, sql) {
  return new Promise((resolve, reject) => {
    execFile('sqlite3', [db, sql], (err, stdout, stderr) => (err ? reject(new Error(`sqlite3: ${stderr}`)) : resolve(stdout)));
  });
}

/** Every byte verbatim keeps of the database: main file and WAL. */
function dbBytes(dataDir) {
  return Buffer.concat(['verbatim.db', 'verbatim.db-wal'].filter((f) => existsSync(join(dataDir, f)))
    .map((f) => readFileSync(join(dataDir, f))));
}

/** Starts `verbatim serve` expecting it to refuse: resolves {code, stderr}. */
function serveRefused(dataDir, args = [], env = {}) {
  return runCli(['serve', '--data-dir', dataDir, '--http-listen', '127.0.0.1:0', '--sip-listen', '127.0.0.1:0', ...args],
    { env, timeoutMs: 15_000 });
}

async function initDir(dataDir) {
  const init = await runCli(['init', '--data-dir', dataDir, '--json']);
  assert.equal(init.code, 0, init.stderr);
  return JSON.parse(init.stdout);
}

/** The server's JSON log lines (its stderr is a log stream). */
function logLines(stderr) {
  return stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

const modeOf = (p) => lstatSync(p).mode & 0o7777;
const octal = (m) => `0${m.toString(8)}`;

/** {path: mode} of every entry under `root`, root included. */
function walk(root) {
  const out = { [root]: modeOf(root) };
  for (const name of readdirSync(root)) {
    const p = join(root, name);
    if (lstatSync(p).isDirectory()) Object.assign(out, walk(p));
    else out[p] = modeOf(p);
  }
  return out;
}

function assertPrivate(entries, what) {
  for (const [p, mode] of Object.entries(entries)) {
    const dir = lstatSync(p).isDirectory();
    assert.equal(octal(mode), dir ? '0700' : '0600', `${what}: ${p} is ${octal(mode)}`);
  }
}

/** The AudioHook signature headers (HMAC-SHA256 keyed by the base64 client secret), as audiohook.test.mjs builds them. */
function signedHeaders({ apiKey, clientSecret, host }) {
  const created = Math.floor(Date.now() / 1000);
  const org = randomUUID();
  const sessionId = randomUUID();
  const correlationId = randomUUID();
  const components = [['@request-target', AUDIOHOOK], ['@authority', host], ['audiohook-organization-id', org],
    ['audiohook-session-id', sessionId], ['audiohook-correlation-id', correlationId], ['x-api-key', apiKey]];
  const params = `(${components.map(([k]) => `"${k}"`).join(' ')});keyid="${apiKey}";nonce="${randomBytes(18).toString('base64')}";` +
    `alg="hmac-sha256";created=${created};expires=${created + 30}`;
  const base = [...components.map(([k, v]) => `"${k}": ${v}`), `"@signature-params": ${params}`].join('\n');
  const sig = createHmac('sha256', Buffer.from(clientSecret, 'base64')).update(base).digest('base64');
  return {
    'Audiohook-Organization-Id': org, 'Audiohook-Session-Id': sessionId, 'Audiohook-Correlation-Id': correlationId,
    'X-API-KEY': apiKey, 'Signature-Input': `sig1=${params}`, Signature: `sig1=:${sig}:`,
  };
}

async function signedUpgrade(server, creds) {
  const url = server.url.replace('http://', 'ws://') + AUDIOHOOK;
  const r = await connectWs(url, { headers: signedHeaders({ ...creds, host: new URL(url).host }) });
  if (r.status === 101) await r.ws.close();
  return r;
}

// ----------------------------------------------------------------- at rest

t('the database holds no private key and no integration secret in the clear (file bytes and sqlite3 .dump)', async () => {
  const admin = await adminToken(srv);
  const created = await api(srv.url, 'POST', '/api/v2/media/integrations', { token: admin, body: { name: 'at-rest' } });
  assert.equal(created.status, 201, created.text);
  const rot = await api(srv.url, 'POST', '/api/v2/oauth/keys/rotate', { token: admin });
  assert.equal(rot.status, 200, rot.text);

  const db = join(srv.dataDir, 'verbatim.db');
  const dump = await sqlite(db, '.dump');
  const bytes = dbBytes(srv.dataDir);
  assert.ok(dump.includes('CREATE TABLE signing_keys'), 'the dump is of the real database');
  assert.equal((await sqlite(db, 'SELECT count(*) FROM signing_keys')).trim(), '2');
  for (const [where, text] of [['.dump', dump], ['file bytes', bytes.toString('latin1')]]) {
    assert.ok(!text.includes('PRIVATE KEY'), `${where} holds a PEM private key`);
  }
  for (const secret of [srv.creds.audiohook.clientSecret, created.json.clientSecret]) {
    const raw = Buffer.from(secret, 'base64');
    assert.equal(raw.length, 32);
    assert.ok(!dump.includes(secret) && !dump.includes(raw.toString('hex').toUpperCase()), '.dump holds an integration secret');
    assert.equal(bytes.indexOf(raw), -1, 'the file holds an integration secret\'s bytes');
    assert.equal(bytes.indexOf(Buffer.from(secret)), -1, 'the file holds an integration secret in base64');
  }
  // What is stored instead: v1 envelopes under the key in DATA_DIR/kek, and no in-database key.
  const keyRows = (await sqlite(db, 'SELECT private_key_pem FROM signing_keys')).trim().split('\n');
  for (const v of keyRows) assert.match(v, /^v1:[0-9a-f]{16}:[A-Za-z0-9_-]+$/);
  assert.equal((await sqlite(db, 'SELECT group_concat(name) FROM server_secrets')).trim(), 'kek-check');
  assert.match(readFileSync(join(srv.dataDir, 'kek'), 'utf8'), /^verbatim-kek-v1\n[A-Za-z0-9+/]{43}=\n$/);
});

t('`verbatim init` creates the key-encryption key 0600, and never replaces it', async () => {
  const dir = fresh('init');
  await initDir(dir);
  const kek = join(dir, 'kek');
  assert.equal(octal(modeOf(kek)), '0600');
  assert.equal(octal(modeOf(dir)), '0700');
  assert.equal(octal(modeOf(join(dir, 'verbatim.db'))), '0600');
  const before = readFileSync(kek);
  const again = await runCli(['init', '--data-dir', dir, '--json', '--force', '--name', 'second']);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(readFileSync(kek), before, 'the key file is the same');
});

t('a wrong key-encryption key is a clear start-up error, exit code 2', async () => {
  const a = fresh('a');
  const b = fresh('b');
  await initDir(a);
  await initDir(b);
  const r = await serveRefused(a, ['--key-encryption-key-file', join(b, 'kek')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /does not match the database/);
  assert.ok(r.stderr.includes(join(b, 'kek')) && r.stderr.includes('docs/secrets-at-rest.md'), r.stderr);
  // The same through the environment and the TOML file: still refused, and the right key starts.
  const env = await serveRefused(a, [], { VERBATIM_KEY_ENCRYPTION_KEY_FILE: join(b, 'kek') });
  assert.equal(env.code, 2, env.stderr);
  const keys = await runCli(['keys', 'rotate', '--data-dir', a, '--key-encryption-key-file', join(b, 'kek')]);
  assert.equal(keys.code, 2, `keys rotate with another key: ${keys.stderr}`);
  assert.equal((await sqlite(join(a, 'verbatim.db'), 'SELECT count(*) FROM signing_keys')).trim(), '0', 'nothing written');
});

t('a missing key-encryption key for a database with sealed secrets is a clear error, and no new key is made', async () => {
  const dir = fresh('missing');
  await initDir(dir);
  const moved = join(dirs.at(-1), 'kept-kek');
  renameSync(join(dir, 'kek'), moved);
  const r = await serveRefused(dir);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /does not exist, but the database .* holds secrets sealed with key-encryption key [0-9a-f]{16}/);
  assert.match(r.stderr, /--key-encryption-key-file/);
  assert.equal(existsSync(join(dir, 'kek')), false, 'verbatim did not create a key that cannot open the database');

  // Pointing at the kept key (flag, environment or TOML) starts the server.
  const config = join(dirs.at(-1), 'verbatim.toml');
  writeFileSync(config, `key_encryption_key_file = "${moved}"\n`);
  for (const how of [{ extraArgs: ['--config', config] }, { env: { VERBATIM_KEY_ENCRYPTION_KEY_FILE: moved } }]) {
    const s = await startServer({ dev: false, dataDir: dir, ...how });
    await s.stop();
  }
});

t('a key-encryption key that group or others may read is refused (exit 2, says chmod 600)', async () => {
  const dir = fresh('loose-kek');
  await initDir(dir);
  chmodSync(join(dir, 'kek'), 0o644);
  const r = await serveRefused(dir);
  assert.equal(r.code, 2, r.stderr);
  assert.ok(r.stderr.includes(`chmod 600 ${join(dir, 'kek')}`), r.stderr);
  assert.equal(octal(modeOf(join(dir, 'kek'))), '0644', 'verbatim does not silently fix a key that may have leaked');
});

// ----------------------------------------------------------------- migration

/** RFC 7638 thumbprint of a P-256 public key, as verbatim computes kids. */
function thumbprint(jwk) {
  return createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y })).digest('base64url');
}

t('a database written before secrets were sealed (plaintext PEM signing key) is sealed at first start', async () => {
  const dir = fresh('legacy');
  const creds = await initDir(dir);
  const db = join(dir, 'verbatim.db');
  // Make it what an older verbatim left: no key check, no key file, a PEM private key in signing_keys.
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  const jwk = publicKey.export({ format: 'jwk' });
  const kid = thumbprint(jwk);
  const publicJwk = JSON.stringify({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, kid, use: 'sig', alg: 'ES256' });
  await sqlite(db, `DELETE FROM server_secrets; INSERT INTO signing_keys (kid, alg, private_key_pem, public_jwk_json, created_at)
    VALUES ('${kid}', 'ES256', '${pem}', '${publicJwk}', ${Date.now()});`);
  unlinkSync(join(dir, 'kek'));
  assert.ok(dbBytes(dir).includes('PRIVATE KEY'), 'the legacy database holds the PEM');

  const s = await startServer({ dev: false, dataDir: dir });
  try {
    const notices = logLines(s.stderr);
    const created = notices.find((l) => l.msg.startsWith('created key-encryption key'));
    assert.equal(created?.file, join(dir, 'kek'), s.stderr);
    const sealed = notices.find((l) => l.msg.startsWith('sealed secrets'));
    assert.equal(sealed?.secrets, 1, s.stderr);
    assert.equal(sealed.keyId, created.keyId);
    assert.equal(octal(modeOf(join(dir, 'kek'))), '0600');
    // Tokens are still signed with the migrated key: the old public key verifies them.
    const tok = await token(s.url, creds.clientId, creds.clientSecret);
    const jwt = parseJwt(tok);
    assert.equal(jwt.header.kid, kid);
    assert.ok(verify('sha256', Buffer.from(jwt.signingInput), { key: createPublicKey(publicKey.export({ format: 'pem', type: 'spki' })), dsaEncoding: 'ieee-p1363' }, jwt.signature));
    assert.match((await sqlite(db, `SELECT private_key_pem FROM signing_keys WHERE kid = '${kid}'`)).trim(), /^v1:/);
  } finally {
    await s.stop();
  }
  assert.ok(!dbBytes(dir).includes('PRIVATE KEY'), 'no PEM left in the file');
});

// ----------------------------------------------------------------- rotation

t('`verbatim kek rotate` re-seals everything; refused under a live server; the AudioHook signature still verifies', async () => {
  const dir = fresh('rotate');
  const creds = await initDir(dir);
  let s = await startServer({ dev: false, dataDir: dir });
  let hook;
  try {
    const admin = await token(s.url, creds.clientId, creds.clientSecret);
    const created = await api(s.url, 'POST', '/api/v2/media/integrations', { token: admin, body: { name: 'rotated' } });
    assert.equal(created.status, 201, created.text);
    hook = { apiKey: created.json.apiKey, clientSecret: created.json.clientSecret };
    assert.equal((await signedUpgrade(s, hook)).status, 101, 'signed upgrade before the rotation');

    const live = await runCli(['kek', 'rotate', '--data-dir', dir]);
    assert.equal(live.code, 2, live.stderr);
    assert.match(live.stderr, /Stop the server/);
  } finally {
    await s.stop();
  }
  const before = readFileSync(join(dir, 'kek'), 'utf8');
  const r = await runCli(['kek', 'rotate', '--data-dir', dir]);
  assert.equal(r.code, 0, r.stderr);
  const m = /Re-sealed (\d+) secret\(s\) with the new key-encryption key ([0-9a-f]{16}) \(was ([0-9a-f]{16})\)/.exec(r.stdout);
  assert.ok(m, r.stdout);
  assert.equal(Number(m[1]), 2, 'the signing key and the integration secret');
  assert.notEqual(readFileSync(join(dir, 'kek'), 'utf8'), before);
  assert.equal(octal(modeOf(join(dir, 'kek'))), '0600');
  assert.equal(existsSync(join(dir, 'kek.next')), false);
  assert.match((await sqlite(join(dir, 'verbatim.db'), "SELECT value FROM server_secrets WHERE name = 'kek-check'")).trim(),
    new RegExp(`^v1:${m[2]}:`));

  s = await startServer({ dev: false, dataDir: dir });
  try {
    const admin = await token(s.url, creds.clientId, creds.clientSecret);
    assert.equal((await api(s.url, 'GET', '/api/v2/tokens/me', { token: admin })).status, 200);
    assert.equal((await signedUpgrade(s, hook)).status, 101, 'the HMAC key opens under the new key-encryption key');
    const wrong = await signedUpgrade(s, { ...hook, clientSecret: randomBytes(32).toString('base64') });
    assert.equal(wrong.status, 401, 'and it is still checked');
  } finally {
    await s.stop();
  }
  // The old key file opens nothing any more.
  writeFileSync(join(dirs.at(-1), 'old-kek'), before, { mode: 0o600 });
  const old = await serveRefused(dir, ['--key-encryption-key-file', join(dirs.at(-1), 'old-kek')]);
  assert.equal(old.code, 2, old.stderr);
  assert.match(old.stderr, /does not match the database/);
});

t('`verbatim keys rotate` seals the new signing key with the key-encryption key; the running server picks it up', async () => {
  const before = new Set((await (await fetch(`${srv.url}/.well-known/jwks.json`)).json()).keys.map((k) => k.kid));
  const r = await runCli(['keys', 'rotate', '--data-dir', srv.dataDir]);
  assert.equal(r.code, 0, r.stderr);
  const kid = await waitFor(async () => {
    const ks = (await (await fetch(`${srv.url}/.well-known/jwks.json`)).json()).keys.map((k) => k.kid);
    return ks.find((k) => !before.has(k));
  }, { deadlineMs: 15_000, intervalMs: 200, what: 'the new key in JWKS' });
  assert.equal(parseJwt(await adminToken(srv)).header.kid, kid);
  const stored = await sqlite(join(srv.dataDir, 'verbatim.db'), `SELECT private_key_pem FROM signing_keys WHERE kid = '${kid}'`);
  assert.match(stored.trim(), /^v1:[0-9a-f]{16}:/);
});

// ----------------------------------------------------------------- file modes

t('after a real SIPREC recording every directory under the data dir is 0700 and every file 0600', async () => {
  const uac = await new SipUac({ transport: 'udp', host: srv.sipHost, port: srv.sipPort }).open();
  try {
    const call = new SiprecCall(uac);
    const inv = await call.invite();
    assert.equal(inv.status, 200, inv.raw);
    const sender = startRtp({ streams: [{ port: inv.ports[0], freq: 440 }, { port: inv.ports[1], freq: 880 }], packets: 100 });
    await sender.reached(60);
    // Mid-call: the segment is a .part, the database has its WAL and SHM.
    const live = await waitFor(() => {
      const entries = walk(srv.dataDir);
      return Object.keys(entries).some((p) => p.endsWith('.wav.part')) ? entries : null;
    }, { what: 'a .wav.part under the data dir' });
    for (const name of ['verbatim.db', 'verbatim.db-wal', 'verbatim.db-shm', 'kek', 'listen.json', 'dev-credentials.json', 'media']) {
      assert.ok(join(srv.dataDir, name) in live, `${name} exists: ${Object.keys(live).join(', ')}`);
    }
    assertPrivate(live, 'during the call');
    await sender.done;
    assert.equal((await call.bye()).status, 200);
    const done = await waitFor(() => {
      const entries = walk(srv.dataDir);
      const paths = Object.keys(entries);
      return paths.some((p) => p.endsWith('segment-1.wav')) && !paths.some((p) => p.endsWith('.part')) ? entries : null;
    }, { what: 'segment-1.wav finished' });
    assertPrivate(done, 'after the call');
  } finally {
    uac.close();
  }
});

t('a data dir left with loose modes by an older version is tightened at start', async () => {
  const dir = fresh('loose');
  await initDir(dir);
  const conv = join(dir, 'media', randomUUID());
  mkdirSync(conv, { recursive: true });
  writeFileSync(join(conv, 'segment-1.wav'), 'RIFF');
  writeFileSync(join(dir, 'dev-credentials.json'), '{}');  // (listen.json: the harness removes it before a start)
  writeFileSync(join(dir, 'notes.txt'), 'not ours');
  for (const [p, m] of [[dir, 0o755], [join(dir, 'media'), 0o755], [conv, 0o775], [join(conv, 'segment-1.wav'), 0o644],
    [join(dir, 'dev-credentials.json'), 0o644], [join(dir, 'verbatim.db'), 0o644], [join(dir, 'notes.txt'), 0o644]]) chmodSync(p, m);
  const s = await startServer({ dev: false, dataDir: dir });
  try {
    const notice = logLines(s.stderr).find((l) => l.msg.includes('private (directories 0700, files 0600)'));
    assert.equal(notice?.entries, 6, `data dir, media, its conversation dir, the WAV, dev-credentials.json, verbatim.db: ${s.stderr}`);
    for (const p of [dir, join(dir, 'media'), conv]) assert.equal(octal(modeOf(p)), '0700', p);
    for (const p of [join(conv, 'segment-1.wav'), join(dir, 'dev-credentials.json'), join(dir, 'verbatim.db'), join(dir, 'listen.json')]) {
      assert.equal(octal(modeOf(p)), '0600', p);
    }
    assert.equal(octal(modeOf(join(dir, 'notes.txt'))), '0644', 'files verbatim does not own are left alone');
  } finally {
    await s.stop();
  }
});
