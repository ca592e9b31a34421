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
import { randomUint16, randomUint32 } from '../util/random-pool';

/** The fields of a received packet's header that relaying reads. */
export interface SourceHeader {
  ssrc: number;
  sequenceNumber: number;
  timestamp: number;
  marker: boolean;
}

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
  private outSeq = 0;
  private outTs = 0;
  private outMarker = false;

  constructor(
    private clockRate: number,
    private readonly now: () => number = () => performance.now(),
  ) {
    // RFC 3550 §5.1: SSRC, initial sequence number and timestamp are random.
    this.ssrc = randomUint32();
    this.lastSeq = randomUint16();
    this.lastTs = randomUint32();
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
  relay(source: SourceHeader): OutboundHeader {
    this.advance(source);
    return { ssrc: this.ssrc, sequenceNumber: this.outSeq, timestamp: this.outTs, marker: this.outMarker };
  }

  /**
   * Writes the RFC 3550 §5.1 header of a relayed packet into `into` at `at`, 12 bytes: version 2 with no
   * padding, extension or CSRC, then what `relay` would return. It lets a plain RTP leg reuse the datagram it
   * received instead of building a new one for every packet.
   */
  writeRelayed(source: SourceHeader, payloadType: number, into: Buffer, at: number): void {
    this.advance(source);
    writeRtpHeader(into, at, this.outMarker, payloadType, this.outSeq, this.outTs, this.ssrc);
  }

  /** Maps a source packet onto this stream; the result is left in outSeq, outTs and outMarker. */
  private advance(source: SourceHeader): void {
    let marker = source.marker;
    if (source.ssrc !== this.sourceSsrc) {
      this.sourceSsrc = source.ssrc;
      this.seqOffset = mod(this.lastSeq + 1 - source.sequenceNumber, SEQ_MOD);
      this.tsOffset = mod(this.currentTimestamp() - source.timestamp, TS_MOD);
      marker = true;
    }
    // On integers a mask is the modulo (ToUint32 reduces modulo 2^32), without mod()'s floating-point remainders.
    const sequenceNumber = (source.sequenceNumber + this.seqOffset) & 0xffff;
    const timestamp = (source.timestamp + this.tsOffset) >>> 0;
    // Only a packet that moves the stream forward sets the reference for what follows; a late one does not.
    if (isNewer(sequenceNumber, this.lastSeq)) {
      this.lastSeq = sequenceNumber;
      this.lastTs = timestamp;
      this.lastSentAt = this.now();
    }
    this.outSeq = sequenceNumber;
    this.outTs = timestamp;
    this.outMarker = marker;
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

/** RFC 3550 §5.1: the fixed header of an RTP packet with no CSRC, extension or padding. */
export function writeRtpHeader(into: Buffer, at: number, marker: boolean, payloadType: number, sequenceNumber: number, timestamp: number, ssrc: number): void {
  into[at] = 0x80;
  into[at + 1] = (marker ? 0x80 : 0) | (payloadType & 0x7f);
  into.writeUInt16BE(sequenceNumber & 0xffff, at + 2);
  into.writeUInt32BE(timestamp >>> 0, at + 4);
  into.writeUInt32BE(ssrc >>> 0, at + 8);
}

function mod(value: number, modulus: number): number {
  return ((value % modulus) + modulus) % modulus;
}

/** RFC 3550 appendix A.1: sequence numbers compare modulo 2^16. */
function isNewer(seq: number, than: number): boolean {
  const delta = mod(seq - than, SEQ_MOD);
  return delta !== 0 && delta < SEQ_MOD / 2;
}
