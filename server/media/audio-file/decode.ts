/** Any audio file the PBX reads, told apart by its first bytes rather than its name, as 16-bit mono. */
import { Sound } from '../player/sound';
import { AudioFileError } from './errors';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { decodeOggOpusUpTo, decodeSteps, isOggOpus, OPUS_HEAD_AT } from './ogg-opus';
import type { OggOpusRate } from './ogg-opus';
import { resample } from './resample';
import { decodeWav, isWav } from './wav';

export interface DecodedAudio {
  rate: number;
  /** Mono. */
  samples: Int16Array;
  durationMs: number;
  /** False when decoding stopped at DecodeOptions.maxMs: `samples` hold only the start. */
  complete?: boolean;
}

export type AudioFileKind = 'wav' | 'ogg-opus';

/** What kind of audio file the bytes start like, if one the PBX reads. */
export function audioFileKind(bytes: Buffer): AudioFileKind | undefined {
  if (isWav(bytes)) return 'wav';
  if (isOggOpus(bytes)) return 'ogg-opus';
  return undefined;
}

export interface DecodeOptions {
  /**
   * Decode Ogg Opus at the rate its header says the audio was made at, when that is 8 or 16 kHz, rather than at
   * 48 kHz: the same sound in a third or a sixth of the memory, for sounds that are kept to be played.
   */
  opusAtInputRate?: boolean;
  /**
   * Stop decoding Ogg Opus past this length: the samples then stop a little after it, `complete` is false and
   * `durationMs` says how long the audio is (as far as the file tells). For checking uploads against a limit
   * without decoding whatever a small file may claim. WAV is always read whole (its length is its size).
   */
  maxMs?: number;
}

/** Decodes a WAV or Ogg Opus file; throws AudioFileError, naming `name`, for anything else or a damaged file. */
export function decodeAudio(bytes: Buffer, name: string, options: DecodeOptions = {}): DecodedAudio {
  const kind = audioFileKind(bytes);
  if (kind === 'wav') return fromWav(bytes, name);
  if (kind === 'ogg-opus') {
    const rate = opusRate(bytes, options);
    return fromOpus(rate, decodeOggOpusUpTo(bytes, name, rate, options.maxMs));
  }
  return notAudio(bytes, name);
}

/**
 * As decodeAudio, letting the event loop turn after each second of Opus decoded: what the PBX uses while calls
 * run, since a two-minute file takes a few hundred milliseconds to decode, many 20 ms media ticks.
 */
export async function decodeAudioAsync(bytes: Buffer, name: string, options: DecodeOptions = {}): Promise<DecodedAudio> {
  const kind = audioFileKind(bytes);
  if (kind === 'wav') return fromWav(bytes, name);
  if (kind === 'ogg-opus') {
    const rate = opusRate(bytes, options);
    const steps = decodeSteps(bytes, name, rate, options.maxMs ?? Number.POSITIVE_INFINITY);
    for (;;) {
      const step = steps.next();
      if (step.done) return fromOpus(rate, step.value);
      await nextTurn();
    }
  }
  return notAudio(bytes, name);
}

function fromWav(bytes: Buffer, name: string): DecodedAudio {
  const { rate, samples } = decodeWav(bytes, name);
  return { rate, samples, durationMs: (samples.length * 1000) / rate };
}

function opusRate(bytes: Buffer, options: DecodeOptions): OggOpusRate {
  const inputRate = bytes.readUInt32LE(OPUS_HEAD_AT + 12);
  return options.opusAtInputRate && (inputRate === 8000 || inputRate === 16000) ? inputRate : 48000;
}

function fromOpus(rate: number, { samples, durationMs, complete }: { samples: Int16Array; durationMs: number; complete: boolean }): DecodedAudio {
  return complete ? { rate, samples, durationMs } : { rate, samples, durationMs, complete };
}

function notAudio(bytes: Buffer, name: string): never {
  if (bytes.length >= 4 && bytes.toString('latin1', 0, 4) === 'OggS') {
    throw new AudioFileError(`${name} is an Ogg file but not Ogg Opus, which the PBX does not read: use WAV or Ogg Opus`);
  }
  throw new AudioFileError(`${name} is not an audio file the PBX reads: use WAV or Ogg Opus`);
}

const SOUND_RATES = [8000, 16000, 48000] as const;

/**
 * Decoded audio as a sound the media player plays: kept at its rate when the player plays that rate, otherwise
 * converted to the lowest of 8, 16 and 48 kHz that loses nothing (16 kHz for 11.025 kHz, 48 kHz for 44.1 kHz).
 * Throws the player's SoundError when the audio is empty or too long to play.
 */
export function soundFromAudio(decoded: DecodedAudio, name: string): Sound {
  const rate = SOUND_RATES.find((candidate) => candidate >= decoded.rate) ?? 48000;
  const samples = rate === decoded.rate ? decoded.samples : resample(decoded.samples, decoded.rate, rate);
  return new Sound(name, rate, samples);
}
