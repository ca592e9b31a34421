import { describe, expect, it } from 'vitest';
import { OutboundStream } from './outbound-stream';

function fakeClock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

describe('OutboundStream', () => {
  it('keeps gaps and order of the source, in its own SSRC', () => {
    const clock = fakeClock();
    const stream = new OutboundStream(8000, clock.now);
    const first = stream.relay({ ssrc: 7, sequenceNumber: 100, timestamp: 16000, marker: false });
    const second = stream.relay({ ssrc: 7, sequenceNumber: 102, timestamp: 16320, marker: false });
    expect(first.ssrc).toBe(stream.ssrc);
    expect(first.marker).toBe(true); // a new source starts a talkspurt
    expect(second.marker).toBe(false);
    expect((second.sequenceNumber - first.sequenceNumber + 0x10000) % 0x10000).toBe(2);
    expect((second.timestamp - first.timestamp + 0x1_0000_0000) % 0x1_0000_0000).toBe(320);
  });

  it('continues by one sequence number and by elapsed time when the source changes', () => {
    const clock = fakeClock();
    const stream = new OutboundStream(8000, clock.now);
    const a = stream.relay({ ssrc: 1, sequenceNumber: 65535, timestamp: 4294967000, marker: false });
    clock.advance(100);
    const b = stream.relay({ ssrc: 2, sequenceNumber: 5, timestamp: 10, marker: false });
    expect(b.sequenceNumber).toBe((a.sequenceNumber + 1) % 0x10000);
    expect((b.timestamp - a.timestamp + 0x1_0000_0000) % 0x1_0000_0000).toBe(800);
    expect(b.marker).toBe(true);
  });

  it('fits injected packets between relayed ones without a collision', () => {
    const clock = fakeClock();
    const stream = new OutboundStream(8000, clock.now);
    const a = stream.relay({ ssrc: 1, sequenceNumber: 10, timestamp: 0, marker: false });
    clock.advance(20);
    const event = stream.inject(stream.currentTimestamp(), true);
    const b = stream.relay({ ssrc: 1, sequenceNumber: 11, timestamp: 160, marker: false });
    expect([event.sequenceNumber, b.sequenceNumber]).toEqual([(a.sequenceNumber + 1) % 0x10000, (a.sequenceNumber + 2) % 0x10000]);
    expect((event.timestamp - a.timestamp + 0x1_0000_0000) % 0x1_0000_0000).toBe(160);
  });
});
