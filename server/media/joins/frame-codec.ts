/**
 * A participant's codec as the mixer uses it: 20 ms frames decoded to, and encoded from, 16-bit mono samples
 * at the mix rate, whatever the codec's own rate. G.711 runs at 8 kHz and is resampled when the mix is
 * wideband (resample.ts); Opus codes at the mix rate itself (opus-codec.ts).
 */
import { randomUint16, randomUint32 } from '../../util/random-pool';
import type { NegotiatedCodec, RtpFrame } from '../legs/media-leg';
import { decodeG711, encodeG711 } from './g711';
import type { G711Law } from './g711';
import { OPUS_TICKS_PER_FRAME, OpusFrameDecoder, OpusFrameEncoder } from './opus-codec';
import type { OpusEncoderOptions } from './opus-codec';
import { Downsampler, Upsampler } from './resample';

export type CodecKind = 'opus' | 'pcmu' | 'pcma';

/** Mix rates: G.711's own, wideband voice and Opus's full band; each is 8 kHz times a whole number. */
export type MixRate = 8000 | 16000 | 48000;

export const FRAME_MS = 20;

/** The kind of a negotiated codec the mixer can carry; undefined for any other. */
export function codecKind(codec: NegotiatedCodec): CodecKind | undefined {
  const name = codec.mimeType.toLowerCase().replace(/^audio\//, '');
  if (name === 'opus' && codec.clockRate === 48000) return 'opus';
  if (name === 'pcmu' && codec.clockRate === 8000) return 'pcmu';
  if (name === 'pcma' && codec.clockRate === 8000) return 'pcma';
  return undefined;
}

/** RTP timestamp units in one 20 ms frame of the codec (RFC 3551 §4.5.14: 8 kHz; RFC 7587 §4.1: 48 kHz). */
export function ticksPerFrame(kind: CodecKind): number {
  return kind === 'opus' ? OPUS_TICKS_PER_FRAME : 160;
}

export function samplesPerFrame(rate: MixRate): number {
  return (rate * FRAME_MS) / 1000;
}

export interface FrameDecoder {
  /** Decodes one packet's payload into `into` (one frame at the mix rate); false when nothing was in it. */
  decode(payload: Uint8Array, into: Int16Array): boolean;
}

export interface FrameEncoder {
  /** One frame at the mix rate to one packet's payload. */
  encode(samples: Int16Array): Buffer;
}

const G711_SAMPLES = 160;

function lawOf(kind: 'pcmu' | 'pcma'): G711Law {
  return kind === 'pcmu' ? 'ulaw' : 'alaw';
}

class G711Decoder implements FrameDecoder {
  private readonly narrow = new Int16Array(G711_SAMPLES);
  private readonly up: Upsampler | undefined;

  constructor(
    private readonly law: G711Law,
    rate: MixRate,
  ) {
    this.up = rate === 8000 ? undefined : new Upsampler(rate / 8000);
  }

  decode(payload: Uint8Array, into: Int16Array): boolean {
    const target = this.up ? this.narrow : into;
    const count = decodeG711(this.law, payload, target);
    // A packet shorter than 20 ms (another ptime) leaves the rest of the frame silent.
    if (count < target.length) target.fill(0, count);
    this.up?.process(this.narrow, into);
    return count > 0;
  }
}

class G711Encoder implements FrameEncoder {
  private readonly narrow = new Int16Array(G711_SAMPLES);
  private readonly down: Downsampler | undefined;

  constructor(
    private readonly law: G711Law,
    rate: MixRate,
  ) {
    this.down = rate === 8000 ? undefined : new Downsampler(rate / 8000);
  }

  encode(samples: Int16Array): Buffer {
    if (!this.down) return encodeG711(this.law, samples);
    this.down.process(samples, this.narrow);
    return encodeG711(this.law, this.narrow);
  }
}

class OpusDecoderAdapter implements FrameDecoder {
  private readonly decoder: OpusFrameDecoder;

  constructor(rate: MixRate) {
    this.decoder = new OpusFrameDecoder(rate);
  }

  decode(payload: Uint8Array, into: Int16Array): boolean {
    return this.decoder.decode(payload, into) > 0;
  }
}

export function createDecoder(kind: CodecKind, rate: MixRate): FrameDecoder {
  return kind === 'opus' ? new OpusDecoderAdapter(rate) : new G711Decoder(lawOf(kind), rate);
}

export function createEncoder(kind: CodecKind, rate: MixRate, opus: OpusEncoderOptions = {}): FrameEncoder {
  return kind === 'opus' ? new OpusFrameEncoder(rate, opus) : new G711Encoder(lawOf(kind), rate);
}

/**
 * An RTP stream the PBX makes itself (a conference mix, a sound played): SSRC, sequence number and timestamp start
 * random (RFC 3550 §5.1) and move on one 20 ms frame at a time. The frame's payload starts at 0, which leaves the
 * leg no room for a header: it builds its own packet (outbound-stream.ts), so a payload shared by many listeners
 * is never written.
 */
export class MadeStream {
  private readonly ssrc = randomUint32();
  private sequenceNumber = randomUint16();
  private timestamp = randomUint32();

  /** The next frame of the stream, carrying `payload`. */
  frame(payload: Buffer, payloadType: number, kind: CodecKind, marker: boolean): RtpFrame {
    const frame: RtpFrame = {
      marker,
      payloadType,
      sequenceNumber: this.sequenceNumber,
      timestamp: this.timestamp,
      ssrc: this.ssrc,
      bytes: payload,
      payloadStart: 0,
      payloadEnd: payload.length,
    };
    this.sequenceNumber = (this.sequenceNumber + 1) & 0xffff;
    this.timestamp = (this.timestamp + ticksPerFrame(kind)) >>> 0;
    return frame;
  }

  /** A frame's time passes with nothing sent (a codec the PBX cannot code): `ticks` at the stream's clock rate. */
  skip(ticks: number): void {
    this.timestamp = (this.timestamp + ticks) >>> 0;
  }
}

