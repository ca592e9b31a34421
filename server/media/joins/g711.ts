/**
 * G.711 (ITU-T Rec. G.711), the codec every desk phone speaks: µ-law (PCMU, RTP payload type 0) and A-law
 * (PCMA, 8), 8 kHz, one byte a sample (RFC 3551 §4.5.14). The mixer decodes what a phone sends and encodes
 * what it hears, 160 samples each 20 ms per participant, so both directions are table look-ups: 256 entries
 * to decode, one entry per 16-bit sample (64 KB each) to encode, built once when the module loads.
 *
 * µ-law: the magnitude plus a bias of 132 (0x84) is written as a 3-bit segment (the position of its highest
 * bit above bit 7) and the 4 bits below that, sign on top, and every bit inverted on the wire.
 * A-law: the 13-bit magnitude is written the same way without a bias, segment 0 and 1 sharing one step,
 * and the even bits inverted on the wire (XOR 0x55).
 */

/** µ-law byte to 16-bit linear sample. */
export const ULAW_TO_LINEAR = new Int16Array(256);
/** A-law byte to 16-bit linear sample. */
export const ALAW_TO_LINEAR = new Int16Array(256);
/** 16-bit linear sample (as an unsigned index, sample & 0xffff) to µ-law byte. */
const LINEAR_TO_ULAW = new Uint8Array(65536);
/** 16-bit linear sample (as an unsigned index, sample & 0xffff) to A-law byte. */
const LINEAR_TO_ALAW = new Uint8Array(65536);

const ULAW_BIAS = 0x84;
const ULAW_CLIP = 32635;

function decodeUlaw(byte: number): number {
  const u = ~byte & 0xff;
  const segment = (u >> 4) & 0x07;
  const magnitude = ((((u & 0x0f) << 3) + ULAW_BIAS) << segment) - ULAW_BIAS;
  return u & 0x80 ? -magnitude : magnitude;
}

function encodeUlaw(sample: number): number {
  const sign = sample < 0 ? 0x80 : 0;
  const magnitude = Math.min(Math.abs(sample), ULAW_CLIP) + ULAW_BIAS;
  // The segment is where the highest bit of the biased magnitude sits, counted from bit 7 (0x84 ≥ 0x80 always).
  const segment = 31 - Math.clz32(magnitude) - 7;
  const mantissa = (magnitude >> (segment + 3)) & 0x0f;
  return ~(sign | (segment << 4) | mantissa) & 0xff;
}

function decodeAlaw(byte: number): number {
  const a = byte ^ 0x55;
  const segment = (a >> 4) & 0x07;
  // The middle of the step: half a step (8, in 16-bit units) above the step's base.
  let magnitude = ((a & 0x0f) << 4) + 8;
  if (segment > 0) magnitude = (magnitude + 0x100) << (segment - 1);
  return a & 0x80 ? magnitude : -magnitude;
}

function encodeAlaw(sample: number): number {
  // A-law codes 13 bits: the 16-bit sample's top 13, the negative side shifted by one so that it mirrors the positive.
  let value = sample >> 3;
  let mask = 0xd5;
  if (value < 0) {
    mask = 0x55;
    value = -value - 1;
  }
  if (value > 0xfff) return 0x7f ^ mask;
  // Segment 0 and 1 both step by 2 (of 13-bit units); from segment 2 the step doubles each time.
  const segment = value < 0x20 ? 0 : 31 - Math.clz32(value) - 4;
  const mantissa = segment < 2 ? (value >> 1) & 0x0f : (value >> segment) & 0x0f;
  return ((segment << 4) | mantissa) ^ mask;
}

for (let byte = 0; byte < 256; byte++) {
  ULAW_TO_LINEAR[byte] = decodeUlaw(byte);
  ALAW_TO_LINEAR[byte] = decodeAlaw(byte);
}
for (let index = 0; index < 65536; index++) {
  const sample = index < 32768 ? index : index - 65536;
  LINEAR_TO_ULAW[index] = encodeUlaw(sample);
  LINEAR_TO_ALAW[index] = encodeAlaw(sample);
}

export type G711Law = 'ulaw' | 'alaw';

/** Decodes `payload` into `into` (one sample a byte, as many as both hold); returns the samples written. */
export function decodeG711(law: G711Law, payload: Uint8Array, into: Int16Array): number {
  const table = law === 'ulaw' ? ULAW_TO_LINEAR : ALAW_TO_LINEAR;
  const count = Math.min(payload.length, into.length);
  for (let i = 0; i < count; i++) into[i] = table[payload[i]!]!;
  return count;
}

/** Encodes 16-bit samples into a new payload, one byte a sample. */
export function encodeG711(law: G711Law, samples: Int16Array): Buffer {
  const table = law === 'ulaw' ? LINEAR_TO_ULAW : LINEAR_TO_ALAW;
  const payload = Buffer.allocUnsafe(samples.length);
  for (let i = 0; i < samples.length; i++) payload[i] = table[samples[i]! & 0xffff]!;
  return payload;
}
