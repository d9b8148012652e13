// WAV reading and audio checks for the media e2e tests: a strict RIFF/WAVE
// parser (PCM 16-bit), per-channel views, Goertzel tone detection (the same
// algorithm as tests/unit/media/audio_test_util.h) and digital-silence checks.
//
// Node 20 built-ins only.
import assert from 'node:assert/strict';

/**
 * Parses a RIFF/WAVE PCM file and checks that its header is consistent with
 * its length: RIFF size = file length − 8, data chunk inside the file and a
 * whole number of frames. Returns { channels, sampleRate, bitsPerSample,
 * dataOffset, dataSize, frames, samples (Int16Array, interleaved) }.
 */
export function parseWav(buf, { exactLength = true } = {}) {
  assert.ok(Buffer.isBuffer(buf), 'parseWav needs a Buffer');
  assert.ok(buf.length >= 44, `WAV shorter than a header: ${buf.length} bytes`);
  assert.equal(buf.toString('latin1', 0, 4), 'RIFF', 'RIFF magic');
  assert.equal(buf.toString('latin1', 8, 12), 'WAVE', 'WAVE magic');
  const riffSize = buf.readUInt32LE(4);
  if (exactLength) assert.equal(riffSize, buf.length - 8, `RIFF size ${riffSize} vs file length ${buf.length}`);
  let off = 12;
  let fmt = null;
  let dataOffset = -1;
  let dataSize = 0;
  while (off + 8 <= buf.length) {
    const id = buf.toString('latin1', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    const body = off + 8;
    if (id === 'fmt ') {
      assert.ok(size >= 16 && body + size <= buf.length, `fmt chunk size ${size}`);
      fmt = {
        format: buf.readUInt16LE(body),
        channels: buf.readUInt16LE(body + 2),
        sampleRate: buf.readUInt32LE(body + 4),
        byteRate: buf.readUInt32LE(body + 8),
        blockAlign: buf.readUInt16LE(body + 12),
        bitsPerSample: buf.readUInt16LE(body + 14),
      };
    } else if (id === 'data') {
      dataOffset = body;
      dataSize = size;
      break;
    }
    off = body + size + (size & 1);
  }
  assert.ok(fmt, 'no fmt chunk');
  assert.ok(dataOffset > 0, 'no data chunk');
  assert.equal(fmt.format, 1, 'PCM format tag');
  assert.equal(fmt.bitsPerSample, 16, 'bits per sample');
  assert.ok(fmt.channels >= 1, 'channels');
  assert.equal(fmt.blockAlign, fmt.channels * 2, 'block align');
  assert.equal(fmt.byteRate, fmt.sampleRate * fmt.blockAlign, 'byte rate');
  assert.ok(dataOffset + dataSize <= buf.length, `data chunk (${dataSize} bytes at ${dataOffset}) runs past the file (${buf.length})`);
  if (exactLength) assert.equal(dataOffset + dataSize, buf.length, 'data chunk ends the file');
  assert.equal(dataSize % fmt.blockAlign, 0, 'whole frames');
  const copy = Buffer.from(buf.subarray(dataOffset, dataOffset + dataSize));  // aligned copy
  const samples = new Int16Array(copy.buffer, copy.byteOffset, dataSize / 2);
  return {
    channels: fmt.channels,
    sampleRate: fmt.sampleRate,
    bitsPerSample: fmt.bitsPerSample,
    dataOffset,
    dataSize,
    frames: dataSize / fmt.blockAlign,
    durationMs: (dataSize / fmt.blockAlign) * 1000 / fmt.sampleRate,
    samples,
  };
}

/** One channel of a parsed WAV as an Int16Array. */
export function channel(wav, index) {
  assert.ok(index < wav.channels, `channel ${index} of ${wav.channels}`);
  const out = new Int16Array(wav.frames);
  for (let i = 0, j = index; i < wav.frames; i++, j += wav.channels) out[i] = wav.samples[j];
  return out;
}

/** Goertzel power of `freq`, normalized so a sine of amplitude A gives ≈ A²/4. */
export function goertzelPower(x, freq, rate) {
  if (x.length === 0) return 0;
  const coeff = 2 * Math.cos((2 * Math.PI * freq) / rate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < x.length; i++) {
    const s0 = x[i] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
  return power / (x.length * x.length);
}

export function rms(x) {
  if (x.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i] * x[i];
  return Math.sqrt(sum / x.length);
}

const PROBES = [300, 440, 660, 880, 1000, 1320];

/**
 * The dominant probe tone of a block: { freq, ratio } where ratio is its
 * Goertzel power over the strongest other probe's. freq is null for a quiet block.
 */
export function dominantTone(x, rate) {
  if (rms(x) < 100) return { freq: null, ratio: 0 };
  const powers = PROBES.map((f) => [f, goertzelPower(x, f, rate)]).sort((a, b) => b[1] - a[1]);
  return { freq: powers[0][0], ratio: powers[0][1] / Math.max(powers[1][1], 1e-9) };
}

/** True if `freq` dominates the block (≥ `ratio` × every other probe) and it is not quiet. */
export function hasTone(x, freq, rate, ratio = 20) {
  const d = dominantTone(x, rate);
  return d.freq === freq && d.ratio >= ratio;
}

export function isSilent(x, from = 0, to = x.length) {
  for (let i = Math.max(0, from); i < Math.min(to, x.length); i++) if (x[i] !== 0) return false;
  return true;
}

export function firstNonZero(x, from = 0) {
  for (let i = from; i < x.length; i++) if (x[i] !== 0) return i;
  return -1;
}

export function lastNonZero(x) {
  for (let i = x.length - 1; i >= 0; i--) if (x[i] !== 0) return i;
  return -1;
}

/** Runs of exact zeros at least `minLength` samples long: [{ start, end }] (end exclusive). */
export function zeroRuns(x, minLength = 40) {
  const runs = [];
  let start = -1;
  for (let i = 0; i <= x.length; i++) {
    const zero = i < x.length && x[i] === 0;
    if (zero && start < 0) start = i;
    if (!zero && start >= 0) {
      if (i - start >= minLength) runs.push({ start, end: i });
      start = -1;
    }
  }
  return runs;
}

/**
 * Asserts that every `blockMs` block of x[from, to) carries `freq` (Goertzel),
 * so a tone on the wrong channel, a gap or a glitch anywhere is caught.
 */
export function assertToneOver(x, from, to, freq, rate, what, blockMs = 100) {
  const block = Math.round((rate * blockMs) / 1000);
  assert.ok(to - from >= block / 2, `${what}: interval [${from}, ${to}) too short to check`);
  for (let a = from; a < to; a += block) {
    const b = Math.min(to, a + block);
    if (b - a < block / 2) break;
    const d = dominantTone(x.subarray(a, b), rate);
    assert.ok(d.freq === freq && d.ratio >= 20,
      `${what}: samples [${a}, ${b}) (${(a / rate).toFixed(3)} s) should carry ${freq} Hz, found ${d.freq} Hz (ratio ${d.ratio.toFixed(1)}, rms ${rms(x.subarray(a, b)).toFixed(0)})`);
  }
}

export function assertSilentOver(x, from, to, what) {
  for (let i = Math.max(0, from); i < Math.min(to, x.length); i++) {
    if (x[i] !== 0) assert.fail(`${what}: sample ${i} (${(i / 8000).toFixed(4)} s) is ${x[i]}, expected digital silence over [${from}, ${to})`);
  }
}
