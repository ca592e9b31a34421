import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateTo } from '../migrate';
import type { Database } from '../schema';
import { openTestDatabase, TEST_STORAGES } from '../test-support';
import type { TestDatabase } from '../test-support';

const NOW = '2025-01-02T03:04:05.678Z';

describe.each(TEST_STORAGES)('migration 002_device_credentials (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let aliceId: number;

  // A database as 001 left it, with people and a session in it.
  beforeEach(async () => {
    store = await openTestDatabase(storage, { migrate: false });
    db = store.db;
    await migrateTo(db, '001_initial');
    const { id: organizationId } = await db
      .insertInto('organizations')
      .values({ name: 'Demo Company', domain: 'demo.offhook.test', created_at: NOW })
      .returning('id')
      .executeTakeFirstOrThrow();
    const user = (extension: string, name: string) => ({
      organization_id: organizationId,
      extension,
      display_name: name,
      role: 'user' as const,
      password_hash: 'scrypt$32768$8$1$c2FsdA==$a2V5',
      created_at: NOW,
      updated_at: NOW,
    });
    aliceId = (await db.insertInto('users').values(user('101', 'Alice Adams')).returning('id').executeTakeFirstOrThrow()).id;
    await db.insertInto('users').values(user('102', 'Bob Brown')).execute();
    await db
      .insertInto('sessions')
      .values({ user_id: aliceId, token_hash: 'a'.repeat(64), sip_ha1_md5: '0'.repeat(32), sip_ha1_sha256: '0'.repeat(64), created_at: NOW, expires_at: NOW })
      .execute();
    expect(await migrateTo(db, '002_device_credentials')).toEqual(['002_device_credentials']);
  });
  afterEach(async () => {
    await store.close();
  });

  it('keeps every user and session, and gives existing users no outside calls', async () => {
    const users = await db.selectFrom('users').select(['extension', 'display_name', 'can_call_external']).orderBy('extension').execute();
    expect(users).toEqual([
      { extension: '101', display_name: 'Alice Adams', can_call_external: 0 },
      { extension: '102', display_name: 'Bob Brown', can_call_external: 0 },
    ]);
    expect(await db.selectFrom('sessions').select('user_id').execute()).toEqual([{ user_id: aliceId }]);
  });

  it('stores device credentials, one per user and label, deleted with their user', async () => {
    const credential = (label: string) => ({ user_id: aliceId, label, ha1_md5: '1'.repeat(32), ha1_sha256: '1'.repeat(64), created_at: NOW });
    await db.insertInto('device_credentials').values(credential('desk phone')).execute();
    await db.insertInto('device_credentials').values(credential('car')).execute();
    await expect(db.insertInto('device_credentials').values(credential('car')).execute()).rejects.toThrow(/UNIQUE/);
    await expect(db.insertInto('device_credentials').values({ ...credential('x'), user_id: 999 }).execute()).rejects.toThrow(/FOREIGN KEY/);
    await db.deleteFrom('users').where('id', '=', aliceId).execute();
    expect(await db.selectFrom('device_credentials').select('id').execute()).toEqual([]);
  });

  it('refuses a permission flag other than 0 or 1', async () => {
    await expect(sql`update users set can_call_external = 2`.execute(db)).rejects.toThrow(/CHECK/);
  });

  it('rolls back to 001 with the rows 001 knew still there', async () => {
    await migrateTo(db, '001_initial');
    const tables = (await db.introspection.getTables()).map((table) => table.name);
    expect(tables).not.toContain('device_credentials');
    const columns = (await db.introspection.getTables()).find((table) => table.name === 'users')?.columns.map((column) => column.name);
    expect(columns).not.toContain('can_call_external');
    expect(await db.selectFrom('users').select('extension').orderBy('extension').execute()).toEqual([{ extension: '101' }, { extension: '102' }]);
  });
});
