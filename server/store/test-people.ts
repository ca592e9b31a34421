/**
 * For tests: an organization and its users written straight into the tables, without hashing real passwords
 * (scrypt costs tens of milliseconds a user), for tests of what users own rather than how they sign in.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema';

const NOW = '2026-12-08T10:00:00.000Z';

/** An organization and its users straight into the tables: the repository does not care how they were made. */
export async function seedPeople(db: Kysely<Database>, domain: string, extensions: readonly string[]): Promise<{ organizationId: number; userIds: number[] }> {
  const organizationId = (await db.insertInto('organizations').values({ name: domain, domain, created_at: NOW }).returning('id').executeTakeFirstOrThrow()).id;
  const userIds: number[] = [];
  for (const extension of extensions) {
    const row = await db
      .insertInto('users')
      .values({ organization_id: organizationId, extension, display_name: `User ${extension}`, role: 'user', password_hash: 'x', created_at: NOW, updated_at: NOW })
      .returning('id')
      .executeTakeFirstOrThrow();
    userIds.push(row.id);
  }
  return { organizationId, userIds };
}
