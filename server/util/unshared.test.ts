import { describe, expect, it } from 'vitest';
import { detached, ownBytes, ownUtf8 } from './unshared';

describe('unshared copies', () => {
  it('copies a small pooled buffer into one of its own, so keeping it keeps no shared slab alive', () => {
    const pooled = Buffer.from('SIP/2.0 200 OK\r\n\r\n');
    expect(pooled.buffer.byteLength).toBeGreaterThan(pooled.length);
    const own = ownBytes(pooled);
    expect(own.equals(pooled)).toBe(true);
    expect(own.buffer.byteLength).toBe(own.length);
    expect(own.buffer).not.toBe(pooled.buffer);
  });

  it('writes text into a buffer of its own', () => {
    const body = ownUtf8('v=0\r\ns=Zoë\r\n');
    expect(body.toString('utf8')).toBe('v=0\r\ns=Zoë\r\n');
    expect(body.buffer.byteLength).toBe(body.length);
  });

  it('copies a string whole', () => {
    const message = `To: <sip:101@pbx.test>;tag=${'x'.repeat(40)}\r\n`;
    const tag = message.slice(28, 68);
    expect(detached(tag)).toBe(tag);
  });
});
