// A minimal SIP user agent client for the SIPREC e2e tests (the SRC side):
// UDP, TCP or TLS (node:tls: Debian's sipp is built without TLS), builds SIPREC INVITEs (multipart/mixed SDP + RFC 7865
// rs-metadata), re-INVITEs, ACK, BYE, OPTIONS, and sends raw bytes for the
// robustness tests. sipp drives the full real-client scenarios
// (tests/e2e/sipp/); this client is for the tests whose timing the Node
// process must control (control-API actions mid-call, kill -9, bad inputs).
//
// Node 20 built-ins only.
import dgram from 'node:dgram';
import net from 'node:net';
import tls from 'node:tls';
import { createHash, randomBytes, randomUUID } from 'node:crypto';

const CRLF = '\r\n';

export function token(n = 8) {
  return randomBytes(n).toString('hex');
}

/**
 * An SDP offer as an SRC sends it: one sendonly audio m= line per stream, with a=label.
 * A stream with `crypto` (a=crypto values, RFC 4568) is offered as RTP/SAVP (or `proto`).
 */
export function offerSdp({ streams, version = 1, direction, address = '127.0.0.1' }) {
  const lines = ['v=0', `o=SRC 2890844526 ${version} IN IP4 ${address}`, 's=SIPREC', `c=IN IP4 ${address}`, 't=0 0'];
  for (const s of streams) {
    const codecs = s.codecs ?? [{ pt: 0, name: 'PCMU', rate: 8000 }, { pt: 101, name: 'telephone-event', rate: 8000, fmtp: '0-16' }];
    const proto = s.proto ?? (s.crypto ? 'RTP/SAVP' : 'RTP/AVP');
    lines.push(`m=audio ${s.port ?? 12240} ${proto} ${codecs.map((c) => c.pt).join(' ')}`);
    for (const c of s.crypto ?? []) lines.push(`a=crypto:${c}`);
    for (const c of codecs) {
      lines.push(`a=rtpmap:${c.pt} ${c.name}/${c.rate}`);
      if (c.fmtp) lines.push(`a=fmtp:${c.pt} ${c.fmtp}`);
    }
    lines.push('a=ptime:20');
    lines.push(`a=${s.direction ?? direction ?? 'sendonly'}`);
    if (s.label !== undefined) lines.push(`a=label:${s.label}`);
  }
  return lines.join(CRLF) + CRLF;
}

/**
 * RFC 7865 recording metadata: one participant per stream, each sending the
 * stream with its label and receiving the others.
 * participants: [{ name, aor, label }]; conversationId: optional join hint.
 */
export function rsMetadata({ participants, conversationId, sessionId = token(8) }) {
  const ids = participants.map(() => randomBytes(12).toString('base64'));
  const streamIds = participants.map(() => randomBytes(12).toString('base64'));
  const x = ['<?xml version="1.0" encoding="UTF-8"?>', "<recording xmlns='urn:ietf:params:xml:ns:recording:1'>",
    '  <datamode>complete</datamode>'];
  if (conversationId) x.push(`  <conversationId>${conversationId}</conversationId>`);
  x.push(`  <session session_id="${sessionId}">`, `    <sipSessionID>${token(16)}</sipSessionID>`, '  </session>');
  participants.forEach((p, i) => {
    x.push(`  <participant participant_id="${ids[i]}">`, `    <nameID aor="${p.aor}">`, `      <name xml:lang="en">${p.name}</name>`,
      '    </nameID>', '  </participant>');
  });
  participants.forEach((p, i) => {
    x.push(`  <stream stream_id="${streamIds[i]}" session_id="${sessionId}">`, `    <label>${p.label}</label>`, '  </stream>');
  });
  participants.forEach((p, i) => {
    x.push(`  <participantstreamassoc participant_id="${ids[i]}">`, `    <send>${streamIds[i]}</send>`);
    streamIds.forEach((s, j) => { if (j !== i) x.push(`    <recv>${s}</recv>`); });
    x.push('  </participantstreamassoc>');
  });
  x.push('</recording>');
  return x.join(CRLF) + CRLF;
}

export function multipartBody(boundary, parts) {
  let out = '';
  for (const p of parts) {
    out += `--${boundary}${CRLF}Content-Type: ${p.type}${CRLF}`;
    if (p.disposition) out += `Content-Disposition: ${p.disposition}${CRLF}`;
    out += CRLF + p.body;
  }
  return out + `--${boundary}--${CRLF}`;
}

/** The SIPREC INVITE body: { contentType, body }. `address` is the offer's c= (where RTP comes from). */
export function siprecBody({ streams, participants, conversationId, version, address }) {
  const boundary = `verbatim-${token(6)}`;
  return {
    contentType: `multipart/mixed;boundary=${boundary}`,
    body: multipartBody(boundary, [
      { type: 'application/sdp', body: offerSdp({ streams, version, address }) },
      { type: 'application/rs-metadata+xml', disposition: 'recording-session', body: rsMetadata({ participants, conversationId }) },
    ]),
  };
}

/** Parses one SIP message (string); null if it is not one. */
export function parseSip(text) {
  const sep = text.indexOf('\r\n\r\n');
  const head = sep < 0 ? text : text.slice(0, sep);
  const lines = head.split('\r\n');
  const start = lines[0];
  const msg = { raw: text, headers: new Map(), body: sep < 0 ? '' : text.slice(sep + 4) };
  const m = /^SIP\/2\.0 (\d{3}) ?(.*)$/.exec(start);
  if (m) {
    msg.status = Number(m[1]);
    msg.reason = m[2];
  } else {
    const r = /^([A-Z]+) (\S+) SIP\/2\.0$/.exec(start);
    if (!r) return null;
    msg.method = r[1];
    msg.uri = r[2];
  }
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i <= 0) continue;
    const k = l.slice(0, i).trim().toLowerCase();
    const v = l.slice(i + 1).trim();
    if (!msg.headers.has(k)) msg.headers.set(k, []);
    msg.headers.get(k).push(v);
  }
  msg.header = (k) => msg.headers.get(k.toLowerCase())?.[0] ?? null;
  msg.cseq = msg.header('cseq');
  msg.callId = msg.header('call-id');
  return msg;
}

/** The audio ports of an SDP answer, in m= line order. */
export function answerPorts(sdp) {
  return [...sdp.matchAll(/^m=audio (\d+) /gm)].map((m) => Number(m[1]));
}

/**
 * A SIP UAC over one UDP socket or one TCP connection. Collects every message
 * it receives; next()/waitFor() take them in order (with deadlines).
 */
export class SipUac {
  /**
   * `localAddress`: the source address (127.0.0.x are all this host: another trunk, or a stranger).
   * `ca`: with transport 'tls', the PEM the server's certificate must chain to.
   */
  constructor({ transport = 'udp', host = '127.0.0.1', port, localAddress = '127.0.0.1', ca }) {
    this.ca = ca;
    this.transport = transport;
    this.host = host;
    this.port = port;
    this.localAddress = localAddress;
    this.inbox = [];
    this.waiters = [];
    this.closed = false;
    this.acked = new Set();  // "callId cseq" of 2xx we ACKed (retransmissions are re-ACKed and dropped)
    this.ackFor = new Map();
  }

  async open() {
    if (this.transport === 'udp') {
      this.sock = dgram.createSocket('udp4');
      this.sock.on('message', (b) => this.#deliver(b.toString('latin1')));
      this.sock.on('error', () => {});
      await new Promise((r) => this.sock.bind(0, this.localAddress, r));
      this.localPort = this.sock.address().port;
    } else {
      this.buffer = '';
      this.sock = this.transport === 'tls'
        ? tls.connect({ host: this.host, port: this.port, localAddress: this.localAddress, ca: this.ca, servername: 'localhost' })
        : net.connect({ host: this.host, port: this.port, localAddress: this.localAddress });
      this.closedPromise = new Promise((r) => this.sock.once('close', () => { this.closed = true; r(); this.#wake(); }));
      this.sock.on('error', () => {});
      this.sock.on('data', (d) => {
        this.buffer += d.toString('latin1');
        for (;;) {
          const sep = this.buffer.indexOf('\r\n\r\n');
          if (sep < 0) break;
          const m = /\r\n(?:content-length|l)\s*:\s*(\d+)/i.exec(this.buffer.slice(0, sep + 2));
          const len = m ? Number(m[1]) : 0;
          if (this.buffer.length < sep + 4 + len) break;
          this.#deliver(this.buffer.slice(0, sep + 4 + len));
          this.buffer = this.buffer.slice(sep + 4 + len);
        }
      });
      await new Promise((resolve, reject) => {
        this.sock.once(this.transport === 'tls' ? 'secureConnect' : 'connect', resolve);
        this.sock.once('error', reject);
      });
      this.localPort = this.sock.localPort;
    }
    return this;
  }

  close() {
    if (this.transport === 'udp') this.sock?.close();
    else this.sock?.destroy();
  }

  #deliver(text) {
    const msg = parseSip(text);
    if (!msg) return;
    if (msg.status >= 200 && msg.status < 300 && /INVITE$/.test(msg.cseq ?? '')) {
      const key = `${msg.callId} ${msg.cseq}`;
      if (this.acked.has(key)) {  // a 2xx retransmission: ACK again, do not surface it
        const ack = this.ackFor.get(key);
        if (ack) this.sendRaw(ack);
        return;
      }
    }
    this.inbox.push(msg);
    this.#wake();
  }

  #wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  sendRaw(bytes) {
    const b = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1');
    if (this.transport === 'udp') return new Promise((r) => this.sock.send(b, this.port, this.host, () => r()));
    return new Promise((r) => this.sock.write(b, () => r()));
  }

  /** The next received message matching `pred` (removed from the inbox); throws after the deadline. */
  async waitFor(pred = () => true, { deadlineMs = 5000, what = 'a SIP message' } = {}) {
    const until = Date.now() + deadlineMs;
    for (;;) {
      const i = this.inbox.findIndex(pred);
      if (i >= 0) return this.inbox.splice(i, 1)[0];
      if (this.closed) throw new Error(`connection closed while waiting for ${what}`);
      const left = until - Date.now();
      if (left <= 0) throw new Error(`no ${what} within ${deadlineMs} ms; inbox: ${this.inbox.map((m) => m.status ?? m.method).join(', ')}`);
      await new Promise((r) => {
        const t = setTimeout(r, left);
        this.waiters.push(() => { clearTimeout(t); r(); });
      });
    }
  }

  /** Resolves true once a TCP connection is closed by the peer (deadline: false). */
  async waitClosed(deadlineMs = 5000) {
    if (this.closed) return true;
    let timer;
    const r = await Promise.race([this.closedPromise.then(() => true), new Promise((res) => { timer = setTimeout(() => res(false), deadlineMs); })]);
    clearTimeout(timer);
    return r;
  }

  via(branch = `z9hG4bK${token(8)}`) {
    return `SIP/2.0/${this.transport.toUpperCase()} ${this.localAddress}:${this.localPort};branch=${branch};rport`;
  }

  /** Builds a request. */
  build(method, { callId, cseq, fromTag, toTag, branch, headers = {}, body = '', contentType, contentLength, requestUri }) {
    const uri = requestUri ?? `sip:srs@${this.host}:${this.port}`;
    const h = [
      `${method} ${uri} SIP/2.0`,
      `Via: ${this.via(branch)}`,
      'Max-Forwards: 70',
      `From: "SRC" <sip:src@${this.localAddress}:${this.localPort}>;tag=${fromTag}`,
      `To: <sip:srs@${this.host}:${this.port}>${toTag ? `;tag=${toTag}` : ''}`,
      `Call-ID: ${callId}`,
      `CSeq: ${cseq} ${method}`,
      `Contact: <sip:src@${this.localAddress}:${this.localPort};transport=${this.transport}>;+sip.src`,
    ];
    for (const [k, v] of Object.entries(headers)) if (v !== undefined && v !== null) h.push(`${k}: ${v}`);
    if (contentType) h.push(`Content-Type: ${contentType}`);
    h.push(`Content-Length: ${contentLength ?? Buffer.byteLength(body, 'latin1')}`);
    return h.join(CRLF) + CRLF + CRLF + body;
  }

  /** Sends a request and waits for its final response (provisionals skipped). ACKs 2xx to INVITE. */
  async request(method, opts, { deadlineMs = 5000 } = {}) {
    const raw = this.build(method, opts);
    await this.sendRaw(raw);
    const cseq = `${opts.cseq} ${method}`;
    const res = await this.waitFor((m) => m.status >= 200 && m.callId === opts.callId && m.cseq === cseq,
      { deadlineMs, what: `a final response to ${method} (${opts.callId})` });
    if (method === 'INVITE') {
      const toTag = /;tag=([^;>\s]+)/.exec(res.header('to') ?? '')?.[1];
      const ack = this.build('ACK', { ...opts, toTag, body: '', contentType: undefined, contentLength: 0, headers: {} });
      if (res.status >= 200 && res.status < 300) {
        this.acked.add(`${opts.callId} ${cseq}`);
        this.ackFor.set(`${opts.callId} ${cseq}`, ack);
      }
      await this.sendRaw(ack);  // 2xx: ends retransmission; non-2xx: the transaction's ACK
    }
    return res;
  }
}

/**
 * One SIPREC call from the SRC side.
 *   const call = new SiprecCall(uac, { participants: [{ name, aor, label }], headers, conversationId });
 *   const res = await call.invite();      // res.ports: our RTP ports, in m= order
 *   await call.reinvite('inactive'); await call.reinvite('sendonly'); await call.bye();
 */
export class SiprecCall {
  /** `crypto`: per stream, the a=crypto values to offer (RTP/SAVP); `proto`: the m= line's protocol for all. */
  constructor(uac, { callId = `${randomUUID()}@src.test`, participants, headers = {}, conversationId, codecs, crypto, proto } = {}) {
    this.crypto = crypto;
    this.proto = proto;
    this.uac = uac;
    this.callId = callId;
    this.fromTag = token(6);
    this.cseq = 1;
    this.participants = participants ?? [
      { name: 'Alice Caller', aor: 'sip:alice@example.com', label: '1' },
      { name: 'Bob Agent', aor: 'sip:bob@example.com', label: '2' },
    ];
    this.headers = headers;
    this.conversationId = conversationId;
    this.codecs = codecs;
    this.version = 1;
  }

  streams(direction = 'sendonly') {
    return this.participants.map((p, i) => ({
      port: 30000 + 2 * i, label: p.label, direction, codecs: this.codecs, crypto: this.crypto?.[i], proto: this.proto,
    }));
  }

  async invite({ headers = {} } = {}) {
    const { contentType, body } = siprecBody({ streams: this.streams(), participants: this.participants, conversationId: this.conversationId, address: this.uac.localAddress });
    const res = await this.uac.request('INVITE', {
      callId: this.callId, cseq: this.cseq, fromTag: this.fromTag,
      headers: { Require: 'siprec', Accept: 'application/sdp, application/rs-metadata', ...this.headers, ...headers },
      contentType, body,
    });
    if (res.status === 200) {
      this.toTag = /;tag=([^;>\s]+)/.exec(res.header('to'))?.[1];
      res.ports = answerPorts(res.body);
    }
    return res;
  }

  /** re-INVITE with every stream set to `direction` (SDP only). */
  async reinvite(direction) {
    this.cseq += 1;
    this.version += 1;
    const res = await this.uac.request('INVITE', {
      callId: this.callId, cseq: this.cseq, fromTag: this.fromTag, toTag: this.toTag,
      contentType: 'application/sdp', body: offerSdp({ streams: this.streams(direction), version: this.version, address: this.uac.localAddress }),
    });
    if (res.status === 200) res.ports = answerPorts(res.body);
    return res;
  }

  async bye() {
    this.cseq += 1;
    return this.uac.request('BYE', { callId: this.callId, cseq: this.cseq, fromTag: this.fromTag, toTag: this.toTag });
  }
}

/** Parses one WWW-Authenticate Digest challenge into its parameters ({ realm, nonce, algorithm, qop, stale }). */
export function parseChallenge(value) {
  const out = {};
  for (const m of value.replace(/^Digest\s+/i, '').matchAll(/([a-zA-Z-]+)=("([^"]*)"|[^,\s]+)/g)) out[m[1].toLowerCase()] = m[3] ?? m[2];
  return out;
}

/**
 * The Authorization value a SIP client computes for `challenge` (RFC 3261 §22.4,
 * RFC 8760: MD5 or SHA-256, qop=auth), independently of the server's code.
 */
export function digestAuthorization({ challenge, method = 'INVITE', uri, username, password, nc = 1, cnonce = token(8) }) {
  const c = parseChallenge(challenge);
  const alg = (c.algorithm ?? 'MD5').toUpperCase() === 'SHA-256' ? 'sha256' : 'md5';
  const h = (s) => createHash(alg).update(s).digest('hex');
  const ncHex = nc.toString(16).padStart(8, '0');
  const response = h(`${h(`${username}:${c.realm}:${password}`)}:${c.nonce}:${ncHex}:${cnonce}:auth:${h(`${method}:${uri}`)}`);
  return `Digest username="${username}", realm="${c.realm}", nonce="${c.nonce}", uri="${uri}", ` +
    `response="${response}", algorithm=${c.algorithm ?? 'MD5'}, qop=auth, nc=${ncHex}, cnonce="${cnonce}"`;
}
