import { describe, expect, it } from 'vitest';
import { CODEC_DELAY_MS, estimateMos, gradeMos, mosFromR, qualityBetween, rFactor, readMediaStats } from './call-quality';

const clear = { lossPercent: 0, jitterMs: 0, roundTripMs: 0 };

describe('mosFromR (ITU-T G.107 Annex B)', () => {
  it.each([
    // R = 93.2 is G.107's rating with every parameter at its default: the well-known MOS of 4.41.
    [93.2, 4.41],
    [80, 4.024],
    [70, 3.6],
    [60, 3.1],
    [50, 2.575],
  ])('maps R = %d to MOS %d', (r, mos) => {
    expect(mosFromR(r)).toBeCloseTo(mos, 2);
  });

  it('stays between 1 and 4.5 outside 0 < R < 100', () => {
    expect(mosFromR(-5)).toBe(1);
    expect(mosFromR(0)).toBe(1);
    expect(mosFromR(100)).toBe(4.5);
    expect(mosFromR(120)).toBe(4.5);
  });

  it('never falls as R rises', () => {
    for (let r = 0; r < 100; r++) expect(mosFromR(r + 1)).toBeGreaterThanOrEqual(mosFromR(r));
  });
});

describe('rFactor', () => {
  it('loses only the codec delay on a perfect network', () => {
    expect(rFactor(clear)).toBeCloseTo(93.2 - 0.024 * CODEC_DELAY_MS, 6);
  });

  it('charges delay gently up to 177.3 ms one way and steeply beyond (Id)', () => {
    // Ta = 300/2 + 25 = 175 ms: linear part only.
    expect(rFactor({ ...clear, roundTripMs: 300 })).toBeCloseTo(93.2 - 0.024 * 175, 6);
    // Ta = 400/2 + 25 = 225 ms: the step adds 0.11 per ms beyond 177.3.
    expect(rFactor({ ...clear, roundTripMs: 400 })).toBeCloseTo(93.2 - 0.024 * 225 - 0.11 * (225 - 177.3), 6);
  });

  it('counts jitter twice, as the jitter buffer that absorbs it', () => {
    expect(rFactor({ ...clear, jitterMs: 30 })).toBeCloseTo(rFactor({ ...clear, roundTripMs: 120 }), 6);
  });

  it('charges random loss with G.711-with-PLC robustness (Ie,eff, Bpl = 25.1)', () => {
    const ieEff = (95 * 5) / (5 + 25.1);
    expect(rFactor({ ...clear, lossPercent: 5 })).toBeCloseTo(rFactor(clear) - ieEff, 6);
  });

  it('clamps to 0..100 for impossible inputs', () => {
    expect(rFactor({ lossPercent: 100, jitterMs: 1_000, roundTripMs: 5_000 })).toBe(0);
    expect(rFactor({ lossPercent: -3, jitterMs: -1, roundTripMs: -10 })).toBeCloseTo(rFactor(clear), 6);
  });
});

describe('estimateMos and its grade', () => {
  it.each([
    ['a clean LAN call', { lossPercent: 0, jitterMs: 2, roundTripMs: 10 }, 'good'],
    ['a decent internet call', { lossPercent: 1, jitterMs: 10, roundTripMs: 80 }, 'good'],
    ['a call over a congested link', { lossPercent: 3, jitterMs: 30, roundTripMs: 200 }, 'fair'],
    ['a call breaking up', { lossPercent: 10, jitterMs: 50, roundTripMs: 400 }, 'poor'],
  ] as const)('grades %s as %s', (_story, conditions, grade) => {
    expect(gradeMos(estimateMos(conditions))).toBe(grade);
  });

  it('puts the bands at MOS 4.03 (R 80) and 3.1 (R 60)', () => {
    expect(gradeMos(4.03)).toBe('good');
    expect(gradeMos(4.02)).toBe('fair');
    expect(gradeMos(3.1)).toBe('fair');
    expect(gradeMos(3.09)).toBe('poor');
  });
});

describe('readMediaStats', () => {
  const inbound = { type: 'inbound-rtp', kind: 'audio', packetsReceived: 480, packetsLost: 20, jitter: 0.012 };

  it('reads loss, jitter and the RTCP round trip of the audio', () => {
    const entries = [
      { type: 'inbound-rtp', kind: 'video', packetsReceived: 9, packetsLost: 9, jitter: 1 },
      inbound,
      { type: 'remote-inbound-rtp', kind: 'audio', roundTripTime: 0.045 },
      { type: 'candidate-pair', nominated: true, state: 'succeeded', currentRoundTripTime: 0.002 },
    ];
    expect(readMediaStats(entries)).toEqual({ packetsReceived: 480, packetsLost: 20, jitterMs: 12, roundTripMs: 45 });
  });

  it('falls back to the ICE round trip before any RTCP report', () => {
    const entries = [inbound, { type: 'candidate-pair', nominated: true, state: 'succeeded', currentRoundTripTime: 0.002 }];
    expect(readMediaStats(entries)?.roundTripMs).toBeCloseTo(2, 6);
  });

  it('gives nothing before audio arrives', () => {
    expect(readMediaStats([{ type: 'transport' }])).toBeUndefined();
  });

  it('treats a negative loss count (duplicates, RFC 3550 §6.4.1) as none', () => {
    expect(readMediaStats([{ ...inbound, packetsLost: -2 }])?.packetsLost).toBe(0);
  });
});

describe('qualityBetween', () => {
  it('counts loss over the interval, not since the call began', () => {
    const earlier = { packetsReceived: 1_000, packetsLost: 100, jitterMs: 5, roundTripMs: 20 };
    const later = { packetsReceived: 1_099, packetsLost: 101, jitterMs: 5, roundTripMs: 20 };
    expect(qualityBetween(earlier, later).lossPercent).toBeCloseTo(1, 6);
    expect(qualityBetween(undefined, earlier).lossPercent).toBeCloseTo((100 / 1_100) * 100, 6);
  });

  it('reports no loss when no packets were due', () => {
    const sample = { packetsReceived: 10, packetsLost: 0, jitterMs: 0 };
    expect(qualityBetween(sample, sample)).toMatchObject({ lossPercent: 0, roundTripMs: 0, grade: 'good' });
  });
});
