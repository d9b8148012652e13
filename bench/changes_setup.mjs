// Inputs of the "changes" figure (bench/run.sh changes_figure; docs/performance.md),
// on a server that bench/setup.mjs has prepared (its controller client in
// OUT_DIR/peer-client.json, the dev admin in DATA_DIR/dev-credentials.json).
//
//   node bench/changes_setup.mjs prepare DATA_DIR OUT_DIR CONVERSATIONS
//       three fresh sets of CONVERSATIONS conversations (each ordered run starts
//       from state "none" on every key), written as start/pause/resume/stop
//       cycles like setup.mjs's transitions.jsonl: OUT_DIR/changes_{plain,observed,fanout}.jsonl;
//       and OUT_DIR/changes.json: {base, adminToken, token} for bench/sse_fanout.mjs
//       (token: the controller's recording:read recording:control token, which
//       drives the transitions and may view recording.* events).
//   node bench/changes_setup.mjs webhook-create OUT_DIR URL    prints the new webhook's id
//   node bench/changes_setup.mjs webhook-delete OUT_DIR ID
import { readFileSync, writeFileSync } from 'node:fs';
import { call, token, pool } from './api.mjs';

const [cmd, ...rest] = process.argv.slice(2);

if (cmd === 'prepare') {
  const [dataDir, outDir, nArg] = rest;
  const n = Number(nArg || 256);
  const base = 'http://' + JSON.parse(readFileSync(`${dataDir}/listen.json`, 'utf8')).http;
  const dev = JSON.parse(readFileSync(`${dataDir}/dev-credentials.json`, 'utf8'));
  const controller = JSON.parse(readFileSync(`${outDir}/peer-client.json`, 'utf8'));  // bench/setup.mjs
  const adminToken = await token(base, dev.admin.clientId, dev.admin.clientSecret);
  // Fresh, so that a long run of the other figures cannot let it expire mid-stream.
  const allowToken = await token(base, controller.clientId, controller.clientSecret, 'recording:read recording:control');
  const ids = await pool(Array.from({ length: 3 * n }), 8, async () => (await call(base, 'POST', '/api/v2/conversations', {
    token: adminToken, expect: 201,
    body: { participants: [{ name: 'Alice Customer', purpose: 'customer' }, { name: 'Bob Agent', purpose: 'agent' }] },
  })).id);
  const cycles = (set) => set.flatMap((id) => ['start', 'pause', 'resume', 'stop'].map((a) => JSON.stringify({
    method: 'POST', path: `/api/v2/recordings/conversations/${id}/actions/${a}`, key: id, expect: 200,
    headers: { Authorization: `Bearer ${allowToken}` },
  })).join('\n'));
  ['plain', 'observed', 'fanout'].forEach((name, i) =>
    writeFileSync(`${outDir}/changes_${name}.jsonl`, cycles(ids.slice(i * n, (i + 1) * n)).join('\n') + '\n'));
  writeFileSync(`${outDir}/changes.json`, JSON.stringify({ base, adminToken, token: allowToken }));
  console.log(`changes setup: 3 x ${n} cycle conversations in ${outDir}/changes_*.jsonl`);
} else if (cmd === 'webhook-create') {
  const [outDir, url] = rest;
  const { base, adminToken } = JSON.parse(readFileSync(`${outDir}/changes.json`, 'utf8'));
  const w = await call(base, 'POST', '/api/v2/webhooks', {
    token: adminToken, expect: 201, body: { url, kinds: ['recording.'], description: 'bench changes figure' },
  });
  console.log(w.id);
} else if (cmd === 'webhook-delete') {
  const [outDir, id] = rest;
  const { base, adminToken } = JSON.parse(readFileSync(`${outDir}/changes.json`, 'utf8'));
  const res = await fetch(`${base}/api/v2/webhooks/${id}`, { method: 'DELETE', headers: { Authorization: `Bearer ${adminToken}` } });
  if (res.status !== 204 && res.status !== 200) throw new Error(`DELETE webhook ${id}: ${res.status} ${await res.text()}`);
} else {
  console.error('usage: node bench/changes_setup.mjs prepare DATA_DIR OUT_DIR N | webhook-create OUT_DIR URL | webhook-delete OUT_DIR ID');
  process.exit(1);
}
