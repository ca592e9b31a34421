/**
 * Answering rules and time frames (issue #17, shared/answering-rules.ts).
 *
 * - `organizations.time_zone`: the IANA zone in which time frames are read; UTC until an admin sets it.
 * - `time_frames`: when a rule applies. `user_id` null is the organization's own frame (business hours,
 *   holidays), which every user of it may use; otherwise the user's. `spec` is the frame as JSON
 *   (TimeFrameSpec), checked by the API before it is stored.
 * - `answering_rules`: a user's rules, `priority` 1 the highest, `action` as JSON (RuleAction). A frame in use
 *   cannot be deleted (the foreign key restricts), so no rule is ever left without one.
 *
 * A snapshot like every migration: names and values are spelled out here, not imported.
 */
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

export const answeringRules: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema.alterTable('organizations').addColumn('time_zone', 'text', (col) => col.notNull().defaultTo('UTC')).execute();
    await db.schema
      .createTable('time_frames')
      .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
      .addColumn('organization_id', 'integer', (col) => col.notNull().references('organizations.id').onDelete('cascade'))
      .addColumn('user_id', 'integer', (col) => col.references('users.id').onDelete('cascade'))
      .addColumn('name', 'text', (col) => col.notNull())
      .addColumn('spec', 'text', (col) => col.notNull())
      .addColumn('created_at', 'text', (col) => col.notNull())
      .addColumn('updated_at', 'text', (col) => col.notNull())
      .execute();
    await db.schema.createIndex('time_frames_owner').on('time_frames').columns(['organization_id', 'user_id']).execute();
    await db.schema
      .createTable('answering_rules')
      .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
      .addColumn('organization_id', 'integer', (col) => col.notNull().references('organizations.id').onDelete('cascade'))
      .addColumn('user_id', 'integer', (col) => col.notNull().references('users.id').onDelete('cascade'))
      .addColumn('name', 'text', (col) => col.notNull())
      .addColumn('priority', 'integer', (col) => col.notNull().check(sql`priority >= 1`))
      .addColumn('enabled', 'integer', (col) => col.notNull().defaultTo(1).check(sql`enabled in (0, 1)`))
      .addColumn('time_frame_id', 'integer', (col) => col.notNull().references('time_frames.id').onDelete('restrict'))
      .addColumn('action', 'text', (col) => col.notNull())
      .addColumn('created_at', 'text', (col) => col.notNull())
      .addColumn('updated_at', 'text', (col) => col.notNull())
      .execute();
    // Read as "this user's rules"; and "which rules use this frame" before a frame changes or goes.
    await db.schema.createIndex('answering_rules_user').on('answering_rules').column('user_id').execute();
    await db.schema.createIndex('answering_rules_time_frame').on('answering_rules').column('time_frame_id').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('answering_rules').execute();
    await db.schema.dropTable('time_frames').execute();
    await db.schema.alterTable('organizations').dropColumn('time_zone').execute();
  },
};
