/**
 * Voicemail transcripts as stored (migration 007), and the search over them.
 *
 * A transcript belongs to a voicemail and goes with it; scoping is the voicemail's: the search takes the
 * owner's user id, and `transcriptsFor` is only ever handed ids the caller already scoped (the REST list).
 */
import { sql } from 'kysely';
import type { Kysely, Transaction } from 'kysely';
import type { Transcript, TranscriptStatus } from '../../shared/voicemail';
import { createLogger } from '../log';
import type { Database } from './schema';

const log = createLogger('store');

type Db = Kysely<Database> | Transaction<Database>;

/** SQLite's limit on bound parameters is 32766 since 3.32; stay well under it per query. */
const IDS_PER_QUERY = 500;
/** Words of a search taken into account; a longer query is cut, not refused. */
const MAX_SEARCH_TERMS = 16;
const DEFAULT_SEARCH_LIMIT = 200;

function row(voicemailId: number, transcript: Transcript, now: Date) {
  return {
    voicemail_id: voicemailId,
    status: transcript.status,
    engine: transcript.engine ?? null,
    text: transcript.text ?? null,
    error: transcript.error ?? null,
    updated_at: now.toISOString(),
  };
}

/**
 * Writes a message's transcript whatever it held before (the first `pending`, or `narrowband`/`off` at once).
 * Throws a foreign key error when the voicemail does not exist.
 */
export async function putTranscript(db: Db, voicemailId: number, transcript: Transcript, now = new Date()): Promise<void> {
  log.debug('putting transcript', { voicemailId, status: transcript.status });
  const values = row(voicemailId, transcript, now);
  const { voicemail_id: _, ...changes } = values;
  await db
    .insertInto('voicemail_transcripts')
    .values(values)
    .onConflict((oc) => oc.column('voicemail_id').doUpdateSet(changes))
    .execute();
}

/**
 * The transcriber's result for a message it was asked about. False when the row is gone: the message was
 * deleted while being transcribed, and nobody is to be told.
 */
export async function finishTranscript(db: Db, voicemailId: number, transcript: Transcript, now = new Date()): Promise<boolean> {
  const { voicemail_id: _, ...changes } = row(voicemailId, transcript, now);
  const result = await db.updateTable('voicemail_transcripts').set(changes).where('voicemail_id', '=', voicemailId).executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/** The transcripts of these messages; a message without a row is left out (the caller decides what that means). */
export async function transcriptsFor(db: Db, ids: readonly number[]): Promise<Map<number, Transcript>> {
  const found = new Map<number, Transcript>();
  for (let at = 0; at < ids.length; at += IDS_PER_QUERY) {
    const rows = await db
      .selectFrom('voicemail_transcripts')
      .select(['voicemail_id', 'status', 'engine', 'text', 'error'])
      .where('voicemail_id', 'in', ids.slice(at, at + IDS_PER_QUERY))
      .execute();
    for (const r of rows) {
      const transcript: Transcript = { status: r.status };
      if (r.engine !== null) transcript.engine = r.engine;
      if (r.text !== null) transcript.text = r.text;
      if (r.error !== null) transcript.error = r.error;
      found.set(r.voicemail_id, transcript);
    }
  }
  return found;
}

/** A message whose transcription a restart interrupted: what the transcriber needs to start it again. */
export interface PendingTranscription {
  voicemailId: number;
  organizationId: number;
  userId: number;
  /** The recording, relative to the data folder. */
  file: string;
  wideband: boolean;
  /** False for a message the transcriber was never told of (stored just before a crash, or before migration 007). */
  noted: boolean;
}

/** Every message still `pending`, or without a transcript at all, oldest first. */
export async function pendingTranscriptions(db: Db): Promise<PendingTranscription[]> {
  const { rows } = await sql<{ id: number; organization_id: number; user_id: number; file: string; wideband: number; noted: number }>`
    SELECT v.id AS id, v.organization_id AS organization_id, v.user_id AS user_id, v.file AS file, v.wideband AS wideband, t.voicemail_id IS NOT NULL AS noted
    FROM voicemails v LEFT JOIN voicemail_transcripts t ON t.voicemail_id = v.id
    WHERE t.status = ${'pending' satisfies TranscriptStatus} OR t.voicemail_id IS NULL
    ORDER BY v.id`.execute(db);
  return rows.map((r) => ({ voicemailId: r.id, organizationId: r.organization_id, userId: r.user_id, file: r.file, wideband: r.wideband === 1, noted: r.noted === 1 }));
}

/**
 * A person's search box text as an FTS5 query that can never be a syntax error: each word becomes a quoted
 * string (quotes inside doubled, FTS5 §3.1) matched as a prefix, all of them required. Operators typed by the
 * user (AND, NEAR, *, :, parentheses) are thereby just words. Undefined when nothing searchable is left.
 */
export function ftsQuery(text: string): string | undefined {
  const words = text
    .split(/\s+/u)
    .filter((word) => /[\p{L}\p{N}]/u.test(word))
    .slice(0, MAX_SEARCH_TERMS);
  if (words.length === 0) return undefined;
  return words.map((word) => `"${word.replaceAll('"', '""')}"*`).join(' ');
}

/** Ids of the user's voicemails whose transcript matches `query` (see ftsQuery), newest first. */
export async function searchVoicemailIds(db: Db, userId: number, query: string, limit = DEFAULT_SEARCH_LIMIT): Promise<number[]> {
  const match = ftsQuery(query);
  if (match === undefined) return [];
  const { rows } = await sql<{ id: number }>`
    SELECT v.id AS id
    FROM voicemail_transcripts_fts f JOIN voicemails v ON v.id = f.rowid
    WHERE voicemail_transcripts_fts MATCH ${match} AND v.user_id = ${userId}
    ORDER BY v.id DESC
    LIMIT ${limit}`.execute(db);
  return rows.map((r) => r.id);
}
