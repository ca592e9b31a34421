import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeHa1 } from '../auth/digest';
import { ensureOrganization } from './organizations';
import type { Database, Organization, User } from './schema';
import { createSession, deleteSession, findSessionByToken, listSipHa1, renewSession } from './sessions';
import { openTestDatabase, TEST_STORAGES } from './test-support';
import type { TestDatabase } from './test-support';
import { createUser } from './users';

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const T0 = new Date('2025-06-01T12:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

describe.each(TEST_STORAGES)('renewing a session (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let demo: Organization;
  let alice: User;

  beforeEach(async () => {
    store = await openTestDatabase(storage);
    db = store.db;
    demo = await ensureOrganization(db, { name: 'Demo Company', domain: 'demo.offhook.test' });
    alice = await createUser(db, { organizationId: demo.id, extension: '101', displayName: 'Alice Adams', password: 'alice-101' });
  });
  afterEach(async () => {
    await store.close();
  });

  const signIn = () => createSession(db, { userId: alice.id, realm: demo.domain, username: '101', ttlMs: HOUR, now: T0 });
  const renew = (created: { sessionId: number; token: string }, now: Date, maxLifetimeMs = 30 * DAY) =>
    renewSession(db, { sessionId: created.sessionId, token: created.token, realm: demo.domain, username: '101', ttlMs: HOUR, createdAt: T0.toISOString(), maxLifetimeMs, now });

  it('gives the same SIP password back, keeps the token, and moves the end to a full lifetime from now', async () => {
    const created = await signIn();
    const renewed = await renew(created, at(30 * 60 * 1000));
    expect(renewed?.sipPassword).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Derived from the token: another tab of the same session, registered with it, stays registered.
    expect(renewed?.sipPassword).toBe(created.sipPassword);
    expect(renewed?.expiresAt).toBe('2025-06-01T13:30:00.000Z');
    expect(await listSipHa1(db, alice.id, 'MD5', at(0))).toEqual([computeHa1('MD5', '101', demo.domain, renewed?.sipPassword ?? '')]);
    expect(await listSipHa1(db, alice.id, 'SHA-256', at(0))).toEqual([computeHa1('SHA-256', '101', demo.domain, renewed?.sipPassword ?? '')]);
    // The same token still names the session, past its first end.
    expect((await findSessionByToken(db, created.token, at(HOUR + 1)))?.user.id).toBe(alice.id);
  });

  it('gives each session a SIP password of its own', async () => {
    const first = await signIn();
    const second = await signIn();
    expect(first.sipPassword).not.toBe(second.sipPassword);
    expect(await renew({ sessionId: first.sessionId, token: second.token }, at(1))).toBeUndefined();
  });

  it('does not bring back a session that expired or was signed out', async () => {
    const expired = await signIn();
    expect(await renew(expired, at(HOUR))).toBeUndefined();
    const signedOut = await signIn();
    await deleteSession(db, signedOut.token);
    expect(await renew(signedOut, at(1))).toBeUndefined();
    expect(await listSipHa1(db, alice.id, 'MD5', at(0))).toHaveLength(1);
  });

  it('never lasts past the maximum lifetime counted from the sign-in', async () => {
    const created = await signIn();
    const near = await renew(created, at(30 * 60 * 1000), HOUR);
    expect(near?.expiresAt).toBe(at(HOUR).toISOString());
    expect(await renew(created, at(HOUR), HOUR)).toBeUndefined();
  });
});
