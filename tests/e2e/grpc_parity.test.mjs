// docs/grpc.md, "Same decisions as REST": one authorization engine behind two
// transports. For every action (recording start/stop/pause/resume/view/edit,
// conversation create/view/disconnect) and every kind of caller (right scopes
// and role, wrong scope, missing role, no token, ended conversation, unknown
// conversation), the REST call and the gRPC call give the same decision, the
// same REST-equivalent status, the same code, the same message and the same
// explanation (Explanation.json against the REST body's `explanation`, context
// ids aside).
//
// A denial changes nothing, so the gRPC call of a denied case goes to the very
// same conversation (identical explanations, resource included); an allowed
// case changes state, so its gRPC call goes to a twin conversation prepared the
// same way.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, token, api, adminToken, createClient, createConversation, loggedTest } from './lib/server.mjs';
import { grpcClients, bearer, unaryError, decodeStatusDetails, codeName } from './lib/grpc.mjs';

let srv;
const t = loggedTest(test, () => srv);
let admin;
let rpc; // gRPC clients; every call passes its own token
const tokens = {};
const compared = new Set(); // "status code" of every case compared, for the last test
const UNKNOWN = '0b7f3c1e-5d2a-4e8b-9c6f-1a2b3c4d5e6f';
const ALL_SCOPES = ['recording:control', 'recording:read', 'recording:write', 'conversation:read', 'conversation:write'];

// The status mapping of docs/grpc.md.
const GRPC_FOR_HTTP = { 400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 409: 'FAILED_PRECONDITION' };

before(async () => {
  srv = await startServer();
  admin = await adminToken(srv);
  const full = await createClient(srv, admin, { name: 'parity-full', allowedScopes: [...ALL_SCOPES, 'audit:read'], roles: ['System Administrator'] });
  const auditor = await createClient(srv, admin, { name: 'parity-auditor', allowedScopes: ALL_SCOPES, roles: ['Auditor'] });
  tokens.right = await token(srv.url, full.id, full.clientSecret, ALL_SCOPES.join(' '));
  tokens.wrongScope = await token(srv.url, full.id, full.clientSecret, 'audit:read');
  tokens.missingRole = await token(srv.url, auditor.id, auditor.clientSecret, ALL_SCOPES.join(' '));
  rpc = grpcClients(srv, undefined);
});

after(async () => {
  rpc?.close();
  await srv?.dispose();
});

const rec = (id) => `/api/v2/recordings/conversations/${id}`;
const PARTICIPANTS = [{ name: 'Parity Customer', purpose: 'customer' }];

// action → how each transport asks for it.
const ACTIONS = {
  'recording start': { rest: (id) => ['POST', `${rec(id)}/actions/start`], grpc: (id) => ['recordings', 'Start', { conversationId: id }] },
  'recording stop': { rest: (id) => ['POST', `${rec(id)}/actions/stop`], grpc: (id) => ['recordings', 'Stop', { conversationId: id }] },
  'recording pause': { rest: (id) => ['POST', `${rec(id)}/actions/pause`], grpc: (id) => ['recordings', 'Pause', { conversationId: id }] },
  'recording resume': { rest: (id) => ['POST', `${rec(id)}/actions/resume`], grpc: (id) => ['recordings', 'Resume', { conversationId: id }] },
  'recording view': { rest: (id) => ['GET', rec(id)], grpc: (id) => ['recordings', 'Get', { conversationId: id }] },
  'recording edit': {
    rest: (id) => ['PATCH', rec(id), { notes: 'parity' }],
    grpc: (id) => ['recordings', 'UpdateMetadata', { conversationId: id, metadata: { notes: 'parity' }, updateMask: { paths: ['notes'] } }],
  },
  'conversation create': {
    noConversation: true,
    rest: () => ['POST', '/api/v2/conversations', { participants: PARTICIPANTS }],
    grpc: () => ['conversations', 'Create', { participants: PARTICIPANTS }],
  },
  'conversation view': { rest: (id) => ['GET', `/api/v2/conversations/${id}`], grpc: (id) => ['conversations', 'Get', { conversationId: id }] },
  'conversation disconnect': {
    rest: (id) => ['POST', `/api/v2/conversations/${id}/disconnect`], grpc: (id) => ['conversations', 'Disconnect', { conversationId: id }],
  },
};

// caller → which token, on which conversation.
const CALLERS = {
  'right scopes and role': { token: 'right', conversation: 'fresh' },
  'wrong scope': { token: 'wrongScope', conversation: 'fresh' },
  'missing role': { token: 'missingRole', conversation: 'fresh' },
  'no token': { token: null, conversation: 'fresh' },
  'conversation ended': { token: 'right', conversation: 'ended' },
  'unknown conversation': { token: 'right', conversation: 'unknown' },
};

async function prepare(kind) {
  if (kind === 'unknown') return UNKNOWN;
  const id = await createConversation(srv, admin);
  if (kind === 'ended') {
    const r = await api(srv.url, 'POST', `/api/v2/conversations/${id}/disconnect`, { token: admin });
    assert.equal(r.status, 200, r.text);
  }
  return id;
}

/** Removes every contextId (the one thing that differs between two calls) from a JSON value. */
function withoutContextIds(v) {
  if (Array.isArray(v)) return v.map(withoutContextIds);
  if (v && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'contextId' && k !== 'context_id').map(([k, x]) => [k, withoutContextIds(x)]));
  }
  return v;
}

for (const [actionName, action] of Object.entries(ACTIONS)) {
  for (const [callerName, caller] of Object.entries(CALLERS)) {
    if (action.noConversation && caller.conversation !== 'fresh') continue; // create has no conversation to be ended or unknown
    t(`${actionName} × ${callerName}: REST and gRPC decide alike`, async () => {
      const tok = caller.token === null ? undefined : tokens[caller.token];
      const id = action.noConversation ? null : await prepare(caller.conversation);
      const [method, path, body] = action.rest(id);
      const rest = await api(srv.url, method, path, { token: tok, body });
      const restAllowed = rest.status >= 200 && rest.status < 300;
      // An allowed REST call changed state: ask gRPC on a twin prepared the same way.
      const gid = restAllowed && !action.noConversation ? await prepare(caller.conversation) : id;
      const [service, rpcName, request] = action.grpc(gid);
      const { response, error } = await unaryError(rpc.raw[service], rpcName, request, { metadata: bearer(tok) });
      const where = `${actionName} × ${callerName}: REST ${rest.status} ${rest.json?.code ?? ''}, gRPC ${error ? `${codeName(error.code)} ${error.details}` : 'OK'}`;

      if (restAllowed) {
        compared.add('allowed');
        assert.equal(error, null, `${where}: REST allowed it, gRPC must too`);
        if ('state' in (rest.json ?? {})) assert.equal(response.state, rest.json.state, `${where}: same resulting state`);
        if ('changed' in (rest.json ?? {})) assert.equal(response.changed, rest.json.changed, `${where}: same changed`);
        return;
      }
      assert.ok(error, `${where}: REST denied it, gRPC must too`);
      compared.add(`${rest.status} ${rest.json?.code}`);
      assert.equal(codeName(error.code), GRPC_FOR_HTTP[rest.status], `${where}: the status mapping of docs/grpc.md`);
      const st = decodeStatusDetails(error);
      assert.ok(st?.details?.Explanation, `${where}: Explanation detail`);
      const ex = st.details.Explanation;
      assert.equal(ex.httpStatus, rest.status, `${where}: Explanation.http_status`);
      assert.equal(ex.code, rest.json.code, `${where}: code`);
      assert.equal(st.details.ErrorInfo?.metadata?.code, rest.json.code, `${where}: ErrorInfo.metadata.code`);
      assert.equal(error.details, rest.json.message, `${where}: grpc-message = REST message`);
      assert.equal(ex.decision, rest.json.explanation.decision, where);
      assert.deepEqual(ex.layers.map((l) => [l.layer, l.result, l.code]),
        rest.json.explanation.layers.map((l) => [l.layer, l.result, l.code ?? '']), `${where}: layers`);
      assert.deepEqual(ex.fix, rest.json.explanation.fix, `${where}: fix`);
      assert.deepEqual(withoutContextIds(JSON.parse(ex.json)), withoutContextIds(rest.json.explanation),
        `${where}: Explanation.json = the REST explanation`);
    });
  }
}

t('the table compared every kind of outcome, not only successes', () => {
  for (const outcome of ['allowed', '401 token.missing', '403 missing.scope', '403 missing.permission', '404 conversation.not.found',
    '409 conversation.ended', '409 recording.invalid.transition']) {
    assert.ok(compared.has(outcome), `no case compared ${outcome}; compared: ${[...compared].join(', ')}`);
  }
});
