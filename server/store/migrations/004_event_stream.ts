/**
 * The live event stream to the apps (server/events/event-hub.ts), stored before it is sent so that a restart
 * of the PBX loses no event an app has not yet read.
 *
 * - `event_streams`: one row per user who has ever had an event, holding the last sequence number given out.
 *   It is kept apart from `events` because the purge may empty a user's events, and numbering must then go on
 *   from where it was, not start again at 1 (an app resuming after 57 would take a new 1..57 as old).
 * - `events`: the events themselves, one row per user they are addressed to, numbered 1, 2, 3... per user,
 *   the event as JSON (shared/events.ts). The purge keeps the last few per user and none older than a day.
 *
 * A snapshot like every migration: names and values are spelled out here, not imported.
 */
import type { Kysely, Migration } from 'kysely';

export const eventStream: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('event_streams')
      .addColumn('user_id', 'integer', (col) => col.primaryKey().references('users.id').onDelete('cascade'))
      .addColumn('organization_id', 'integer', (col) => col.notNull().references('organizations.id').onDelete('cascade'))
      .addColumn('last_seq', 'integer', (col) => col.notNull())
      .execute();
    await db.schema
      .createTable('events')
      .addColumn('user_id', 'integer', (col) => col.notNull().references('event_streams.user_id').onDelete('cascade'))
      .addColumn('seq', 'integer', (col) => col.notNull())
      .addColumn('organization_id', 'integer', (col) => col.notNull())
      .addColumn('type', 'text', (col) => col.notNull())
      .addColumn('body', 'text', (col) => col.notNull())
      .addColumn('published_at', 'text', (col) => col.notNull())
      // Reads are "this user's events after n, in order": the primary key is that index.
      .addPrimaryKeyConstraint('events_pk', ['user_id', 'seq'])
      .execute();
    // The purge by age.
    await db.schema.createIndex('events_published_at').on('events').column('published_at').execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('events').execute();
    await db.schema.dropTable('event_streams').execute();
  },
};
