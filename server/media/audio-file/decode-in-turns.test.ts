import { describe, expect, it } from 'vitest';
import { AudioFileError, decodeAudio, decodeAudioInTurns, decodeOggOpus, decodeOggOpusInTurns, encodeOggOpus, encodeWav } from './index';

/** A few seconds of something speech-like enough for Opus: two tones beating. */
function signal(rate: number, seconds: number): Int16Array {
  return Int16Array.from({ length: rate * seconds }, (_, i) => Math.round(6000 * Math.sin((2 * Math.PI * 440 * i) / rate) + 3000 * Math.sin((2 * Math.PI * 1230 * i) / rate)));
}

describe('decoding in turns', () => {
  it('gives exactly what decoding at once gives, at each rate', async () => {
    for (const rate of [8000, 16000, 48000] as const) {
      const ogg = encodeOggOpus(signal(rate, 3), rate);
      const atOnce = decodeOggOpus(ogg, 'm.ogg', rate);
      expect((await decodeOggOpusInTurns(ogg, 'm.ogg', rate, Number.POSITIVE_INFINITY, 20)).samples).toEqual(atOnce);
      expect(await decodeAudioInTurns(ogg, 'm.ogg', { opusAtInputRate: true })).toEqual(decodeAudio(ogg, 'm.ogg', { opusAtInputRate: true }));
    }
  });

  it('lets the event loop run between turns', async () => {
    const ogg = encodeOggOpus(signal(16000, 10), 16000); // 500 packets
    let turns = 0;
    const tick = () => {
      turns++;
      if (!done) setImmediate(tick);
    };
    let done = false;
    setImmediate(tick);
    await decodeOggOpusInTurns(ogg, 'm.ogg', 16000, Number.POSITIVE_INFINITY, 50);
    done = true;
    expect(turns).toBeGreaterThanOrEqual(9);
  });

  it('stops at a length as decodeAudio does', async () => {
    const ogg = encodeOggOpus(signal(16000, 3), 16000);
    const limited = await decodeAudioInTurns(ogg, 'm.ogg', { opusAtInputRate: true, maxMs: 1000 });
    expect(limited).toEqual(decodeAudio(ogg, 'm.ogg', { opusAtInputRate: true, maxMs: 1000 }));
    expect(limited.complete).toBe(false);
  });

  it('reads WAV as it is, and rejects what is not audio or is damaged, as decodeAudio does', async () => {
    const wav = encodeWav(signal(8000, 1), 8000);
    expect(await decodeAudioInTurns(wav, 'm.wav')).toEqual(decodeAudio(wav, 'm.wav'));
    await expect(decodeAudioInTurns(Buffer.from('not audio at all'), 'x.bin')).rejects.toThrow(AudioFileError);
    const ogg = encodeOggOpus(signal(16000, 2), 16000);
    const cut = ogg.subarray(0, ogg.length - 100);
    await expect(decodeAudioInTurns(cut, 'cut.ogg')).rejects.toThrow(AudioFileError);
  });
});
