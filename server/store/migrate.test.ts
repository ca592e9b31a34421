import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateTo, migrateToLatest } from './migrate';
import { MIGRATIONS } from './migrations';
import type { Database } from './schema';
import { openTestDatabase, TEST_STORAGES } from './test-support';
import type { TestDatabase } from './test-support';

describe.each(TEST_STORAGES)('migrateToLatest (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  beforeEach(async () => {
    store = await openTestDatabase(storage, { migrate: false });
    db = store.db;
  });
  afterEach(async () => {
    await store.close();
  });

  it('runs every migration once, in order', async () => {
    expect(await migrateToLatest(db)).toEqual(Object.keys(MIGRATIONS).sort());
    expect(await migrateToLatest(db)).toEqual([]);
  });

  it('names the migration that failed, keeps what ran before it and undoes the failed one entirely', async () => {
    const broken: Migration = {
      async up(db: Kysely<unknown>) {
        await db.schema.createTable('half_done').addColumn('x', 'integer').execute();
        await sql`create tabel broken (x integer)`.execute(db);
      },
    };
    const migrations = { ...MIGRATIONS, '900_broken': broken };
    await expect(migrateToLatest(db, migrations)).rejects.toThrow(/^migration 900_broken failed: .*syntax error/);
    const tables = (await db.introspection.getTables()).map((table) => table.name);
    expect(tables).toContain('users');
    expect(tables).not.toContain('half_done');
    // Fixed, it runs on the next start.
    const fixed: Migration = { up: (db: Kysely<unknown>) => db.schema.createTable('half_done').addColumn('x', 'integer').execute() };
    expect(await migrateToLatest(db, { ...MIGRATIONS, '900_broken': fixed })).toEqual(['900_broken']);
  });

  it('carries rows through a later migration (the pattern each new migration test follows)', async () => {
    const addsNickname: Migration = {
      async up(db: Kysely<unknown>) {
        await db.schema.alterTable('users').addColumn('nickname', 'text').execute();
        await sql`update users set nickname = display_name`.execute(db);
      },
    };
    const migrations = { ...MIGRATIONS, '900_nickname': addsNickname };
    // Every real migration, then rows, then the new one.
    await migrateTo(db, Object.keys(MIGRATIONS).sort().at(-1) ?? '', migrations);
    const { id: organizationId } = await db
      .insertInto('organizations')
      .values({ name: 'Demo Company', domain: 'demo.offhook.test', created_at: '2025-01-01T00:00:00.000Z' })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('users')
      .values({
        organization_id: organizationId,
        extension: '101',
        display_name: 'Alice Adams',
        role: 'user',
        password_hash: 'x',
        created_at: '2025-01-01T00:00:00.000Z',
        updated_at: '2025-01-01T00:00:00.000Z',
      })
      .execute();

    expect(await migrateToLatest(db, migrations)).toEqual(['900_nickname']);
    const { rows } = await sql<{ nickname: string }>`select nickname from users`.execute(db);
    expect(rows).toEqual([{ nickname: 'Alice Adams' }]);
  });
});
