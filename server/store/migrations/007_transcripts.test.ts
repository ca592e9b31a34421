import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateTo } from '../migrate';
import type { Database } from '../schema';
import { TEST_STORAGES } from '../test-support';
import type { TestDatabase } from '../test-support';
import { databaseBefore, MIGRATION_TEST_NOW } from './test-before';

const NOW = MIGRATION_TEST_NOW;

describe.each(TEST_STORAGES)('migration 007_transcripts (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let voicemailId: number;

  // A database as 006 left it, with a user and a voicemail in it.
  beforeEach(async () => {
    let organizationId: number;
    let userId: number;
    ({ store, db, organizationId, aliceId: userId } = await databaseBefore(storage, '007_transcripts'));
    voicemailId = (
      await db
        .insertInto('voicemails')
        .values({ organization_id: organizationId, user_id: userId, caller_name: 'Carol', caller_number: '103', caller_extension: '103', received_at: NOW, duration_ms: 4000, file: 'voicemail/1.ogg', size_bytes: 10, wideband: 1, reason: 'no-answer' })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
    expect(await migrateTo(db, '007_transcripts')).toEqual(['007_transcripts']);
  });
  afterEach(async () => {
    await store.close();
  });

  const search = async (word: string) => (await sql<{ rowid: number }>`SELECT rowid FROM voicemail_transcripts_fts WHERE voicemail_transcripts_fts MATCH ${word}`.execute(db)).rows.map((r) => r.rowid);

  it('keeps the voicemails 006 knew, and indexes the transcripts written after it', async () => {
    expect(await db.selectFrom('voicemails').select('file').execute()).toEqual([{ file: 'voicemail/1.ogg' }]);
    await db.insertInto('voicemail_transcripts').values({ voicemail_id: voicemailId, status: 'pending', engine: null, text: null, error: null, updated_at: NOW }).execute();
    await db.updateTable('voicemail_transcripts').set({ status: 'done', text: 'please call me back' }).where('voicemail_id', '=', voicemailId).execute();
    expect(await search('call')).toEqual([voicemailId]);
    await expect(db.insertInto('voicemail_transcripts').values({ voicemail_id: voicemailId + 1, status: 'pending', updated_at: NOW }).execute()).rejects.toThrow(/FOREIGN KEY/);
    await expect(db.updateTable('voicemail_transcripts').set({ status: 'unknown' as 'done' }).execute()).rejects.toThrow(/CHECK/);
    // A deleted voicemail takes its transcript and its place in the index along.
    await db.deleteFrom('voicemails').where('id', '=', voicemailId).execute();
    expect(await db.selectFrom('voicemail_transcripts').select('voicemail_id').execute()).toEqual([]);
    expect(await search('call')).toEqual([]);
    await sql`INSERT INTO voicemail_transcripts_fts(voicemail_transcripts_fts, rank) VALUES ('integrity-check', 1)`.execute(db);
  });

  it('rolls back to 006 with the voicemails still there', async () => {
    await db.insertInto('voicemail_transcripts').values({ voicemail_id: voicemailId, status: 'done', engine: 'hosted', text: 'hello', error: null, updated_at: NOW }).execute();
    await migrateTo(db, '006_voicemail');
    const names = (await db.introspection.getTables()).map((table) => table.name);
    expect(names).not.toContain('voicemail_transcripts');
    expect(names.some((name) => name.startsWith('voicemail_transcripts_fts'))).toBe(false);
    expect((await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'trigger'`.execute(db)).rows).toEqual([]);
    expect(await db.selectFrom('voicemails').select('id').execute()).toEqual([{ id: voicemailId }]);
  });
});
