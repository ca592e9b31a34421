import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateTo } from '../migrate';
import { MIGRATIONS } from './index';
import type { Database } from '../schema';
import { openTestDatabase, TEST_STORAGES } from '../test-support';
import type { TestDatabase } from '../test-support';

const NOW = '2026-12-08T10:00:00.000Z';
/** The migration that runs just before this one, whichever others have landed meanwhile. */
const BEFORE = Object.keys(MIGRATIONS)
  .filter((name) => name < '009_do_not_disturb')
  .sort()
  .at(-1)!;

describe.each(TEST_STORAGES)('migration 009_do_not_disturb (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let organizationId: number;
  let aliceId: number;

  // A database as the migration before left it, with an organization and a user in it.
  beforeEach(async () => {
    store = await openTestDatabase(storage, { migrate: false });
    db = store.db;
    await migrateTo(db, BEFORE);
    organizationId = (await db.insertInto('organizations').values({ name: 'Demo Company', domain: 'demo.offhook.test', created_at: NOW }).returning('id').executeTakeFirstOrThrow()).id;
    aliceId = (
      await db
        .insertInto('users')
        .values({ organization_id: organizationId, extension: '101', display_name: 'Alice Adams', role: 'user', password_hash: 'scrypt$x', created_at: NOW, updated_at: NOW })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
    expect(await migrateTo(db, '009_do_not_disturb')).toEqual(['009_do_not_disturb']);
  });
  afterEach(async () => {
    await store.close();
  });

  it('keeps one row per user, on or off, gone with its user', async () => {
    await db.insertInto('do_not_disturb').values({ user_id: aliceId, organization_id: organizationId, enabled: 1, updated_at: NOW }).execute();
    await expect(db.insertInto('do_not_disturb').values({ user_id: aliceId, organization_id: organizationId, enabled: 0, updated_at: NOW }).execute()).rejects.toThrow();
    await expect(db.insertInto('do_not_disturb').values({ user_id: aliceId + 1, organization_id: organizationId, enabled: 2, updated_at: NOW }).execute()).rejects.toThrow();
    await db.deleteFrom('users').where('id', '=', aliceId).execute();
    expect(await db.selectFrom('do_not_disturb').selectAll().execute()).toEqual([]);
  });

  it('goes back down', async () => {
    expect(await migrateTo(db, BEFORE)).toEqual(['009_do_not_disturb']);
    await expect(db.selectFrom('do_not_disturb').selectAll().execute()).rejects.toThrow(/no such table/);
  });
});
