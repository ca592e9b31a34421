import { describe, expect, it } from 'vitest';
import { ownBytes } from './connection';

describe('ownBytes', () => {
  it('copies a small pooled buffer into one of its own, so keeping it keeps no shared slab alive', () => {
    const pooled = Buffer.from('SIP/2.0 200 OK\r\n\r\n');
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.length);
    const own = ownBytes(pooled);
    expect(own.equals(pooled)).toBe(true);
    expect(own.buffer.byteLength).toBe(own.length);
    expect(own.buffer).not.toBe(pooled.buffer);
  });
});
