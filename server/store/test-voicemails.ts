/**
 * For tests of what hangs off a voicemail (transcripts): a message row written straight into the table, its file
 * named after its id (no audio is written).
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from './schema';

const NOW = '2026-12-08T10:00:00.000Z';

export async function insertTestVoicemail(db: Kysely<Database>, message: { organizationId: number; userId: number; wideband: boolean }): Promise<number> {
  // TEMPORARY until migration 006 (voicemails) lands: the columns it will have.
  await sql`CREATE TABLE IF NOT EXISTS voicemails (id integer primary key autoincrement, organization_id integer not null,
    user_id integer not null references users(id) on delete cascade, caller_name text not null, caller_number text, caller_extension text,
    received_at text not null, duration_ms integer not null, status text not null default 'new', file text not null unique,
    size_bytes integer not null, wideband integer not null default 0, reason text not null)`.execute(db);
  const placeholder = `pending-${Math.random()}`;
  const { rows } = await sql<{ id: number }>`INSERT INTO voicemails (organization_id, user_id, caller_name, caller_number, received_at, duration_ms, file, size_bytes, wideband, reason)
    VALUES (${message.organizationId}, ${message.userId}, 'Carol', '103', ${NOW}, 4000, ${placeholder}, 100, ${message.wideband ? 1 : 0}, 'no-answer') RETURNING id`.execute(db);
  const id = rows[0]!.id;
  await sql`UPDATE voicemails SET file = ${`voicemail/${id}.ogg`} WHERE id = ${id}`.execute(db);
  return id;
}
