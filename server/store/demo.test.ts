import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeHa1 } from '../auth/digest';
import { DEMO_ORGANIZATION, DEMO_USERS, seedDemo } from './demo';
import { listDeviceHa1, setDevicePassword } from './device-credentials';
import { listOrganizations } from './organizations';
import type { Database } from './schema';
import { openTestDatabase, TEST_STORAGES } from './test-support';
import type { TestDatabase } from './test-support';
import { authenticateUser, listUsers, setPassword } from './users';
import { hashPassword, verifyPassword } from '../auth/password';
import { getMailboxPinHash, setMailboxPinHash } from './voicemails';
import { DEMO_VOICEMAIL_PIN } from './demo';

/**
 * Seeding hashes each demo user's password and PIN with scrypt, and signing in verifies them: seconds of CPU
 * on a busy two-core machine, where the 5 s default is too short for a test that is only slow.
 */
const SCRYPT_HEAVY_MS = 30_000;

describe.each(TEST_STORAGES)('seedDemo (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  beforeEach(async () => {
    store = await openTestDatabase(storage);
    db = store.db;
  });
  afterEach(async () => {
    await store.close();
  });

  it('lists the demo company people the README names', () => {
    expect(DEMO_ORGANIZATION).toEqual({ name: 'Demo Company', domain: 'demo.offhook.test' });
    expect(DEMO_USERS.map((user) => [user.extension, user.displayName, user.password, user.sipPassword, user.role])).toEqual([
      ['100', 'Dana Admin', 'dana-100', 'dana-100-sip', 'admin'],
      ['101', 'Alice Adams', 'alice-101', 'alice-101-sip', 'user'],
      ['102', 'Bob Brown', 'bob-102', 'bob-102-sip', 'user'],
      ['103', 'Carol Chen', 'carol-103', 'carol-103-sip', 'user'],
    ]);
  });

  it('creates the demo company, whose people sign in with the listed passwords', async () => {
    const { organization, users } = await seedDemo(db);
    expect(organization).toMatchObject(DEMO_ORGANIZATION);
    expect(users.map((user) => user.extension)).toEqual(['100', '101', '102', '103']);
    for (const demo of DEMO_USERS) {
      const user = await authenticateUser(db, organization.id, demo.extension, demo.password);
      expect(user).toMatchObject({ extension: demo.extension, display_name: demo.displayName, role: demo.role });
      expect(await listDeviceHa1(db, user?.id ?? -1, 'SHA-256')).toEqual([
        computeHa1('SHA-256', demo.extension, DEMO_ORGANIZATION.domain, demo.sipPassword),
      ]);
    }
  }, SCRYPT_HEAVY_MS);

  it('gives each demo user the demo voicemail PIN, and keeps a PIN a user changed', async () => {
    const { users } = await seedDemo(db);
    for (const user of users) expect(await verifyPassword(DEMO_VOICEMAIL_PIN, (await getMailboxPinHash(db, user.id)) ?? '')).toBe(true);
    await setMailboxPinHash(db, users[1]!.id, await hashPassword('987654'));
    await seedDemo(db);
    expect(await verifyPassword('987654', (await getMailboxPinHash(db, users[1]!.id)) ?? '')).toBe(true);
  }, SCRYPT_HEAVY_MS);

  it('can run on every start without duplicating or resetting anyone', async () => {
    const first = await seedDemo(db);
    const alice = first.users.find((user) => user.extension === '101');
    await setPassword(db, alice?.id ?? -1, 'changed-by-alice');
    await setDevicePassword(db, alice?.id ?? -1, 'alice-changed-sip');
    await db.deleteFrom('users').where('extension', '=', '103').execute();

    const second = await seedDemo(db);
    expect(second.organization).toEqual(first.organization);
    expect(await listOrganizations(db)).toHaveLength(1);
    expect((await listUsers(db, first.organization.id)).map((user) => user.extension)).toEqual(['100', '101', '102', '103']);
    expect(await authenticateUser(db, first.organization.id, '101', 'changed-by-alice')).toBeDefined();
    expect(await authenticateUser(db, first.organization.id, '103', 'carol-103')).toBeDefined();
    expect(await listDeviceHa1(db, alice?.id ?? -1, 'MD5')).toEqual([computeHa1('MD5', '101', DEMO_ORGANIZATION.domain, 'alice-changed-sip')]);
  }, SCRYPT_HEAVY_MS);
});
