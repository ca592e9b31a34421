/**
 * REST sign-in against guessing, through inject(): the per-account delay shared with SIP, the per-address
 * limits, the bounded scrypt queue, and a known device that the delay others caused does not hold.
 */
import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AttemptLimiter } from '../auth/attempt-limiter';
import type { AttemptLimitOptions } from '../auth/attempt-limiter';
import { PasswordPool } from '../auth/password-pool';
import type { PasswordPoolOptions } from '../auth/password-pool';
import { SignInGuard } from '../auth/sign-in-guard';
import { seedDemo } from '../store/demo';
import { openTestDatabase } from '../store/test-support';
import type { TestDatabase } from '../store/test-support';
import { buildApp } from './app';

// Every sign-in that is checked costs a real scrypt, slow on a busy machine.
describe('sign-in limits', { timeout: 60_000 }, () => {
  let store: TestDatabase;
  let app: FastifyInstance;
  let guard: SignInGuard;
  let now: number;

  beforeEach(async () => {
    store = await openTestDatabase('memory');
    await seedDemo(store.db);
    now = 1_000_000;
  });
  afterEach(async () => {
    await app.close();
    await store.close();
  });

  async function open(limits: Partial<AttemptLimitOptions> = {}, pool: Partial<PasswordPoolOptions> = {}) {
    guard = new SignInGuard(new AttemptLimiter({ now: () => now, ...limits }), new PasswordPool(pool));
    app = await buildApp({ db: store.db, version: 'test', signIn: guard });
  }

  const signIn = (from: string, extension: string, password: string) =>
    app.inject({ method: 'POST', url: '/api/v1/session', remoteAddress: from, payload: { extension, password } });

  it('checks a sign-in for a domain not hosted here like any other, and limits it the same way', async () => {
    await open();
    const checks = vi.spyOn(guard.pool, 'run');
    for (let i = 1; i <= 5; i++) expect((await signIn(`198.51.100.${i}`, '101@elsewhere.example', `guess-${i}`)).statusCode).toBe(401);
    // Each cost the same scrypt as a wrong password here, so the time taken does not tell the domain is not ours.
    expect(checks).toHaveBeenCalledTimes(5);
    const held = await signIn('198.51.100.50', '101@elsewhere.example', 'guess-6');
    expect(held.statusCode).toBe(429);
    expect(checks).toHaveBeenCalledTimes(5);
  });

  it('delays an account guessed from many addresses, refusing unchecked with 429 and Retry-After, known or not', async () => {
    await open();
    const checks = vi.spyOn(guard.pool, 'run');
    // Alice signed in from home before the guessing began.
    expect((await signIn('192.0.2.10', '101', 'alice-101')).statusCode).toBe(201);
    for (const extension of ['101', '199']) {
      for (let i = 1; i <= 5; i++) expect((await signIn(`198.51.100.${i}`, extension, `guess-${i}`)).statusCode).toBe(401);
    }
    checks.mockClear();
    for (const extension of ['101', '199']) {
      const held = await signIn('198.51.100.50', extension, 'guess-6');
      expect(held.statusCode).toBe(429);
      expect(held.headers['retry-after']).toBe('1');
      expect(held.json()).toEqual({ error: { code: 'too_many_attempts', message: 'Too many failed sign-ins for this extension. Try again in 1 second.' } });
    }
    // The right password from somewhere new waits too: nothing tells a guess that it was right.
    expect((await signIn('203.0.113.7', '101', 'alice-101')).statusCode).toBe(429);
    expect(checks).not.toHaveBeenCalled();
    // Alice at home is not held by what the others did.
    expect((await signIn('192.0.2.10', '101', 'alice-101')).statusCode).toBe(201);
    // Once the wait is over the next attempt is checked, and its failure doubles the wait.
    now += 1_000;
    expect((await signIn('198.51.100.51', '101', 'guess-7')).statusCode).toBe(401);
    expect((await signIn('198.51.100.52', '101', 'guess-8')).headers['retry-after']).toBe('2');
  });

  it('bans an address that sprays guesses over accounts, existing or not', async () => {
    await open();
    for (const extension of ['100', '101', '102', '103']) expect((await signIn('198.51.100.9', extension, 'password')).statusCode).toBe(401);
    expect((await signIn('198.51.100.9', '555', 'password')).statusCode).toBe(401);
    const banned = await signIn('198.51.100.9', '102', 'bob-102');
    expect(banned.statusCode).toBe(429);
    expect(banned.json()).toMatchObject({ error: { message: 'Too many failed sign-ins from your network. Try again in 10 minutes.' } });
    expect(banned.headers['retry-after']).toBe('600');
    // Other addresses are not held by it.
    expect((await signIn('198.51.100.10', '102', 'bob-102')).statusCode).toBe(201);
  });

  it('refuses at once, with 429 or 503, what the password queue has no room for', async () => {
    await open({}, { concurrency: 1, maxQueued: 2, maxQueuedPerSource: 1 });
    const fromOne = await Promise.all([1, 2, 3].map(() => signIn('198.51.100.9', '101', 'wrong')));
    expect(fromOne.map((r) => r.statusCode).sort()).toEqual([401, 401, 429]);
    const busy = fromOne.find((r) => r.statusCode === 429);
    expect(busy?.json()).toMatchObject({ error: { code: 'too_many_attempts' } });
    expect(busy?.headers['retry-after']).toBe('1');
    const fromMany = await Promise.all([1, 2, 3, 4].map((i) => signIn(`198.51.100.${20 + i}`, '102', 'wrong')));
    expect(fromMany.map((r) => r.statusCode).sort()).toEqual([401, 401, 401, 503]);
    expect(fromMany.find((r) => r.statusCode === 503)?.json()).toMatchObject({ error: { code: 'busy' } });
  });
});
