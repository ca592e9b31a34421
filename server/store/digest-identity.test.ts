import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeHa1 } from '../auth/digest';
import { setDevicePassword } from './device-credentials';
import { findDigestIdentity } from './digest-identity';
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
    });
    const sha = await findDigestIdentity(db, DOMAIN, '101', 'SHA-256', now);
    expect(sha?.ha1).toEqual([computeHa1('SHA-256', '101', DOMAIN, live.sipPassword), computeHa1('SHA-256', '101', DOMAIN, 'desk-password'), computeHa1('SHA-256', '101', DOMAIN, 'mobile-password')]);
  });

  it('finds a user with no credentials, with nothing to check against', async () => {
    expect((await findDigestIdentity(db, DOMAIN, '101', 'MD5'))?.ha1).toEqual([]);
  });

  it('finds no one for an unknown extension, an unknown domain, or an extension of another organization', async () => {
    expect(await findDigestIdentity(db, DOMAIN, '199', 'MD5')).toBeUndefined();
    expect(await findDigestIdentity(db, 'nowhere.test', '101', 'MD5')).toBeUndefined();
    expect(await findDigestIdentity(db, DOMAIN, '102', 'MD5')).toBeUndefined();
  });
});
