// A minimal RFC 6455 WebSocket client over node:net, because Node 20 has no
// built-in WebSocket client and the e2e suite uses no npm packages.
//
//   const r = await connectWs('ws://127.0.0.1:8080/path', { headers });
//   const r = await connectWs('wss://127.0.0.1:8443/path', { headers, ca });  // TLS, trusting `ca` (PEM)
//   r.status === 101 → r.ws: sendText, sendBinary, next(), onMessage(fn), close(), closed
//   otherwise        → r.status, r.headers.get(name), r.text, r.json (the HTTP refusal)
//
// Client frames are masked (§5.3); server pings are answered; fragmented
// messages are reassembled; a close frame is echoed. Not for production use.
import net from 'node:net';
import tls from 'node:tls';
import { createHash, randomBytes } from 'node:crypto';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const MAX_MESSAGE = 16 << 20;

/** Encodes one client frame: FIN set, masked. */
function frame(opcode, payload) {
  const len = payload.length;
  const head = len < 126 ? 2 : len < 65536 ? 4 : 10;
  const out = Buffer.alloc(head + 4 + len);
  out[0] = 0x80 | opcode;
  if (len < 126) {
    out[1] = 0x80 | len;
  } else if (len < 65536) {
    out[1] = 0x80 | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = 0x80 | 127;
    out.writeBigUInt64BE(BigInt(len), 2);
  }
  const mask = randomBytes(4);
  mask.copy(out, head);
  for (let i = 0; i < len; i++) out[head + 4 + i] = payload[i] ^ mask[i & 3];
  return out;
}

class WebSocketClient {
  constructor(socket, rest) {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    this.queue = [];      // messages nobody has asked for yet
    this.waiters = [];    // pending next() calls
    this.listener = null; // onMessage() callback, replaces the queue
    this.fragments = null;
    this.sentClose = false;
    this.closeInfo = null;
    this.closed = new Promise((resolve) => { this.resolveClosed = resolve; });
    socket.on('data', (d) => this.onData(d));
    socket.on('close', () => this.finish({ code: this.closeInfo?.code ?? 1006, reason: this.closeInfo?.reason ?? 'socket closed' }));
    socket.on('error', () => { /* 'close' follows */ });
    if (rest.length) this.onData(rest);
  }

  sendText(text) { this.write(frame(0x1, Buffer.from(text, 'utf8'))); }
  sendBinary(bytes) { this.write(frame(0x2, Buffer.from(bytes))); }
  sendJson(obj) { this.sendText(JSON.stringify(obj)); }

  /** Starts the close handshake and resolves when the socket is closed. */
  close(code = 1000, reason = '') {
    if (!this.sentClose && !this.socket.destroyed) {
      this.sentClose = true;
      const p = Buffer.alloc(2 + Buffer.byteLength(reason));
      p.writeUInt16BE(code, 0);
      p.write(reason, 2);
      this.write(frame(0x8, p));
    }
    return this.closed;
  }

  /** Delivers every later message to fn instead of queueing it (null: queue again). */
  onMessage(fn) {
    this.listener = fn;
    if (fn) while (this.queue.length) fn(this.queue.shift());
  }

  /** The next message: {type: 'text', data: string, json} | {type: 'binary', data} | {type: 'close', code, reason}. */
  next({ timeoutMs = 10_000 } = {}) {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    return new Promise((resolve, reject) => {
      const w = { resolve, timer: setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`no WebSocket message within ${timeoutMs} ms`));
      }, timeoutMs) };
      this.waiters.push(w);
    });
  }

  write(buf) {
    if (!this.socket.destroyed) this.socket.write(buf);
  }

  deliver(msg) {
    if (this.listener && msg.type !== 'close') return this.listener(msg);
    const w = this.waiters.shift();
    if (w) {
      clearTimeout(w.timer);
      w.resolve(msg);
    } else {
      this.queue.push(msg);
    }
  }

  finish(info) {
    if (this.done) return;
    this.done = true;
    this.deliver({ type: 'close', ...info });
    // Anyone still waiting learns that nothing more will come.
    for (const w of this.waiters.splice(0)) {
      clearTimeout(w.timer);
      w.resolve({ type: 'close', ...info });
    }
    this.resolveClosed(info);
  }

  onData(d) {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.buf.length < 2) return;
      const b0 = this.buf[0], b1 = this.buf[1];
      let len = b1 & 0x7f, off = 2;
      if (b1 & 0x80) return this.socket.destroy(new Error('server frames must not be masked'));
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        off = 10;
      }
      if (len > MAX_MESSAGE) return this.socket.destroy(new Error('frame too large'));
      if (this.buf.length < off + len) return;
      const payload = this.buf.subarray(off, off + len);
      this.buf = this.buf.subarray(off + len);
      this.onFrame(b0 & 0x80, b0 & 0x0f, Buffer.from(payload));
    }
  }

  onFrame(fin, opcode, payload) {
    if (opcode === 0x9) return this.write(frame(0xA, payload));  // ping → pong
    if (opcode === 0xA) return;
    if (opcode === 0x8) {
      const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
      this.closeInfo = { code, reason: payload.subarray(2).toString('utf8') };
      if (!this.sentClose) {
        this.sentClose = true;
        this.write(frame(0x8, payload.subarray(0, 2)));
      }
      this.socket.end();
      return;
    }
    if (opcode === 0x1 || opcode === 0x2) this.fragments = { opcode, parts: [payload] };
    else if (opcode === 0x0 && this.fragments) this.fragments.parts.push(payload);
    else return this.socket.destroy(new Error(`unexpected opcode ${opcode}`));
    if (!fin) return;
    const data = Buffer.concat(this.fragments.parts);
    const type = this.fragments.opcode === 0x1 ? 'text' : 'binary';
    this.fragments = null;
    if (type === 'text') {
      const text = data.toString('utf8');
      let json = null;
      try { json = JSON.parse(text); } catch { json = null; }
      this.deliver({ type, data: text, json });
    } else {
      this.deliver({ type, data });
    }
  }
}

/** Opens a WebSocket (ws: or wss:); resolves {status: 101, ws} or the HTTP refusal {status, headers, text, json}. */
export function connectWs(url, { headers = {}, timeoutMs = 10_000, ca } = {}) {
  const u = new URL(url);
  const key = randomBytes(16).toString('base64');
  const lines = [`GET ${u.pathname}${u.search} HTTP/1.1`, `Host: ${u.host}`, 'Upgrade: websocket', 'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13',
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`), '', ''];
  return new Promise((resolve, reject) => {
    const socket = u.protocol === 'wss:'
      ? tls.connect({ host: u.hostname, port: Number(u.port || 443), ca, ALPNProtocols: ['http/1.1'],
        servername: net.isIP(u.hostname) ? undefined : u.hostname })
      : net.connect({ host: u.hostname, port: Number(u.port || 80) });
    let head = Buffer.alloc(0);
    let response = null;  // a refusal: collect its body
    const timer = setTimeout(() => socket.destroy(new Error(`no handshake answer within ${timeoutMs} ms`)), timeoutMs);
    const onData = (d) => {
      if (response) {
        response.body = Buffer.concat([response.body, d]);
        if (response.length !== null && response.body.length >= response.length) socket.end();
        return;
      }
      head = Buffer.concat([head, d]);
      const sep = head.indexOf('\r\n\r\n');
      if (sep < 0) return;
      const [statusLine, ...fields] = head.subarray(0, sep).toString('latin1').split('\r\n');
      const status = Number(statusLine.split(' ')[1]);
      const map = new Map(fields.map((l) => [l.slice(0, l.indexOf(':')).trim().toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      const rest = head.subarray(sep + 4);
      if (status === 101) {
        clearTimeout(timer);
        socket.off('data', onData);
        socket.off('close', onClose);
        const expected = createHash('sha1').update(key + GUID).digest('base64');
        if (map.get('sec-websocket-accept') !== expected) {
          socket.destroy();
          return reject(new Error('bad Sec-WebSocket-Accept'));
        }
        return resolve({ status, headers: { get: (k) => map.get(k.toLowerCase()) ?? null }, ws: new WebSocketClient(socket, rest) });
      }
      const length = map.has('content-length') ? Number(map.get('content-length')) : null;
      response = { status, map, length, body: rest };
      if (length !== null && rest.length >= length) socket.end();
    };
    const onClose = () => {
      clearTimeout(timer);
      if (!response) return reject(new Error(`connection closed during the handshake: ${JSON.stringify(head.toString('latin1').slice(0, 200))}`));
      const text = response.body.toString('utf8');
      let json = null;
      try { json = JSON.parse(text); } catch { json = null; }
      resolve({ status: response.status, headers: { get: (k) => response.map.get(k.toLowerCase()) ?? null }, text, json });
    };
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', () => { /* 'close' follows */ });
    socket.write(lines.join('\r\n'));
  });
}
