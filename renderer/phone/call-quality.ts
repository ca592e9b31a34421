/**
 * How good a call sounds, estimated from WebRTC statistics: packet loss, jitter and round-trip time, and from
 * them a mean opinion score (MOS) with the E-model of ITU-T G.107, reduced to the terms a softphone can measure.
 *
 * The reduction, term by term (G.107 §7, with its default values for everything not measured here):
 *
 * - R = Ro − Is − Id − Ie,eff + A. With every default, Ro − Is = 93.2 and A = 0 (no advantage expected).
 * - Id, the delay impairment, from the one-way mouth-to-ear delay Ta in ms. G.107's full expression needs echo
 *   and talker parameters we do not have; we use the widely cited linear fit of that curve by R. G. Cole and
 *   J. H. Rosenbluth, "Voice over IP performance monitoring", ACM SIGCOMM CCR 31(2), 2001:
 *   Id = 0.024·Ta + 0.11·(Ta − 177.3)·H(Ta − 177.3), H being the unit step.
 * - Ta: half the round trip, plus the jitter buffer (we assume it holds twice the measured jitter), plus the
 *   codec's frame and look-ahead (CODEC_DELAY_MS).
 * - Ie,eff = Ie + (95 − Ie) · Ppl / (Ppl / BurstR + Bpl) (G.107 §7.4), with Ppl the loss in percent. Ie = 0 and
 *   Bpl = 25.1 are ITU-T G.113 Appendix I's values for G.711 with packet-loss concealment; Opus conceals loss at
 *   least as well, so this errs on the side of a lower score. BurstR = 1: loss taken as random.
 * - MOS from R: G.107 Annex B, MOS = 1 + 0.035·R + R·(R − 60)·(100 − R)·7·10⁻⁶ for 0 < R < 100.
 */

/** Frame length plus encoder look-ahead of a 20 ms voice codec. */
export const CODEC_DELAY_MS = 25;
const R0_MINUS_IS = 93.2;
const IE_CODEC = 0;
const BPL_CODEC = 25.1;
const BURST_R = 1;

export interface NetworkConditions {
  /** Packets lost, in percent of packets sent. */
  lossPercent: number;
  jitterMs: number;
  roundTripMs: number;
}

/** The transmission rating factor R (0 to 100) for the conditions given. */
export function rFactor({ lossPercent, jitterMs, roundTripMs }: NetworkConditions): number {
  const ta = Math.max(0, roundTripMs) / 2 + 2 * Math.max(0, jitterMs) + CODEC_DELAY_MS;
  const id = 0.024 * ta + (ta > 177.3 ? 0.11 * (ta - 177.3) : 0);
  const ppl = Math.min(100, Math.max(0, lossPercent));
  const ieEff = IE_CODEC + ((95 - IE_CODEC) * ppl) / (ppl / BURST_R + BPL_CODEC);
  return Math.min(100, Math.max(0, R0_MINUS_IS - id - ieEff));
}

/** G.107 Annex B: the estimated MOS (1 to 4.5) for a rating R. */
export function mosFromR(r: number): number {
  if (r <= 0) return 1;
  if (r >= 100) return 4.5;
  // The cubic dips just below 1 for R under about 6.5; a MOS is never below 1.
  return Math.max(1, 1 + 0.035 * r + r * (r - 60) * (100 - r) * 7e-6);
}

export function estimateMos(conditions: NetworkConditions): number {
  return mosFromR(rFactor(conditions));
}

export type QualityGrade = 'good' | 'fair' | 'poor';

export const QUALITY_GRADE_LABELS: Record<QualityGrade, string> = { good: 'Good', fair: 'Fair', poor: 'Poor' };

/**
 * G.107 Annex B, table B.1: R ≥ 80 (MOS ≥ 4.03) leaves users satisfied; below R = 60 (MOS 3.1) many are
 * dissatisfied. We call the band between the two fair.
 */
export function gradeMos(mos: number): QualityGrade {
  if (mos >= 4.03) return 'good';
  if (mos >= 3.1) return 'fair';
  return 'poor';
}

/** The counters one getStats() call gives for a call's audio. */
export interface MediaStatsSample {
  packetsReceived: number;
  packetsLost: number;
  jitterMs: number;
  /** Absent until the first RTCP report or STUN check has come back. */
  roundTripMs?: number;
}

export interface CallQuality extends NetworkConditions {
  mos: number;
  grade: QualityGrade;
}

type StatsEntry = Record<string, unknown> & { type?: unknown };

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/**
 * Reads the audio counters from the entries of an RTCStatsReport (`report.values()`), or undefined when no audio
 * has been received yet. Round trip comes from the far end's RTCP receiver reports when there are some, else from
 * the ICE candidate pair in use.
 */
export function readMediaStats(entries: Iterable<StatsEntry>): MediaStatsSample | undefined {
  let inbound: StatsEntry | undefined;
  let rtcpRoundTrip: number | undefined;
  let iceRoundTrip: number | undefined;
  for (const entry of entries) {
    const kind = entry.kind ?? entry.mediaType;
    if (entry.type === 'inbound-rtp' && kind === 'audio') inbound = entry;
    else if (entry.type === 'remote-inbound-rtp' && kind === 'audio') rtcpRoundTrip = num(entry.roundTripTime) ?? rtcpRoundTrip;
    else if (entry.type === 'candidate-pair' && (entry.nominated === true || entry.selected === true) && entry.state === 'succeeded') {
      iceRoundTrip = num(entry.currentRoundTripTime) ?? iceRoundTrip;
    }
  }
  if (!inbound) return undefined;
  const roundTrip = rtcpRoundTrip ?? iceRoundTrip;
  return {
    packetsReceived: num(inbound.packetsReceived) ?? 0,
    // packetsLost can go negative with duplicates (RFC 3550 §6.4.1); a negative loss is no loss.
    packetsLost: Math.max(0, num(inbound.packetsLost) ?? 0),
    jitterMs: (num(inbound.jitter) ?? 0) * 1000,
    roundTripMs: roundTrip === undefined ? undefined : roundTrip * 1000,
  };
}

/**
 * The quality over the interval between two samples (or since the call began, with no earlier one). Loss is
 * counted over the interval, so an old burst stops weighing on the score once it is over.
 */
export function qualityBetween(previous: MediaStatsSample | undefined, current: MediaStatsSample): CallQuality {
  const lost = current.packetsLost - (previous?.packetsLost ?? 0);
  const received = current.packetsReceived - (previous?.packetsReceived ?? 0);
  const expected = Math.max(0, lost) + Math.max(0, received);
  const conditions: NetworkConditions = {
    lossPercent: expected > 0 ? (Math.max(0, lost) / expected) * 100 : 0,
    jitterMs: current.jitterMs,
    roundTripMs: current.roundTripMs ?? 0,
  };
  const mos = estimateMos(conditions);
  return { ...conditions, mos, grade: gradeMos(mos) };
}
