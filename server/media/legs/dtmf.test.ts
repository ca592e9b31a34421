import { afterEach, describe, expect, it, vi } from 'vitest';
import { DtmfReceiver, DtmfSender, parseTelephoneEvent, scheduleDtmf, serializeTelephoneEvent, telephoneEventsFor } from './dtmf';

/** One key press as a phone sends it: start, updates, three end packets, all with the event's timestamp. */
function keyPress(event: number, durations: number[], endDuration: number): Buffer[] {
  return [
    ...durations.map((duration) => serializeTelephoneEvent({ event, end: false, volume: 10, duration })),
    ...[0, 1, 2].map(() => serializeTelephoneEvent({ event, end: true, volume: 10, duration: endDuration })),
  ];
}

describe('RFC 4733 payload', () => {
  it('reads the wire bytes of an end packet for "#"', () => {
    // event 11, E=1 R=0 volume 10, duration 800 (100 ms at 8000 Hz)
    expect(parseTelephoneEvent(Buffer.from([0x0b, 0x8a, 0x03, 0x20]))).toEqual({ event: 11, end: true, volume: 10, duration: 800 });
    expect(serializeTelephoneEvent({ event: 11, end: true, volume: 10, duration: 800 })).toEqual(Buffer.from([0x0b, 0x8a, 0x03, 0x20]));
    expect(parseTelephoneEvent(Buffer.from([1, 2]))).toBeUndefined();
  });
});

describe('DtmfReceiver', () => {
  it('reports a key press once, at its end, despite the three end packets', () => {
    const receiver = new DtmfReceiver(8000);
    const reported = keyPress(5, [160, 320, 480], 800).flatMap((payload) => receiver.push(1000, payload));
    expect(reported).toEqual([{ digit: '5', durationMs: 100 }]);
  });

  it('tells two presses of the same key apart by their timestamps', () => {
    const receiver = new DtmfReceiver(8000);
    const first = keyPress(1, [160], 640).flatMap((p) => receiver.push(1000, p));
    const second = keyPress(1, [160], 640).flatMap((p) => receiver.push(3000, p));
    expect([...first, ...second].map((e) => e.digit)).toEqual(['1', '1']);
  });

  it('reports an event whose end packets were all lost when the next one starts', () => {
    const receiver = new DtmfReceiver(8000);
    expect(receiver.push(1000, serializeTelephoneEvent({ event: 10, end: false, volume: 10, duration: 400 }))).toEqual([]);
    const reported = keyPress(12, [160], 480).flatMap((p) => receiver.push(2000, p));
    expect(reported).toEqual([
      { digit: '*', durationMs: 50 },
      { digit: 'A', durationMs: 60 },
    ]);
  });

  it('uses the telephone-event clock for durations (48000 beside Opus)', () => {
    const receiver = new DtmfReceiver(48000);
    expect(keyPress(0, [960], 4800).flatMap((p) => receiver.push(7, p))).toEqual([{ digit: '0', durationMs: 100 }]);
  });

  it('ignores events that are not DTMF keys and short payloads', () => {
    const receiver = new DtmfReceiver(8000);
    expect(receiver.push(1, serializeTelephoneEvent({ event: 16, end: true, volume: 0, duration: 100 }))).toEqual([]);
    expect(receiver.push(1, Buffer.from([1]))).toEqual([]);
  });
});

describe('scheduleDtmf', () => {
  it('sends a start packet with the marker, updates, and the end three times', () => {
    const packets = scheduleDtmf({ digit: '9', durationMs: 120 }, 8000);
    expect(packets.map((p) => [p.atMs, p.marker, parseTelephoneEvent(p.payload)])).toEqual([
      [0, true, { event: 9, end: false, volume: 10, duration: 400 }],
      [50, false, { event: 9, end: false, volume: 10, duration: 800 }],
      [100, false, { event: 9, end: false, volume: 10, duration: 960 }],
      [120, false, { event: 9, end: true, volume: 10, duration: 960 }],
      [170, false, { event: 9, end: true, volume: 10, duration: 960 }],
      [220, false, { event: 9, end: true, volume: 10, duration: 960 }],
    ]);
  });

  it('sends nothing for a character that is not a key', () => {
    expect(scheduleDtmf({ digit: 'x', durationMs: 100 }, 8000)).toEqual([]);
  });

  it('round-trips through the receiver', () => {
    const receiver = new DtmfReceiver(48000);
    const events = scheduleDtmf({ digit: '#', durationMs: 250 }, 48000).flatMap((p) => receiver.push(42, p.payload));
    expect(events).toEqual([{ digit: '#', durationMs: 250 }]);
  });
});

describe('telephoneEventsFor', () => {
  it('offers one telephone-event per audio clock rate, on a free payload type', () => {
    const opus = { mimeType: 'audio/opus', clockRate: 48000, channels: 2, payloadType: 111 };
    const pcmu = { mimeType: 'audio/PCMU', clockRate: 8000, channels: 1, payloadType: 0 };
    expect(telephoneEventsFor([opus, pcmu], new Set([111, 0, 101]))).toEqual([
      { mimeType: 'audio/telephone-event', clockRate: 48000, channels: 1, payloadType: 110, parameters: '0-16' },
      { mimeType: 'audio/telephone-event', clockRate: 8000, channels: 1, payloadType: 102, parameters: '0-16' },
    ]);
  });
});

describe('DtmfSender', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('plays queued presses one after another on one timestamp each', async () => {
    vi.useFakeTimers();
    const sent: Array<{ timestamp: number; marker: boolean; end: boolean; event: number }> = [];
    let clock = 1000;
    const sender = new DtmfSender({
      clockRate: () => 8000,
      startTimestamp: () => (clock += 8000),
      transmit: (timestamp, marker, payload) => {
        const parsed = parseTelephoneEvent(payload);
        if (parsed) sent.push({ timestamp, marker, end: parsed.end, event: parsed.event });
      },
    });
    void sender.send({ digit: '1', durationMs: 100 });
    const done = sender.send({ digit: '2', durationMs: 100 });
    await vi.runAllTimersAsync();
    await done;
    expect(sent.filter((p) => p.event === 1).every((p) => p.timestamp === 9000)).toBe(true);
    expect(sent.filter((p) => p.event === 2).every((p) => p.timestamp === 17000)).toBe(true);
    expect(sent.map((p) => p.event)).toEqual([1, 1, 1, 1, 1, 2, 2, 2, 2, 2]);
    expect(sent.filter((p) => p.marker)).toHaveLength(2);
    expect(sent.filter((p) => p.end)).toHaveLength(6);
  });

  it('stops at close and sends nothing without a negotiated telephone-event', async () => {
    const transmit = vi.fn();
    const silent = new DtmfSender({ clockRate: () => undefined, startTimestamp: () => 0, transmit });
    await silent.send({ digit: '1', durationMs: 100 });
    expect(transmit).not.toHaveBeenCalled();

    const sender = new DtmfSender({ clockRate: () => 8000, startTimestamp: () => 0, transmit });
    const done = sender.send({ digit: '1', durationMs: 1000 });
    await new Promise((r) => setTimeout(r, 10));
    sender.close();
    await done;
    expect(transmit).toHaveBeenCalledTimes(1);
  });
});
