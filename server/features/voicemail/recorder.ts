/**
 * Records what a caller says into their media leg: the leg's `rtp` frames in its audio codec, decoded to 16-bit
 * mono samples (Opus at 16 kHz, wideband, which transcription can read; G.711 at its own 8 kHz), each placed at
 * the time its RTP timestamp says. Frames that arrive out of order within a short window are put back in order
 * before the decoder sees them (Opus keeps state from one frame to the next); a gap in the timestamps (packets
 * lost, the caller's silence suppression) stays silent; a frame later than the window is dropped, as a phone's
 * jitter buffer would. A new SSRC (the caller's device changed its stream), or a timestamp jump of seconds (its
 * clock restarted), carries on where the audio stands.
 * Payloads of another type (RFC 4733 telephone-events, comfort noise) are not audio and are left out.
 *
 * It ends when the caller presses # (a `dtmf` event), when the maximum length has passed on the clock, or when
 * its owner stops it (the caller hung up); `onEnded` is told once with why.
 *
 * Memory grows with what was said, one second at a time, not with the maximum: a hundred callers leaving
 * short messages hold a hundred short buffers.
 */
import { codecKind } from '../../media/joins/frame-codec';
import type { CodecKind } from '../../media/joins/frame-codec';
import { decodeG711 } from '../../media/joins/g711';
import type { Clock } from '../../media/joins/mix-clock';
import { systemClock } from '../../media/joins/mix-clock';
import { OpusFrameDecoder } from '../../media/joins/opus-codec';
import type { MediaLeg, RtpFrame } from '../../media/legs/media-leg';
import { rtpPayload } from '../../media/legs/media-leg';

export type RecordingEnd = 'hash' | 'max-length' | 'stopped';

/** What was recorded: mono samples at `rate`; `wideband` when the caller's leg carried Opus. */
export interface Recording {
  samples: Int16Array;
  rate: 8000 | 16000;
  wideband: boolean;
  durationMs: number;
  end: RecordingEnd;
}

export interface RecorderOptions {
  maxMs: number;
  clock?: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
}

/** Frames held back to put late ones in order: 60 ms, within what a phone's jitter buffer would wait. */
const REORDER_FRAMES = 3;
const CHUNK_SECONDS = 1;
/** Opus frames are at most 120 ms (RFC 6716 §3.1). */
const MAX_OPUS_FRAME_MS = 120;
/** A timestamp further than this from the last is taken for a new clock, not for lost audio. */
const MAX_JUMP_SECONDS = 5;

interface Pending {
  /** Where the frame starts, in samples at the recording's rate from the recording's start. */
  at: number;
  payload: Buffer;
}

/** Samples written at any position; unwritten stretches read as silence. Grows a chunk at a time. */
class SampleTape {
  private readonly chunks: Int16Array[] = [];
  private readonly chunkSize: number;
  /** One past the last sample written. */
  length = 0;

  constructor(
    rate: number,
    private readonly capacity: number,
  ) {
    this.chunkSize = rate * CHUNK_SECONDS;
  }

  write(at: number, samples: Int16Array): void {
    const end = Math.min(at + samples.length, this.capacity);
    for (let position = Math.max(0, at); position < end; ) {
      const index = Math.floor(position / this.chunkSize);
      const offset = position - index * this.chunkSize;
      const chunk = (this.chunks[index] ??= new Int16Array(this.chunkSize));
      const count = Math.min(this.chunkSize - offset, end - position);
      chunk.set(samples.subarray(position - at, position - at + count), offset);
      position += count;
    }
    this.length = Math.max(this.length, end);
  }

  read(): Int16Array {
    const out = new Int16Array(this.length);
    this.chunks.forEach((chunk, index) => {
      const from = index * this.chunkSize;
      if (from < this.length) out.set(chunk.subarray(0, Math.min(this.chunkSize, this.length - from)), from);
    });
    return out;
  }
}

export class MessageRecorder {
  private readonly rate: 8000 | 16000;
  private readonly kind: CodecKind | undefined;
  private readonly payloadType: number | undefined;
  private readonly opus: OpusFrameDecoder | undefined;
  private readonly scratch: Int16Array;
  private readonly tape: SampleTape;
  private readonly capacity: number;
  private readonly clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
  private readonly pending: Pending[] = [];
  private readonly removers: Array<() => void> = [];
  private readonly endListeners: Array<(why: RecordingEnd) => void> = [];
  private timer: unknown;
  /** The stream being read: its SSRC, and its latest RTP timestamp with where that lands (samples). */
  private stream: { ssrc: number; lastTimestamp: number; lastAt: number } | undefined;
  /** Where the next frame in order starts (samples): frames that would start before it are too late. */
  private decodedUpTo = 0;
  private ended: RecordingEnd | undefined;

  constructor(
    private readonly leg: MediaLeg,
    options: RecorderOptions,
  ) {
    const codec = leg.codec;
    this.kind = codec ? codecKind(codec) : undefined;
    this.payloadType = codec?.payloadType;
    this.rate = this.kind === 'opus' ? 16000 : 8000;
    this.opus = this.kind === 'opus' ? new OpusFrameDecoder(16000) : undefined;
    this.scratch = new Int16Array((this.rate * MAX_OPUS_FRAME_MS) / 1000);
    this.capacity = Math.floor((this.rate * options.maxMs) / 1000);
    this.tape = new SampleTape(this.rate, this.capacity);
    this.clock = options.clock ?? systemClock;
    this.removers.push(
      leg.on('rtp', (frame) => this.receive(frame)),
      leg.on('dtmf', (event) => {
        if (event.digit === '#') this.finish('hash');
      }),
    );
    this.timer = this.clock.setTimeout(() => this.finish('max-length'), options.maxMs);
  }

  get done(): boolean {
    return this.ended !== undefined;
  }

  /** Told once when recording ends by itself (#, maximum length) or is stopped. */
  onEnded(listener: (why: RecordingEnd) => void): void {
    this.endListeners.push(listener);
  }

  /** Ends recording now (the caller hung up, the call is going); safe to call again. */
  stop(): void {
    this.finish('stopped');
  }

  /** What was recorded so far, the frames held for reordering included. */
  recording(): Recording {
    this.flush(0);
    const samples = this.tape.read();
    return { samples, rate: this.rate, wideband: this.kind === 'opus', durationMs: Math.round((samples.length * 1000) / this.rate), end: this.ended ?? 'stopped' };
  }

  private finish(why: RecordingEnd): void {
    if (this.ended) return;
    this.ended = why;
    this.clock.clearTimeout(this.timer);
    for (const remove of this.removers.splice(0)) remove();
    this.flush(0);
    for (const listener of this.endListeners.splice(0)) listener(why);
  }

  private receive(frame: RtpFrame): void {
    if (this.ended || !this.kind || frame.payloadType !== this.payloadType) return;
    const at = this.placeOf(frame);
    if (at < this.decodedUpTo) return;
    if (at >= this.capacity) {
      this.finish('max-length');
      return;
    }
    if (this.pending.some((p) => p.at === at)) return;
    // The payload is a view of the leg's datagram, which is not ours to keep.
    this.pending.push({ at, payload: Buffer.from(rtpPayload(frame)) });
    this.pending.sort((a, b) => a.at - b.at);
    this.flush(REORDER_FRAMES);
  }

  /** Where `frame` starts in the recording, in samples, from its RTP timestamp relative to the stream's last. */
  private placeOf(frame: RtpFrame): number {
    const ticksPerSample = this.kind === 'opus' ? 48000 / this.rate : 1;
    const stream = this.stream;
    // The timestamp's distance from the last one as a signed 32-bit number: it wraps (RFC 3550 §5.1).
    const delta = stream ? (frame.timestamp - stream.lastTimestamp) | 0 : 0;
    // A jump of more than a few seconds either way is a device that restarted its clock, not a gap to fill.
    const jumped = Math.abs(delta / ticksPerSample) > this.rate * MAX_JUMP_SECONDS;
    if (!stream || stream.ssrc !== frame.ssrc || jumped) {
      // A stream that starts (or starts anew) lands where the audio stands now, after what the last one sent.
      this.flush(0);
      const at = Math.max(this.decodedUpTo, this.tape.length);
      this.stream = { ssrc: frame.ssrc, lastTimestamp: frame.timestamp, lastAt: at };
      return at;
    }
    const at = stream.lastAt + Math.round(delta / ticksPerSample);
    if (delta > 0) {
      stream.lastTimestamp = frame.timestamp;
      stream.lastAt = at;
    }
    return at;
  }

  /** Decodes the frames in order, keeping the last `keep` back in case an earlier one is still on its way. */
  private flush(keep: number): void {
    while (this.pending.length > keep) {
      const next = this.pending.shift()!;
      const count = this.decode(next.payload);
      if (count > 0) this.tape.write(next.at, this.scratch.subarray(0, count));
      this.decodedUpTo = next.at + Math.max(count, 1);
    }
  }

  private decode(payload: Buffer): number {
    if (this.opus) return Math.min(this.opus.decode(payload, this.scratch), this.scratch.length);
    return decodeG711(this.kind === 'pcma' ? 'alaw' : 'ulaw', payload, this.scratch);
  }
}
