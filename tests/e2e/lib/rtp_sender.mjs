// A small RTP sender for the SIPREC e2e tests: PCMU (G.711 µ-law) tones in
// 20 ms packets, one UDP socket and SSRC per stream, paced at real time, with
// controlled impairments per stream:
//   drop:      sequence indexes never sent (loss → the recorder writes silence)
//   swap:      indexes n whose packets n and n+1 are sent in reverse order
//   duplicate: indexes sent twice back to back
//   resend:    indexes sent again 3 packet times later (a late duplicate)
//   inject:    [{ at, data }] extra datagrams (RTCP, wrong payload type, junk)
//              sent from the stream's own socket in slot `at`
//   srtpKey:   base64 key||salt: every packet is SRTP (AES_CM_128_HMAC_SHA1_80,
//              lib/srtp.mjs); duplicates and resends are then replays
//   tamper:    (with srtpKey) indexes whose packet is first sent with one bit
//              flipped (its tag fails), then as it should be
// Indexes count packets from 0; the RTP sequence number is seq0 + index and
// the timestamp ts0 + index × 160, so every packet's place in the file is known.
//
// The pacing timer is the sender's clock (a live source), not synchronization:
// tests wait on sender.reached(index) / sender.done, never on a timer. The
// sender runs in a worker thread so the test's own work cannot delay packets.
//
// Library use: startRtp({ host, streams: [{ port, freq, ... }], packets }).
// CLI use (e.g. from a sipp <exec>):
//   node tests/e2e/lib/rtp_sender.mjs --host 127.0.0.1 --ports 42000,42002 --freqs 440,880 --packets 150
//     [--drop 0:50-59] [--swap 1:30,70] [--duplicate 1:40] → prints a JSON report.
//
// Node 20 built-ins only.
import dgram from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { SrtpSender, tampered } from './srtp.mjs';

export const SAMPLE_RATE = 8000;
export const PTIME_MS = 20;
export const SAMPLES_PER_PACKET = (SAMPLE_RATE * PTIME_MS) / 1000;  // 160
// Amplitude and phase chosen so that no sample of a 440 or 880 Hz tone is
// (or µ-law-encodes to) zero: a zero sample in the file is then always silence.
export const TONE_AMPLITUDE = 8000;
export const TONE_PHASE = 0.3;

/** ITU-T G.711 µ-law encoding of one 16-bit linear sample. */
export function linearToUlaw(sample) {
  const BIAS = 0x84;
  const CLIP = 32635;
  let s = Math.max(-32768, Math.min(32767, Math.round(sample)));
  const sign = s < 0 ? 0x80 : 0;
  if (s < 0) s = -s;
  if (s > CLIP) s = CLIP;
  s += BIAS;
  let exponent = 7;
  for (let mask = 0x4000; (s & mask) === 0 && exponent > 0; mask >>= 1) exponent--;
  const mantissa = (s >> (exponent + 3)) & 0x0f;
  return ~(sign | (exponent << 4) | mantissa) & 0xff;
}

/** G.711 µ-law decoding (for self-checks). */
export function ulawToLinear(u) {
  u = ~u & 0xff;
  const sign = u & 0x80;
  const exponent = (u >> 4) & 0x07;
  const mantissa = u & 0x0f;
  const magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84;
  return sign ? -magnitude : magnitude;
}

/** Sample `index` (from the stream start) of a tone. */
export function toneSample(freq, index, amplitude = TONE_AMPLITUDE, phase = TONE_PHASE) {
  return amplitude * Math.sin((2 * Math.PI * freq * index) / SAMPLE_RATE + phase);
}

/**
 * `samples` stereo µ-law sample pairs from stream position `pos`, interleaved:
 * a 440 Hz tone on the first channel, 880 Hz on the second (AudioHook's
 * external/internal), for the tests that stream audio over AudioHook.
 */
export function stereoToneFrame(pos, samples, { amplitude = TONE_AMPLITUDE, phase = TONE_PHASE } = {}) {
  const out = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) {
    out[2 * i] = linearToUlaw(Math.round(toneSample(440, pos + i, amplitude, phase)));
    out[2 * i + 1] = linearToUlaw(Math.round(toneSample(880, pos + i, amplitude, phase)));
  }
  return out;
}

/** An RTP packet (RFC 3550 §5.1, no CSRC/extension). */
export function rtpPacket({ payloadType = 0, sequence, timestamp, ssrc, marker = false, payload }) {
  const b = Buffer.alloc(12 + payload.length);
  b[0] = 0x80;
  b[1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  b.writeUInt16BE(sequence & 0xffff, 2);
  b.writeUInt32BE(timestamp >>> 0, 4);
  b.writeUInt32BE(ssrc >>> 0, 8);
  Buffer.from(payload).copy(b, 12);
  return b;
}

/** The PCMU payload of packet `index` of a `freq` tone. */
export function tonePayload(freq, index, { amplitude = TONE_AMPLITUDE, phase = TONE_PHASE } = {}) {
  const p = Buffer.alloc(SAMPLES_PER_PACKET);
  for (let i = 0; i < SAMPLES_PER_PACKET; i++) p[i] = linearToUlaw(toneSample(freq, index * SAMPLES_PER_PACKET + i, amplitude, phase));
  return p;
}

let nextSsrc = 0x1a2b3c00;

/**
 * The sender proper: paces the slots and sends; reports through hooks
 * onStart(t0) and onSlot(k, wallTime); returns { done: Promise<report>, stop() }.
 */
function senderCore({ host = '127.0.0.1', bindHost = '127.0.0.1', streams, packets, ptimeMs = PTIME_MS }, { onStart, onSlot }) {
  const plans = streams.map((s) => {
    const ssrc = s.ssrc ?? nextSsrc++;
    const seq0 = s.seq0 ?? ((ssrc * 7919) & 0x7fff);
    const ts0 = s.ts0 ?? ((ssrc * 104729) >>> 0);
    // What to send in each slot: normally its own packet; a swapped pair trades slots.
    const order = Array.from({ length: packets }, (_, i) => [i]);
    for (const a of s.swap ?? []) {
      if (a + 1 < packets) [order[a], order[a + 1]] = [order[a + 1], order[a]];
    }
    for (const d of s.duplicate ?? []) if (d < packets) order[order.findIndex((o) => o.includes(d))].push(d);
    for (const r of s.resend ?? []) if (r + 3 < packets) order[r + 3].push(r);
    const drop = new Set(s.drop ?? []);
    const inject = new Map();
    for (const { at, data } of s.inject ?? []) inject.set(at, [...(inject.get(at) ?? []), Buffer.from(data)]);
    const sock = dgram.createSocket('udp4');
    sock.on('error', () => { /* ICMP port unreachable after the call ended: ignored */ });
    // Packets are built before the first is sent: nothing slow happens while pacing.
    const srtp = s.srtpKey ? new SrtpSender(Buffer.from(s.srtpKey, 'base64')) : null;
    const wire = Array.from({ length: packets }, (_, index) => {
      const plain = rtpPacket({
        payloadType: s.payloadType ?? 0,
        sequence: seq0 + index,
        timestamp: ts0 + index * SAMPLES_PER_PACKET,
        ssrc,
        marker: index === 0,
        payload: tonePayload(s.freq, index, s),
      });
      return srtp ? srtp.protect(plain) : plain;
    });
    const tamper = new Set(srtp ? s.tamper ?? [] : []);
    return { port: s.port, ssrc, order, drop, inject, tamper, sock, wire, sent: 0, injected: 0 };
  });

  const sendTimes = new Array(packets).fill(null);
  let next = 0;
  let stopped = false;
  let resolveDone;
  const done = new Promise((r) => { resolveDone = r; });
  const wall = () => performance.timeOrigin + performance.now();
  let startPerf = 0;
  let t0 = 0;

  function sendSlot(k) {
    sendTimes[k] = wall();
    for (const p of plans) {
      for (const index of p.order[k]) {
        if (p.drop.has(index)) continue;
        if (p.tamper.has(index)) {
          p.sock.send(tampered(p.wire[index]), p.port, host);
          p.injected++;
        }
        p.sock.send(p.wire[index], p.port, host);
        p.sent++;
      }
      for (const data of p.inject.get(k) ?? []) {
        p.sock.send(data, p.port, host);
        p.injected++;
      }
    }
    onSlot(k, sendTimes[k]);
  }

  function finish() {
    const report = {
      t0,
      packets,
      sent: plans.map((p) => p.sent),
      injected: plans.map((p) => p.injected),
      ssrcs: plans.map((p) => p.ssrc),
      sendTimes,
      lastSlotTime: sendTimes[Math.max(0, next - 1)],
      slotsSent: next,
      stopped,
    };
    // Let queued datagrams leave before closing the sockets.
    setImmediate(() => {
      for (const p of plans) p.sock.close();
      resolveDone(report);
    });
  }

  function tick() {
    if (stopped) return finish();
    const now = performance.now();
    while (next < packets && startPerf + next * ptimeMs <= now + 0.5) sendSlot(next++);
    if (next >= packets) return finish();
    setTimeout(tick, Math.max(0, startPerf + next * ptimeMs - performance.now()));
  }

  Promise.all(plans.map((p) => new Promise((r) => p.sock.bind(0, bindHost, r)))).then(() => {
    startPerf = performance.now();
    t0 = performance.timeOrigin + startPerf;
    onStart(t0);
    tick();
  });
  return { done, stop() { stopped = true; } };
}

/**
 * Starts sending. streams: [{ port, freq, ssrc?, payloadType? (0), seq0?, ts0?,
 * drop?: [idx], swap?: [idx], duplicate?: [idx], resend?: [idx], inject?: [{ at, data }] }].
 * By default the sender runs in a worker thread, so that whatever the test
 * does meanwhile on its own event loop (HTTP calls, WAV analysis) cannot
 * delay a packet. Returns { t0 (wall ms of packet slot 0), started, reached(index)
 * → Promise, done → Promise<report>, stop(), slotTime(index) }.
 */
export function startRtp({ thread = true, ...opts }) {
  let t0 = 0;
  let next = 0;
  const sendTimes = [];
  const waiters = [];
  let resolveStarted;
  const started = new Promise((r) => { resolveStarted = r; });
  const onStart = (t) => {
    t0 = t;
    resolveStarted(t);
  };
  const onSlot = (k, time) => {
    sendTimes[k] = time;
    next = k + 1;
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i].index <= k) {
        waiters[i].resolve(sendTimes[waiters[i].index]);
        waiters.splice(i, 1);
      }
    }
  };
  const ended = (report) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`RTP sender ended before packet ${w.index}`));
    return report;
  };

  let done;
  let stop;
  if (thread) {
    const worker = new Worker(new URL(import.meta.url), { workerData: { rtpSender: opts } });
    done = new Promise((resolve, reject) => {
      worker.on('message', (m) => {
        if (m.type === 'start') onStart(m.t0);
        else if (m.type === 'slot') onSlot(m.k, m.time);
        else if (m.type === 'done') resolve(ended(m.report));
      });
      worker.once('error', (e) => reject(ended(e)));
      worker.once('exit', (code) => reject(ended(new Error(`RTP sender thread exited (${code}) before finishing`))));
    });
    stop = () => worker.postMessage('stop');
  } else {
    const core = senderCore(opts, { onStart, onSlot });
    done = core.done.then(ended);
    stop = core.stop;
  }
  done.catch(() => {});  // surfaced to whoever awaits it

  return {
    get t0() { return t0; },
    started,
    done,
    /** Resolves (with the wall time it was sent) once slot `index` has been sent. */
    reached(index) {
      if (index < next) return Promise.resolve(sendTimes[index]);
      return new Promise((resolve, reject) => waiters.push({ index, resolve, reject }));
    },
    /** Wall-clock time (ms) at which slot `index` was (to be) sent. */
    slotTime(index) { return t0 + index * (opts.ptimeMs ?? PTIME_MS); },
    stop,
  };
}

// Inside the worker thread started by startRtp().
if (!isMainThread && workerData?.rtpSender) {
  const core = senderCore(workerData.rtpSender, {
    onStart: (t0) => parentPort.postMessage({ type: 'start', t0 }),
    onSlot: (k, time) => parentPort.postMessage({ type: 'slot', k, time }),
  });
  parentPort.on('message', (m) => { if (m === 'stop') core.stop(); });
  core.done.then((report) => {
    parentPort.postMessage({ type: 'done', report });
    parentPort.close();
  });
}

/** Sends raw datagrams to a port from a fresh socket (garbage, RTCP, ...). */
export async function sendDatagrams(port, datagrams, host = '127.0.0.1', bindHost = '127.0.0.1') {
  const sock = dgram.createSocket('udp4');
  sock.on('error', () => {});
  await new Promise((r) => sock.bind(0, bindHost, r));
  for (const d of datagrams) await new Promise((r) => sock.send(d, port, host, r));
  await new Promise((r) => sock.close(r));
}

// ------------------------------------------------------------------------ CLI

function parseList(spec) {
  // "0:50-59,70" → { 0: [50..59, 70] }
  const out = {};
  if (!spec) return out;
  for (const part of spec.split(';')) {
    const [stream, list] = part.split(':');
    out[stream] = list.split(',').flatMap((r) => {
      const [a, b] = r.split('-').map(Number);
      return b === undefined ? [a] : Array.from({ length: b - a + 1 }, (_, i) => a + i);
    });
  }
  return out;
}

async function main(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) args[argv[i].replace(/^--/, '')] = argv[i + 1];
  const ports = (args.ports ?? '').split(',').filter(Boolean).map(Number);
  const freqs = (args.freqs ?? '440,880').split(',').map(Number);
  if (ports.length === 0) throw new Error('--ports P1[,P2] is required');
  const drop = parseList(args.drop);
  const swap = parseList(args.swap);
  const duplicate = parseList(args.duplicate);
  const sender = startRtp({
    thread: false,
    host: args.host ?? '127.0.0.1',
    packets: Number(args.packets ?? 150),
    streams: ports.map((port, i) => ({
      port, freq: freqs[i % freqs.length], drop: drop[i], swap: swap[i], duplicate: duplicate[i],
    })),
  });
  const report = await sender.done;
  delete report.sendTimes;
  process.stdout.write(JSON.stringify(report) + '\n');
}

if (isMainThread && process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2)).catch((e) => {
    process.stderr.write(`rtp_sender: ${e.message}\n`);
    process.exit(2);
  });
}
