/**
 * RTCP reports for a plain RTP leg (RFC 3550 §6): what the leg has sent (a sender report) and how the stream it
 * receives is doing (a report block: loss, highest sequence number, interarrival jitter, and the delay since
 * the far end's last sender report, from which it measures the round trip), with the CNAME the RFC asks for.
 * Desk phones show these as call quality, and a monitoring system reads them off the wire.
 *
 * `ReceptionStats` follows the RFC's appendix A.1 (sequence numbers, extended over wraps, a source confirmed
 * after two packets in sequence) and A.8 (jitter); `writeReport` lays out SR or RR, then SDES (§6.4, §6.5).
 */

/** Seconds from 1900 (NTP's epoch) to 1970 (the Unix epoch). */
const NTP_UNIX_OFFSET_S = 2_208_988_800;
const SEQ_MOD = 0x1_0000;
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;

export const RTCP_SR = 200;
export const RTCP_RR = 201;
const RTCP_SDES = 202;
export const RTCP_BYE = 203;
const SDES_CNAME = 1;

export interface ReportBlock {
  ssrc: number;
  /** Fraction of packets lost since the last report, in 1/256 (§6.4.1). */
  fractionLost: number;
  /** Packets lost since the start, clamped to 24 bits signed. */
  cumulativeLost: number;
  extendedHighestSeq: number;
  /** In timestamp units. */
  jitter: number;
  /** The middle 32 bits of the NTP time of the last sender report received, 0 if none. */
  lastSr: number;
  /** Since that report, in units of 1/65536 s. */
  delaySinceLastSr: number;
}

/** What one remote source (one SSRC) has sent us, kept as RFC 3550 appendix A.1 and A.8 describe. */
export class ReceptionStats {
  private ssrcValue: number | undefined;
  private baseSeq = 0;
  private maxSeq = 0;
  private cycles = 0;
  private badSeq = SEQ_MOD + 1;
  private probation = 2;
  private receivedCount = 0;
  private expectedPrior = 0;
  private receivedPrior = 0;
  private jitterValue = 0;
  private lastTransit: number | undefined;
  private lastSrNtp = 0;
  private lastSrAt = 0;

  constructor(private clockRate: number) {}

  get ssrc(): number | undefined {
    return this.ssrcValue;
  }

  setClockRate(clockRate: number): void {
    this.clockRate = clockRate;
    this.lastTransit = undefined;
  }

  /** One RTP packet from the remote, at `arrivalMs` (a monotonic clock). */
  update(ssrc: number, seq: number, timestamp: number, arrivalMs: number): void {
    if (ssrc !== this.ssrcValue) this.restart(ssrc, seq);
    if (!this.updateSeq(seq)) return;
    // A.8: jitter from the change in transit time, both in timestamp units.
    const arrival = Math.round((arrivalMs * this.clockRate) / 1000);
    const transit = (arrival - timestamp) | 0;
    if (this.lastTransit !== undefined) {
      const d = Math.abs((transit - this.lastTransit) | 0);
      this.jitterValue += (d - this.jitterValue) / 16;
    }
    this.lastTransit = transit;
  }

  /** A sender report from the remote: its NTP time's middle 32 bits, for LSR and DLSR (§6.4.1). */
  noteSenderReport(ntpMiddle: number, arrivalMs: number): void {
    this.lastSrNtp = ntpMiddle >>> 0;
    this.lastSrAt = arrivalMs;
  }

  /** The report block for now, or undefined before any packet; starts the next interval for fraction lost. */
  report(nowMs: number): ReportBlock | undefined {
    if (this.ssrcValue === undefined || this.receivedCount === 0) return undefined;
    const extendedMax = this.cycles + this.maxSeq;
    const expected = extendedMax - this.baseSeq + 1;
    const lost = Math.max(-0x80_0000, Math.min(0x7f_ffff, expected - this.receivedCount));
    const expectedInterval = expected - this.expectedPrior;
    const receivedInterval = this.receivedCount - this.receivedPrior;
    this.expectedPrior = expected;
    this.receivedPrior = this.receivedCount;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.min(255, Math.floor((lostInterval * 256) / expectedInterval));
    return {
      ssrc: this.ssrcValue,
      fractionLost,
      cumulativeLost: lost,
      extendedHighestSeq: extendedMax >>> 0,
      jitter: Math.floor(this.jitterValue) >>> 0,
      lastSr: this.lastSrNtp,
      delaySinceLastSr: this.lastSrNtp === 0 ? 0 : Math.floor(((nowMs - this.lastSrAt) * 65536) / 1000) >>> 0,
    };
  }

  private restart(ssrc: number, seq: number): void {
    this.ssrcValue = ssrc;
    this.initSeq(seq);
    this.maxSeq = seq - 1;
    this.probation = 2;
    this.jitterValue = 0;
    this.lastTransit = undefined;
    this.lastSrNtp = 0;
  }

  private initSeq(seq: number): void {
    this.baseSeq = seq;
    this.maxSeq = seq;
    this.badSeq = SEQ_MOD + 1;
    this.cycles = 0;
    this.receivedCount = 0;
    this.receivedPrior = 0;
    this.expectedPrior = 0;
  }

  /** Appendix A.1, update_seq: false for a packet that does not count (a source not yet confirmed, a jump). */
  private updateSeq(seq: number): boolean {
    const delta = (seq - this.maxSeq + SEQ_MOD) % SEQ_MOD;
    if (this.probation > 0) {
      if (seq === ((this.maxSeq + 1) & 0xffff)) {
        this.probation--;
        this.maxSeq = seq;
        if (this.probation === 0) {
          this.initSeq(seq);
          this.receivedCount++;
          return true;
        }
      } else {
        this.probation = 1;
        this.maxSeq = seq;
      }
      return false;
    }
    if (delta < MAX_DROPOUT) {
      if (seq < this.maxSeq) this.cycles += SEQ_MOD;
      this.maxSeq = seq;
    } else if (delta <= SEQ_MOD - MAX_MISORDER) {
      // A large jump: the source restarted, unless this is the second packet of a new sequence.
      if (seq === this.badSeq) {
        this.initSeq(seq);
      } else {
        this.badSeq = (seq + 1) & 0xffff;
        return false;
      }
    }
    this.receivedCount++;
    return true;
  }
}

/** The mean time between reports, RFC 3550 §6.2's 5 s. */
export const DEFAULT_RTCP_INTERVAL_MS = 5_000;

/**
 * When a leg reports (RFC 3550 §6.2, §6.3.1): every `meanMs` on average, each interval randomized ±50 % so that
 * the legs' reports do not fall in step, until stopped. The timer never keeps the process alive.
 */
export function scheduleReports(meanMs: number, send: () => void): { stop(): void } {
  let timer: NodeJS.Timeout | undefined;
  const next = () => {
    timer = setTimeout(() => {
      send();
      next();
    }, meanMs * (0.5 + Math.random()));
    timer.unref();
  };
  next();
  return { stop: () => clearTimeout(timer) };
}

export interface SenderInfo {
  /** Wall-clock time of the report, in Unix milliseconds. */
  wallMs: number;
  rtpTimestamp: number;
  packets: number;
  octets: number;
}

/**
 * A compound RTCP packet (§6.1): SR when we sent since the last report, else RR, then SDES with our CNAME, and
 * BYE (§6.6) when the stream ends.
 */
export function writeReport(ssrc: number, cname: string, sender: SenderInfo | undefined, block: ReportBlock | undefined, bye = false): Buffer {
  const blocks = block ? 1 : 0;
  const reportLength = 8 + (sender ? 20 : 0) + 24 * blocks;
  const name = Buffer.from(cname, 'utf8').subarray(0, 255);
  // SDES chunk: SSRC, CNAME item (type, length, text), then at least one null octet, padded to 32 bits.
  const chunk = 4 + 2 + name.length;
  const sdesLength = 4 + Math.ceil((chunk + 1) / 4) * 4;
  const byeLength = bye ? 8 : 0;
  const out = Buffer.alloc(reportLength + sdesLength + byeLength);
  out[0] = 0x80 | blocks;
  out[1] = sender ? RTCP_SR : RTCP_RR;
  out.writeUInt16BE(reportLength / 4 - 1, 2);
  out.writeUInt32BE(ssrc >>> 0, 4);
  let at = 8;
  if (sender) {
    const seconds = Math.floor(sender.wallMs / 1000);
    const fraction = Math.floor(((sender.wallMs % 1000) / 1000) * 0x1_0000_0000);
    out.writeUInt32BE((seconds + NTP_UNIX_OFFSET_S) >>> 0, at);
    out.writeUInt32BE(fraction >>> 0, at + 4);
    out.writeUInt32BE(sender.rtpTimestamp >>> 0, at + 8);
    out.writeUInt32BE(sender.packets >>> 0, at + 12);
    out.writeUInt32BE(sender.octets >>> 0, at + 16);
    at += 20;
  }
  if (block) {
    out.writeUInt32BE(block.ssrc >>> 0, at);
    out[at + 4] = block.fractionLost;
    out.writeIntBE(block.cumulativeLost, at + 5, 3);
    out.writeUInt32BE(block.extendedHighestSeq >>> 0, at + 8);
    out.writeUInt32BE(block.jitter >>> 0, at + 12);
    out.writeUInt32BE(block.lastSr >>> 0, at + 16);
    out.writeUInt32BE(block.delaySinceLastSr >>> 0, at + 20);
    at += 24;
  }
  out[at] = 0x81;
  out[at + 1] = RTCP_SDES;
  out.writeUInt16BE(sdesLength / 4 - 1, at + 2);
  out.writeUInt32BE(ssrc >>> 0, at + 4);
  out[at + 8] = SDES_CNAME;
  out[at + 9] = name.length;
  name.copy(out, at + 10);
  if (bye) {
    at += sdesLength;
    out[at] = 0x81;
    out[at + 1] = RTCP_BYE;
    out.writeUInt16BE(1, at + 2);
    out.writeUInt32BE(ssrc >>> 0, at + 4);
  }
  return out;
}

/** The sender of an SR at the head of a compound packet and its NTP time's middle 32 bits; undefined otherwise. */
export function readSenderReport(packet: Buffer): { ssrc: number; ntpMiddle: number } | undefined {
  if (packet.length < 28 || packet[0]! >> 6 !== 2 || packet[1] !== RTCP_SR) return undefined;
  const ntpMiddle = ((packet.readUInt32BE(8) & 0xffff) * 0x1_0000 + (packet.readUInt32BE(12) >>> 16)) >>> 0;
  return { ssrc: packet.readUInt32BE(4), ntpMiddle };
}
