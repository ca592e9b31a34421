/**
 * Greetings (issue #17, shared/greetings.ts): what callers hear before they leave a voicemail.
 *
 * - `greetings`: a user's recorded or uploaded greetings, the audio in a file under the data folder (`file`,
 *   relative to it, always Ogg Opus), its length, and `active` 1 on the one that plays. At most one is active per
 *   user, which a partial unique index holds even against two requests at once; none active means the PBX's
 *   default greeting plays.
 *
 * A snapshot like every migration: names and values are spelled out here, not imported.
 */
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

export const greetings: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('greetings')
      .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
      .addColumn('organization_id', 'integer', (col) => col.notNull().references('organizations.id').onDelete('cascade'))
      .addColumn('user_id', 'integer', (col) => col.notNull().references('users.id').onDelete('cascade'))
      .addColumn('name', 'text', (col) => col.notNull())
      .addColumn('file', 'text', (col) => col.notNull().unique())
      .addColumn('duration_ms', 'integer', (col) => col.notNull().check(sql`duration_ms >= 0`))
      .addColumn('created_at', 'text', (col) => col.notNull())
      .addColumn('active', 'integer', (col) => col.notNull().defaultTo(0).check(sql`active in (0, 1)`))
      .execute();
    await db.schema.createIndex('greetings_user').on('greetings').column('user_id').execute();
    await db.schema.createIndex('greetings_one_active').on('greetings').column('user_id').unique().where(sql.ref('active'), '=', 1).execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('greetings').execute();
  },
};
