import { describe, expect, it } from 'vitest';
import { ConnectionQuota } from './connection-quota';

describe('ConnectionQuota', () => {
  it('admits connections up to the limit per address and in all, and again once they close', () => {
    const quota = new ConnectionQuota('test', { max: 3, maxPerAddress: 2 });
    const first = quota.take('192.0.2.1');
    quota.take('192.0.2.1');
    expect(quota.admits('192.0.2.1')).toBe(false);
    expect(quota.admits('192.0.2.2')).toBe(true);
    quota.take('192.0.2.2');
    expect(quota.admits('192.0.2.3')).toBe(false);
    expect(quota.hasRoom).toBe(false);

    first();
    expect(quota.size).toBe(2);
    expect(quota.countOf('192.0.2.1')).toBe(1);
    expect(quota.admits('192.0.2.1')).toBe(true);
  });

  it('uncounts a connection once, however often its release is called', () => {
    const quota = new ConnectionQuota('test', { max: 10, maxPerAddress: 10 });
    const release = quota.take('192.0.2.1');
    quota.take('192.0.2.1');
    release();
    release();
    expect(quota.size).toBe(1);
    expect(quota.countOf('192.0.2.1')).toBe(1);
  });

  it('refuses limits that would admit nothing', () => {
    expect(() => new ConnectionQuota('test', { max: 0, maxPerAddress: 1 })).toThrow(/max of test must be at least 1/);
    expect(() => new ConnectionQuota('test', { max: 1, maxPerAddress: Number.NaN })).toThrow(/maxPerAddress/);
  });
});
