// Connection caps (--max-connections, --max-connections-per-ip): a client
// address that holds its share of connections gets a short 503
// connection.limit (Retry-After, the usual error body) for the next one, while
// other addresses still get in; past the total cap everybody does; a closed
// connection frees its place; every refusal is in /metrics. On Linux every
// 127.x.y.z is local, so each "client" connects from its own address.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { startServer, assertErrorBody, loggedTest, waitFor } from './lib/server.mjs';

let srv;
const t = loggedTest(test, () => srv);
const PER_IP = 2;
const TOTAL = 5;

before(async () => {
  srv = await startServer({
    extraArgs: ['--max-connections', String(TOTAL), '--max-connections-per-ip', String(PER_IP)],
  });
});
after(async () => { await srv?.dispose(); });

async function scrape() {
  const text = await fetch(`${srv.metricsUrl}/metrics`).then((r) => r.text());
  const value = (series) => {
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line ? Number(line.slice(series.length + 1)) : 0;
  };
  return {
    open: value('verbatim_http_connections'),
    perAddress: value('verbatim_http_connections_refused_total{reason="per_address"}'),
    total: value('verbatim_http_connections_refused_total{reason="total"}'),
  };
}

/** A connection from `localAddress`, open once the TCP handshake is done (so connections queue in order). */
function connect(localAddress) {
  const { hostname, port } = new URL(srv.url);
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: hostname, port: Number(port), localAddress }, () => resolve(sock));
    sock.once('error', reject);
  });
}

/** Sends GET `path` on `sock` and reads one response: {status, headers.get, json, text}. */
function exchange(sock, path) {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (why) => {
      sock.off('data', onData);
      sock.off('close', onClose);
      const raw = buf.toString('utf8');
      const sep = raw.indexOf('\r\n\r\n');
      if (sep < 0) return reject(new Error(`no response (${why}): ${JSON.stringify(raw.slice(0, 200))}`));
      const lines = raw.slice(0, sep).split('\r\n');
      const map = new Map(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const text = raw.slice(sep + 4);
      let json = null;
      try { json = JSON.parse(text); } catch { json = null; }
      resolve({ status: Number(lines[0].split(' ')[1]), headers: { get: (k) => map.get(k.toLowerCase()) ?? null }, json, text });
    };
    const onData = (d) => {
      buf = Buffer.concat([buf, d]);
      const raw = buf.toString('utf8');
      const sep = raw.indexOf('\r\n\r\n');
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(raw.slice(0, sep));
      if (sep >= 0 && m && Buffer.byteLength(raw.slice(sep + 4)) >= Number(m[1])) done('complete');
    };
    const onClose = () => done('closed');
    sock.on('data', onData);
    sock.on('close', onClose);
    sock.write(`GET ${path} HTTP/1.1\r\nHost: ${new URL(srv.url).host}\r\n\r\n`);
  });
}

t('per address, then in total: a 503 connection.limit that says why; closing frees a place', async () => {
  await waitFor(async () => (await scrape()).open === 0, { what: 'no open connection before the test' });
  const before = await scrape();
  const held = [];
  for (let i = 0; i < PER_IP; i++) held.push(await connect('127.0.0.10'));
  const over = await connect('127.0.0.10');
  const refused = await exchange(over, '/healthz');
  const body = assertErrorBody(refused, 503, 'connection.limit');
  assert.match(body.message, new RegExp(`${PER_IP} open connections per client address`));
  assert.match(refused.headers.get('retry-after') ?? '', /^[1-9]\d*$/);
  assert.ok(body.explanation.fix.length >= 1);
  over.destroy();

  // Other addresses still get in, up to the total.
  for (const ip of ['127.0.0.11', '127.0.0.12', '127.0.0.13']) held.push(await connect(ip));
  for (const s of held) assert.equal((await exchange(s, '/healthz')).status, 200, 'held connections are served');
  const full = await connect('127.0.0.14');
  const totalRefusal = assertErrorBody(await exchange(full, '/healthz'), 503, 'connection.limit');
  assert.match(totalRefusal.message, new RegExp(`${TOTAL} open connections in total`));
  full.destroy();

  let m = await scrape();
  assert.equal(m.open, TOTAL);
  assert.equal(m.perAddress - before.perAddress, 1);
  assert.equal(m.total - before.total, 1);

  // A connection that goes gives its place back.
  held.shift().destroy();
  await waitFor(async () => (await scrape()).open === TOTAL - 1, { what: 'the closed connection to be released' });
  const again = await connect('127.0.0.14');
  assert.equal((await exchange(again, '/healthz')).status, 200);
  for (const s of [...held, again]) s.destroy();
  await waitFor(async () => (await scrape()).open === 0, { what: 'every connection released' });
  m = await scrape();
  assert.equal(m.total - before.total, 1, 'no refusal once a place was free');
});
