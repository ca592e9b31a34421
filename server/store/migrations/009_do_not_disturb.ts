/**
 * Do not disturb as a PBX setting (issue #17, shared/do-not-disturb.ts): one row per user who has set it, on or
 * off, so every device of theirs and every app follows the one setting. No row is off.
 *
 * A snapshot like every migration: names and values are spelled out here, not imported.
 */
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

export const doNotDisturb: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('do_not_disturb')
      .addColumn('user_id', 'integer', (col) => col.primaryKey().references('users.id').onDelete('cascade'))
      .addColumn('organization_id', 'integer', (col) => col.notNull().references('organizations.id').onDelete('cascade'))
      .addColumn('enabled', 'integer', (col) => col.notNull().check(sql`enabled in (0, 1)`))
      .addColumn('updated_at', 'text', (col) => col.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('do_not_disturb').execute();
  },
};
