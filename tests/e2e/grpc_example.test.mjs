// examples/grpc-client.mjs (docs/grpc.md, the Node example) runs against a
// fresh dev server, twice (it must be repeatable on the same server), prints
// each denial decoded (gRPC status, ErrorInfo reason, fix) and exits 0.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, loggedTest, tempDir } from './lib/server.mjs';

const script = fileURLToPath(new URL('../../examples/grpc-client.mjs', import.meta.url));
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

t('examples/grpc-client.mjs walks the story over gRPC against a live server and exits 0', async () => {
  for (const args of [['--data-dir', srv.dataDir], ['--server', srv.url, '--grpc', srv.listen.grpc, '--data-dir', srv.dataDir]]) {
    const r = await run(args);
    assert.equal(r.code, 0, `exit code ${r.code}\n${r.stdout}\n${r.stderr}`);
    for (let step = 1; step <= 7; step++) assert.match(r.stdout, new RegExp(`Step ${step} `), `prints step ${step}`);
    for (const text of ['PERMISSION_DENIED  MISSING_SCOPE', 'PERMISSION_DENIED  MISSING_PERMISSION',
      'FAILED_PRECONDITION  CONVERSATION_ENDED', 'UNAUTHENTICATED  TOKEN_MALFORMED', 'UNAUTHENTICATED  TOKEN_SIGNATURE',
      'UNAUTHENTICATED  TOKEN_REVOKED', 'UNAUTHENTICATED  TOKEN_MISSING', 'required scopes: recording:control',
      "fix: Request a new token with scope 'recording:control'", 'request_id: ', 'layers: token=pass  scope=fail']) {
      assert.ok(r.stdout.includes(text), `output shows ${text}:\n${r.stdout}`);
    }
    assert.ok(!r.stdout.includes('✘'), r.stdout);
    assert.match(r.stdout, /Every step behaved as docs\/grpc\.md says\./);
  }
});

t('examples/grpc-client.mjs exits 2 with a clear message: no credentials, no gRPC address, no server', async () => {
  const noCreds = await run(['--data-dir', '/nonexistent-verbatim-dir']);
  assert.equal(noCreds.code, 2);
  assert.match(noCreds.stderr, /dev-credentials\.json/);

  // Credentials but a listen.json without "grpc" (a server without a gRPC listener).
  const dir = tempDir('verbatim-grpc-example-');
  try {
    copyFileSync(join(srv.dataDir, 'dev-credentials.json'), join(dir, 'dev-credentials.json'));
    writeFileSync(join(dir, 'listen.json'), JSON.stringify({ http: new URL(srv.url).host }));
    const noGrpc = await run(['--data-dir', dir]);
    assert.equal(noGrpc.code, 2);
    assert.match(noGrpc.stderr, /no gRPC address/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }

  // A server that was there and is gone.
  const gone = await startServer();
  const { url } = gone;
  const grpcAddr = gone.listen.grpc;
  await gone.dispose();
  const noServer = await run(['--server', url, '--grpc', grpcAddr, '--data-dir', srv.dataDir]);
  assert.equal(noServer.code, 2);
  assert.match(noServer.stderr, /cannot reach/);
});
