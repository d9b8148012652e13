// The webhook receiver of the "changes" figure (bench/run.sh changes_figure;
// docs/performance.md): a minimal HTTP server that answers every POST with 204
// and counts what it was sent. No signature check: the figure measures the
// server's cost of pushing, not a receiver's.
//
//   node bench/webhook_sink.mjs --port-file FILE
//
// GET /stats answers {"posts", "unique", "duplicates", "minId", "maxId", "kinds", "cpuSeconds"}:
// unique counts distinct webhook-id headers (a retry repeats its id), minId/maxId
// the change ids in the bodies (data.id). Listens on 127.0.0.1, port chosen by the
// system; the port is written to FILE once listening.
import { createServer } from 'node:http';
import { writeFileSync } from 'node:fs';

const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => {
  if (a.startsWith('--')) acc.push([a.slice(2), all[i + 1]]);
  return acc;
}, []));
if (!args['port-file']) {
  console.error('usage: node bench/webhook_sink.mjs --port-file FILE');
  process.exit(1);
}

const seen = new Set();
const stats = { posts: 0, unique: 0, duplicates: 0, minId: null, maxId: null, kinds: {}, badBodies: 0 };

const server = createServer((req, res) => {
  if (req.method === 'GET') {
    const u = process.cpuUsage();
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return res.end(JSON.stringify({ ...stats, cpuSeconds: (u.user + u.system) / 1e6 }));
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    stats.posts++;
    const id = req.headers['webhook-id'] ?? '';
    if (seen.has(id)) {
      stats.duplicates++;
    } else {
      seen.add(id);
      stats.unique++;
      try {
        const { data } = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        stats.kinds[data.kind] = (stats.kinds[data.kind] ?? 0) + 1;
        if (stats.minId === null || data.id < stats.minId) stats.minId = data.id;
        if (stats.maxId === null || data.id > stats.maxId) stats.maxId = data.id;
      } catch {
        stats.badBodies++;
      }
    }
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => writeFileSync(args['port-file'], String(server.address().port)));
for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
