/**
 * For the mixer's tests: a fake clock, a media leg the test drives (the mixer's edge: what a leg delivers
 * and accepts), a tone generator and a Goertzel filter that measures one frequency in what a party hears.
 */
import { TypedEmitter } from '../../util/typed-emitter';
import type { DtmfEvent, LegState, MediaDirection, MediaLeg, MediaLegEvents, NegotiatedCodec, RtpFrame } from '../legs/media-leg';
import { rtpPayload } from '../legs/media-leg';
import type { RtpSocket } from '../native/rtp-socket';
import { createDecoder, createEncoder } from './frame-codec';
import type { CodecKind, FrameDecoder, FrameEncoder } from './frame-codec';
import type { Clock } from './mix-clock';

/** Timers that fire only when the test moves time on. */
export class FakeClock implements Clock {
  private time = 0;
  private timers = new Map<number, { at: number; callback: () => void }>();
  private nextHandle = 1;

  now(): number {
    return this.time;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const handle = this.nextHandle++;
    this.timers.set(handle, { at: this.time + ms, callback });
    return handle;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Moves time on by `ms`, firing each timer when its time comes, in order. */
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      let first: [number, { at: number; callback: () => void }] | undefined;
      for (const entry of this.timers) if (entry[1].at <= end && (!first || entry[1].at < first[1].at)) first = entry;
      if (!first) break;
      this.timers.delete(first[0]);
      this.time = Math.max(this.time, first[1].at);
      first[1].callback();
    }
    this.time = end;
  }

  get pending(): number {
    return this.timers.size;
  }
}

export const CODECS: Record<CodecKind, NegotiatedCodec> = {
  opus: { mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 },
  pcmu: { mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 },
  pcma: { mimeType: 'audio/PCMA', clockRate: 8000, channels: 1, payloadType: 8 },
};

/** A leg whose remote side the test plays: `deliver` is a packet from it, `sent` what the mixer sent it. */
export class FakeLeg extends TypedEmitter<MediaLegEvents> implements MediaLeg {
  readonly kind = 'rtp';
  state: LegState = 'connected';
  remoteDirection: MediaDirection = 'sendrecv';
  packetsReceived = 0;
  readonly sent: RtpFrame[] = [];
  /** The payloads as the mixer handed them, not copied: the same object where it shared one encoding. */
  readonly sentPayloads: Buffer[] = [];

  constructor(
    readonly id: string,
    public codec: NegotiatedCodec | undefined,
  ) {
    super();
  }

  deliver(sequenceNumber: number, timestamp: number, payload: Buffer, ssrc = 0x1234): void {
    this.packetsReceived++;
    this.emit('rtp', { marker: false, payloadType: this.codec?.payloadType ?? 0, sequenceNumber, timestamp, ssrc, bytes: payload, payloadStart: 0, payloadEnd: payload.length });
  }

  hasListeners(): boolean {
    return this.listenerCount('rtp') + this.listenerCount('stateChanged') > 0;
  }

  async acceptAnswer(): Promise<void> {}
  async renegotiate(): Promise<string> {
    return '';
  }
  sendRtp(frame: RtpFrame): void {
    if (this.state !== 'connected') return;
    this.sent.push({ ...frame, bytes: Buffer.from(rtpPayload(frame)), payloadStart: 0 });
    this.sentPayloads.push(frame.bytes);
  }
  bridged(): void {}
  relaySocket(): RtpSocket | undefined {
    return undefined;
  }
  sendDtmf(_event: DtmfEvent): void {}
  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.emit('stateChanged', 'closed');
  }
}

/** The codec's own rate: what a phone or a browser plays. */
export function nativeRate(kind: CodecKind): 8000 | 48000 {
  return kind === 'opus' ? 48000 : 8000;
}

/** Frame `index` (20 ms) of a sine tone at `hz`, at `rate`. */
export function toneFrame(hz: number, rate: number, index: number, amplitude = 8000): Int16Array {
  const samples = rate / 50;
  const frame = new Int16Array(samples);
  for (let i = 0; i < samples; i++) frame[i] = Math.round(amplitude * Math.sin((2 * Math.PI * hz * (index * samples + i)) / rate));
  return frame;
}

/** The amplitude of the `hz` component of `samples` (Goertzel's single-bin DFT, scaled to the sine's peak). */
export function toneLevel(samples: Int16Array, rate: number, hz: number): number {
  const coefficient = 2 * Math.cos((2 * Math.PI * hz) / rate);
  let s1 = 0;
  let s2 = 0;
  for (const sample of samples) {
    const s0 = sample + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  const power = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
  return (2 * Math.sqrt(Math.max(0, power))) / samples.length;
}

/**
 * A party on a fake leg: sends a tone (or silence) in its codec and decodes what it hears, as its phone or
 * browser would, at the codec's own rate.
 */
export class Party {
  readonly leg: FakeLeg;
  private readonly encoder: FrameEncoder;
  private readonly decoder: FrameDecoder;
  private frame = 0;
  private decodedUpTo = 0;
  readonly heard: Int16Array[] = [];

  constructor(
    id: string,
    readonly codec: CodecKind,
    public hz: number | undefined,
    private readonly amplitude = 8000,
  ) {
    this.leg = new FakeLeg(id, CODECS[codec]);
    this.encoder = createEncoder(codec, nativeRate(codec));
    this.decoder = createDecoder(codec, nativeRate(codec));
  }

  /** Sends this party's next 20 ms frame. */
  speak(): void {
    const rate = nativeRate(this.codec);
    const pcm = this.hz === undefined ? new Int16Array(rate / 50) : toneFrame(this.hz, rate, this.frame, this.amplitude);
    const ticks = this.codec === 'opus' ? 960 : 160;
    this.leg.deliver(this.frame & 0xffff, this.frame * ticks, this.encoder.encode(pcm));
    this.frame++;
  }

  /** Decodes what arrived since the last call. */
  listen(): void {
    for (; this.decodedUpTo < this.leg.sent.length; this.decodedUpTo++) {
      const into = new Int16Array(nativeRate(this.codec) / 50);
      this.decoder.decode(rtpPayload(this.leg.sent[this.decodedUpTo]!), into);
      this.heard.push(into);
    }
  }

  /** The level of `hz` in the last `frames` frames heard. */
  levelOf(hz: number, frames = 25): number {
    this.listen();
    const recent = this.heard.slice(-frames);
    const samples = new Int16Array(recent.reduce((n, f) => n + f.length, 0));
    let at = 0;
    for (const f of recent) {
      samples.set(f, at);
      at += f.length;
    }
    return toneLevel(samples, nativeRate(this.codec), hz);
  }
}
