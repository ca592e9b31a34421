import { describe, expect, it } from 'vitest';
import { randomBase64url, randomHex, randomUint16, randomUint32 } from './random-pool';

describe('random pool', () => {
  it('hands each byte out once: thousands of draws across several refills never repeat', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 3000; i++) seen.add(randomHex(8));
    expect(seen.size).toBe(3000);
  });

  it('gives whole values when a draw does not fit in what is left of the pool', () => {
    for (let i = 0; i < 500; i++) {
      expect(randomHex(9)).toMatch(/^[0-9a-f]{18}$/);
      expect(randomBase64url(12)).toMatch(/^[A-Za-z0-9_-]{16}$/);
    }
  });

  it('spreads integers over their whole range', () => {
    const words = Array.from({ length: 2000 }, randomUint32);
    const halves = Array.from({ length: 2000 }, randomUint16);
    expect(Math.max(...words)).toBeGreaterThan(2 ** 31);
    expect(Math.min(...words)).toBeLessThan(2 ** 31);
    expect(Math.max(...halves)).toBeGreaterThan(2 ** 15);
    expect(new Set(words).size).toBeGreaterThan(1990);
  });

  it('refuses a draw larger than the pool', () => {
    expect(() => randomHex(5000)).toThrow(RangeError);
  });
});
