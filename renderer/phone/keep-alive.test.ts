import { describe, expect, it } from 'vitest';
import { KeepAlive } from './keep-alive';

/** A clock the test moves by hand. */
function fakeTimers() {
  let now = 0;
  const timers = new Map<number, { at: number; callback: () => void }>();
  let next = 1;
  return {
    now: () => now,
    setTimer: (callback: () => void, ms: number) => {
      const id = next++;
      timers.set(id, { at: now + ms, callback });
      return id;
    },
    clearTimer: (id: unknown) => void timers.delete(id as number),
    async advance(ms: number) {
      const until = now + ms;
      for (;;) {
        const due = [...timers.entries()].filter(([, t]) => t.at <= until).sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        timers.delete(due[0]);
        now = due[1].at;
        due[1].callback();
        await Promise.resolve();
        await Promise.resolve();
      }
      now = until;
    },
  };
}

describe('KeepAlive', () => {
  it('pings at each interval and leaves a live connection alone', async () => {
    const clock = fakeTimers();
    let pings = 0;
    let reconnects = 0;
    const keepAlive = new KeepAlive({ ping: async () => (pings++, true), reconnect: () => reconnects++ }, { intervalMs: 15_000, ...clock });
    keepAlive.start();
    await clock.advance(45_000);
    expect(pings).toBe(3);
    expect(reconnects).toBe(0);
  });

  it('replaces a dead connection, backing off while the PBX stays out of reach, and settles once it answers', async () => {
    const clock = fakeTimers();
    let answering = false;
    const reconnectAt: number[] = [];
    const keepAlive = new KeepAlive(
      { ping: async () => answering, reconnect: () => reconnectAt.push(clock.now()) },
      { intervalMs: 15_000, maxBackoffMs: 30_000, random: () => 0.5, ...clock },
    );
    keepAlive.start();
    for (let step = 0; step < 80; step++) await clock.advance(1_000);
    // First check at 15 s fails; then 2 s, 4 s, 8 s, 16 s, 30 s (capped) between attempts.
    expect(reconnectAt).toEqual([15_000, 17_000, 21_000, 29_000, 45_000, 75_000]);
    answering = true;
    const before = reconnectAt.length;
    for (let step = 0; step < 120; step++) await clock.advance(1_000);
    expect(reconnectAt.length).toBe(before);
  });

  it('checks at once when nudged (back online, awake again) and stops when told', async () => {
    const clock = fakeTimers();
    let pings = 0;
    const keepAlive = new KeepAlive({ ping: async () => (pings++, true), reconnect: () => undefined }, { intervalMs: 15_000, ...clock });
    keepAlive.start();
    keepAlive.nudge();
    await clock.advance(0);
    expect(pings).toBe(1);
    keepAlive.stop();
    await clock.advance(60_000);
    expect(pings).toBe(1);
  });

  it('jitters the backoff by up to a fifth either way', () => {
    const low = new KeepAlive({ ping: async () => true, reconnect: () => undefined }, { random: () => 0 });
    const high = new KeepAlive({ ping: async () => true, reconnect: () => undefined }, { random: () => 1 });
    expect(low.backoffMs(3)).toBe(6_400);
    expect(high.backoffMs(3)).toBe(9_600);
    expect(high.backoffMs(30)).toBe(36_000);
  });
});
