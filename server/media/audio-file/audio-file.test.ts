import { describe, expect, it } from 'vitest';
import { SoundError } from '../player/sound';
import { Upsampler } from '../joins/resample';
import { AudioFileError, decodeAudio, decodeAudioAsync, encodeOggOpus, encodeWav, OggOpusWriter, OPUS_PRE_SKIP, resample, resampleAsync, soundFromAudio } from './index';
import { FLAG_FIRST, FLAG_LAST, oggCrc, readOggPackets, writePage } from './ogg';

function tone(rate: number, ms: number, hz = 1000, amplitude = 12000): Int16Array {
  const samples = new Int16Array((rate * ms) / 1000);
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * i) / rate));
  return samples;
}

/** Power at `hz` over the samples (Goertzel), scaled so a full-length sine of amplitude A gives about A². */
function powerAt(samples: Int16Array, rate: number, hz: number): number {
  const coefficient = 2 * Math.cos((2 * Math.PI * hz) / rate);
  let previous = 0;
  let beforeThat = 0;
  for (const sample of samples) {
    const current = sample + coefficient * previous - beforeThat;
    beforeThat = previous;
    previous = current;
  }
  const power = previous * previous + beforeThat * beforeThat - coefficient * previous * beforeThat;
  return (4 * power) / (samples.length * samples.length);
}

function rms(samples: Int16Array): number {
  let sum = 0;
  for (const sample of samples) sum += sample * sample;
  return Math.sqrt(sum / Math.max(1, samples.length));
}

/** Silence, then a tone: where the tone starts shows whether the pre-skip was cut. */
function silenceThenTone(rate: number): Int16Array {
  const samples = new Int16Array(rate); // one second
  samples.set(tone(rate, 500), rate / 2);
  return samples;
}

/** Pages of an Ogg file: [offset, flags, granule]. */
function pages(bytes: Buffer): { at: number; flags: number; granule: bigint; length: number }[] {
  const found = [];
  let at = 0;
  while (at + 27 <= bytes.length) {
    const count = bytes[at + 26]!;
    let length = 27 + count;
    for (let i = 0; i < count; i++) length += bytes[at + 27 + i]!;
    found.push({ at, flags: bytes[at + 5]!, granule: bytes.readBigInt64LE(at + 6), length });
    at += length;
  }
  return found;
}

describe('Ogg Opus', () => {
  it.each([8000, 16000, 48000] as const)('a 1 kHz tone at %i Hz survives encoding and decoding, in place and to the sample count', (rate) => {
    const input = silenceThenTone(rate);
    const file = encodeOggOpus(input, rate);
    const decoded = decodeAudio(file, 'tone.opus');
    expect(decoded.rate).toBe(48000);
    expect(decoded.samples.length).toBe(48000);
    expect(decoded.durationMs).toBe(1000);
    // The first 450 ms are silent and the tone is there from 550 ms on: had the pre-skip not been cut, the
    // tone would start 6.5 ms late, which the window edges below are far from; had the end not been trimmed,
    // the length above would be off.
    const quiet = decoded.samples.subarray(0, 48000 * 0.45);
    const loud = decoded.samples.subarray(48000 * 0.55, 48000 * 0.95);
    expect(rms(quiet)).toBeLessThan(200);
    const at1k = powerAt(loud, 48000, 1000);
    expect(Math.sqrt(at1k)).toBeGreaterThan(12000 * 0.7);
    expect(powerAt(loud, 48000, 1500)).toBeLessThan(at1k / 1000);
    expect(powerAt(loud, 48000, 700)).toBeLessThan(at1k / 1000);
  });

  it('writes RFC 7845 headers, granules at 48 kHz and an end-of-stream page, each page with a valid checksum', () => {
    const file = encodeOggOpus(tone(16000, 3000), 16000);
    const found = pages(file);
    expect(found.length).toBeGreaterThan(4);
    expect(found[0]!.flags).toBe(FLAG_FIRST);
    expect(found.at(-1)!.flags).toBe(FLAG_LAST);
    expect(found.slice(1, -1).every((page) => page.flags === 0)).toBe(true);
    for (const page of found) {
      const copy = Buffer.from(file.subarray(page.at, page.at + page.length));
      const crc = copy.readUInt32LE(22);
      copy.writeUInt32LE(0, 22);
      expect(oggCrc(copy)).toBe(crc);
    }
    const granules = found.slice(2).map((page) => page.granule);
    for (let i = 1; i < granules.length; i++) expect(granules[i]! > granules[i - 1]!).toBe(true);
    expect(granules.at(-1)).toBe(BigInt(OPUS_PRE_SKIP + 3 * 48000));
    // No page holds more than a second of audio.
    expect(Number(granules[0]!)).toBeLessThanOrEqual(48000);
    const [head, tags] = readOggPackets(file, 'x');
    expect(head!.bytes.toString('latin1', 0, 8)).toBe('OpusHead');
    expect(head!.bytes[9]).toBe(1);
    expect(head!.bytes.readUInt16LE(10)).toBe(OPUS_PRE_SKIP);
    expect(head!.bytes.readUInt32LE(12)).toBe(16000);
    expect(tags!.bytes.toString('latin1', 0, 8)).toBe('OpusTags');
    // 32 kb/s: three seconds in about 12 KB.
    expect(file.length).toBeLessThan(16_000);
  });

  it('computes the CRC Ogg uses', () => {
    // The check value over "123456789" of this CRC (MSB first, polynomial 0x04C11DB7, from 0, no final inversion).
    expect(oggCrc(Buffer.from('123456789'))).toBe(0x89a1897f);
  });

  it('the streaming writer, fed odd-sized pieces, makes the same audio', () => {
    const input = silenceThenTone(8000);
    const writer = new OggOpusWriter(8000);
    const parts: Buffer[] = [];
    for (let at = 0; at < input.length; at += 333) parts.push(writer.write(input.subarray(at, at + 333)));
    expect(writer.durationMs).toBe(1000);
    parts.push(writer.finish());
    const decoded = decodeAudio(Buffer.concat(parts), 'pieces.opus');
    expect(decoded.samples.length).toBe(48000);
    expect(rms(decoded.samples.subarray(0, 20000))).toBeLessThan(200);
    expect(rms(decoded.samples.subarray(30000))).toBeGreaterThan(5000);
    expect(() => writer.write(new Int16Array(10))).toThrow('finished');
  });

  it('an empty recording is a valid file with no audio', () => {
    expect(decodeAudio(encodeOggOpus(new Int16Array(0), 16000), 'empty.opus').samples.length).toBe(0);
  });

  it('a damaged file says so: a flipped byte fails the checksum', () => {
    const file = encodeOggOpus(tone(8000, 2000), 8000);
    const damaged = Buffer.from(file);
    damaged[damaged.length - 40]! ^= 0x55;
    expect(() => decodeAudio(damaged, 'bad.opus')).toThrow(new AudioFileError('bad.opus is damaged: an Ogg page fails its checksum (byte ' + pages(file).at(-1)!.at + ')'));
  });

  it('a file cut short says so', () => {
    const file = encodeOggOpus(tone(8000, 2000), 8000);
    expect(() => decodeAudio(file.subarray(0, file.length - 10), 'cut.opus')).toThrow('cut.opus is cut short');
    expect(() => decodeAudio(file.subarray(0, 50), 'cut.opus')).toThrow('cut.opus is cut short');
  });

  it('a missing page says so', () => {
    const file = encodeOggOpus(tone(8000, 3000), 8000);
    const found = pages(file);
    const third = found[3]!;
    const without = Buffer.concat([file.subarray(0, third.at), file.subarray(third.at + third.length)]);
    expect(() => decodeAudio(without, 'gap.opus')).toThrow('gap.opus is damaged: Ogg page 3 is missing');
  });

  it('Ogg that is not Opus is refused by name', () => {
    const vorbis = Buffer.from(encodeOggOpus(tone(8000, 100), 8000));
    vorbis.write('\x01vorbis\0', 28, 'latin1');
    expect(() => decodeAudio(vorbis, 'song.ogg')).toThrow('song.ogg is an Ogg file but not Ogg Opus');
  });

  it('no mangled file crashes the reader: every failure is an AudioFileError', () => {
    const file = encodeOggOpus(tone(16000, 1500), 16000);
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    for (let round = 0; round < 300; round++) {
      const mangled = Buffer.from(file.subarray(0, Math.floor(random() * file.length) + 1));
      for (let i = 0; i < 3; i++) mangled[Math.floor(random() * mangled.length)] = Math.floor(random() * 256);
      // A mangled page would fail its checksum; recomputing them reaches the Opus headers and packets too.
      if (round % 2 === 0) {
        for (const page of pages(mangled)) {
          if (page.at + page.length > mangled.length) break;
          mangled.writeUInt32LE(0, page.at + 22);
          mangled.writeUInt32LE(oggCrc(mangled.subarray(page.at, page.at + page.length)), page.at + 22);
        }
      }
      try {
        decodeAudio(mangled, 'm.opus');
      } catch (error) {
        expect(error).toBeInstanceOf(AudioFileError);
      }
    }
  });
});

/** A WAV file of any layout, for the reader's cases. */
function wavOf(options: { tag?: number; channels?: number; rate?: number; bits: number; data: Buffer; extensible?: boolean }): Buffer {
  const { tag = 1, channels = 1, rate = 8000, bits, data, extensible = false } = options;
  const fmt = Buffer.alloc(extensible ? 40 : 16);
  fmt.writeUInt16LE(extensible ? 0xfffe : tag, 0);
  fmt.writeUInt16LE(channels, 2);
  fmt.writeUInt32LE(rate, 4);
  fmt.writeUInt32LE((rate * channels * bits) / 8, 8);
  fmt.writeUInt16LE((channels * bits) / 8, 12);
  fmt.writeUInt16LE(bits, 14);
  if (extensible) {
    fmt.writeUInt16LE(22, 16);
    fmt.writeUInt16LE(tag, 24);
  }
  const chunk = (id: string, body: Buffer): Buffer => {
    const header = Buffer.alloc(8);
    header.write(id, 0, 'latin1');
    header.writeUInt32LE(body.length, 4);
    return Buffer.concat([header, body, Buffer.alloc(body.length % 2)]);
  };
  const body = Buffer.concat([Buffer.from('WAVE', 'latin1'), chunk('fmt ', fmt), chunk('LIST', Buffer.from('INFOjunk!')), chunk('data', data)]);
  const riff = Buffer.alloc(8);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(body.length, 4);
  return Buffer.concat([riff, body]);
}

describe('WAV', () => {
  const values = [0, 16384, -16384, 32767, -32768];

  it('16-bit mono round-trips through encodeWav', () => {
    const samples = Int16Array.from(values);
    const decoded = decodeAudio(encodeWav(samples, 16000), 'a.wav');
    expect(decoded).toEqual({ rate: 16000, samples, durationMs: (5 * 1000) / 16000 });
  });

  it('reads 8-bit unsigned, 24- and 32-bit integer and 32-bit float samples, at the 16-bit scale', () => {
    const eight = Buffer.from([128, 192, 64, 255, 0]);
    expect(Array.from(decodeAudio(wavOf({ bits: 8, data: eight }), 'a.wav').samples)).toEqual([0, 16384, -16384, 32512, -32768]);
    const twentyFour = Buffer.alloc(15);
    values.forEach((value, i) => twentyFour.writeIntLE(value * 256, i * 3, 3));
    expect(Array.from(decodeAudio(wavOf({ bits: 24, data: twentyFour }), 'a.wav').samples)).toEqual(values);
    const thirtyTwo = Buffer.alloc(20);
    values.forEach((value, i) => thirtyTwo.writeInt32LE(value * 65536, i * 4));
    expect(Array.from(decodeAudio(wavOf({ bits: 32, data: thirtyTwo }), 'a.wav').samples)).toEqual(values);
    const float = Buffer.alloc(24);
    [0, 0.5, -0.5, 1, -1, 2].forEach((value, i) => float.writeFloatLE(value, i * 4));
    expect(Array.from(decodeAudio(wavOf({ tag: 3, bits: 32, data: float }), 'a.wav').samples)).toEqual([0, 16384, -16384, 32767, -32768, 32767]);
    expect(Array.from(decodeAudio(wavOf({ tag: 3, bits: 32, data: float, extensible: true }), 'a.wav').samples)).toHaveLength(6);
  });

  it('mixes stereo down to mono', () => {
    const data = Buffer.alloc(8);
    data.writeInt16LE(1000, 0);
    data.writeInt16LE(3000, 2);
    data.writeInt16LE(-2000, 4);
    data.writeInt16LE(0, 6);
    expect(Array.from(decodeAudio(wavOf({ channels: 2, bits: 16, data, rate: 44100 }), 's.wav').samples)).toEqual([2000, -1000]);
  });

  it('keeps what a file cut short holds', () => {
    const file = encodeWav(Int16Array.from(values), 8000);
    expect(Array.from(decodeAudio(file.subarray(0, file.length - 3), 'cut.wav').samples)).toEqual(values.slice(0, 3));
  });

  it('refuses what it cannot read with a sentence', () => {
    expect(() => decodeAudio(wavOf({ tag: 2, bits: 4, data: Buffer.alloc(10) }), 'adpcm.wav')).toThrow(
      new AudioFileError('adpcm.wav: a WAV file of compressed audio, which the PBX does not read; save it as 16-bit PCM'),
    );
    expect(() => decodeAudio(wavOf({ bits: 12, data: Buffer.alloc(10) }), 'odd.wav')).toThrow('a WAV file of 12-bit PCM samples');
    expect(() => decodeAudio(wavOf({ bits: 16, channels: 6, data: Buffer.alloc(12) }), 'surround.wav')).toThrow('6 channels');
    expect(() => decodeAudio(wavOf({ bits: 16, rate: 0, data: Buffer.alloc(12) }), 'zero.wav')).toThrow('0 Hz is not a rate');
    expect(() => decodeAudio(encodeWav(new Int16Array(4), 8000).subarray(0, 36), 'short.wav')).toThrow('a WAV file without audio data');
  });

  it('anything else is not an audio file the PBX reads', () => {
    expect(() => decodeAudio(Buffer.from('ID3\x04 an mp3'), 'song.mp3')).toThrow(
      new AudioFileError('song.mp3 is not an audio file the PBX reads: use WAV or Ogg Opus'),
    );
    expect(() => decodeAudio(Buffer.alloc(0), 'nothing')).toThrow('nothing is not an audio file the PBX reads');
  });
});

describe('resample and soundFromAudio', () => {
  it.each([
    [44100, 48000],
    [48000, 16000],
    [16000, 48000],
    [8000, 16000],
    [48000, 8000],
    [22050, 16000],
  ])('a 1 kHz tone from %i Hz to %i Hz keeps its pitch, level and length', (from, to) => {
    const out = resample(tone(from, 500), from, to);
    expect(out.length).toBe(Math.round((from * 0.5 * to) / from));
    const middle = out.subarray(Math.floor(to * 0.05), Math.floor(to * 0.45));
    const at1k = powerAt(middle, to, 1000);
    expect(Math.sqrt(at1k)).toBeGreaterThan(12000 * 0.85);
    expect(Math.sqrt(at1k)).toBeLessThan(12000 * 1.1);
    expect(powerAt(middle, to, 1300)).toBeLessThan(at1k / 100);
  });

  it('removes what the lower rate cannot carry instead of folding it back', () => {
    // 7 kHz at 48 kHz would fold to 1 kHz at 8 kHz, and to 9 kHz (out of band) at 16 kHz: it must vanish.
    const out = resample(tone(48000, 500, 7000), 48000, 8000);
    expect(rms(out.subarray(400))).toBeLessThan(300);
  });

  it('plays files at their rate when the player can, and converts the rest upward', () => {
    const at16 = soundFromAudio({ rate: 16000, samples: tone(16000, 100), durationMs: 100 }, 'a');
    expect([at16.rate, at16.samples.length]).toEqual([16000, 1600]);
    const at44 = soundFromAudio({ rate: 44100, samples: tone(44100, 100), durationMs: 100 }, 'b');
    expect([at44.rate, at44.samples.length]).toEqual([48000, 4800]);
    const at11 = soundFromAudio({ rate: 11025, samples: tone(11025, 200), durationMs: 200 }, 'c');
    expect([at11.rate, at11.samples.length]).toEqual([16000, 3200]);
    expect(() => soundFromAudio({ rate: 8000, samples: new Int16Array(0), durationMs: 0 }, 'empty')).toThrow(SoundError);
  });
});

describe('decoding for playback', () => {
  it('decodes Ogg Opus made at 8 or 16 kHz at that rate when asked, the same length and tone', () => {
    for (const rate of [8000, 16000] as const) {
      const decoded = decodeAudio(encodeOggOpus(silenceThenTone(rate), rate), 'g.opus', { opusAtInputRate: true });
      expect(decoded.rate).toBe(rate);
      expect(decoded.samples.length).toBe(rate);
      expect(decoded.durationMs).toBe(1000);
      expect(rms(decoded.samples.subarray(0, rate * 0.45))).toBeLessThan(200);
      expect(Math.sqrt(powerAt(decoded.samples.subarray(rate * 0.55, rate * 0.95), rate, 1000))).toBeGreaterThan(12000 * 0.7);
    }
    expect(decodeAudio(encodeOggOpus(tone(48000, 100), 48000), 'g.opus', { opusAtInputRate: true }).rate).toBe(48000);
  });
});

/** An Ogg Opus file of `count` two-byte packets that each stand for 120 ms (six empty 20 ms frames). */
function tinyPacketsClaimingHours(count: number, endGranule: bigint): Buffer {
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'latin1');
  head[8] = 1;
  head[9] = 1;
  head.writeUInt16LE(312, 10);
  head.writeUInt32LE(48000, 12);
  const tags = Buffer.concat([Buffer.from('OpusTags', 'latin1'), Buffer.alloc(8)]);
  const pagesOut = [writePage({ flags: FLAG_FIRST, granule: 0n, serial: 1, sequence: 0 }, [head]), writePage({ flags: 0, granule: 0n, serial: 1, sequence: 1 }, [tags])];
  const packet = Buffer.from([(31 << 3) | 3, 6]);
  let sequence = 2;
  for (let left = count; left > 0; left -= 200) {
    const last = left <= 200;
    pagesOut.push(writePage({ flags: last ? FLAG_LAST : 0, granule: last ? endGranule : 0n, serial: 1, sequence: sequence++ }, new Array<Buffer>(Math.min(left, 200)).fill(packet)));
  }
  return Buffer.concat(pagesOut);
}

describe('decoding up to a limit', () => {
  it('stops a file of tiny packets claiming hours a little past the limit, and says how long it claims to be', () => {
    // 100 000 packets of 120 ms: over three hours in 210 KB.
    const file = tinyPacketsClaimingHours(100_000, BigInt(312 + 100_000 * 5760));
    const started = performance.now();
    const decoded = decodeAudio(file, 'hours.opus', { maxMs: 120_000 });
    expect(performance.now() - started).toBeLessThan(3000);
    expect(decoded.complete).toBe(false);
    expect(decoded.samples.length).toBeLessThanOrEqual(48 * 121_000);
    expect(decoded.durationMs).toBe(100_000 * 120);
  });

  it('a file within the limit decodes whole, as without one', () => {
    const decoded = decodeAudio(encodeOggOpus(tone(16000, 1500), 16000), 'ok.opus', { maxMs: 120_000 });
    expect(decoded.complete).toBeUndefined();
    expect(decoded.durationMs).toBe(1500);
  });

  it('a file that holds more packets than its end says is decoded only to the limit, and is as long as its end says (RFC 7845 §4.5)', () => {
    const decoded = decodeAudio(tinyPacketsClaimingHours(5_000, 312n + 48_000n), 'padded.opus', { maxMs: 10_000 });
    expect(decoded.complete).toBeUndefined();
    expect([decoded.durationMs, decoded.samples.length]).toEqual([1000, 48_000]);
  });

  it('a file whose end is missing is stopped at the limit and reads as longer than it', () => {
    const file = tinyPacketsClaimingHours(5_000, -1n);
    const decoded = decodeAudio(file, 'endless.opus', { maxMs: 10_000 });
    expect(decoded.complete).toBe(false);
    expect(decoded.durationMs).toBeGreaterThan(10_000);
  });
});

describe('files made of nothing', () => {
  /** A second of real Ogg Opus, its two header pages only, then `pages` pages each holding `packetsPerPage` empty packets. */
  function emptyPacketBomb(pages: number, packetsPerPage: number): Buffer {
    const valid = encodeOggOpus(new Int16Array(48000), 48000);
    const pageLength = (at: number) => 27 + valid[at + 26]! + valid.subarray(at + 27, at + 27 + valid[at + 26]!).reduce((sum, size) => sum + size, 0);
    const headers = pageLength(0) + pageLength(pageLength(0));
    const serial = valid.readUInt32LE(14);
    const empties = new Array<Buffer>(packetsPerPage).fill(Buffer.alloc(0));
    const out = [valid.subarray(0, headers)];
    for (let sequence = 2; sequence < pages + 2; sequence++) out.push(writePage({ flags: 0, granule: -1n, serial, sequence }, empties));
    return Buffer.concat(out);
  }

  it('refuses a file of empty packets (RFC 6716 §3.4: a packet is at least one byte) once it holds more than the limit allows, without reading on', async () => {
    // 2000 pages of 255 empty packets: 510 000 packets in half a megabyte; a 2.5 ms packet is the shortest,
    // so two minutes never need more than 48 000. The page at the end is damaged: reading never gets there.
    const bomb = emptyPacketBomb(2000, 255);
    bomb[bomb.length - 1] = bomb[bomb.length - 1]! ^ 0xff;
    await expect(decodeAudioAsync(bomb, 'The file', { maxMs: 120_000 })).rejects.toThrow(AudioFileError);
    await expect(decodeAudioAsync(bomb, 'The file', { maxMs: 120_000 })).rejects.toThrow('The file is damaged: it holds more Opus packets than 120 seconds of audio can');
    expect(() => decodeAudio(bomb, 'The file', { maxMs: 120_000 })).toThrow('more Opus packets than 120 seconds');
  });

  it('refuses a file of pages that end no packet the same way', async () => {
    const bomb = emptyPacketBomb(60_000, 0);
    await expect(decodeAudioAsync(bomb, 'The file', { maxMs: 120_000 })).rejects.toThrow('The file is damaged: it holds more Opus packets than 120 seconds of audio can');
  });

  it('a few empty packets among the audio are skipped', () => {
    const decoded = decodeAudio(emptyPacketBomb(3, 10), 'a.opus', { maxMs: 120_000 });
    expect(decoded.samples.length).toBe(0);
    expect(decoded.complete).toBeUndefined();
  });

  it('reads a file only as far as the limit: a damaged page past it is never reached', () => {
    const file = Buffer.from(tinyPacketsClaimingHours(100_000, BigInt(312 + 100_000 * 5760)));
    file[file.length - 1] = file[file.length - 1]! ^ 0xff;
    const decoded = decodeAudio(file, 'hours.opus', { maxMs: 120_000 });
    expect(decoded.complete).toBe(false);
    expect(decoded.samples.length).toBeLessThanOrEqual(48 * 121_000);
    expect(decoded.durationMs).toBe(100_000 * 120);
  });
});

describe('the forms that let the event loop turn', () => {
  it.each([
    [44100, 48000],
    [8000, 48000],
    [48000, 8000],
    [16000, 8000],
  ])('resampleAsync from %i Hz to %i Hz gives what resample gives, piece by piece without seams', async (from, to) => {
    const input = tone(from, 2500, 700);
    expect(Array.from(await resampleAsync(input, from, to))).toEqual(Array.from(resample(input, from, to)));
  });

  it('the one-shot converters match a single pass of the mixer converters', async () => {
    // Seams would show as a difference from converting the whole input in one call.
    const input = tone(8000, 2500, 700);
    const whole = new Int16Array(input.length * 2);
    new Upsampler(2).process(input, whole);
    expect(Array.from(resample(input, 8000, 16000))).toEqual(Array.from(whole));
  });

  it('decodeAudioAsync gives what decodeAudio gives, limit and all', async () => {
    const file = encodeOggOpus(silenceThenTone(16000), 16000);
    expect(await decodeAudioAsync(file, 'a.opus', { opusAtInputRate: true })).toEqual(decodeAudio(file, 'a.opus', { opusAtInputRate: true }));
    const wav = encodeWav(tone(8000, 300), 8000);
    expect(await decodeAudioAsync(wav, 'a.wav')).toEqual(decodeAudio(wav, 'a.wav'));
    await expect(decodeAudioAsync(Buffer.from('nope'), 'n')).rejects.toThrow('n is not an audio file the PBX reads');
  });
});
