import { describe, expect, it } from 'vitest';
import { LingerTable, SWEEP_EVERY_MS } from './linger-table';
import { ManualClock } from '../test-support';

describe('LingerTable', () => {
  it('keeps each record for its linger time, and ends it within one sweep after', () => {
    const clock = new ManualClock();
    const table = new LingerTable(clock);
    table.add('a', 'a', 32_000);
    clock.advance(10);
    table.add('b', 'b', 32_000);
    table.add('c', 'c', 5_000);
    clock.advance(4_999);
    expect([table.get('a'), table.get('b'), table.get('c')].map(Boolean)).toEqual([true, true, true]);
    clock.advance(SWEEP_EVERY_MS + 11);
    expect(table.get('c')).toBeUndefined();
    clock.advance(32_000 - 5_120 - 1);
    expect(table.size).toBe(2);
    clock.advance(SWEEP_EVERY_MS + 1);
    expect(table.get('a')).toBeUndefined();
    clock.advance(SWEEP_EVERY_MS);
    expect(table.size).toBe(0);
    // With nothing left, no timer is waiting.
    expect(clock.pending).toBe(0);
  });

  it('evicts the record that would end first, whatever its linger time, and tells of every end', () => {
    const clock = new ManualClock();
    const ended: string[] = [];
    const table = new LingerTable<string>(clock, (key, value) => ended.push(`${key}=${value}`));
    table.add('long', 'long', 32_000);
    clock.advance(1_000);
    table.add('short', 'short', 500);
    table.add('later', 'later', 32_000);
    expect(table.evictFirst()).toBe(true);
    expect(table.get('short')).toBeUndefined();
    expect(table.evictFirst()).toBe(true);
    expect(table.get('long')).toBeUndefined();
    expect(table.get('later')).toBeDefined();
    expect(table.evictFirst()).toBe(true);
    expect(table.evictFirst()).toBe(false);
    clock.advance(40_000);
    expect(table.size).toBe(0);
    expect(ended).toEqual(['short=short', 'long=long', 'later=later']);
  });

  it('ends many records in order through a long run', () => {
    const clock = new ManualClock();
    const table = new LingerTable(clock);
    for (let i = 0; i < 5_000; i++) {
      table.add(`k${i}`, i, 1_000);
      clock.advance(1);
      // At one a millisecond, about a second's worth linger at any time.
      expect(table.size).toBeLessThanOrEqual(1_000 + SWEEP_EVERY_MS + 1);
    }
    expect(table.get('k4999')).toBeDefined();
    expect(table.get('k3000')).toBeUndefined();
    clock.advance(1_000 + SWEEP_EVERY_MS);
    expect(table.size).toBe(0);
  });
});
