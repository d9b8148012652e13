// examples/seed-scenario.mjs (the Node.js client of docs/api.md §10) runs against a
// fresh dev server, twice (it must be repeatable on the same server), and exits 0.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startServer, loggedTest } from './lib/server.mjs';

const script = fileURLToPath(new URL('../../examples/seed-scenario.mjs', import.meta.url));
let srv;
const t = loggedTest(test, () => srv);

before(async () => {
  srv = await startServer();
});

after(async () => {
  await srv?.dispose();
});

function run(args) {
  return new Promise((resolve) => {
    execFile(process.execPath, [script, ...args], { timeout: 60_000, env: { ...process.env, NO_COLOR: '1' } },
      (err, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr }));
  });
}

t('examples/seed-scenario.mjs walks docs/api.md §10 against a live server and exits 0', async () => {
  for (const args of [['--data-dir', srv.dataDir], ['--server', srv.url, '--data-dir', srv.dataDir]]) {
    const r = await run(args);
    assert.equal(r.code, 0, `exit code ${r.code}\n${r.stdout}\n${r.stderr}`);
    for (let step = 1; step <= 7; step++) assert.match(r.stdout, new RegExp(`Step ${step} `), `prints step ${step}`);
    for (const text of ['missing.scope', 'missing.permission', 'conversation.ended', 'token.malformed', 'token.signature',
      'WWW-Authenticate', 'fix:']) {
      assert.ok(r.stdout.includes(text), `output shows ${text}`);
    }
    assert.ok(!r.stdout.includes('✘'), r.stdout);
  }
});

t('examples/seed-scenario.mjs exits non-zero when there is no server or no credentials', async () => {
  const noCreds = await run(['--data-dir', '/nonexistent-verbatim-dir']);
  assert.notEqual(noCreds.code, 0);
  assert.match(noCreds.stderr, /dev-credentials\.json/);
  // A closed port: a server that was there and is gone.
  const gone = await startServer();
  const url = gone.url;
  await gone.dispose();
  const noServer = await run(['--server', url, '--data-dir', srv.dataDir]);
  assert.notEqual(noServer.code, 0);
  assert.match(noServer.stderr, /cannot reach/);
});
