import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeHa1 } from '../auth/digest';
import { deleteDevicePasswords, listDeviceHa1, listDeviceLabels, setDevicePassword } from './device-credentials';
import { canCallExternal, setCanCallExternal } from './dial-permissions';
import { ensureOrganization } from './organizations';
import type { Database, User } from './schema';
import { createSession, listSipHa1 } from './sessions';
import { openTestDatabase, TEST_STORAGES } from './test-support';
import type { TestDatabase } from './test-support';
import { createUser } from './users';

describe.each(TEST_STORAGES)('device credentials (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let alice: User;
  let bob: User;

  beforeEach(async () => {
    store = await openTestDatabase(storage);
    db = store.db;
    const organization = await ensureOrganization(db, { name: 'Demo Company', domain: 'demo.offhook.test' });
    alice = await createUser(db, { organizationId: organization.id, extension: '101', displayName: 'Alice Adams', password: 'alice-101' });
    bob = await createUser(db, { organizationId: organization.id, extension: '102', displayName: 'Bob Brown', password: 'bob-102' });
  });
  afterEach(async () => {
    await store.close();
  });

  it('stores the HA1s of a device password under the extension and the domain, never the password', async () => {
    await setDevicePassword(db, alice.id, 'alice-101-sip');
    expect(await listDeviceHa1(db, alice.id, 'MD5')).toEqual([computeHa1('MD5', '101', 'demo.offhook.test', 'alice-101-sip')]);
    expect(await listDeviceHa1(db, alice.id, 'SHA-256')).toEqual([computeHa1('SHA-256', '101', 'demo.offhook.test', 'alice-101-sip')]);
    const rows = await db.selectFrom('device_credentials').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain('alice-101-sip');
    expect(await listDeviceHa1(db, bob.id, 'MD5')).toEqual([]);
  });

  it('replaces the password of a label, keeps other labels, and leaves sign-in sessions alone', async () => {
    await createSession(db, { userId: alice.id, realm: 'demo.offhook.test', username: '101', ttlMs: 60_000 });
    await setDevicePassword(db, alice.id, 'first-password');
    await setDevicePassword(db, alice.id, 'second-password');
    await setDevicePassword(db, alice.id, 'car-kit-password', 'car kit');
    expect(await listDeviceLabels(db, alice.id)).toEqual(['desk phone', 'car kit']);
    expect(await listDeviceHa1(db, alice.id, 'MD5')).toEqual([
      computeHa1('MD5', '101', 'demo.offhook.test', 'second-password'),
      computeHa1('MD5', '101', 'demo.offhook.test', 'car-kit-password'),
    ]);
    expect(await listSipHa1(db, alice.id, 'MD5')).toHaveLength(1);
    expect(await deleteDevicePasswords(db, alice.id, 'car kit')).toBe(1);
    expect(await listDeviceLabels(db, alice.id)).toEqual(['desk phone']);
    expect(await deleteDevicePasswords(db, alice.id)).toBe(1);
    expect(await listDeviceHa1(db, alice.id, 'SHA-256')).toEqual([]);
  });

  it('refuses a short password, an empty label and an unknown user', async () => {
    await expect(setDevicePassword(db, alice.id, 'short')).rejects.toThrow(/at least 8 characters/);
    await expect(setDevicePassword(db, alice.id, 'long-enough', '  ')).rejects.toThrow(/label/);
    await expect(setDevicePassword(db, 9999, 'long-enough')).rejects.toThrow(/user 9999 does not exist/);
  });

  it('grants outside calls only when set, per user', async () => {
    expect(await canCallExternal(db, alice.id)).toBe(false);
    await setCanCallExternal(db, alice.id, true);
    expect(await canCallExternal(db, alice.id)).toBe(true);
    expect(await canCallExternal(db, bob.id)).toBe(false);
    await setCanCallExternal(db, alice.id, false);
    expect(await canCallExternal(db, alice.id)).toBe(false);
    expect(await canCallExternal(db, 9999)).toBe(false);
    await expect(setCanCallExternal(db, 9999, true)).rejects.toThrow(/does not exist/);
  });
});
