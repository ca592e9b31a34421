import { describe, expect, it } from 'vitest';
import { readSenderReport, ReceptionStats, RTCP_BYE, RTCP_RR, RTCP_SR, writeReport } from './rtcp';

describe('ReceptionStats (RFC 3550 A.1, A.8)', () => {
  it('counts loss over the interval and since the start, with the extended highest sequence number', () => {
    const stats = new ReceptionStats(8000);
    // 20 ms packets arriving exactly on time: no jitter. Packets 10–19 of the first hundred are lost.
    let seq = 65_500;
    for (let i = 0; i < 100; i++, seq = (seq + 1) & 0xffff) {
      if (i >= 10 && i < 20) continue;
      stats.update(0xabc, seq, 1000 + i * 160, 5_000 + i * 20);
    }
    const first = stats.report(10_000);
    // The first packet only starts the source's probation (A.1), so the second is the base.
    expect(first).toMatchObject({ ssrc: 0xabc, cumulativeLost: 10, jitter: 0, lastSr: 0, delaySinceLastSr: 0 });
    expect(first?.extendedHighestSeq).toBe(0x1_0000 + ((65_500 + 99) & 0xffff));
    expect(first?.fractionLost).toBe(Math.floor((10 * 256) / 99));
    for (let i = 100; i < 150; i++, seq = (seq + 1) & 0xffff) stats.update(0xabc, seq, 1000 + i * 160, 5_000 + i * 20);
    // Nothing lost since the last report.
    expect(stats.report(11_000)).toMatchObject({ fractionLost: 0, cumulativeLost: 10 });
  });

  it('measures jitter from arrival times that wander', () => {
    const stats = new ReceptionStats(8000);
    for (let i = 0; i < 200; i++) stats.update(7, i, i * 160, i * 20 + (i % 2 === 0 ? 0 : 5));
    // Transit alternates by 5 ms = 40 timestamp units; the estimate tends to that.
    expect(stats.report(5_000)?.jitter).toBeGreaterThan(30);
    expect(stats.report(5_000)?.jitter).toBeLessThanOrEqual(40);
  });

  it('starts afresh when the source changes, and reports the delay since its last sender report', () => {
    const stats = new ReceptionStats(8000);
    for (let i = 0; i < 10; i++) stats.update(1, 100 + i, i * 160, i * 20);
    for (let i = 0; i < 10; i++) stats.update(2, 9_000 + i, i * 160, 1_000 + i * 20);
    stats.noteSenderReport(0x1234_5678, 2_000);
    const block = stats.report(2_500);
    expect(block).toMatchObject({ ssrc: 2, cumulativeLost: 0, extendedHighestSeq: 9_009, lastSr: 0x1234_5678 });
    expect(block?.delaySinceLastSr).toBe(32_768);
  });
});

describe('RTCP compound packets', () => {
  it('writes SR with a report block and SDES CNAME, and reads the SR back', () => {
    const wallMs = Date.UTC(2026, 10, 30, 12, 0, 0, 500);
    const block = { ssrc: 0xabc, fractionLost: 25, cumulativeLost: 10, extendedHighestSeq: 70_000, jitter: 12, lastSr: 0x11112222, delaySinceLastSr: 65_536 };
    const packet = writeReport(0xfeed, 'cname-1', { wallMs, rtpTimestamp: 160_000, packets: 250, octets: 40_000 }, block);
    expect(packet[0]).toBe(0x81);
    expect(packet[1]).toBe(RTCP_SR);
    const srLength = (packet.readUInt16BE(2) + 1) * 4;
    expect(srLength).toBe(8 + 20 + 24);
    expect(packet.readUInt32BE(4)).toBe(0xfeed);
    expect(packet.readUInt32BE(8)).toBe(Math.floor(wallMs / 1000) + 2_208_988_800);
    expect(packet.readUInt32BE(12)).toBe(0x8000_0000);
    expect([packet.readUInt32BE(16), packet.readUInt32BE(20), packet.readUInt32BE(24)]).toEqual([160_000, 250, 40_000]);
    expect([packet.readUInt32BE(28), packet[32], packet.readIntBE(33, 3), packet.readUInt32BE(36)]).toEqual([0xabc, 25, 10, 70_000]);
    expect([packet.readUInt32BE(40), packet.readUInt32BE(44), packet.readUInt32BE(48)]).toEqual([12, 0x11112222, 65_536]);
    // SDES: one chunk, our SSRC, CNAME item, padded to 32 bits with at least one null octet.
    expect(packet[52]).toBe(0x81);
    expect(packet[53]).toBe(202);
    expect(packet.length).toBe(srLength + (packet.readUInt16BE(54) + 1) * 4);
    expect(packet.length % 4).toBe(0);
    expect(packet.readUInt32BE(56)).toBe(0xfeed);
    expect([packet[60], packet[61]]).toEqual([1, 7]);
    expect(packet.subarray(62, 69).toString()).toBe('cname-1');
    expect(packet[69]).toBe(0);
    expect(readSenderReport(packet)).toEqual({ ssrc: 0xfeed, ntpMiddle: (((Math.floor(wallMs / 1000) + 2_208_988_800) & 0xffff) * 0x10000 + 0x8000) >>> 0 });
  });

  it('writes RR when nothing was sent, with no block before anything arrived', () => {
    const packet = writeReport(5, 'x', undefined, undefined);
    expect([packet[0], packet[1], packet.readUInt16BE(2)]).toEqual([0x80, RTCP_RR, 1]);
    expect(readSenderReport(packet)).toBeUndefined();
  });

  it('ends with BYE for our SSRC when the stream ends', () => {
    const packet = writeReport(5, 'x', undefined, undefined, true);
    const bye = packet.subarray(packet.length - 8);
    expect([bye[0], bye[1], bye.readUInt16BE(2), bye.readUInt32BE(4)]).toEqual([0x81, RTCP_BYE, 1, 5]);
    expect(packet.length).toBe(8 + 12 + 8);
  });
});
