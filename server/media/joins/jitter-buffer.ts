/**
 * A participant's jitter buffer: packets arrive when the network delivers them, in any order; the mixer takes
 * one 20 ms frame each tick of its clock. The buffer puts packets back in sequence-number order (RFC 3550
 * §5.1, compared modulo 2^16, appendix A.1), says when one is missing so that the mixer can conceal it,
 * and keeps its delay small:
 *
 * - playout starts once `prefill` packets are in (after the start of a stream or a silence of the sender);
 * - a packet that comes after its turn was taken is late, and dropped;
 * - when the next packet is missing but later ones are in, that one is lost: the mixer conceals it;
 * - when nothing is in at all the sender is late (or silent): the tick gets nothing and the buffer waits for
 *   the same packet, so one late packet adds one frame of delay instead of a loss; after `maxWait` empty
 *   ticks in a row the stream is taken as paused and playout starts over with a prefill;
 * - more than `maxDepth` packets waiting (a burst, or a sender whose clock runs faster than ours) and the
 *   oldest are dropped down to `prefill`, so the delay never grows past maxDepth frames;
 * - a new SSRC (another source on the leg, after a transfer or re-INVITE) starts over.
 */

const SLOTS = 64;

export type Playout =
  | { kind: 'frame'; payload: Buffer }
  | { kind: 'lost' }
  | { kind: 'empty' };

export interface JitterBufferOptions {
  prefill?: number;
  maxDepth?: number;
  maxWait?: number;
}

export interface JitterStats {
  received: number;
  played: number;
  lost: number;
  late: number;
  /** Dropped because too many were waiting, or because they duplicated one already in. */
  discarded: number;
}

const EMPTY: Playout = { kind: 'empty' };
const LOST: Playout = { kind: 'lost' };

export class JitterBuffer {
  private readonly payloads: Array<Buffer | undefined> = new Array<Buffer | undefined>(SLOTS);
  /** The extended sequence number each slot holds (valid where its payload is set). */
  private readonly sequence = new Float64Array(SLOTS);
  private count = 0;
  private ssrc = -1;
  /** Extended sequence number of the packet to play next; NaN while not playing. */
  private next = Number.NaN;
  /** Highest extended sequence number seen, for unwrapping the 16-bit ones. */
  private highest = Number.NaN;
  private emptyTicks = 0;
  private readonly prefill: number;
  private readonly maxDepth: number;
  private readonly maxWait: number;
  readonly stats: JitterStats = { received: 0, played: 0, lost: 0, late: 0, discarded: 0 };

  constructor(options: JitterBufferOptions = {}) {
    this.prefill = options.prefill ?? 1;
    this.maxDepth = Math.min(options.maxDepth ?? 6, SLOTS / 2);
    this.maxWait = options.maxWait ?? 3;
  }

  /** Packets waiting to be played. */
  get depth(): number {
    return this.count;
  }

  /** A received packet; `payload` must stay unchanged until played (the caller hands a copy). */
  push(sequenceNumber: number, ssrc: number, payload: Buffer): void {
    this.stats.received++;
    if (ssrc !== this.ssrc) {
      this.reset();
      this.ssrc = ssrc;
    }
    const extended = this.extend(sequenceNumber);
    const playing = !Number.isNaN(this.next);
    if (playing && extended < this.next) {
      this.stats.late++;
      return;
    }
    // Far ahead of what plays (the sender skipped, or restarted its numbering): start over from this one.
    if (playing && extended >= this.next + SLOTS / 2) this.restart();
    const slot = extended % SLOTS;
    if (this.payloads[slot] !== undefined) {
      if (this.sequence[slot] === extended) {
        this.stats.discarded++;
        return;
      }
      // A stale packet from SLOTS numbers ago still sits here: it can never play now.
      this.count--;
      this.stats.discarded++;
    }
    this.payloads[slot] = payload;
    this.sequence[slot] = extended;
    this.count++;
    if (Number.isNaN(this.highest) || extended > this.highest) this.highest = extended;
  }

  /** The frame for this tick of the mixer's clock. */
  pop(): Playout {
    if (Number.isNaN(this.next)) {
      if (this.count < this.prefill) return EMPTY;
      this.next = this.oldest();
    }
    if (this.count > this.maxDepth) this.trim();
    if (this.count === 0) {
      if (++this.emptyTicks >= this.maxWait) this.next = Number.NaN;
      return EMPTY;
    }
    this.emptyTicks = 0;
    const slot = this.next % SLOTS;
    const payload = this.payloads[slot];
    this.next++;
    if (payload !== undefined && this.sequence[slot] === this.next - 1) {
      this.payloads[slot] = undefined;
      this.count--;
      this.stats.played++;
      return { kind: 'frame', payload };
    }
    this.stats.lost++;
    return LOST;
  }

  /** Sequence numbers are unwrapped against the highest seen, so a wrap from 65535 to 0 keeps counting up. */
  private extend(sequenceNumber: number): number {
    if (Number.isNaN(this.highest)) return sequenceNumber + 0x10000;
    const delta = ((sequenceNumber - this.highest + 0x8000) & 0xffff) - 0x8000;
    return this.highest + delta;
  }

  private oldest(): number {
    let oldest = Number.POSITIVE_INFINITY;
    for (let slot = 0; slot < SLOTS; slot++) if (this.payloads[slot] !== undefined && this.sequence[slot]! < oldest) oldest = this.sequence[slot]!;
    return oldest;
  }

  /** Drops the oldest waiting packets until `prefill` are left, and plays on from the first one kept. */
  private trim(): void {
    while (this.count > this.prefill) {
      const oldest = this.oldest();
      const slot = oldest % SLOTS;
      this.payloads[slot] = undefined;
      this.count--;
      this.stats.discarded++;
    }
    this.next = this.oldest();
  }

  private restart(): void {
    for (let slot = 0; slot < SLOTS; slot++) this.payloads[slot] = undefined;
    this.stats.discarded += this.count;
    this.count = 0;
    this.next = Number.NaN;
    this.emptyTicks = 0;
  }

  private reset(): void {
    this.restart();
    this.highest = Number.NaN;
  }
}
