/**
 * The RTP stream a leg sends (RFC 3550 §5.1): one SSRC, a sequence number and a timestamp that stay
 * continuous although the packets come from elsewhere — from the other leg of a bridge, whose source may
 * change (a transfer, a new SSRC after re-INVITE), and from the leg itself for RFC 4733 events.
 *
 * Relayed packets keep their distance from each other: a gap or a reordering on the source side shows as the
 * same gap on ours, so the far end's jitter buffer sees the truth. When the source changes, the stream is
 * re-based so that sequence numbers continue by one and timestamps advance by the wall-clock time elapsed,
 * and the marker bit flags the discontinuity (RFC 3551 §4.1).
 *
 * The stream's numbers live in a Float64Array, which may be a view of the state an RTP socket shares with
 * the native relay (rtp-socket.ts): the relay then moves the same stream on for the packets it relays
 * itself, exactly as `advance` does (native/relay.c), and the leg's own packets (RFC 4733 events) and RTCP
 * reports carry on from where it left it.
 */
import { randomUint16, randomUint32 } from '../../util/random-pool';
import type { RtpFrame } from './media-leg';

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

/** Where each number sits in the stream's state (relay.c reads the same order). */
const SSRC = 0;
const SEQ_OFFSET = 1;
const TS_OFFSET = 2;
/** The SSRC of the source the offsets are for; -1 before any. */
const SOURCE_SSRC = 3;
const LAST_SEQ = 4;
const LAST_TS = 5;
/** When the last packet that moved the stream forward was sent, on the clock of `now`. */
const LAST_SENT_AT = 6;
const CLOCK_RATE = 7;
export const STREAM_SLOTS = 8;

export class OutboundStream {
  private outSeq = 0;
  private outTs = 0;
  private outMarker = false;

  constructor(
    clockRate: number,
    private readonly now: () => number = () => performance.now(),
    private readonly state: Float64Array = new Float64Array(STREAM_SLOTS),
    ssrc: number = randomUint32(),
  ) {
    // RFC 3550 §5.1: SSRC, initial sequence number and timestamp are random (the SSRC may be one already
    // announced in SDP).
    state[SSRC] = ssrc;
    state[SEQ_OFFSET] = 0;
    state[TS_OFFSET] = 0;
    state[SOURCE_SSRC] = -1;
    state[LAST_SEQ] = randomUint16();
    state[LAST_TS] = randomUint32();
    state[LAST_SENT_AT] = this.now();
    state[CLOCK_RATE] = clockRate;
  }

  get ssrc(): number {
    return this.state[SSRC]!;
  }

  /** A codec change (re-INVITE) may change the clock; timestamps continue in the new unit. */
  setClockRate(clockRate: number): void {
    const state = this.state;
    if (clockRate === state[CLOCK_RATE]) return;
    state[LAST_TS] = this.currentTimestamp();
    state[LAST_SENT_AT] = this.now();
    state[CLOCK_RATE] = clockRate;
    state[SOURCE_SSRC] = -1;
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
    writeRtpHeader(into, at, this.outMarker, payloadType, this.outSeq, this.outTs, this.state[SSRC]!);
  }

  /**
   * A frame from another leg as a packet of this stream. When the frame came in a datagram with room for a
   * header before its payload (always, from a plain RTP leg or the relay), our header goes there and that
   * datagram is sent: no buffer is allocated or copied per packet. Otherwise (a frame from werift) a new
   * packet is built.
   */
  packetFor(frame: RtpFrame, payloadType: number): Buffer {
    const { bytes, payloadStart, payloadEnd } = frame;
    if (payloadStart >= RTP_HEADER) {
      const start = payloadStart - RTP_HEADER;
      this.writeRelayed(frame, payloadType, bytes, start);
      return start === 0 && payloadEnd === bytes.length ? bytes : bytes.subarray(start, payloadEnd);
    }
    const packet = Buffer.allocUnsafe(RTP_HEADER + payloadEnd - payloadStart);
    this.writeRelayed(frame, payloadType, packet, 0);
    bytes.copy(packet, RTP_HEADER, payloadStart, payloadEnd);
    return packet;
  }

  /** Maps a source packet onto this stream; the result is left in outSeq, outTs and outMarker. */
  private advance(source: SourceHeader): void {
    const state = this.state;
    let marker = source.marker;
    if (source.ssrc !== state[SOURCE_SSRC]) {
      state[SOURCE_SSRC] = source.ssrc;
      state[SEQ_OFFSET] = mod(state[LAST_SEQ]! + 1 - source.sequenceNumber, SEQ_MOD);
      state[TS_OFFSET] = mod(this.currentTimestamp() - source.timestamp, TS_MOD);
      marker = true;
    }
    // On integers a mask is the modulo (ToUint32 reduces modulo 2^32), without mod()'s floating-point remainders.
    const sequenceNumber = (source.sequenceNumber + state[SEQ_OFFSET]!) & 0xffff;
    const timestamp = (source.timestamp + state[TS_OFFSET]!) >>> 0;
    // Only a packet that moves the stream forward sets the reference for what follows; a late one does not.
    if (isNewer(sequenceNumber, state[LAST_SEQ]!)) {
      state[LAST_SEQ] = sequenceNumber;
      state[LAST_TS] = timestamp;
      state[LAST_SENT_AT] = this.now();
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
    const state = this.state;
    state[LAST_SEQ] = mod(state[LAST_SEQ]! + 1, SEQ_MOD);
    state[SEQ_OFFSET] = mod(state[SEQ_OFFSET]! + 1, SEQ_MOD);
    return { ssrc: state[SSRC]!, sequenceNumber: state[LAST_SEQ]!, timestamp, marker };
  }

  /** The media clock now: the last timestamp sent, advanced by the wall-clock time since it was sent. */
  currentTimestamp(): number {
    const state = this.state;
    const elapsed = Math.max(0, this.now() - state[LAST_SENT_AT]!);
    return mod(state[LAST_TS]! + Math.round((elapsed * state[CLOCK_RATE]!) / 1000), TS_MOD);
  }
}

/** The size of RTP's fixed header (RFC 3550 §5.1). */
export const RTP_HEADER = 12;

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
