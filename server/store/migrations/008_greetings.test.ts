import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateTo } from '../migrate';
import type { Database } from '../schema';
import { openTestDatabase, TEST_STORAGES } from '../test-support';
import type { TestDatabase } from '../test-support';
import { MIGRATIONS } from './index';

const NOW = '2026-12-08T10:00:00.000Z';
/** The migration run before this one, whichever that is as others are added. */
const PREVIOUS = Object.keys(MIGRATIONS).sort()[Object.keys(MIGRATIONS).sort().indexOf('008_greetings') - 1]!;

describe.each(TEST_STORAGES)('migration 008_greetings (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let organizationId: number;
  let aliceId: number;

  // A database as the migration before left it, with an organization and a user in it.
  beforeEach(async () => {
    store = await openTestDatabase(storage, { migrate: false });
    db = store.db;
    await migrateTo(db, PREVIOUS);
    organizationId = (await db.insertInto('organizations').values({ name: 'Demo Company', domain: 'demo.offhook.test', created_at: NOW }).returning('id').executeTakeFirstOrThrow()).id;
    aliceId = (
      await db
        .insertInto('users')
        .values({ organization_id: organizationId, extension: '101', display_name: 'Alice Adams', role: 'user', password_hash: 'scrypt$x', created_at: NOW, updated_at: NOW })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
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
    await migrateTo(db, PREVIOUS);
    expect((await db.introspection.getTables()).map((table) => table.name)).not.toContain('greetings');
    expect(await db.selectFrom('users').select('extension').execute()).toEqual([{ extension: '101' }]);
  });
});
