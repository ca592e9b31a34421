/**
 * Voicemail transcripts (issue #17, shared/voicemail.ts `Transcript`).
 *
 * - `voicemail_transcripts`: one row per message once the transcriber has seen it; goes with its message
 *   (ON DELETE CASCADE). `voicemail_id` is the row id, so the full-text index can point at it directly.
 * - `voicemail_transcripts_fts`: an FTS5 index over `text` that stores no copy of the text (external content,
 *   SQLite's FTS5 §4.4.3), kept in step by the three triggers below. A cascade from a deleted voicemail fires
 *   the delete trigger too, so the index never names a message that is gone.
 *
 * A snapshot like every migration: names and values are spelled out here, not imported.
 */
import { sql } from 'kysely';
import type { Kysely, Migration } from 'kysely';

export const transcripts: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('voicemail_transcripts')
      .addColumn('voicemail_id', 'integer', (col) => col.primaryKey().references('voicemails.id').onDelete('cascade'))
      .addColumn('status', 'text', (col) => col.notNull().check(sql`status in ('pending', 'done', 'failed', 'narrowband', 'off')`))
      .addColumn('engine', 'text')
      .addColumn('text', 'text')
      .addColumn('error', 'text')
      .addColumn('updated_at', 'text', (col) => col.notNull())
      .execute();
    // The transcriber re-queues what a restart left pending.
    await db.schema.createIndex('voicemail_transcripts_status').on('voicemail_transcripts').column('status').execute();
    // unicode61 folds case and, with remove_diacritics 2, accents: "cafe" finds "café".
    await sql`CREATE VIRTUAL TABLE voicemail_transcripts_fts USING fts5(
      text, content='voicemail_transcripts', content_rowid='voicemail_id', tokenize='unicode61 remove_diacritics 2')`.execute(db);
    await sql`CREATE TRIGGER voicemail_transcripts_ai AFTER INSERT ON voicemail_transcripts BEGIN
      INSERT INTO voicemail_transcripts_fts(rowid, text) VALUES (new.voicemail_id, new.text);
    END`.execute(db);
    await sql`CREATE TRIGGER voicemail_transcripts_ad AFTER DELETE ON voicemail_transcripts BEGIN
      INSERT INTO voicemail_transcripts_fts(voicemail_transcripts_fts, rowid, text) VALUES ('delete', old.voicemail_id, old.text);
    END`.execute(db);
    await sql`CREATE TRIGGER voicemail_transcripts_au AFTER UPDATE OF text ON voicemail_transcripts BEGIN
      INSERT INTO voicemail_transcripts_fts(voicemail_transcripts_fts, rowid, text) VALUES ('delete', old.voicemail_id, old.text);
      INSERT INTO voicemail_transcripts_fts(rowid, text) VALUES (new.voicemail_id, new.text);
    END`.execute(db);
  },
  async down(db: Kysely<unknown>): Promise<void> {
    await sql`DROP TRIGGER voicemail_transcripts_au`.execute(db);
    await sql`DROP TRIGGER voicemail_transcripts_ad`.execute(db);
    await sql`DROP TRIGGER voicemail_transcripts_ai`.execute(db);
    await sql`DROP TABLE voicemail_transcripts_fts`.execute(db);
    await db.schema.dropTable('voicemail_transcripts').execute();
  },
};
