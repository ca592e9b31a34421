/**
 * A sound the PBX plays into calls (music on hold; later greetings and voicemail prompts): 16-bit mono samples
 * at 8, 16 or 48 kHz, read from a WAV file or made in code.
 *
 * A sound is coded once per codec, not once per call: `frame(kind, index)` codes the sound into 20 ms payloads
 * (G.711 µ-law or A-law, Opus; frame-codec.ts, the mixer's own coders) as playback first reaches each frame, and
 * keeps them, so a hundred callers on hold cost a hundred packet sends a frame and no coding.
 */
import { readFileSync } from 'node:fs';
import { AudioFileError } from '../audio-file/errors';
import { readWavLayout } from '../audio-file/wav';
import type { WavLayout } from '../audio-file/wav';
import { createEncoder, samplesPerFrame } from '../joins/frame-codec';
import type { CodecKind, FrameEncoder, MixRate } from '../joins/frame-codec';

/** A sound longer than this is refused: what the PBX plays is a loop or a prompt, not an album. */
export const MAX_SOUND_SECONDS = 600;

const RATES: readonly MixRate[] = [8000, 16000, 48000];

/** A sound file that cannot be played, and why, in words. */
export class SoundError extends Error {
  override name = 'SoundError';
}

/** A sound's payloads in one codec, coded as far as playback has needed them. */
interface Coded {
  frames: Buffer[];
  /** Set until every frame is coded; its state carries from one frame to the next. */
  encoder: FrameEncoder | undefined;
}

export class Sound {
  private readonly coded = new Map<CodecKind, Coded>();
  /** 20 ms frames in the sound, the last padded with silence. */
  readonly frameCount: number;

  constructor(
    /** For logs and errors: a file name or what the sound is. */
    readonly name: string,
    readonly rate: MixRate,
    readonly samples: Int16Array,
  ) {
    if (!RATES.includes(rate)) throw new SoundError(`${name}: ${rate} Hz is not a rate the PBX plays (8000, 16000 or 48000 Hz)`);
    if (samples.length === 0) throw new SoundError(`${name}: the sound is empty`);
    if (samples.length > rate * MAX_SOUND_SECONDS) throw new SoundError(`${name}: longer than ${MAX_SOUND_SECONDS / 60} minutes`);
    this.frameCount = Math.ceil(samples.length / samplesPerFrame(rate));
  }

  get durationMs(): number {
    return (this.samples.length * 1000) / this.rate;
  }

  /**
   * Frame `index` as a payload of `kind`. Frames are coded in order as playback first reaches them and kept, so
   * a long sound costs one frame's coding per tick the first time it plays, never a pause to code it whole.
   */
  frame(kind: CodecKind, index: number): Buffer {
    let coded = this.coded.get(kind);
    const known = coded?.frames[index];
    if (known) return known;
    if (!coded) {
      coded = { frames: [], encoder: createEncoder(kind, this.rate) };
      this.coded.set(kind, coded);
    }
    const size = samplesPerFrame(this.rate);
    const pcm = new Int16Array(size);
    while (coded.frames.length <= index && coded.encoder) {
      const from = coded.frames.length * size;
      pcm.set(this.samples.subarray(from, Math.min(from + size, this.samples.length)));
      if (from + size > this.samples.length) pcm.fill(0, this.samples.length - from);
      coded.frames.push(Buffer.from(coded.encoder.encode(pcm)));
      if (coded.frames.length === this.frameCount) coded.encoder = undefined;
    }
    const frame = coded.frames[index];
    if (!frame) throw new RangeError(`${this.name}: no frame ${index} (it has ${this.frameCount})`);
    return frame;
  }

  /** Every frame in `kind` (coding what is not coded yet). */
  frames(kind: CodecKind): readonly Buffer[] {
    this.frame(kind, this.frameCount - 1);
    return this.coded.get(kind)!.frames;
  }
}

/**
 * A WAV file (RIFF, PCM) as a sound: 16-bit, mono or stereo (mixed down), at 8, 16 or 48 kHz. Anything else is
 * refused with a sentence that says what to convert it to. The chunks are read by audio-file/wav.ts, whose
 * decodeAudio takes the other layouts and rates for uploads; music on hold is read as it is, or not at all.
 */
export function parseWav(bytes: Buffer, name: string): Sound {
  let layout: WavLayout;
  try {
    layout = readWavLayout(bytes, name);
  } catch (error) {
    throw error instanceof AudioFileError ? new SoundError(error.message) : error;
  }
  const { channels, rate, bits, data } = layout;
  const pcm = layout.format === 'pcm';
  if (!pcm || bits !== 16) throw new SoundError(`${name}: the PBX plays 16-bit PCM WAV files; convert it (e.g. sox in.wav -b 16 -e signed-integer out.wav)`);
  if (channels !== 1 && channels !== 2) throw new SoundError(`${name}: ${channels} channels; the PBX plays mono or stereo`);
  if (!RATES.includes(rate as MixRate)) throw new SoundError(`${name}: ${rate} Hz; convert it to 8000, 16000 or 48000 Hz (e.g. sox in.wav -r 8000 out.wav)`);
  const count = Math.floor(data.length / (2 * channels));
  const samples = new Int16Array(count);
  for (let i = 0; i < count; i++) {
    const offset = i * 2 * channels;
    samples[i] = channels === 1 ? data.readInt16LE(offset) : (data.readInt16LE(offset) + data.readInt16LE(offset + 2)) >> 1;
  }
  return new Sound(name, rate as MixRate, samples);
}

/** Reads a WAV file as a sound; throws SoundError (or the file system's error) saying why it cannot be played. */
export function loadSound(path: string): Sound {
  return parseWav(readFileSync(path), path);
}
