import { describe, expect, it } from 'vitest';
import { PasswordPool, PasswordPoolFullError, threadPoolSize } from './password-pool';

/** Work that finishes only when the test says so, recording when it started. */
function gatedWork(started: string[]) {
  const gates = new Map<string, () => void>();
  const work = (name: string) => () =>
    new Promise<string>((resolve) => {
      started.push(name);
      gates.set(name, () => resolve(name));
    });
  // Lets the pool's bookkeeping (promise callbacks) run, and so the next check start.
  const settle = async () => {
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  const finish = async (name: string) => {
    await settle();
    const open = gates.get(name);
    if (!open) throw new Error(`${name} has not started`);
    open();
    await settle();
  };
  return { work, finish };
}

describe('PasswordPool', () => {
  it('serves an address with nothing queued next, however many checks another address has queued', async () => {
    const pool = new PasswordPool({ concurrency: 1, maxQueued: 100, maxQueuedPerSource: 100 });
    const started: string[] = [];
    const { work, finish } = gatedWork(started);
    const done: Array<Promise<string>> = [];
    for (let i = 1; i <= 10; i++) done.push(pool.run('198.51.100.7', work(`guess-${i}`)));
    done.push(pool.run('192.0.2.10', work('alice')));
    await finish('guess-1');
    expect(started).toEqual(['guess-1', 'alice']);
    await finish('alice');
    for (let i = 2; i <= 10; i++) await finish(`guess-${i}`);
    expect(await Promise.all(done)).toHaveLength(11);
    expect(started).toEqual(['guess-1', 'alice', ...Array.from({ length: 9 }, (_, i) => `guess-${i + 2}`)]);
  });

  it('takes turns between addresses, and puts a known device first', async () => {
    const pool = new PasswordPool({ concurrency: 1, maxQueued: 100, maxQueuedPerSource: 100 });
    const started: string[] = [];
    const { work, finish } = gatedWork(started);
    void pool.run('a', work('a1'));
    void pool.run('a', work('a2'));
    void pool.run('a', work('a3'));
    void pool.run('b', work('b1'));
    void pool.run('b', work('b2'));
    void pool.run('c', work('c1'), { priority: true });
    for (const name of ['a1', 'c1', 'b1', 'a2', 'b2']) await finish(name);
    expect(started).toEqual(['a1', 'c1', 'b1', 'a2', 'b2', 'a3']);
  });

  it('refuses at once beyond the queue of an address and of the whole, and runs no more than its concurrency', async () => {
    const pool = new PasswordPool({ concurrency: 2, maxQueued: 3, maxQueuedPerSource: 2 });
    const started: string[] = [];
    const { work, finish } = gatedWork(started);
    const running = [pool.run('a', work('a1')), pool.run('b', work('b1'))];
    expect(pool.active).toBe(2);
    const queued = [pool.run('a', work('a2')), pool.run('a', work('a3'))];
    await expect(pool.run('a', work('a4'))).rejects.toMatchObject({ scope: 'source' });
    queued.push(pool.run('b', work('b2')));
    const full = pool.run('c', work('c1'));
    await expect(full).rejects.toBeInstanceOf(PasswordPoolFullError);
    await expect(full).rejects.toMatchObject({ scope: 'pool' });
    expect([pool.active, pool.queued]).toEqual([2, 3]);
    for (const name of ['a1', 'b1', 'a2', 'b2', 'a3']) await finish(name);
    expect(await Promise.all([...running, ...queued])).toEqual(['a1', 'b1', 'a2', 'a3', 'b2']);
    expect([pool.active, pool.queued]).toEqual([0, 0]);
  });

  it('passes on what the check throws, and goes on with the next', async () => {
    const pool = new PasswordPool({ concurrency: 1 });
    await expect(pool.run('a', () => Promise.reject(new Error('scrypt failed')))).rejects.toThrow('scrypt failed');
    await expect(pool.run('a', () => { throw new Error('thrown at once'); })).rejects.toThrow('thrown at once');
    expect(await pool.run('a', async () => 'next')).toBe('next');
  });

  it('remembers nothing of the addresses it has served: thousands of one-off sources leave no trace', async () => {
    const pool = new PasswordPool({ concurrency: 2, maxQueued: 8, maxQueuedPerSource: 2 });
    for (let i = 0; i < 5_000; i++) await pool.run(`2001:db8::${i.toString(16)}`, async () => i);
    // The pool's own bookkeeping for the last one runs just after its caller hears the result.
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(pool.rememberedSources).toBe(0);
    const started: string[] = [];
    const { work, finish } = gatedWork(started);
    const running = [pool.run('a', work('a1')), pool.run('b', work('b1'))];
    const queued = [pool.run('a', work('a2')), pool.run('c', work('c1'))];
    expect(pool.rememberedSources).toBeLessThanOrEqual(3);
    await finish('a1');
    await finish('b1');
    await finish('a2');
    await finish('c1');
    await Promise.all([...running, ...queued]);
    expect(pool.rememberedSources).toBe(0);
  });

  it('leaves one of libuv’s threads free by default', () => {
    expect(threadPoolSize({})).toBe(4);
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: '16' })).toBe(16);
    expect(threadPoolSize({ UV_THREADPOOL_SIZE: 'many' })).toBe(4);
    expect(new PasswordPool().options.concurrency).toBe(Math.max(1, threadPoolSize() - 1));
    expect(() => new PasswordPool({ concurrency: 0 })).toThrow(/concurrency/);
  });
});
