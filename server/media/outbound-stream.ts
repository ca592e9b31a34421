/**
 * The RTP stream a leg sends (RFC 3550 §5.1): one SSRC, a sequence number and a timestamp that stay
 * continuous although the packets come from elsewhere — from the other leg of a bridge, whose source may
 * change (a transfer, a new SSRC after re-INVITE), and from the leg itself for RFC 4733 events.
 *
 * Relayed packets keep their distance from each other: a gap or a reordering on the source side shows as the
 * same gap on ours, so the far end's jitter buffer sees the truth. When the source changes, the stream is
 * re-based so that sequence numbers continue by one and timestamps advance by the wall-clock time elapsed,
 * and the marker bit flags the discontinuity (RFC 3551 §4.1).
 */
import { randomBytes } from 'node:crypto';

export interface OutboundHeader {
  ssrc: number;
  sequenceNumber: number;
  timestamp: number;
  marker: boolean;
}

const SEQ_MOD = 0x1_0000;
const TS_MOD = 0x1_0000_0000;

export class OutboundStream {
  readonly ssrc: number;
  private seqOffset = 0;
  private tsOffset = 0;
  private sourceSsrc: number | undefined;
  private lastSeq: number;
  private lastTs: number;
  private lastSentAt: number;

  constructor(
    private clockRate: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    // RFC 3550 §5.1: SSRC, initial sequence number and timestamp are random.
    const random = randomBytes(10);
    this.ssrc = random.readUInt32BE(0);
    this.lastSeq = random.readUInt16BE(4);
    this.lastTs = random.readUInt32BE(6);
    this.lastSentAt = this.now();
  }

  /** A codec change (re-INVITE) may change the clock; timestamps continue in the new unit. */
  setClockRate(clockRate: number): void {
    if (clockRate === this.clockRate) return;
    this.lastTs = this.currentTimestamp();
    this.lastSentAt = this.now();
    this.clockRate = clockRate;
    this.sourceSsrc = undefined;
  }

  /** The header for a relayed packet that came with the given source fields. */
  relay(source: { ssrc: number; sequenceNumber: number; timestamp: number; marker: boolean }): OutboundHeader {
    let marker = source.marker;
    if (source.ssrc !== this.sourceSsrc) {
      this.sourceSsrc = source.ssrc;
      this.seqOffset = mod(this.lastSeq + 1 - source.sequenceNumber, SEQ_MOD);
      this.tsOffset = mod(this.currentTimestamp() - source.timestamp, TS_MOD);
      marker = true;
    }
    const sequenceNumber = mod(source.sequenceNumber + this.seqOffset, SEQ_MOD);
    const timestamp = mod(source.timestamp + this.tsOffset, TS_MOD);
    // Only a packet that moves the stream forward sets the reference for what follows; a late one does not.
    if (isNewer(sequenceNumber, this.lastSeq)) {
      this.lastSeq = sequenceNumber;
      this.lastTs = timestamp;
      this.lastSentAt = this.now();
    }
    return { ssrc: this.ssrc, sequenceNumber, timestamp, marker };
  }

  /**
   * The header for a packet the leg makes itself (an RFC 4733 event): the next sequence number, with the
   * relayed packets that follow shifted by one so that none collide.
   */
  inject(timestamp: number, marker: boolean): OutboundHeader {
    this.lastSeq = mod(this.lastSeq + 1, SEQ_MOD);
    this.seqOffset = mod(this.seqOffset + 1, SEQ_MOD);
    return { ssrc: this.ssrc, sequenceNumber: this.lastSeq, timestamp, marker };
  }

  /** The media clock now: the last timestamp sent, advanced by the wall-clock time since it was sent. */
  currentTimestamp(): number {
    const elapsed = Math.max(0, this.now() - this.lastSentAt);
    return mod(this.lastTs + Math.round((elapsed * this.clockRate) / 1000), TS_MOD);
  }
}

function mod(value: number, modulus: number): number {
  return ((value % modulus) + modulus) % modulus;
}

/** RFC 3550 appendix A.1: sequence numbers compare modulo 2^16. */
function isNewer(seq: number, than: number): boolean {
  const delta = mod(seq - than, SEQ_MOD);
  return delta !== 0 && delta < SEQ_MOD / 2;
}
