// A webhook receiver for the tests (docs/webhooks.md): a plain node:http
// server on loopback that records every delivery, verifies its Standard
// Webhooks signature with the secret it is given, and answers as the test
// says (a status per request, or holding the request unanswered).
import { createServer } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks verification, as an integrator writes it:
 * HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<body>" with the bytes of
 * the secret after "whsec_"; the header holds space-separated "v1,<base64>".
 */
export function verifyWebhook(secret, headers, body, { toleranceSeconds = 300, now = Date.now() / 1000 } = {}) {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (!id || !timestamp || !signatures) return false;
  if (Math.abs(now - Number(timestamp)) > toleranceSeconds) return false;
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  return signatures.split(' ').some((s) => {
    const [version, sig] = s.split(',');
    const got = Buffer.from(sig ?? '', 'base64');
    return version === 'v1' && got.length === expected.length && timingSafeEqual(got, expected);
  });
}

/**
 * Starts a receiver. `respond(delivery)` returns the status to answer with, or
 * 'hold' to leave the request open (closed by release()). Resolves to
 * {url, deliveries, waitFor(pred), release(), close()}; each delivery is
 * {id, timestamp, signature, headers, body, json, answered}.
 */
export async function startReceiver({ respond = () => 204 } = {}) {
  const deliveries = [];
  const held = new Set();
  const waiters = [];
  const wake = () => {
    for (const w of [...waiters]) {
      const v = w.pred(deliveries);
      if (v) {
        waiters.splice(waiters.indexOf(w), 1);
        clearTimeout(w.timer);
        w.resolve(v);
      }
    }
  };
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const d = {
        id: req.headers['webhook-id'],
        timestamp: req.headers['webhook-timestamp'],
        signature: req.headers['webhook-signature'],
        method: req.method,
        path: req.url,
        headers: req.headers,
        body,
        json: (() => { try { return JSON.parse(body); } catch { return null; } })(),
        answered: null,
      };
      const answer = respond(d);
      if (answer === 'hold') {
        held.add(res);
      } else if (typeof answer === 'object') {  // {status, headers, body}
        d.answered = answer.status;
        res.writeHead(answer.status, answer.headers ?? {}).end(answer.body ?? '');
      } else {
        d.answered = answer;
        res.writeHead(answer).end();
      }
      deliveries.push(d);
      wake();
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    deliveries,
    /** Resolves with pred(deliveries) once truthy (checked on every delivery). */
    waitFor(pred, { timeoutMs = 30_000, what = 'deliveries' } = {}) {
      const v = pred(deliveries);
      if (v) return Promise.resolve(v);
      return new Promise((resolve, reject) => {
        const w = { pred, resolve };
        w.timer = setTimeout(() => {
          waiters.splice(waiters.indexOf(w), 1);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; got ${deliveries.length}: ` +
            JSON.stringify(deliveries.map((d) => [d.id, d.json?.type, d.answered]))));
        }, timeoutMs);
        waiters.push(w);
      });
    },
    /** Drops every held request (the sender sees the connection close). */
    release() {
      for (const res of held) res.destroy();
      held.clear();
    },
    close() {
      for (const res of held) res.destroy();
      server.closeAllConnections?.();
      return new Promise((resolve) => server.close(resolve));
    },
  };
}
