import { describe, expect, it } from 'vitest';
import { ALAW_TO_LINEAR, decodeG711, encodeG711, ULAW_TO_LINEAR } from './g711';

const encodeOne = (law: 'ulaw' | 'alaw', sample: number) => encodeG711(law, Int16Array.of(sample))[0];

describe('G.711 µ-law (PCMU)', () => {
  it('decodes the code words of G.711 table 2a to their values', () => {
    expect(ULAW_TO_LINEAR[0xff]).toBe(0);
    expect(ULAW_TO_LINEAR[0x7f]).toBe(0);
    expect(ULAW_TO_LINEAR[0x80]).toBe(32124);
    expect(ULAW_TO_LINEAR[0x00]).toBe(-32124);
    expect(ULAW_TO_LINEAR[0xfe]).toBe(8);
    expect(ULAW_TO_LINEAR[0xef]).toBe(132);
    expect(ULAW_TO_LINEAR[0x8f]).toBe(16764);
  });

  it('encodes silence, full scale and the limits', () => {
    expect(encodeOne('ulaw', 0)).toBe(0xff);
    expect(encodeOne('ulaw', 32767)).toBe(0x80);
    expect(encodeOne('ulaw', -32768)).toBe(0x00);
    expect(encodeOne('ulaw', 1000)).toBe(0xce);
    expect(encodeOne('ulaw', -1000)).toBe(0x4e);
  });

  it('gives back every code word it decodes (but the negative zero)', () => {
    for (let byte = 0; byte < 256; byte++) {
      if (byte === 0x7f) continue;
      expect(encodeOne('ulaw', ULAW_TO_LINEAR[byte]!)).toBe(byte);
    }
  });

  it('keeps the error within half a step', () => {
    for (let sample = -32000; sample <= 32000; sample += 7) {
      const back = ULAW_TO_LINEAR[encodeOne('ulaw', sample)!]!;
      // The step doubles each segment: 8 in the first, 1024 in the last.
      expect(Math.abs(back - sample)).toBeLessThanOrEqual(Math.max(8, Math.abs(sample) / 16 + 8));
    }
  });
});

describe('G.711 A-law (PCMA)', () => {
  it('decodes the code words of G.711 table 1a to their values', () => {
    expect(ALAW_TO_LINEAR[0xd5]).toBe(8);
    expect(ALAW_TO_LINEAR[0x55]).toBe(-8);
    expect(ALAW_TO_LINEAR[0xaa]).toBe(32256);
    expect(ALAW_TO_LINEAR[0x2a]).toBe(-32256);
  });

  it('encodes silence, full scale and the limits', () => {
    expect(encodeOne('alaw', 0)).toBe(0xd5);
    expect(encodeOne('alaw', -1)).toBe(0x55);
    expect(encodeOne('alaw', 32767)).toBe(0xaa);
    expect(encodeOne('alaw', -32768)).toBe(0x2a);
    expect(encodeOne('alaw', 1000)).toBe(0xfa);
  });

  it('gives back every code word it decodes', () => {
    for (let byte = 0; byte < 256; byte++) expect(encodeOne('alaw', ALAW_TO_LINEAR[byte]!)).toBe(byte);
  });

  it('decodes a payload into samples, one a byte', () => {
    const into = new Int16Array(4);
    expect(decodeG711('alaw', Buffer.from([0xd5, 0x55, 0xaa, 0x2a]), into)).toBe(4);
    expect([...into]).toEqual([8, -8, 32256, -32256]);
  });
});
