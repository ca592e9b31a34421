import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { computeHa1 } from '../auth/digest';
import { closeDatabase, openDatabase } from './db';
import { setDevicePassword } from './device-credentials';
import { findDigestIdentity, recallDigestIdentity } from './digest-identity';
import type { DigestIdentity } from './digest-identity';
import { migrateToLatest } from './migrate';
import { ensureOrganization } from './organizations';
import type { Database, User } from './schema';
import { createSession } from './sessions';
import { openTestDatabase, TEST_STORAGES } from './test-support';
import type { TestDatabase } from './test-support';
import { createUser } from './users';

const DOMAIN = 'demo.offhook.test';

describe.each(TEST_STORAGES)('findDigestIdentity (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let alice: User;

  beforeEach(async () => {
    store = await openTestDatabase(storage);
    db = store.db;
    const organization = await ensureOrganization(db, { name: 'Demo Company', domain: DOMAIN });
    const other = await ensureOrganization(db, { name: 'Other', domain: 'other.test' });
    alice = await createUser(db, { organizationId: organization.id, extension: '101', displayName: 'Alice Adams', password: 'alice-101' });
    await createUser(db, { organizationId: other.id, extension: '102', displayName: 'Someone Else', password: 'else-102' });
  });
  afterEach(async () => {
    await store.close();
  });

  it('names the user and every HA1 to check: live sessions first, then device passwords in the order set', async () => {
    const now = new Date('2026-11-30T10:00:00Z');
    const live = await createSession(db, { userId: alice.id, realm: DOMAIN, username: '101', ttlMs: 60_000, now });
    await createSession(db, { userId: alice.id, realm: DOMAIN, username: '101', ttlMs: 1_000, now: new Date(now.getTime() - 5_000) });
    await setDevicePassword(db, alice.id, 'desk-password', 'desk');
    await setDevicePassword(db, alice.id, 'mobile-password', 'mobile');

    const found = await findDigestIdentity(db, 'Demo.Offhook.Test', '101', 'MD5', now);
    expect(found).toEqual({
      organizationId: alice.organization_id,
      userId: alice.id,
      extension: '101',
      displayName: 'Alice Adams',
      ha1: [computeHa1('MD5', '101', DOMAIN, live.sipPassword), computeHa1('MD5', '101', DOMAIN, 'desk-password'), computeHa1('MD5', '101', DOMAIN, 'mobile-password')],
      validUntil: '2026-11-30T10:01:00.000Z',
    });
    const sha = await findDigestIdentity(db, DOMAIN, '101', 'SHA-256', now);
    expect(sha?.ha1).toEqual([computeHa1('SHA-256', '101', DOMAIN, live.sipPassword), computeHa1('SHA-256', '101', DOMAIN, 'desk-password'), computeHa1('SHA-256', '101', DOMAIN, 'mobile-password')]);
  });

  it('finds a user with no credentials, with nothing to check against', async () => {
    expect(await findDigestIdentity(db, DOMAIN, '101', 'MD5')).toMatchObject({ ha1: [], validUntil: undefined });
  });

  it('finds no one for an unknown extension, an unknown domain, or an extension of another organization', async () => {
    expect(await findDigestIdentity(db, DOMAIN, '199', 'MD5')).toBeUndefined();
    expect(await findDigestIdentity(db, 'nowhere.test', '101', 'MD5')).toBeUndefined();
    expect(await findDigestIdentity(db, DOMAIN, '102', 'MD5')).toBeUndefined();
  });
});

describe('recallDigestIdentity', () => {
  let dir: string;
  let db: Kysely<Database>;
  let other: Kysely<Database> | undefined;
  let alice: User;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-identity-'));
    db = openDatabase(join(dir, 'offhook.db'));
    await migrateToLatest(db);
    const organization = await ensureOrganization(db, { name: 'Demo Company', domain: DOMAIN });
    alice = await createUser(db, { organizationId: organization.id, extension: '101', displayName: 'Alice Adams', password: 'alice-101' });
  });
  afterEach(async () => {
    vi.useRealTimers();
    if (other) await closeDatabase(other);
    other = undefined;
    await closeDatabase(db);
    rmSync(dir, { recursive: true, force: true });
  });

  const ha1 = (password: string) => computeHa1('MD5', '101', DOMAIN, password);

  it('answers again from memory until a write through the PBX changes what it read', async () => {
    await setDevicePassword(db, alice.id, 'desk-password', 'desk');
    const first = await recallDigestIdentity(db, DOMAIN, '101', 'MD5');
    const execute = vi.spyOn(db.getExecutor(), 'executeQuery');
    expect(await recallDigestIdentity(db, DOMAIN, '101', 'MD5')).toBe(first);
    expect(execute).not.toHaveBeenCalled();
    expect(Object.isFrozen(first?.ha1)).toBe(true);

    await setDevicePassword(db, alice.id, 'new-desk-password', 'desk');
    expect((await recallDigestIdentity(db, DOMAIN, '101', 'MD5'))?.ha1).toEqual([ha1('new-desk-password')]);
  });

  it('sees a password set by another connection to the same file, as the command line sets one beside the server', async () => {
    await setDevicePassword(db, alice.id, 'desk-password', 'desk');
    expect((await recallDigestIdentity(db, DOMAIN, '101', 'MD5'))?.ha1).toEqual([ha1('desk-password')]);
    other = openDatabase(join(dir, 'offhook.db'));
    await setDevicePassword(other, alice.id, 'set-elsewhere', 'desk');
    // Another process's commit is seen from the next turn of the event loop on (db.ts storeVersion).
    await new Promise((resolve) => setImmediate(resolve));
    expect((await recallDigestIdentity(db, DOMAIN, '101', 'MD5'))?.ha1).toEqual([ha1('set-elsewhere')]);
  });

  it("stops answering with a session's password once the session has expired", async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-11-30T10:00:00Z') });
    const session = await createSession(db, { userId: alice.id, realm: DOMAIN, username: '101', ttlMs: 60_000 });
    expect((await recallDigestIdentity(db, DOMAIN, '101', 'MD5'))?.ha1).toEqual([ha1(session.sipPassword)]);
    vi.setSystemTime(new Date('2026-11-30T10:00:59Z'));
    expect((await recallDigestIdentity(db, DOMAIN, '101', 'MD5'))?.ha1).toEqual([ha1(session.sipPassword)]);
    vi.setSystemTime(new Date('2026-11-30T10:01:01Z'));
    expect((await recallDigestIdentity(db, DOMAIN, '101', 'MD5'))?.ha1).toEqual([]);
  });

  it('reads only what is committed, and afresh once a transaction commits', async () => {
    await recallDigestIdentity(db, DOMAIN, '101', 'MD5');
    let during: Promise<DigestIdentity | undefined> | undefined;
    await db.transaction().execute(async (trx) => {
      await setDevicePassword(trx, alice.id, 'in-transaction', 'desk');
      during = findDigestIdentity(db, DOMAIN, '101', 'MD5');
    });
    expect((await during)?.ha1).toEqual([ha1('in-transaction')]);
    expect((await recallDigestIdentity(db, DOMAIN, '101', 'MD5'))?.ha1).toEqual([ha1('in-transaction')]);
  });

  it('is asked of the database, not of a transaction', async () => {
    await db.transaction().execute(async (trx) => {
      await expect(findDigestIdentity(trx, DOMAIN, '101', 'MD5')).rejects.toThrow(/transaction/);
    });
  });
});
