import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateTo } from '../migrate';
import type { Database } from '../schema';
import { TEST_STORAGES } from '../test-support';
import type { TestDatabase } from '../test-support';
import { databaseBefore, migrationBefore, MIGRATION_TEST_NOW } from './test-before';

const NOW = MIGRATION_TEST_NOW;

describe.each(TEST_STORAGES)('migration 009_do_not_disturb (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let organizationId: number;
  let aliceId: number;

  // A database as the migration before left it, with an organization and a user in it.
  beforeEach(async () => {
    ({ store, db, organizationId, aliceId } = await databaseBefore(storage, '009_do_not_disturb'));
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
    expect(await migrateTo(db, migrationBefore('009_do_not_disturb'))).toEqual(['009_do_not_disturb']);
    await expect(db.selectFrom('do_not_disturb').selectAll().execute()).rejects.toThrow(/no such table/);
  });
});
