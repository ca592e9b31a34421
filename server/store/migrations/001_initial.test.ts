import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateTo } from '../migrate';
import type { Database } from '../schema';
import { openTestDatabase, TEST_STORAGES } from '../test-support';
import type { TestDatabase } from '../test-support';

const NOW = '2025-01-02T03:04:05.678Z';
const LATER = '2025-01-03T03:04:05.678Z';
const HA1_MD5 = '0'.repeat(32);
const HA1_SHA256 = '0'.repeat(64);

describe.each(TEST_STORAGES)('migration 001_initial (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;

  beforeEach(async () => {
    store = await openTestDatabase(storage, { migrate: false });
    db = store.db;
    // This migration as it ran, before the later ones changed the schema.
    expect(await migrateTo(db, '001_initial')).toEqual(['001_initial']);
  });
  afterEach(async () => {
    await store.close();
  });

  async function addOrganization(domain = 'demo.offhook.test'): Promise<number> {
    const row = await db
      .insertInto('organizations')
      .values({ name: 'Demo Company', domain, created_at: NOW })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async function addUser(organizationId: number, extension = '101', role: 'user' | 'admin' = 'user'): Promise<number> {
    const row = await db
      .insertInto('users')
      .values({
        organization_id: organizationId,
        extension,
        display_name: 'Alice Adams',
        role,
        password_hash: 'scrypt$32768$8$1$c2FsdA==$a2V5',
        created_at: NOW,
        updated_at: NOW,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  async function addSession(userId: number, tokenHash = 'a'.repeat(64)): Promise<void> {
    await db
      .insertInto('sessions')
      .values({ user_id: userId, token_hash: tokenHash, sip_ha1_md5: HA1_MD5, sip_ha1_sha256: HA1_SHA256, created_at: NOW, expires_at: LATER })
      .execute();
  }

  const callRecord = (organizationId: number) => ({
    organization_id: organizationId,
    call_id: 'a84b4c76e66710@pc33.offhook.test',
    caller_extension: '101',
    caller_name: 'Alice Adams',
    callee: '102',
    callee_extension: '102',
    started_at: NOW,
    answered_at: null,
    ended_at: null,
    disposition: 'missed' as const,
    end_reason: null,
  });

  it('accepts a row in every table', async () => {
    const organizationId = await addOrganization();
    const userId = await addUser(organizationId);
    await addSession(userId);
    await db.insertInto('call_records').values(callRecord(organizationId)).execute();

    const user = await db.selectFrom('users').selectAll().where('id', '=', userId).executeTakeFirstOrThrow();
    expect(user).toMatchObject({ organization_id: organizationId, extension: '101', role: 'user', created_at: NOW });
    const record = await db.selectFrom('call_records').selectAll().executeTakeFirstOrThrow();
    expect(record).toMatchObject({ callee_extension: '102', answered_at: null, ended_at: null, end_reason: null, disposition: 'missed' });
  });

  it('leaves a database with rows in it alone when run again', async () => {
    const organizationId = await addOrganization();
    await addSession(await addUser(organizationId));

    expect(await migrateTo(db, '001_initial')).toEqual([]);
    expect(await db.selectFrom('organizations').select('domain').execute()).toEqual([{ domain: 'demo.offhook.test' }]);
    expect(await db.selectFrom('sessions').select('token_hash').execute()).toHaveLength(1);
  });

  it('keeps domains unique', async () => {
    await addOrganization('demo.offhook.test');
    await expect(addOrganization('demo.offhook.test')).rejects.toThrow(/UNIQUE/);
  });

  it('keeps extensions unique within an organization, not across them', async () => {
    const first = await addOrganization('one.offhook.test');
    const second = await addOrganization('two.offhook.test');
    await addUser(first, '101');
    await expect(addUser(first, '101')).rejects.toThrow(/UNIQUE/);
    await expect(addUser(second, '101')).resolves.toBeTypeOf('number');
  });

  it('keeps token hashes unique', async () => {
    const userId = await addUser(await addOrganization());
    await addSession(userId, 'b'.repeat(64));
    await expect(addSession(userId, 'b'.repeat(64))).rejects.toThrow(/UNIQUE/);
  });

  it('refuses rows that point at nothing', async () => {
    await expect(addUser(999)).rejects.toThrow(/FOREIGN KEY/);
    await expect(addSession(999)).rejects.toThrow(/FOREIGN KEY/);
    await expect(db.insertInto('call_records').values(callRecord(999)).execute()).rejects.toThrow(/FOREIGN KEY/);
  });

  it('deletes a user with their sessions, and an organization with everything in it', async () => {
    const organizationId = await addOrganization();
    const alice = await addUser(organizationId, '101');
    const bob = await addUser(organizationId, '102');
    await addSession(alice, 'a'.repeat(64));
    await addSession(bob, 'b'.repeat(64));
    await db.insertInto('call_records').values(callRecord(organizationId)).execute();

    await db.deleteFrom('users').where('id', '=', alice).execute();
    expect(await db.selectFrom('sessions').select('user_id').execute()).toEqual([{ user_id: bob }]);

    await db.deleteFrom('organizations').where('id', '=', organizationId).execute();
    expect(await db.selectFrom('users').select('id').execute()).toEqual([]);
    expect(await db.selectFrom('sessions').select('id').execute()).toEqual([]);
    expect(await db.selectFrom('call_records').select('id').execute()).toEqual([]);
  });

  it('refuses a role or a disposition it does not know', async () => {
    const organizationId = await addOrganization();
    await expect(addUser(organizationId, '101', 'root' as 'user')).rejects.toThrow(/CHECK/);
    const record = { ...callRecord(organizationId), disposition: 'lost' as 'missed' };
    await expect(db.insertInto('call_records').values(record).execute()).rejects.toThrow(/CHECK/);
  });
});
