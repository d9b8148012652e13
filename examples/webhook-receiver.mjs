// A webhook receiver (docs/webhooks.md): verifies verbatim's Standard Webhooks
// signature and prints one line per event. Node.js 20, no packages.
//   SECRET=whsec_… PORT=8000 node examples/webhook-receiver.mjs
import { createServer } from 'node:http';
import { createHmac, timingSafeEqual } from 'node:crypto';

const key = Buffer.from(process.env.SECRET.slice(6), 'base64');  // the bytes after "whsec_"
const seen = new Set();  // webhook-ids already handled: a retry repeats the id

createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; }).on('end', () => {
    const { 'webhook-id': id, 'webhook-timestamp': ts, 'webhook-signature': sigs = '' } = req.headers;
    const mac = createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest();
    const ok = sigs.split(' ').some((s) => {
      const b = Buffer.from(s.slice(3), 'base64');  // after "v1,"
      return b.length === mac.length && timingSafeEqual(b, mac);
    });
    if (!ok || Math.abs(Date.now() / 1000 - Number(ts)) > 300) return res.writeHead(400).end();
    if (!seen.has(id)) {
      seen.add(id);
      const event = JSON.parse(body);
      console.log(`${event.type} ${event.data.subject.type} ${event.data.subject.id} (${id})`);
    }
    res.writeHead(204).end();
  });
}).listen(Number(process.env.PORT ?? 8000), '127.0.0.1', () => console.log('listening'));
