/**
 * One participant of a conference as the mixer holds it: its attachment to a media leg (the listeners it put
 * on the leg, which it takes off when it leaves; the leg itself belongs to the call), its jitter buffer, its
 * decoder, the encoder for the mix that only it hears, and its own outbound RTP stream.
 *
 * Each tick `pull` makes this participant's 20 ms frame at the mix rate: the next packet decoded, or for a
 * lost one the last frame at half its level, once, then silence (a repeat longer than that is heard as a
 * stutter); nothing to play is silence. A level detector with a hangover says whether the participant is
 * speaking: only speakers are mixed (what the others send is the room's noise, which summed over ten
 * phones would be loud), and only a speaker needs a mix of its own, the full mix less itself.
 */
import type { MediaLeg, NegotiatedCodec } from '../legs/media-leg';
import { rtpPayload } from '../legs/media-leg';
import { holds } from '../sdp/sdp';
import { codecKind, createDecoder, createEncoder, MadeStream, samplesPerFrame } from './frame-codec';
import type { CodecKind, FrameDecoder, FrameEncoder, MixRate } from './frame-codec';
import { JitterBuffer } from './jitter-buffer';
import type { JitterBufferOptions, JitterStats } from './jitter-buffer';
import type { OpusEncoderOptions } from './opus-codec';

export interface ParticipantSettings {
  jitter: JitterBufferOptions;
  opus: OpusEncoderOptions;
  /** RMS level of a 16-bit frame above which a participant counts as speaking. */
  speechThreshold: number;
  /** Frames a participant still counts as speaking after its level dropped (bridges the gaps between words). */
  hangoverFrames: number;
}

export interface ParticipantStats extends JitterStats {
  concealed: number;
  sent: number;
  speaking: boolean;
}

export class Participant {
  readonly id: string;
  kind: CodecKind;
  /** This tick's frame at the mix rate. */
  pcm: Int16Array;
  /** Whether this tick's frame goes into the mix. */
  contributes = false;
  private previous: Int16Array;
  private hasPrevious = false;
  private concealedRun = 0;
  private concealed = 0;
  private hangover = 0;
  private decoder: FrameDecoder;
  private ownEncoder: FrameEncoder | undefined;
  private codec: NegotiatedCodec | undefined;
  private jitter: JitterBuffer;
  private readonly unsubscribe: Array<() => void> = [];
  /** Our outbound stream; the leg rewrites the header for its own (outbound-stream.ts). */
  private readonly stream = new MadeStream();
  private sent = 0;
  /** The leg's codec is one the mixer cannot carry (after a re-INVITE): neither heard nor sent to. */
  private uncarried = false;

  constructor(
    readonly leg: MediaLeg,
    private rate: MixRate,
    private readonly settings: ParticipantSettings,
    onClosed: () => void,
  ) {
    this.id = leg.id;
    this.codec = leg.codec;
    const kind = this.codec && codecKind(this.codec);
    if (!kind) throw new Error(`the mixer carries Opus, PCMU and PCMA; leg ${leg.id} has ${this.codec?.mimeType ?? 'no codec yet'}`);
    this.kind = kind;
    this.jitter = new JitterBuffer(settings.jitter);
    this.decoder = createDecoder(kind, rate);
    this.pcm = new Int16Array(samplesPerFrame(rate));
    this.previous = new Int16Array(samplesPerFrame(rate));
    this.unsubscribe.push(
      // The leg's frame may be a view of a datagram it reuses: the payload is copied before it waits.
      leg.on('rtp', (frame) => this.jitter.push(frame.sequenceNumber, frame.ssrc, Buffer.from(rtpPayload(frame)))),
      leg.on('stateChanged', (state) => {
        if (state === 'closed') onClosed();
      }),
    );
  }

  /** The mix rate changed (a browser joined a conference of phones, or the last one left). */
  setRate(rate: MixRate): void {
    if (rate === this.rate) return;
    this.rate = rate;
    this.rebuild();
  }

  /**
   * Makes this tick's frame and says whether it goes into the mix. The leg's codec is looked at each tick:
   * a re-INVITE may have changed it, and then so do the decoder and encoder.
   */
  pull(): boolean {
    if (this.leg.codec !== this.codec) this.codecChanged();
    const playout = this.jitter.pop();
    if (this.uncarried) {
      this.pcm.fill(0);
      this.contributes = false;
      return false;
    }
    if (playout.kind === 'frame' && this.decoder.decode(playout.payload, this.pcm)) {
      this.concealedRun = 0;
      this.previous.set(this.pcm);
      this.hasPrevious = true;
    } else if (playout.kind === 'lost' && this.hasPrevious && this.concealedRun === 0) {
      this.concealedRun++;
      this.concealed++;
      for (let i = 0; i < this.pcm.length; i++) this.pcm[i] = this.previous[i]! >> 1;
    } else {
      if (playout.kind === 'lost') {
        this.concealedRun++;
        this.concealed++;
      }
      this.pcm.fill(0);
    }
    this.contributes = this.detectSpeech() && !holds(this.leg.remoteDirection);
    return this.contributes;
  }

  /** Encodes the mix that only this participant hears (the others', without its own voice). */
  encodeOwn(samples: Int16Array): Buffer {
    this.ownEncoder ??= createEncoder(this.kind, this.rate, this.settings.opus);
    return this.ownEncoder.encode(samples);
  }

  /** Sends one frame's payload on our stream; the leg rewrites the header for its own (outbound-stream.ts). */
  send(payload: Buffer): void {
    if (this.uncarried) return;
    // RFC 3551 §4.1: the first packet of the stream is marked. The payload, shared by every participant who hears
    // the full mix, is never written (MadeStream).
    const frame = this.stream.frame(payload, this.codec?.payloadType ?? 0, this.kind, this.sent === 0);
    this.sent++;
    this.leg.sendRtp(frame);
  }

  stats(): ParticipantStats {
    return { ...this.jitter.stats, concealed: this.concealed, sent: this.sent, speaking: this.hangover > 0 };
  }

  /** Takes the participant's listeners off the leg; the leg stays open (it is the call's). */
  detach(): void {
    for (const off of this.unsubscribe.splice(0)) off();
  }

  private detectSpeech(): boolean {
    const pcm = this.pcm;
    let energy = 0;
    for (let i = 0; i < pcm.length; i++) energy += pcm[i]! * pcm[i]!;
    const threshold = this.settings.speechThreshold;
    if (energy > threshold * threshold * pcm.length) this.hangover = this.settings.hangoverFrames + 1;
    else if (this.hangover > 0) this.hangover--;
    return this.hangover > 0;
  }

  private codecChanged(): void {
    this.codec = this.leg.codec;
    const kind = this.codec && codecKind(this.codec);
    // A codec the mixer cannot carry: the participant hears nothing and is not heard until it changes back.
    this.uncarried = kind === undefined;
    if (!kind || kind === this.kind) return;
    this.kind = kind;
    this.jitter = new JitterBuffer(this.settings.jitter);
    this.rebuild();
  }

  private rebuild(): void {
    this.decoder = createDecoder(this.kind, this.rate);
    this.ownEncoder = undefined;
    this.pcm = new Int16Array(samplesPerFrame(this.rate));
    this.previous = new Int16Array(samplesPerFrame(this.rate));
    this.hasPrevious = false;
  }
}
