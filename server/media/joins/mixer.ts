/**
 * The conference mixer: any number of media legs (WebRTC or plain RTP), each in its own codec (Opus for
 * browsers, PCMU or PCMA for desk phones), each hearing everyone else and never itself.
 *
 * On one 20 ms clock (mix-clock.ts) it takes a frame from each participant's jitter buffer, decodes it to the
 * mix rate and sums the speakers' frames. A participant who is silent hears that full sum, so it is encoded
 * once per codec and the same payload goes to every silent participant of that codec; a speaker hears the
 * sum less its own frame, encoded for it alone. A mix that is silence by construction (a lone speaker's, or
 * everyone's while nobody speaks) is not encoded each tick: a silent frame coded once per codec is sent. Sums are kept in 32 bits and saturate at the 16-bit limits
 * when they are written out, so loud speakers together clip instead of wrapping round. Each participant
 * gets its own RTP stream (SSRC, sequence numbers and timestamps of its own, mixer-participant.ts).
 *
 * The mix rate follows the participants by default: 8 kHz while everyone speaks G.711 (no resampling at all),
 * 48 kHz once a browser speaks Opus, which is then coded at its full band, the phones' audio being
 * resampled.
 *
 * The mixer reads the legs' packets as `rtp` events in Node. It never tells a leg it is bridged
 * (`MediaLeg.bridged`), so no leg relays its audio past the mixer in the native relay; a leg must be out of
 * any MediaBridge before it joins. A participant whose remote side holds (RFC 3264 §8.4) is not mixed, as
 * the bridge does not relay it, and its leg sends it nothing while it holds.
 *
 * Ownership: the mixer owns its participants' attachments (listeners on the legs, decoders, encoders,
 * buffers), not the legs, which are the call's. `remove` and `close` take the attachments off and leave the
 * legs open; a leg that closes leaves the conference by itself.
 */
import { createLogger } from '../../log';
import { TypedEmitter } from '../../util/typed-emitter';
import type { MediaLeg } from '../legs/media-leg';
import { codecKind, createEncoder, FRAME_MS, samplesPerFrame } from './frame-codec';
import type { CodecKind, FrameEncoder, MixRate } from './frame-codec';
import type { JitterBufferOptions } from './jitter-buffer';
import { systemClock, Ticker } from './mix-clock';
import type { Clock, TickerStats } from './mix-clock';
import { Participant } from './mixer-participant';
import type { ParticipantSettings, ParticipantStats } from './mixer-participant';
import type { OpusEncoderOptions } from './opus-codec';

const log = createLogger('mixer');

export interface MixerOptions {
  /** For logs. */
  id?: string;
  clock?: Clock;
  /** 'auto' (the default): 8 kHz while every participant speaks G.711, 48 kHz once one speaks Opus. */
  rate?: MixRate | 'auto';
  opus?: OpusEncoderOptions;
  jitter?: JitterBufferOptions;
  /** RMS level (of 32767) above which a participant counts as speaking; about −45 dBFS by default. */
  speechThreshold?: number;
  /** Frames a speaker still counts as speaking after its level fell, 200 ms by default. */
  hangoverFrames?: number;
}

export interface ParticipantInfo {
  id: string;
  codec: CodecKind;
}

/** Why a participant left: removed by the mixer's owner, its leg closed, or the mixer closed. */
export type LeaveReason = 'removed' | 'leg-closed' | 'mixer-closed';

export interface MixerEvents {
  participantJoined: [ParticipantInfo];
  participantLeft: [ParticipantInfo, LeaveReason];
  closed: [];
}

export interface MixerStats {
  rate: MixRate;
  clock: TickerStats;
  /** Mixes encoded in the last tick: one per codec for the silent participants, one per speaker (none where the mix is silence). */
  encodesLastTick: number;
  participants: Record<string, ParticipantStats & { codec: CodecKind }>;
}

const DEFAULT_SPEECH_THRESHOLD = 180;
const DEFAULT_HANGOVER_FRAMES = 10;

export class Mixer extends TypedEmitter<MixerEvents> {
  readonly id: string;
  private readonly members = new Map<string, Participant>();
  private readonly ticker: Ticker;
  private readonly settings: ParticipantSettings;
  private readonly fixedRate: MixRate | undefined;
  private rate: MixRate = 8000;
  /** The sum of the speakers' frames, in 32 bits. */
  private total = new Int32Array(samplesPerFrame(8000));
  /** The full mix, saturated to 16 bits, and one participant's mix less itself. */
  private full = new Int16Array(samplesPerFrame(8000));
  private own = new Int16Array(samplesPerFrame(8000));
  /** One encoder per codec for the full mix that the silent participants share. */
  private shared = new Map<CodecKind, FrameEncoder>();
  private readonly payloads = new Map<CodecKind, Buffer>();
  /** A silent frame per codec, coded once at the current rate. */
  private silence = new Map<CodecKind, Buffer>();
  private encodes = 0;
  private closed = false;

  constructor(private readonly options: MixerOptions = {}) {
    super();
    this.id = options.id ?? 'mixer';
    this.fixedRate = options.rate === 'auto' ? undefined : options.rate;
    this.settings = {
      jitter: options.jitter ?? {},
      opus: options.opus ?? {},
      speechThreshold: options.speechThreshold ?? DEFAULT_SPEECH_THRESHOLD,
      hangoverFrames: options.hangoverFrames ?? DEFAULT_HANGOVER_FRAMES,
    };
    this.setRate(this.fixedRate ?? 8000);
    this.ticker = new Ticker(options.clock ?? systemClock, FRAME_MS, () => this.tick());
  }

  get size(): number {
    return this.members.size;
  }

  get isClosed(): boolean {
    return this.closed;
  }

  get mixRate(): MixRate {
    return this.rate;
  }

  /** Joins a leg to the conference; its codec must be negotiated, and one the mixer carries. */
  add(leg: MediaLeg): ParticipantInfo {
    if (this.closed) throw new Error('the mixer is closed');
    if (this.members.has(leg.id)) throw new Error(`leg ${leg.id} is already in the conference`);
    if (leg.state === 'closed') throw new Error(`leg ${leg.id} is closed`);
    const kind = leg.codec && codecKind(leg.codec);
    log.debug('participant joins', { mixer: this.id, leg: leg.id, codec: kind });
    const participant = new Participant(leg, this.rate, this.settings, () => this.leave(leg.id, 'leg-closed'));
    this.members.set(leg.id, participant);
    this.followParticipants();
    this.ticker.start();
    const info = infoOf(participant);
    this.emit('participantJoined', info);
    return info;
  }

  /** Takes a participant out; its leg stays open. False when it was not in the conference. */
  remove(legId: string): boolean {
    return this.leave(legId, 'removed');
  }

  has(legId: string): boolean {
    return this.members.has(legId);
  }

  participants(): ParticipantInfo[] {
    return [...this.members.values()].map(infoOf);
  }

  stats(): MixerStats {
    const participants: MixerStats['participants'] = {};
    for (const [id, member] of this.members) participants[id] = { ...member.stats(), codec: member.kind };
    return { rate: this.rate, clock: { ...this.ticker.stats }, encodesLastTick: this.encodes, participants };
  }

  /** Lets every participant go (their legs stay open), stops the clock and says so once. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    log.debug('closing', { mixer: this.id, participants: this.members.size });
    this.ticker.stop();
    for (const id of [...this.members.keys()]) this.leave(id, 'mixer-closed');
    this.shared.clear();
    this.emit('closed');
    this.removeAllListeners();
  }

  private leave(legId: string, reason: LeaveReason): boolean {
    const participant = this.members.get(legId);
    if (!participant) return false;
    log.debug('participant leaves', { mixer: this.id, leg: legId, reason });
    participant.detach();
    this.members.delete(legId);
    if (this.members.size === 0) this.ticker.stop();
    else if (!this.closed) this.followParticipants();
    this.emit('participantLeft', infoOf(participant), reason);
    return true;
  }

  /** With the rate on 'auto': 48 kHz while anyone speaks Opus, else 8 kHz. */
  private followParticipants(): void {
    if (this.fixedRate !== undefined) return;
    let opus = false;
    for (const member of this.members.values()) if (member.kind === 'opus') opus = true;
    this.setRate(opus ? 48000 : 8000);
  }

  private setRate(rate: MixRate): void {
    if (rate === this.rate && this.total.length === samplesPerFrame(rate)) return;
    if (this.members.size > 0) log.debug('mix rate', { mixer: this.id, rate });
    this.rate = rate;
    const samples = samplesPerFrame(rate);
    this.total = new Int32Array(samples);
    this.full = new Int16Array(samples);
    this.own = new Int16Array(samples);
    this.shared = new Map();
    this.silence = new Map();
    for (const member of this.members.values()) member.setRate(rate);
  }

  /** One 20 ms frame for everyone. */
  private tick(): void {
    const total = this.total;
    total.fill(0);
    const members = this.members;
    let speakers = 0;
    for (const member of members.values()) {
      if (!member.pull()) continue;
      speakers++;
      const pcm = member.pcm;
      for (let i = 0; i < total.length; i++) total[i]! += pcm[i]!;
    }
    this.payloads.clear();
    let fullReady = false;
    let encodes = 0;
    for (const member of members.values()) {
      let payload: Buffer | undefined;
      // Nobody else speaks: what this participant hears is silence, exactly.
      if (speakers === 0 || (speakers === 1 && member.contributes)) payload = this.silentFrame(member.kind);
      else if (member.contributes) {
        const own = this.own;
        const pcm = member.pcm;
        for (let i = 0; i < total.length; i++) own[i] = saturate(total[i]! - pcm[i]!);
        payload = member.encodeOwn(own);
        encodes++;
      } else {
        payload = this.payloads.get(member.kind);
        if (!payload) {
          if (!fullReady) {
            const full = this.full;
            for (let i = 0; i < total.length; i++) full[i] = saturate(total[i]!);
            fullReady = true;
          }
          payload = this.sharedEncoder(member.kind).encode(this.full);
          this.payloads.set(member.kind, payload);
          encodes++;
        }
      }
      member.send(payload);
    }
    this.encodes = encodes;
  }

  private silentFrame(kind: CodecKind): Buffer {
    let payload = this.silence.get(kind);
    if (!payload) {
      payload = createEncoder(kind, this.rate, this.options.opus).encode(new Int16Array(samplesPerFrame(this.rate)));
      this.silence.set(kind, payload);
    }
    return payload;
  }

  private sharedEncoder(kind: CodecKind): FrameEncoder {
    let encoder = this.shared.get(kind);
    if (!encoder) {
      encoder = createEncoder(kind, this.rate, this.options.opus);
      this.shared.set(kind, encoder);
    }
    return encoder;
  }
}

function infoOf(participant: Participant): ParticipantInfo {
  return { id: participant.id, codec: participant.kind };
}

function saturate(value: number): number {
  return value > 32767 ? 32767 : value < -32768 ? -32768 : value;
}
