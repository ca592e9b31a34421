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
 * The audio goes out in order as soon as no earlier frame can still come (an `AudioSink`: the deposit codes it
 * to Ogg Opus as it goes), so a recording holds a few frames, never the message, and the coding is spread over
 * the call instead of falling due at its end.
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

/** Where recorded audio goes: mono samples at the recording's rate, in order, gaps already filled with silence. */
export interface AudioSink {
  /** `samples` is the recorder's own buffer, good only during the call: a sink that keeps it copies it. */
  write(samples: Int16Array): void;
}

export interface RecorderOptions {
  maxMs: number;
  /** The sink for the audio, given the rate it will come at (Opus legs 16 kHz, G.711 8 kHz). */
  open: (rate: RecordingRate) => AudioSink;
  clock?: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
}

export type RecordingRate = 8000 | 16000;

/** Frames held back to put late ones in order: 60 ms, within what a phone's jitter buffer would wait. */
const REORDER_FRAMES = 3;
/** Opus frames are at most 120 ms (RFC 6716 §3.1). */
const MAX_OPUS_FRAME_MS = 120;
/** A timestamp further than this from the last is taken for a new clock, not for lost audio. */
const MAX_JUMP_SECONDS = 5;

interface Pending {
  /** Where the frame starts, in samples at the recording's rate from the recording's start. */
  at: number;
  payload: Buffer;
}

export class MessageRecorder {
  readonly rate: RecordingRate;
  /** Recorded from an Opus leg (16 kHz audio, which transcription can read). */
  readonly wideband: boolean;
  private readonly kind: CodecKind | undefined;
  private readonly payloadType: number | undefined;
  private readonly opus: OpusFrameDecoder | undefined;
  private readonly scratch: Int16Array;
  private readonly silence: Int16Array;
  private readonly capacity: number;
  private readonly sink: AudioSink;
  private readonly clock: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
  private readonly pending: Pending[] = [];
  private readonly removers: Array<() => void> = [];
  private readonly endListeners: Array<(why: RecordingEnd) => void> = [];
  private timer: unknown;
  /** The stream being read: its SSRC, and its latest RTP timestamp with where that lands (samples). */
  private stream: { ssrc: number; lastTimestamp: number; lastAt: number } | undefined;
  /** Samples handed to the sink: frames that would start before this are too late. */
  private written = 0;
  private ended: RecordingEnd | undefined;

  constructor(leg: MediaLeg, options: RecorderOptions) {
    const codec = leg.codec;
    this.kind = codec ? codecKind(codec) : undefined;
    this.payloadType = codec?.payloadType;
    this.wideband = this.kind === 'opus';
    this.rate = this.wideband ? 16000 : 8000;
    this.opus = this.wideband ? new OpusFrameDecoder(16000) : undefined;
    this.scratch = new Int16Array((this.rate * MAX_OPUS_FRAME_MS) / 1000);
    this.silence = new Int16Array(this.rate / 10);
    this.capacity = Math.floor((this.rate * options.maxMs) / 1000);
    this.sink = options.open(this.rate);
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

  /** Why it ended, once it has. */
  get end(): RecordingEnd | undefined {
    return this.ended;
  }

  /** Length of what was handed to the sink. */
  get durationMs(): number {
    return Math.round((this.written * 1000) / this.rate);
  }

  /** Told once when recording ends by itself (#, maximum length) or is stopped, after the last audio went out. */
  onEnded(listener: (why: RecordingEnd) => void): void {
    this.endListeners.push(listener);
  }

  /** Ends recording now (the caller hung up, the call is going); safe to call again. */
  stop(): void {
    this.finish('stopped');
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
    if (at < this.written) return;
    if (at >= this.capacity) {
      this.finish('max-length');
      return;
    }
    if (this.pending.some((p) => p.at === at)) return;
    // The payload is a view of the leg's datagram, which is not ours to keep.
    this.pending.push({ at, payload: Buffer.from(rtpPayload(frame)) });
    this.pending.sort((a, b) => a.at - b.at);
    this.flush(REORDER_FRAMES);
    if (this.written >= this.capacity) this.finish('max-length');
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
      this.stream = { ssrc: frame.ssrc, lastTimestamp: frame.timestamp, lastAt: this.written };
      return this.written;
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
      if (next.at < this.written) continue;
      this.fillSilenceTo(next.at);
      const count = this.decode(next.payload);
      this.put(this.scratch.subarray(0, count));
    }
  }

  private fillSilenceTo(at: number): void {
    while (this.written < Math.min(at, this.capacity)) this.put(this.silence.subarray(0, Math.min(this.silence.length, at - this.written)));
  }

  /** Hands samples to the sink, never past the maximum length. */
  private put(samples: Int16Array): void {
    const room = this.capacity - this.written;
    if (room <= 0 || samples.length === 0) return;
    const out = samples.length > room ? samples.subarray(0, room) : samples;
    this.written += out.length;
    this.sink.write(out);
  }

  private decode(payload: Buffer): number {
    if (this.opus) return Math.min(this.opus.decode(payload, this.scratch), this.scratch.length);
    return decodeG711(this.kind === 'pcma' ? 'alaw' : 'ulaw', payload, this.scratch);
  }
}
