import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ensureOrganization } from './organizations';
import type { Database, User } from './schema';
import { SESSION_PURGE_INTERVAL_MS, startSessionPurge } from './session-purge';
import type { SessionPurge } from './session-purge';
import { createSession } from './sessions';
import { openTestDatabase } from './test-support';
import type { TestDatabase } from './test-support';
import { createUser } from './users';

const MINUTE = 60 * 1000;
const T0 = new Date('2026-11-30T10:00:00Z');

describe('purging expired sessions', () => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let alice: User;
  let purge: SessionPurge | undefined;

  beforeEach(async () => {
    store = await openTestDatabase('memory');
    db = store.db;
    const organization = await ensureOrganization(db, { name: 'Demo Company', domain: 'demo.offhook.test' });
    alice = await createUser(db, { organizationId: organization.id, extension: '101', displayName: 'Alice Adams', password: 'alice-101' });
  });
  afterEach(async () => {
    await purge?.stop();
    purge = undefined;
    vi.useRealTimers();
    vi.restoreAllMocks();
    await store.close();
  });

  const signIn = (ttlMs: number, now: Date) => createSession(db, { userId: alice.id, realm: 'demo.offhook.test', username: '101', ttlMs, now });
  const sessionIds = async () => (await db.selectFrom('sessions').select('id').orderBy('id').execute()).map((row) => row.id);

  it('purges at start, then once every interval, and only sessions that have expired', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'], now: T0 });
    const expired = await signIn(MINUTE, new Date(T0.getTime() - 2 * MINUTE));
    const shortLived = await signIn(30 * MINUTE, T0);
    const longLived = await signIn(3 * SESSION_PURGE_INTERVAL_MS, T0);
    expect(await sessionIds()).toEqual([expired.sessionId, shortLived.sessionId, longLived.sessionId]);

    purge = await startSessionPurge(db);
    expect(await sessionIds()).toEqual([shortLived.sessionId, longLived.sessionId]);

    // The short session has expired, but the next purge is not due yet.
    await vi.advanceTimersByTimeAsync(SESSION_PURGE_INTERVAL_MS - 1);
    expect(await sessionIds()).toEqual([shortLived.sessionId, longLived.sessionId]);
    await vi.advanceTimersByTimeAsync(1);
    await vi.waitFor(async () => expect(await sessionIds()).toEqual([longLived.sessionId]));

    await purge.stop();
    await vi.advanceTimersByTimeAsync(4 * SESSION_PURGE_INTERVAL_MS);
    expect(await sessionIds()).toEqual([longLived.sessionId]);
  });

  it('runs on a timer that does not keep the process alive, at the interval asked for', async () => {
    const setInterval = vi.spyOn(globalThis, 'setInterval');
    purge = await startSessionPurge(db, { intervalMs: 5 * MINUTE });
    expect(setInterval).toHaveBeenCalledTimes(1);
    expect(setInterval.mock.calls[0]?.[1]).toBe(5 * MINUTE);
    const timer = setInterval.mock.results[0]?.value as NodeJS.Timeout;
    expect(timer.hasRef()).toBe(false);
  });

  it('refuses an interval that is not a positive number of milliseconds', async () => {
    await expect(startSessionPurge(db, { intervalMs: 0 })).rejects.toThrow('the session purge interval must be a positive number of milliseconds, got 0');
    await expect(startSessionPurge(db, { intervalMs: Number.NaN })).rejects.toThrow(/got NaN/);
  });

  it('logs a purge that fails and tries again at the next interval', async () => {
    vi.useFakeTimers({ toFake: ['Date', 'setInterval', 'clearInterval'], now: T0 });
    const expired = await signIn(MINUTE, new Date(T0.getTime() - 2 * MINUTE));
    const executor = db.getExecutor();
    const execute = vi.spyOn(executor, 'executeQuery').mockRejectedValueOnce(new Error('database is locked'));
    purge = await startSessionPurge(db);
    expect(await sessionIds()).toEqual([expired.sessionId]);
    execute.mockRestore();
    await vi.advanceTimersByTimeAsync(SESSION_PURGE_INTERVAL_MS);
    await vi.waitFor(async () => expect(await sessionIds()).toEqual([]));
  });
});
