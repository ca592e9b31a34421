import { describe, expect, it } from 'vitest';
import { encodeWav } from './wav-blob';

describe('the WAV the app uploads', () => {
  it('is a RIFF WAVE of 16-bit mono PCM at the rate given, samples clipped at full scale', () => {
    const bytes = encodeWav(Float32Array.from([0, 0.5, -0.5, 1, -1, 1.5, -2]), 16000);
    const view = new DataView(bytes.buffer);
    const text = (at: number, length: number) => String.fromCharCode(...bytes.subarray(at, at + length));
    expect([text(0, 4), text(8, 4), text(12, 4), text(36, 4)]).toEqual(['RIFF', 'WAVE', 'fmt ', 'data']);
    expect(view.getUint32(4, true)).toBe(bytes.length - 8);
    // PCM, mono, 16 kHz, 32000 bytes a second, 2 bytes a frame, 16 bits.
    expect([view.getUint16(20, true), view.getUint16(22, true), view.getUint32(24, true), view.getUint32(28, true), view.getUint16(32, true), view.getUint16(34, true)]).toEqual([
      1, 1, 16000, 32000, 2, 16,
    ]);
    expect(view.getUint32(40, true)).toBe(14);
    const samples = Array.from({ length: 7 }, (_, i) => view.getInt16(44 + i * 2, true));
    expect(samples).toEqual([0, 16384, -16384, 32767, -32768, 32767, -32768]);
  });
});
