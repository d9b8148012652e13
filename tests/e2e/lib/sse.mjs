// A server-sent events client over Node's fetch (docs/changes.md "Events"):
// frames are parsed as the EventSource specification says (fields id, event,
// data; ':' lines are comments), and handed out in order.
import assert from 'node:assert/strict';

/**
 * Opens GET `path` on `url` with `token`; resolves once the response headers
 * arrived. `next()` resolves with the next frame: {id, event, data, json} or
 * {comment}; it rejects after `timeoutMs` without one.
 */
export async function openEvents(url, path, { token, lastEventId, timeoutMs = 10_000 } = {}) {
  const abort = new AbortController();
  const headers = { accept: 'text/event-stream' };
  if (token) headers.authorization = `Bearer ${token}`;
  if (lastEventId !== undefined) headers['last-event-id'] = String(lastEventId);
  const res = await fetch(url + path, { headers, signal: abort.signal });
  if (!res.ok) {
    const text = await res.text();
    let json = null;
    try { json = JSON.parse(text); } catch { json = null; }
    return { status: res.status, headers: res.headers, text, json, close() {} };
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const frames = [];
  let buffer = '';
  let ended = false;
  let frame = {};
  const parse = () => {
    let nl;
    while ((nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      if (line === '') {
        if (Object.keys(frame).length) frames.push(frame);
        frame = {};
      } else if (line.startsWith(':')) {
        frames.push({ comment: line.slice(1).trim() });
      } else {
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'data') frame.data = frame.data === undefined ? value : `${frame.data}\n${value}`;
        else frame[field] = value;
      }
    }
  };
  const pull = async () => {
    const { value, done } = await reader.read();
    if (done) { ended = true; return; }
    buffer += decoder.decode(value, { stream: true });
    parse();
  };
  const stream = {
    status: res.status,
    headers: res.headers,
    /** The next frame (events and comments alike), or null once the server closed the stream. */
    async nextFrame() {
      const deadline = Date.now() + timeoutMs;
      while (!frames.length && !ended) {
        const left = deadline - Date.now();
        assert.ok(left > 0, `no server-sent event within ${timeoutMs} ms`);
        let timer;
        await Promise.race([pull(), new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`no server-sent event within ${timeoutMs} ms`)), left); })])
          .finally(() => clearTimeout(timer));
      }
      const f = frames.shift() ?? null;
      if (f?.data !== undefined) {
        try { f.json = JSON.parse(f.data); } catch { f.json = undefined; }
      }
      return f;
    },
    /** The next event (comments and `retry` skipped). */
    async next() {
      for (;;) {
        const f = await stream.nextFrame();
        if (f === null || f.event !== undefined || f.id !== undefined) return f;
      }
    },
    close() { abort.abort(); },
  };
  return stream;
}
