/**
 * Voicemail (issue #17, shared/voicemail.ts).
 *
 * - `voicemails`: one row per message left for a user (`user_id`, the mailbox's owner). The audio is a file in
 *   the data folder (`file`, relative to it, Ogg Opus) written and synced before the row, so a row always has
 *   its file. `wideband` is 1 when the caller's leg carried Opus (transcription works on it), 0 for G.711.
 *   Deleting a user deletes their messages' rows; their files are removed by the voicemail feature.
 * - `mailboxes`: what a user's mailbox keeps beside its messages: the PIN for the menu reached from any phone
 *   (*97), as a scrypt hash (auth/password.ts), never the digits.
 *
 * A snapshot like every migration: names and values are spelled out here, not imported.
 */
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

export const voicemail: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('voicemails')
      .addColumn('id', 'integer', (col) => col.primaryKey().autoIncrement())
      .addColumn('organization_id', 'integer', (col) => col.notNull().references('organizations.id').onDelete('cascade'))
      .addColumn('user_id', 'integer', (col) => col.notNull().references('users.id').onDelete('cascade'))
      .addColumn('caller_name', 'text', (col) => col.notNull())
      .addColumn('caller_number', 'text')
      .addColumn('caller_extension', 'text')
      .addColumn('received_at', 'text', (col) => col.notNull())
      .addColumn('duration_ms', 'integer', (col) => col.notNull().check(sql`duration_ms >= 0`))
      .addColumn('status', 'text', (col) => col.notNull().defaultTo('new').check(sql`status in ('new', 'saved')`))
      .addColumn('file', 'text', (col) => col.notNull().unique())
      .addColumn('size_bytes', 'integer', (col) => col.notNull().check(sql`size_bytes >= 0`))
      .addColumn('wideband', 'integer', (col) => col.notNull().defaultTo(0).check(sql`wideband in (0, 1)`))
      .addColumn('reason', 'text', (col) => col.notNull())
      .execute();
    // Read as "this user's new (or saved) messages, newest first", and counted per status for the lamp.
    await db.schema.createIndex('voicemails_mailbox').on('voicemails').columns(['user_id', 'status', 'received_at']).execute();
    await db.schema
      .createTable('mailboxes')
      .addColumn('user_id', 'integer', (col) => col.primaryKey().references('users.id').onDelete('cascade'))
      .addColumn('pin_hash', 'text')
      .addColumn('updated_at', 'text', (col) => col.notNull())
      .execute();
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('mailboxes').execute();
    await db.schema.dropTable('voicemails').execute();
  },
};
