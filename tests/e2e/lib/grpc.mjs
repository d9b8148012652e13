// gRPC side of the end-to-end harness (docs/grpc.md): clients of a server
// started by startServer() (lib/server.mjs), promise-returning calls, the
// decoded `grpc-status-details-bin` trailer, and Watch stream collection.
//
// Messages use proto-loader's camelCase field names (keepCase: false), the
// same spelling as the REST JSON bodies (conversationId, allowedActions), with
// int64 as strings and enums as their names. Needs `npm ci` at the repo root
// (scripts/deps.sh does it).
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import grpc from '@grpc/grpc-js';
import protoLoader from '@grpc/proto-loader';

const require = createRequire(import.meta.url);
// protobufjs as proto-loader resolves it (its own dependency), for the
// messages carried inside google.protobuf.Any.
const protobuf = createRequire(require.resolve('@grpc/proto-loader'))('protobufjs');

export { grpc };
export const { status: Code } = grpc;

/** The repo's proto dir (verbatim/v1, google/rpc) and the tests' own (health, reflection). */
export const PROTO_DIR = fileURLToPath(new URL('../../../proto', import.meta.url));
export const TEST_PROTO_DIR = fileURLToPath(new URL('./proto', import.meta.url));
const INCLUDE_DIRS = [PROTO_DIR, TEST_PROTO_DIR];

export const LOADER_OPTIONS = {
  keepCase: false, longs: String, enums: String, defaults: true, oneofs: true, includeDirs: INCLUDE_DIRS,
};
const TO_OBJECT = { longs: String, enums: String, defaults: true, oneofs: true, arrays: true, objects: true };

const definition = protoLoader.loadSync([
  'verbatim/v1/verbatim.proto',
  'grpc/health/v1/health.proto',
  'grpc/reflection/v1alpha/reflection.proto',
], LOADER_OPTIONS);
export const proto = grpc.loadPackageDefinition(definition);

// One protobufjs root with every message a status detail or a reflection
// answer may carry; google/protobuf/*.proto come bundled with protobufjs.
const root = new protobuf.Root();
root.resolvePath = (origin, target) => {
  for (const dir of INCLUDE_DIRS) {
    const p = join(dir, target);
    if (existsSync(p)) return p;
  }
  return target; // bundled (google/protobuf/any.proto, …)
};
root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto', 'verbatim/v1/verbatim.proto',
  'grpc/reflection/v1alpha/reflection.proto'], { keepCase: false });
root.resolveAll();

/** Decodes `bytes` as the message type `fullName` (e.g. 'google.rpc.ErrorInfo') into a plain object. */
export function decodeMessage(fullName, bytes) {
  const T = root.lookupType(fullName);
  return T.toObject(T.decode(bytes), TO_OBJECT);
}

/** Encodes a plain object (camelCase fields) as the message type `fullName`. */
export function encodeMessage(fullName, obj) {
  const T = root.lookupType(fullName);
  const err = T.verify(obj);
  if (err) throw new Error(`${fullName}: ${err}`);
  return Buffer.from(T.encode(T.fromObject(obj)).finish());
}

/** Channel credentials for `srv`: TLS with the harness's test CA when the server has --tls-cert, else plaintext. */
export function channelCredentials(srv) {
  return srv.tls ? grpc.credentials.createSsl(Buffer.from(srv.tls.pem)) : grpc.credentials.createInsecure();
}

/** `authorization: Bearer <tok>` call metadata; no token → empty metadata. */
export function bearer(tok) {
  const md = new grpc.Metadata();
  if (tok !== undefined && tok !== null) md.set('authorization', `Bearer ${tok}`);
  return md;
}

const DEADLINE_MS = 15_000;

/**
 * One unary call: resolves {response, metadata (initial), trailers}, or
 * rejects with grpc-js's ServiceError ({code, details, metadata}).
 */
export function unary(client, method, request, { metadata = new grpc.Metadata(), deadlineMs = DEADLINE_MS } = {}) {
  return new Promise((resolve, reject) => {
    let headers = null;
    let trailers = null;
    let result = null;
    const finish = () => {
      if (result && trailers) resolve({ ...result, metadata: headers, trailers });
    };
    const call = client[method](request, metadata, { deadline: Date.now() + deadlineMs }, (err, response) => {
      if (err) return reject(err);
      result = { response };
      finish();
    });
    call.on('metadata', (m) => { headers = m; });
    call.on('status', (s) => { trailers = s.metadata; finish(); });
  });
}

/** Like unary() but resolves {error} instead of rejecting (for tests that expect a denial). */
export async function unaryError(client, method, request, opts) {
  try {
    const r = await unary(client, method, request, opts);
    return { response: r.response, error: null };
  } catch (error) {
    return { response: null, error };
  }
}

function serviceClient(Ctor, srv, options) {
  if (!srv.listen?.grpc) throw new Error(`the server has no gRPC listener (listen.json: ${JSON.stringify(srv.listen)})`);
  return new Ctor(srv.listen.grpc, channelCredentials(srv), options);
}

/**
 * Clients of every service of `srv`, calling with `tok` unless a call passes
 * its own {token} (null = no authorization metadata). Each service object has
 * one async method per RPC name (`c.recordings.Start({conversationId})` →
 * {response, metadata, trailers}; a server stream returns the call object),
 * plus `.raw`, the grpc-js client (also `c.raw.<service>`). `options` are channel options (e.g.
 * {'grpc.use_local_subchannel_pool': 1} for a connection of its own).
 */
export function grpcClients(srv, tok, options = {}) {
  const v1 = proto.verbatim.v1;
  const raw = {
    recordings: serviceClient(v1.Recordings, srv, options),
    conversations: serviceClient(v1.Conversations, srv, options),
    authorization: serviceClient(v1.Authorization, srv, options),
    health: serviceClient(proto.grpc.health.v1.Health, srv, options),
    reflection: serviceClient(proto.grpc.reflection.v1alpha.ServerReflection, srv, options),
  };
  const wrap = (client) => {
    const out = { raw: client };
    for (const [name, def] of Object.entries(client.constructor.service)) {
      out[name] = (request = {}, { token: callTok = tok, ...opts } = {}) => {
        const metadata = bearer(callTok);
        if (def.responseStream && !def.requestStream) {
          return client[name](request, metadata, { deadline: Date.now() + (opts.deadlineMs ?? 60_000) });
        }
        if (def.requestStream) return client[name](metadata);
        return unary(client, name, request, { metadata, ...opts });
      };
    }
    return out;
  };
  const c = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, wrap(v)]));
  c.raw = raw;
  c.close = () => { for (const v of Object.values(raw)) v.close(); };
  return c;
}

// ------------------------------------------------------------ status details

/** 'type.googleapis.com/google.rpc.ErrorInfo' → 'ErrorInfo'. */
const shortName = (typeUrl) => typeUrl.slice(typeUrl.lastIndexOf('/') + 1).split('.').pop();

/**
 * The google.rpc.Status of a failed call (its `grpc-status-details-bin`
 * trailer): {code, message, typeUrls, details: {ErrorInfo, RequestInfo, Help,
 * RetryInfo, BadRequest, PreconditionFailure, Explanation, …}}, each detail
 * decoded; a detail of a type this harness does not know is kept as
 * {typeUrl, bytes}. Explanation also gets `parsedJson` (its `json`, parsed).
 * Returns null when the trailer is absent.
 */
export function decodeStatusDetails(err) {
  const values = err?.metadata?.get('grpc-status-details-bin') ?? [];
  if (values.length === 0) return null;
  const bin = Buffer.isBuffer(values[0]) ? values[0] : Buffer.from(values[0], 'base64');
  const st = root.lookupType('google.rpc.Status').decode(bin);
  const details = {};
  const typeUrls = [];
  for (const any of st.details) {
    // protobufjs's bundled any.proto keeps the snake_case field name.
    const typeUrl = any.type_url ?? any.typeUrl;
    typeUrls.push(typeUrl);
    const name = typeUrl.slice(typeUrl.lastIndexOf('/') + 1);
    const key = shortName(typeUrl);
    let value;
    try {
      value = decodeMessage(name, any.value);
    } catch {
      value = { typeUrl, bytes: Buffer.from(any.value) };
    }
    if (key === 'Explanation' && typeof value.json === 'string' && value.json) value.parsedJson = JSON.parse(value.json);
    details[key] = value;
  }
  return { code: st.code, message: st.message, typeUrls, details };
}

/** The name of a gRPC status code: 7 → 'PERMISSION_DENIED'. */
export function codeName(code) {
  return Object.entries(grpc.status).find(([, v]) => v === code)?.[0] ?? String(code);
}

/** The explanation layers (Explanation detail) as {token, scope, permission, resource}, with facts parsed. */
export function grpcLayers(details) {
  const layers = details?.Explanation?.layers;
  if (!Array.isArray(layers)) throw new Error(`no Explanation layers in ${JSON.stringify(details)}`);
  return Object.fromEntries(layers.map((l) => [l.layer, { ...l, facts: l.factsJson ? JSON.parse(l.factsJson) : {} }]));
}

// ------------------------------------------------------------------ streams

/**
 * Collects a server stream's messages. `next(pred)` resolves with the events
 * so far once pred(events) is true, and rejects at the deadline or when the
 * stream ends first. `done` resolves with {status, error} when the stream ends
 * (error: the ServiceError of a non-OK end, for decodeStatusDetails).
 */
export function collectStream(call) {
  const events = [];
  const waiters = new Set();
  let end = null;
  let error = null;
  const check = () => {
    for (const w of waiters) {
      if (w.pred(events)) { waiters.delete(w); clearTimeout(w.timer); w.resolve(events); }
      else if (end) {
        waiters.delete(w); clearTimeout(w.timer);
        w.reject(new Error(`the stream ended (${codeName(end.code)} ${end.details}) before ${w.what}; events: ${JSON.stringify(events)}`));
      }
    }
  };
  call.on('data', (m) => { events.push(m); check(); });
  call.on('error', (e) => { error = e; });
  const done = new Promise((resolve) => {
    call.on('status', (s) => { end = s; check(); resolve({ status: s, error }); });
  });
  return {
    events,
    call,
    done,
    get ended() { return end; },
    next(pred, { deadlineMs = 10_000, what = 'the expected events' } = {}) {
      return new Promise((resolve, reject) => {
        const w = { pred, resolve, reject, what };
        w.timer = setTimeout(() => {
          waiters.delete(w);
          reject(new Error(`timed out after ${deadlineMs} ms waiting for ${what}; events: ${JSON.stringify(events)}`));
        }, deadlineMs);
        waiters.add(w);
        check();
      });
    },
  };
}

/** Asks the reflection service one question; resolves the ServerReflectionResponse. */
export function reflect(clients, request) {
  return new Promise((resolve, reject) => {
    const call = clients.reflection.ServerReflectionInfo();
    let answered = false;
    call.on('data', (m) => { answered = true; resolve(m); call.end(); });
    call.on('error', (e) => { if (!answered) reject(e); });
    call.on('status', (s) => { if (!answered) reject(new Error(`reflection ended without an answer: ${codeName(s.code)} ${s.details}`)); });
    call.write(request);
  });
}
