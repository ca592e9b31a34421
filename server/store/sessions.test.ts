import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeHa1 } from '../auth/digest';
import { ensureOrganization } from './organizations';
import type { Database, Organization, User } from './schema';
import {
  createSession,
  deleteSession,
  deleteSessionsForUser,
  findAppUser,
  recallAppUser,
  findSessionByToken,
  listSipHa1,
  purgeExpiredSessions,
} from './sessions';
import { openTestDatabase, TEST_STORAGES } from './test-support';
import type { TestDatabase } from './test-support';
import { createUser } from './users';

const HOUR = 60 * 60 * 1000;
const T0 = new Date('2025-06-01T12:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

describe.each(TEST_STORAGES)('sessions (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let demo: Organization;
  let alice: User;
  let bob: User;

  beforeEach(async () => {
    store = await openTestDatabase(storage);
    db = store.db;
    demo = await ensureOrganization(db, { name: 'Demo Company', domain: 'demo.offhook.test' });
    alice = await createUser(db, { organizationId: demo.id, extension: '101', displayName: 'Alice Adams', password: 'alice-101' });
    bob = await createUser(db, { organizationId: demo.id, extension: '102', displayName: 'Bob Brown', password: 'bob-102' });
  });
  afterEach(async () => {
    await store.close();
  });

  const signIn = (user: User, ttlMs = HOUR, now = T0) =>
    createSession(db, { userId: user.id, realm: demo.domain, username: user.extension, ttlMs, now });

  it('gives out fresh random secrets and stores only their hashes', async () => {
    const created = await signIn(alice);
    const other = await signIn(alice);
    expect(created.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.sipPassword).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Set([created.token, created.sipPassword, other.token, other.sipPassword]).size).toBe(4);
    expect(created.expiresAt).toBe('2025-06-01T13:00:00.000Z');

    const row = await db.selectFrom('sessions').selectAll().where('id', '=', created.sessionId).executeTakeFirstOrThrow();
    expect(row).toEqual({
      id: created.sessionId,
      user_id: alice.id,
      token_hash: createHash('sha256').update(created.token).digest('hex'),
      sip_ha1_md5: computeHa1('MD5', '101', 'demo.offhook.test', created.sipPassword),
      sip_ha1_sha256: computeHa1('SHA-256', '101', 'demo.offhook.test', created.sipPassword),
      created_at: T0.toISOString(),
      expires_at: created.expiresAt,
    });
    expect(JSON.stringify(row)).not.toContain(created.token);
    expect(JSON.stringify(row)).not.toContain(created.sipPassword);
  });

  it('finds a live session by its token, with its user and organization', async () => {
    const created = await signIn(alice);
    const found = await findSessionByToken(db, created.token, at(HOUR - 1));
    expect(found?.session).toMatchObject({ id: created.sessionId, user_id: alice.id, expires_at: created.expiresAt });
    expect(found?.user).toEqual(alice);
    expect(found?.user).not.toHaveProperty('password_hash');
    expect(found?.organization).toEqual(demo);
  });

  it('does not find an expired session or an unknown token', async () => {
    const created = await signIn(alice);
    expect(await findSessionByToken(db, created.token, at(HOUR))).toBeUndefined();
    expect(await findSessionByToken(db, `${created.token}x`, T0)).toBeUndefined();
    expect(await findSessionByToken(db, created.sipPassword, T0)).toBeUndefined();
  });

  it('signs out one session', async () => {
    const first = await signIn(alice);
    const second = await signIn(alice);
    expect(await deleteSession(db, first.token)).toBe(true);
    expect(await deleteSession(db, first.token)).toBe(false);
    expect(await findSessionByToken(db, first.token, T0)).toBeUndefined();
    expect(await findSessionByToken(db, second.token, T0)).toBeDefined();
  });

  it('signs a user out everywhere', async () => {
    await signIn(alice);
    await signIn(alice);
    const bobs = await signIn(bob);
    expect(await deleteSessionsForUser(db, alice.id)).toBe(2);
    expect(await findSessionByToken(db, bobs.token, T0)).toBeDefined();
  });

  it("lists the HA1s of a user's live sessions for one algorithm", async () => {
    const early = await signIn(alice, HOUR);
    const late = await signIn(alice, 3 * HOUR);
    await signIn(bob);
    const md5 = (password: string) => computeHa1('MD5', '101', 'demo.offhook.test', password);
    const sha = (password: string) => computeHa1('SHA-256', '101', 'demo.offhook.test', password);

    expect((await listSipHa1(db, alice.id, 'MD5', T0)).sort()).toEqual([md5(early.sipPassword), md5(late.sipPassword)].sort());
    expect((await listSipHa1(db, alice.id, 'SHA-256', T0)).sort()).toEqual([sha(early.sipPassword), sha(late.sipPassword)].sort());
    expect(await listSipHa1(db, alice.id, 'MD5', at(2 * HOUR))).toEqual([md5(late.sipPassword)]);
    expect(await listSipHa1(db, alice.id, 'MD5', at(3 * HOUR))).toEqual([]);
  });

  it('purges expired sessions only', async () => {
    await signIn(alice, HOUR);
    await signIn(bob, HOUR);
    const lasting = await signIn(alice, 2 * HOUR);
    expect(await purgeExpiredSessions(db, at(HOUR))).toBe(2);
    expect(await purgeExpiredSessions(db, at(HOUR))).toBe(0);
    expect(await db.selectFrom('sessions').select('id').execute()).toEqual([{ id: lasting.sessionId }]);
  });

  it('uses the wall clock when no time is given', async () => {
    const created = await createSession(db, { userId: alice.id, realm: demo.domain, username: '101', ttlMs: HOUR });
    expect(await findSessionByToken(db, created.token)).toBeDefined();
    expect(await listSipHa1(db, alice.id, 'MD5')).toHaveLength(1);
    expect(await purgeExpiredSessions(db)).toBe(0);
  });

  it('refuses a session for nobody or one that is already over', async () => {
    await expect(createSession(db, { userId: 9999, realm: demo.domain, username: '999', ttlMs: HOUR })).rejects.toThrow(/FOREIGN KEY/);
    await expect(signIn(alice, 0)).rejects.toThrow('session ttlMs must be positive, got 0');
  });

  it('names a user to tell of calls only while they have an app signed in, in their own organization', async () => {
    expect(await findAppUser(db, demo.id, '101', at(0))).toBeUndefined();
    await createSession(db, { userId: alice.id, realm: demo.domain, username: '101', ttlMs: HOUR, now: T0 });
    expect(await findAppUser(db, demo.id, '101', at(1))).toBe(alice.id);
    expect(await findAppUser(db, demo.id, '102', at(1))).toBeUndefined();
    expect(await findAppUser(db, demo.id + 1, '101', at(1))).toBeUndefined();
    // What memory knows, without a query: the call feed skips users with no app by it.
    expect(recallAppUser(db, demo.id, '102')).toBe('none');
    expect(recallAppUser(db, demo.id, '103')).toBe('unknown');
    // Kept in memory while true, and no longer once the session has ended.
    expect(await findAppUser(db, demo.id, '101', at(HOUR + 1))).toBeUndefined();
  });
});
