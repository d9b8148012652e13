// SRTP sender side for the e2e tests, written from RFC 3711 with node:crypto
// only, independently of libsrtp2 (which the server uses): the test then
// checks that our server decrypts what another implementation encrypted.
//
// AES_CM_128_HMAC_SHA1_80 (RFC 4568 §6.2.1): AES-128 in counter mode, HMAC-SHA1
// tags truncated to 80 bits, key derivation rate 0, no MKI.
//
//   const tx = new SrtpSender(Buffer.from(keySaltBase64, 'base64'));  // 16-byte key || 14-byte salt
//   const wire = tx.protect(rtpPacket);                               // sequence order, ROC tracked
//
// Node 20 built-ins only.
import { createCipheriv, createHmac, randomBytes } from 'node:crypto';

export const KEY_BYTES = 16;
export const SALT_BYTES = 14;
export const TAG_BYTES = 10;

/** A fresh master key || salt for AES_CM_128_HMAC_SHA1_80, base64 (what a=crypto's inline: carries). */
export function newMasterKey() {
  return randomBytes(KEY_BYTES + SALT_BYTES).toString('base64');
}

// AES-128 in counter mode over `data` from the 16-byte counter block `iv`.
function aesCm(key, iv, data) {
  const c = createCipheriv('aes-128-ctr', key, iv);
  return Buffer.concat([c.update(data), c.final()]);
}

// RFC 3711 §4.3.1: x = (label << 48) XOR master_salt (index DIV kdr = 0),
// the PRF is AES-CM keyed with the master key from IV = x · 2^16.
function deriveKey(masterKey, masterSalt, label, length) {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0);
  iv[7] ^= label;  // the label is the byte just above the 48-bit index
  return aesCm(masterKey, iv, Buffer.alloc(length));
}

export class SrtpSender {
  /** `keySalt`: the 30 bytes of the a=crypto inline key (master key then master salt). */
  constructor(keySalt) {
    if (keySalt.length !== KEY_BYTES + SALT_BYTES) throw new Error('AES_CM_128_HMAC_SHA1_80 needs 30 bytes of key||salt');
    const masterKey = keySalt.subarray(0, KEY_BYTES);
    const masterSalt = keySalt.subarray(KEY_BYTES);
    this.encKey = deriveKey(masterKey, masterSalt, 0x00, 16);   // SRTP encryption key
    this.authKey = deriveKey(masterKey, masterSalt, 0x01, 20);  // SRTP authentication key
    this.salt = deriveKey(masterKey, masterSalt, 0x02, 14);     // SRTP session salt
    this.roc = 0;
    this.lastSeq = null;
  }

  /** The SRTP packet of plain RTP packet `rtp` (12-byte header, no CSRC or extension). Packets in sequence order. */
  protect(rtp) {
    const seq = rtp.readUInt16BE(2);
    if (this.lastSeq !== null && seq < this.lastSeq && this.lastSeq - seq > 0x8000) this.roc = (this.roc + 1) >>> 0;
    this.lastSeq = seq;
    return this.protectWithRoc(rtp, this.roc);
  }

  /** protect() with an explicit rollover counter (for re-sending an earlier packet). */
  protectWithRoc(rtp, roc) {
    const seq = rtp.readUInt16BE(2);
    const ssrc = rtp.readUInt32BE(8);
    // §4.1.1: IV = (k_s · 2^16) XOR (SSRC · 2^64) XOR (i · 2^16), i = ROC · 2^16 + SEQ.
    const iv = Buffer.alloc(16);
    this.salt.copy(iv, 0);
    iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
    iv.writeUInt32BE((iv.readUInt32BE(8) ^ roc) >>> 0, 8);
    iv.writeUInt16BE(iv.readUInt16BE(12) ^ seq, 12);
    const header = rtp.subarray(0, 12);
    const payload = aesCm(this.encKey, iv, rtp.subarray(12));
    const rocBytes = Buffer.alloc(4);
    rocBytes.writeUInt32BE(roc >>> 0);
    // §4.2: the tag covers the header, the encrypted payload and the ROC.
    const tag = createHmac('sha1', this.authKey).update(header).update(payload).update(rocBytes).digest().subarray(0, TAG_BYTES);
    return Buffer.concat([header, payload, tag]);
  }
}

/** A copy of an SRTP packet with one payload bit flipped: its tag no longer verifies. */
export function tampered(srtp) {
  const b = Buffer.from(srtp);
  b[20] ^= 0x01;
  return b;
}
