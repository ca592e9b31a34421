/**
 * For the migration tests: a database as the migration before the one under test left it, with an organization
 * and one user (Alice, 101) in it, so each test adds only the rows its migration must carry over.
 */
import type { Kysely } from 'kysely';
import { migrateTo } from '../migrate';
import type { Database } from '../schema';
import { openTestDatabase } from '../test-support';
import type { TestDatabase, TestStorage } from '../test-support';
import { MIGRATIONS } from './index';

export const MIGRATION_TEST_NOW = '2026-12-08T10:00:00.000Z';

/** The migration that runs just before `name`, whichever others have landed meanwhile. */
export function migrationBefore(name: string): string {
  const before = Object.keys(MIGRATIONS)
    .filter((other) => other < name)
    .sort()
    .at(-1);
  if (!before) throw new Error(`no migration runs before ${name}`);
  return before;
}

export interface DatabaseBefore {
  store: TestDatabase;
  db: Kysely<Database>;
  organizationId: number;
  aliceId: number;
}

export async function databaseBefore(storage: TestStorage, name: string): Promise<DatabaseBefore> {
  const store = await openTestDatabase(storage, { migrate: false });
  const db = store.db;
  await migrateTo(db, migrationBefore(name));
  const now = MIGRATION_TEST_NOW;
  const organizationId = (await db.insertInto('organizations').values({ name: 'Demo Company', domain: 'demo.offhook.test', created_at: now }).returning('id').executeTakeFirstOrThrow()).id;
  const aliceId = (
    await db
      .insertInto('users')
      .values({ organization_id: organizationId, extension: '101', display_name: 'Alice Adams', role: 'user', password_hash: 'scrypt$x', created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow()
  ).id;
  return { store, db, organizationId, aliceId };
}
