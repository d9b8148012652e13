// Prepares a running `verbatim serve --dev` for the benchmark through its
// public API, then writes the loadgen request files.
//
//   node bench/setup.mjs DATA_DIR OUT_DIR [CONVERSATIONS]
//
// Creates two OAuth clients:
//   bench-controller: scopes recording:read recording:control conversation:read,
//                     role Recording Controller (may view and control recordings);
//   bench-noperm:     scope recording:read, role Conversation Control (no
//                     recording permission at all);
// gets three tokens (allowed; missing scope; missing permission), creates
// 2 x CONVERSATIONS conversations for the state-transition cycles (one set per
// ordered run) and 16 started ones for the reads, and writes OUT_DIR/*.jsonl
// (see loadgen.cc for the format), the peers' inputs (verify.json,
// get_body.json, peer-client.json) and the gRPC figure's (grpc.json).
import { readFileSync, writeFileSync } from 'node:fs';
import { basic, call as callAt, token as tokenAt, pool } from './api.mjs';

const [dataDir, outDir, convArg] = process.argv.slice(2);
if (!dataDir || !outDir) {
  console.error('usage: node bench/setup.mjs DATA_DIR OUT_DIR [CONVERSATIONS]');
  process.exit(1);
}
const nTransitionConvs = Number(convArg || 256);
const base = 'http://' + JSON.parse(readFileSync(`${dataDir}/listen.json`, 'utf8')).http;
const dev = JSON.parse(readFileSync(`${dataDir}/dev-credentials.json`, 'utf8'));
const call = (method, path, opts) => callAt(base, method, path, opts);
const token = (id, secret, scope) => tokenAt(base, id, secret, scope);

const admin = await token(dev.admin.clientId, dev.admin.clientSecret);
const controller = await call('POST', '/api/v2/oauth/clients', {
  token: admin, expect: 201,
  body: { name: 'bench-controller', allowedScopes: ['recording:read', 'recording:control', 'conversation:read'],
          roles: ['Recording Controller'] },
});
const noperm = await call('POST', '/api/v2/oauth/clients', {
  token: admin, expect: 201,
  body: { name: 'bench-noperm', allowedScopes: ['recording:read'], roles: ['Conversation Control'] },
});
const allowToken = await token(controller.id, controller.clientSecret, 'recording:read recording:control');
const noScopeToken = await token(controller.id, controller.clientSecret, 'conversation:read');
const noPermToken = await token(noperm.id, noperm.clientSecret, 'recording:read');

const newConversation = () => call('POST', '/api/v2/conversations', {
  token: admin, expect: 201,
  body: { participants: [{ name: 'Alice Customer', purpose: 'customer' }, { name: 'Bob Agent', purpose: 'agent' }] },
});
const recPath = (id) => `/api/v2/recordings/conversations/${id}`;
// Reads hit started recordings (one segment, one transition): the common case.
const readConvs = await pool(Array.from({ length: 16 }), 4, async () => {
  const c = await newConversation();
  await call('POST', `${recPath(c.id)}/actions/start`, { token: allowToken, expect: 200 });
  return c.id;
});
// Two disjoint sets: each ordered run starts from state "none" on every key.
const cycleConvs = await pool(Array.from({ length: 2 * nTransitionConvs }), 8, async () => (await newConversation()).id);

const line = (o) => JSON.stringify(o);
const getLines = (tok, expect) =>
  readConvs.map((id) => line({ method: 'GET', path: recPath(id), headers: { Authorization: `Bearer ${tok}` }, expect }));
const write = (name, lines) => writeFileSync(`${outDir}/${name}.jsonl`, lines.join('\n') + '\n');

// The hello-world baseline gets byte-identical requests (it ignores them).
write('hello', getLines(allowToken, 200));
write('get', getLines(allowToken, 200));
write('deny_scope', getLines(noScopeToken, 403));
write('deny_perm', getLines(noPermToken, 403));
write('token', [line({
  method: 'POST', path: '/oauth/token', expect: 200,
  headers: { Authorization: basic(controller.id, controller.clientSecret),
             'Content-Type': 'application/x-www-form-urlencoded' },
  body: 'grant_type=client_credentials&scope=recording%3Aread%20recording%3Acontrol',
})]);
// One key per conversation: start, pause, resume, stop, replayed cyclically in order.
const cycles = (ids) => ids.flatMap((id) => ['start', 'pause', 'resume', 'stop'].map((a) => line({
  method: 'POST', path: `${recPath(id)}/actions/${a}`, key: id, expect: 200,
  headers: { Authorization: `Bearer ${allowToken}` },
})));
write('transitions', cycles(cycleConvs.slice(0, nTransitionConvs)));
write('transitions_half', cycles(cycleConvs.slice(nTransitionConvs)));
// Peers (docs/performance.md "Peers"): the verify-only server checks the
// allowed GET's token against this server's published keys and answers with a
// body of the GET's size; oidc-provider gets the controller's credentials, so
// the grant requests above are byte-identical for both token endpoints.
const getJson = async (path) => (await fetch(base + path)).json();
const asMeta = await getJson('/.well-known/oauth-authorization-server');
const rsMeta = await getJson('/.well-known/oauth-protected-resource');
writeFileSync(`${outDir}/verify.json`, JSON.stringify({
  issuer: asMeta.issuer, audience: rsMeta.resource, jwks: await getJson('/.well-known/jwks.json'),
}));
const getRes = await fetch(base + recPath(readConvs[0]), { headers: { Authorization: `Bearer ${allowToken}` } });
if (getRes.status !== 200) throw new Error(`GET for the verify peer's body: ${getRes.status}`);
writeFileSync(`${outDir}/get_body.json`, await getRes.text());
// The gRPC figure (bench/grpc_load.cc): the allowed token and the same read conversations.
writeFileSync(`${outDir}/grpc.json`, JSON.stringify({ token: allowToken, conversationIds: readConvs }));
writeFileSync(`${outDir}/peer-client.json`, JSON.stringify({
  clientId: controller.id, clientSecret: controller.clientSecret, scope: controller.allowedScopes.join(' '),
}));
console.log(`setup: ${readConvs.length} read and ${cycleConvs.length} cycle conversations, templates in ${outDir}`);
