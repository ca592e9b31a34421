import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateTo } from '../migrate';
import type { Database } from '../schema';
import { TEST_STORAGES } from '../test-support';
import type { TestDatabase } from '../test-support';
import { databaseBefore, migrationBefore, MIGRATION_TEST_NOW } from './test-before';

const NOW = MIGRATION_TEST_NOW;

describe.each(TEST_STORAGES)('migration 008_greetings (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let organizationId: number;
  let aliceId: number;

  // A database as the migration before left it, with an organization and a user in it.
  beforeEach(async () => {
    ({ store, db, organizationId, aliceId } = await databaseBefore(storage, '008_greetings'));
    expect(await migrateTo(db, '008_greetings')).toEqual(['008_greetings']);
  });
  afterEach(async () => {
    await store.close();
  });

  const greeting = (file: string, active = 0) => ({ organization_id: organizationId, user_id: aliceId, name: 'Office', file, duration_ms: 4000, created_at: NOW, active });

  it('keeps the rows before it, and holds at most one active greeting a user, each file named once', async () => {
    expect(await db.selectFrom('users').select('extension').execute()).toEqual([{ extension: '101' }]);
    await db.insertInto('greetings').values(greeting('greetings/a.opus', 1)).execute();
    await db.insertInto('greetings').values(greeting('greetings/b.opus')).execute();
    await db.insertInto('greetings').values(greeting('greetings/c.opus')).execute();
    await expect(db.insertInto('greetings').values(greeting('greetings/d.opus', 1)).execute()).rejects.toThrow(/UNIQUE/);
    await expect(db.insertInto('greetings').values(greeting('greetings/b.opus')).execute()).rejects.toThrow(/UNIQUE/);
    await expect(db.insertInto('greetings').values(greeting('greetings/e.opus', 2)).execute()).rejects.toThrow(/CHECK/);
    // A user who goes takes their greetings along.
    await db.deleteFrom('users').where('id', '=', aliceId).execute();
    expect(await db.selectFrom('greetings').select('id').execute()).toEqual([]);
  });

  it('rolls back with the rows before it still there', async () => {
    await db.insertInto('greetings').values(greeting('greetings/a.opus', 1)).execute();
    await migrateTo(db, migrationBefore('008_greetings'));
    expect((await db.introspection.getTables()).map((table) => table.name)).not.toContain('greetings');
    expect(await db.selectFrom('users').select('extension').execute()).toEqual([{ extension: '101' }]);
  });
});
