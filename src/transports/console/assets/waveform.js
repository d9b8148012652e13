// Waveforms drawn from the WAV itself: fetch the segment, read its RIFF
// header, decode 16-bit PCM (or 8-bit PCM, µ-law, A-law) and draw the min/max
// of each pixel column, one lane per channel. Parsing is defensive: a segment
// still being written may have a data size of 0 or 0xFFFFFFFF, so the data
// runs to the end of what arrived.

const WAVE_PCM = 1;
const WAVE_ALAW = 6;
const WAVE_MULAW = 7;
const WAVE_EXTENSIBLE = 0xfffe;

function fourcc(view, at) {
  return String.fromCharCode(view.getUint8(at), view.getUint8(at + 1), view.getUint8(at + 2), view.getUint8(at + 3));
}

// {format, channels, sampleRate, bits, dataOffset, dataBytes} or throws with why.
export function parseWav(buffer) {
  const view = new DataView(buffer);
  if (buffer.byteLength < 12 || fourcc(view, 0) !== 'RIFF' || fourcc(view, 8) !== 'WAVE')
    throw new Error('not a RIFF/WAVE file');
  let fmt = null;
  let at = 12;
  while (at + 8 <= buffer.byteLength) {
    const id = fourcc(view, at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ' && body + 16 <= buffer.byteLength) {
      let format = view.getUint16(body, true);
      if (format === WAVE_EXTENSIBLE && size >= 26 && body + 26 <= buffer.byteLength) format = view.getUint16(body + 24, true);
      fmt = { format, channels: view.getUint16(body + 2, true), sampleRate: view.getUint32(body + 4, true),
        blockAlign: view.getUint16(body + 12, true), bits: view.getUint16(body + 14, true) };
    } else if (id === 'data') {
      if (!fmt) throw new Error('data chunk before fmt chunk');
      const available = buffer.byteLength - body;
      const dataBytes = size === 0 || size === 0xffffffff || size > available ? available : size;
      return { ...fmt, dataOffset: body, dataBytes };
    }
    at = body + size + (size % 2);  // chunks are word-aligned
  }
  throw new Error('no data chunk');
}

function decodeMulaw(byte) {
  const u = ~byte & 0xff;
  const exponent = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + 0x84) << exponent) - 0x84;
  return (u & 0x80 ? -magnitude : magnitude) / 32768;
}

function decodeAlaw(byte) {
  const a = byte ^ 0x55;
  const exponent = (a >> 4) & 0x07;
  let magnitude = (a & 0x0f) << 4;
  magnitude = exponent === 0 ? magnitude + 8 : (magnitude + 0x108) << (exponent - 1);
  return (a & 0x80 ? magnitude : -magnitude) / 32768;
}

// A function (frame, channel) → sample in [-1, 1] for the WAV's encoding.
function sampleReader(buffer, wav) {
  const view = new DataView(buffer, wav.dataOffset, wav.dataBytes);
  const ch = wav.channels;
  if (wav.format === WAVE_PCM && wav.bits === 16) return (i, c) => view.getInt16((i * ch + c) * 2, true) / 32768;
  if (wav.format === WAVE_PCM && wav.bits === 8) return (i, c) => (view.getUint8(i * ch + c) - 128) / 128;
  if (wav.format === WAVE_MULAW && wav.bits === 8) return (i, c) => decodeMulaw(view.getUint8(i * ch + c));
  if (wav.format === WAVE_ALAW && wav.bits === 8) return (i, c) => decodeAlaw(view.getUint8(i * ch + c));
  throw new Error(`unsupported encoding (format ${wav.format}, ${wav.bits} bits)`);
}

// Per channel, per pixel column: [min, max].
export function peaks(buffer, wav, columns) {
  const read = sampleReader(buffer, wav);
  const bytesPerFrame = wav.channels * (wav.bits / 8);
  const frames = Math.floor(wav.dataBytes / bytesPerFrame);
  const out = Array.from({ length: wav.channels }, () => new Float32Array(columns * 2));
  if (frames === 0) return { frames, lanes: out };
  for (let x = 0; x < columns; x++) {
    const from = Math.floor((x * frames) / columns);
    const to = Math.max(from + 1, Math.floor(((x + 1) * frames) / columns));
    for (let c = 0; c < wav.channels; c++) {
      let lo = 1;
      let hi = -1;
      for (let i = from; i < to && i < frames; i++) {
        const s = read(i, c);
        if (s < lo) lo = s;
        if (s > hi) hi = s;
      }
      out[c][x * 2] = lo;
      out[c][x * 2 + 1] = hi;
    }
  }
  return { frames, lanes: out };
}

function cssColor(el, name, fallback) {
  return getComputedStyle(el).getPropertyValue(name).trim() || fallback;
}

// Draws into canvas: one lane per channel, a centre line, labels.
function draw(canvas, data, labels) {
  const dpr = window.devicePixelRatio || 1;
  const width = Math.max(1, Math.floor(canvas.clientWidth * dpr));
  const height = Math.max(1, Math.floor(canvas.clientHeight * dpr));
  canvas.width = width;
  canvas.height = height;
  const ctx = canvas.getContext('2d');
  const wave = cssColor(canvas, '--wave', '#1d4ed8');
  const axis = cssColor(canvas, '--wave-axis', '#c7cdd6');
  const text = cssColor(canvas, '--text-muted', '#4b5563');
  ctx.clearRect(0, 0, width, height);
  const lanes = data.lanes.length;
  const laneHeight = height / lanes;
  data.lanes.forEach((lane, c) => {
    const mid = laneHeight * c + laneHeight / 2;
    const half = laneHeight / 2 - 2 * dpr;
    ctx.fillStyle = axis;
    ctx.fillRect(0, Math.round(mid), width, Math.max(1, dpr));
    ctx.fillStyle = wave;
    const columns = lane.length / 2;
    for (let x = 0; x < columns; x++) {
      const top = mid - lane[x * 2 + 1] * half;
      const bottom = mid - lane[x * 2] * half;
      ctx.fillRect(x, top, 1, Math.max(1, bottom - top));
    }
    if (labels[c]) {
      ctx.fillStyle = text;
      ctx.font = `${11 * dpr}px system-ui, sans-serif`;
      ctx.fillText(labels[c], 4 * dpr, laneHeight * c + 12 * dpr);
    }
  });
}

// Fetches the WAV at url and draws it; resolves to the parsed header, rejects with why.
export async function drawWaveform(canvas, url, labels = []) {
  const res = await fetch(url, { credentials: 'same-origin' });
  if (!res.ok) throw new Error(`the server answered ${res.status}`);
  const buffer = await res.arrayBuffer();
  const wav = parseWav(buffer);
  const columns = Math.max(1, Math.floor(canvas.clientWidth * (window.devicePixelRatio || 1)));
  const data = peaks(buffer, wav, columns);
  draw(canvas, data, labels);
  return { ...wav, frames: data.frames };
}
