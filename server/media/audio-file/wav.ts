/**
 * WAV files (RIFF WAVE): the chunks read with every length checked, and the samples of the formats people and
 * browsers save (integer PCM of 8, 16, 24 or 32 bits, 32-bit float; mono or stereo) turned into 16-bit mono.
 * The player's own reader (player/sound.ts, which plays only 16-bit PCM as it is) walks the chunks with
 * `readWavLayout` too.
 */
import { AudioFileError } from './errors';

export type WavSampleFormat = 'pcm' | 'float' | 'other';

export interface WavLayout {
  format: WavSampleFormat;
  channels: number;
  rate: number;
  bits: number;
  data: Buffer;
}

export function isWav(bytes: Buffer): boolean {
  return bytes.length >= 12 && bytes.toString('latin1', 0, 4) === 'RIFF' && bytes.toString('latin1', 8, 12) === 'WAVE';
}

/** The format chunk and the audio of a WAV file; throws AudioFileError when it is not one or lacks either. */
export function readWavLayout(bytes: Buffer, name: string): WavLayout {
  if (!isWav(bytes)) throw new AudioFileError(`${name}: not a WAV file`);
  let format: Omit<WavLayout, 'data'> | undefined;
  let data: Buffer | undefined;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = bytes.toString('latin1', at, at + 4);
    const size = bytes.readUInt32LE(at + 4);
    // A recorder cut off mid-write leaves a data chunk longer than the file: what is there is kept.
    const body = bytes.subarray(at + 8, Math.min(at + 8 + size, bytes.length));
    if (id === 'fmt ' && body.length >= 16) {
      const tag = body.readUInt16LE(0);
      // WAVE_FORMAT_EXTENSIBLE names its sample format by a GUID whose first two bytes are the plain tag.
      const subTag = tag === 0xfffe && body.length >= 26 ? body.readUInt16LE(24) : tag;
      format = {
        format: subTag === 1 ? 'pcm' : subTag === 3 ? 'float' : 'other',
        channels: body.readUInt16LE(2),
        rate: body.readUInt32LE(4),
        bits: body.readUInt16LE(14),
      };
    } else if (id === 'data') {
      data = body;
    }
    // RIFF chunks are padded to an even length.
    at += 8 + size + (size % 2);
  }
  if (!format || !data) throw new AudioFileError(`${name}: a WAV file without ${format ? 'audio data' : 'a format chunk'}`);
  return { ...format, data };
}

export interface WavAudio {
  rate: number;
  /** Mono: the channels averaged. */
  samples: Int16Array;
}

function saturate(value: number): number {
  return value > 32767 ? 32767 : value < -32768 ? -32768 : value;
}

/** One sample of `layout` at `offset`, scaled to the 16-bit range. */
function reader(layout: WavLayout, name: string): (offset: number) => number {
  const { data, format, bits } = layout;
  if (format === 'pcm' && bits === 8) return (offset) => (data[offset]! - 128) << 8; // 8-bit WAV is unsigned
  if (format === 'pcm' && bits === 16) return (offset) => data.readInt16LE(offset);
  if (format === 'pcm' && bits === 24) return (offset) => data.readIntLE(offset, 3) >> 8;
  if (format === 'pcm' && bits === 32) return (offset) => data.readInt32LE(offset) >> 16;
  if (format === 'float' && bits === 32) return (offset) => Math.round(saturate(data.readFloatLE(offset) * 32768));
  const what = format === 'other' ? 'compressed audio' : `${bits}-bit ${format === 'float' ? 'floating-point' : 'PCM'} samples`;
  throw new AudioFileError(`${name}: a WAV file of ${what}, which the PBX does not read; save it as 16-bit PCM`);
}

/** A WAV file's audio as 16-bit mono at the file's own rate. */
export function decodeWav(bytes: Buffer, name: string): WavAudio {
  const layout = readWavLayout(bytes, name);
  const { channels, rate, bits } = layout;
  if (channels !== 1 && channels !== 2) throw new AudioFileError(`${name}: ${channels} channels; the PBX reads mono or stereo`);
  if (rate < 8000 || rate > 192000) throw new AudioFileError(`${name}: ${rate} Hz is not a rate the PBX reads (8000 to 192000 Hz)`);
  const read = reader(layout, name);
  const width = bits / 8;
  const count = Math.floor(layout.data.length / (width * channels));
  const samples = new Int16Array(count);
  for (let i = 0; i < count; i++) {
    const offset = i * width * channels;
    samples[i] = channels === 1 ? read(offset) : (read(offset) + read(offset + width)) >> 1;
  }
  return { rate, samples };
}

/** 16-bit mono PCM as a WAV file. */
export function encodeWav(samples: Int16Array, rate: number): Buffer {
  const bytes = Buffer.alloc(44 + samples.length * 2);
  bytes.write('RIFF', 0, 'latin1');
  bytes.writeUInt32LE(36 + samples.length * 2, 4);
  bytes.write('WAVEfmt ', 8, 'latin1');
  bytes.writeUInt32LE(16, 16);
  bytes.writeUInt16LE(1, 20); // PCM
  bytes.writeUInt16LE(1, 22); // mono
  bytes.writeUInt32LE(rate, 24);
  bytes.writeUInt32LE(rate * 2, 28); // bytes a second
  bytes.writeUInt16LE(2, 32); // bytes a frame
  bytes.writeUInt16LE(16, 34);
  bytes.write('data', 36, 'latin1');
  bytes.writeUInt32LE(samples.length * 2, 40);
  for (let i = 0; i < samples.length; i++) bytes.writeInt16LE(samples[i]!, 44 + i * 2);
  return bytes;
}
