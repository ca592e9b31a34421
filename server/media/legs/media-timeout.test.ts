import { describe, expect, it } from 'vitest';
import type { LegState, MediaDirection } from './media-leg';
import { checkIntervalMs, MediaTimeout } from './media-timeout';

/** A leg reduced to what the watch reads, and a clock the test moves. */
function setup(timeoutMs = 1_000) {
  const leg = { packetsReceived: 0, remoteDirection: 'sendrecv' as MediaDirection, state: 'connected' as LegState };
  let now = 0;
  const silences: number[] = [];
  const watch = new MediaTimeout(leg, { timeoutMs, now: () => now }, (silentMs) => silences.push(silentMs));
  const advance = (ms: number) => {
    now += ms;
    watch.check();
  };
  return { leg, watch, silences, advance };
}

describe('MediaTimeout', () => {
  it('fires once the leg has received nothing for the timeout, and again only after another timeout', () => {
    const { silences, advance } = setup();
    advance(999);
    expect(silences).toEqual([]);
    advance(1);
    expect(silences).toEqual([1_000]);
    advance(500);
    expect(silences).toHaveLength(1);
    advance(500);
    expect(silences).toHaveLength(2);
  });

  it('counts any received packet as a sign of life, seen at the next look', () => {
    const { leg, silences, advance } = setup();
    for (let i = 0; i < 10; i++) {
      advance(900);
      leg.packetsReceived++;
    }
    advance(900); // sees the last packet: the silence is counted from here
    advance(999);
    expect(silences).toEqual([]);
    advance(1);
    expect(silences).toEqual([1_000]);
  });

  it('never fires while the device holds the call or only listens, and gives a resumed call the whole timeout', () => {
    const { leg, silences, advance } = setup();
    for (const direction of ['sendonly', 'inactive', 'recvonly'] as const) {
      leg.remoteDirection = direction;
      advance(5_000);
    }
    expect(silences).toEqual([]);
    leg.remoteDirection = 'sendrecv';
    advance(900);
    advance(99);
    expect(silences).toEqual([]);
    advance(901);
    expect(silences).toHaveLength(1);
  });

  it('does not fire before the leg is connected or after it closed', () => {
    const { leg, silences, advance } = setup();
    leg.state = 'connecting';
    advance(5_000);
    leg.state = 'closed';
    advance(5_000);
    expect(silences).toEqual([]);
  });

  it('is off with a timeout of 0', () => {
    const { silences, advance, watch } = setup(0);
    const stop = watch.start();
    advance(60_000);
    stop();
    expect(silences).toEqual([]);
  });

  it('looks at its leg often enough to fire within a fifth of the timeout, and at most every 5 s', () => {
    expect(checkIntervalMs(1_000)).toBe(200);
    expect(checkIntervalMs(60_000)).toBe(5_000);
    expect(checkIntervalMs(100)).toBe(50);
  });
});
