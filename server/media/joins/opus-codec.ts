/**
 * Opus (RFC 6716) for the mixer: a decoder per browser participant and an encoder per stream the mixer
 * sends, mono, at the mix rate (Opus codes from and decodes to 8, 12, 16, 24 or 48 kHz itself). On the wire
 * the RTP clock is 48 kHz whatever the audio bandwidth (RFC 7587 §4.1), so a 20 ms frame is 960 ticks.
 *
 * The library is `@evan/opus`: libopus compiled ahead, shipped inside the npm package as a Node-API addon
 * for Linux, macOS and Windows (x64, and arm64 on Linux and macOS) with a WebAssembly build beside it for
 * anything else. It has no install script and no dependency, so it installs from the registry alone, with
 * no compiler and no download at install or run time. Measured here (one 20 ms mono frame at 48 kHz,
 * bench/mixer.ts prints the figure of each run): about 60–170 µs to encode and 17–32 µs to decode, the
 * addon being the faster. The runner-up, `@discordjs/opus`, wraps the same libopus but builds it from
 * source at install (node-gyp and a C toolchain) unless a prebuilt binary can be downloaded, which fails
 * where only the registry is reachable. Loss concealment is ours (jitter-buffer.ts, mixer-participant.ts):
 * the addon refuses the empty packet that asks libopus for it, while the WebAssembly build accepts it.
 */
import { Decoder, Encoder } from '@evan/opus';

/** Rates libopus codes at natively. */
export type OpusRate = 8000 | 12000 | 16000 | 24000 | 48000;

/** RTP timestamp units in a 20 ms Opus frame (RFC 7587 §4.1: the clock is always 48 kHz). */
export const OPUS_TICKS_PER_FRAME = 960;

export interface OpusEncoderOptions {
  /** Target bit rate; 32 kb/s is what browsers send for mono voice. */
  bitrate?: number;
  /** 0 (cheapest) to 10 (best); the mixer's default trades a little quality for many more streams a core. */
  complexity?: number;
}

export const DEFAULT_OPUS_BITRATE = 32_000;
export const DEFAULT_OPUS_COMPLEXITY = 5;

export class OpusFrameEncoder {
  private readonly encoder: Encoder;

  constructor(
    readonly rate: OpusRate,
    options: OpusEncoderOptions = {},
  ) {
    this.encoder = new Encoder({ channels: 1, sample_rate: rate, application: 'voip' });
    this.encoder.bitrate = options.bitrate ?? DEFAULT_OPUS_BITRATE;
    this.encoder.complexity = Math.max(0, Math.min(10, Math.round(options.complexity ?? DEFAULT_OPUS_COMPLEXITY))) as Encoder['complexity'];
    this.encoder.signal = 'voice';
  }

  /** One frame of samples at `rate` (20 ms: rate / 50 of them) to one Opus packet. */
  encode(samples: Int16Array): Buffer {
    const packet = this.encoder.encode(samples);
    return Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength);
  }
}

export class OpusFrameDecoder {
  private readonly decoder: Decoder;

  constructor(readonly rate: OpusRate) {
    this.decoder = new Decoder({ channels: 1, sample_rate: rate });
  }

  /**
   * Decodes one packet into `into` (zeros past what it held, e.g. a 10 ms packet in a 20 ms frame); returns
   * the samples the packet held, or 0 when it would not decode.
   */
  decode(payload: Uint8Array, into: Int16Array): number {
    let bytes: Uint8Array;
    try {
      bytes = this.decoder.decode(payload);
    } catch {
      into.fill(0);
      return 0;
    }
    // Little-endian 16-bit samples; a view where the bytes are aligned for one (they are a fresh copy, so always).
    const aligned = bytes.byteOffset % 2 === 0 ? bytes : bytes.slice();
    const samples = new Int16Array(aligned.buffer, aligned.byteOffset, aligned.byteLength >> 1);
    const count = Math.min(samples.length, into.length);
    into.set(count === samples.length ? samples : samples.subarray(0, count));
    if (count < into.length) into.fill(0, count);
    return samples.length;
  }
}
