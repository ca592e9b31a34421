/**
 * Call records: the history of calls between extensions, one row per call. The call engine keeps a call's
 * record in memory while the call lasts and writes it once, complete, when the call ends (as a PBX writes
 * its CDRs): a history synced by id (`GET /calls?after=`) never holds a row that changes later. While an
 * answered call lasts, what a crash must not lose of it is kept apart, in active_calls (active-calls.ts);
 * the engine's writes of both go through call-journal.ts.
 */
import type { Kysely } from 'kysely';
import { createLogger } from '../log';
import type { CallRecord, Database, NewCallRecordRow } from './schema';

const log = createLogger('store');

export type NewCallRecord = Omit<NewCallRecordRow, 'id'>;

/** Returns the new record's id. */
export async function insertCallRecord(db: Kysely<Database>, record: NewCallRecord): Promise<number> {
  log.debug('inserting call record', { callId: record.call_id });
  const { id } = await db.insertInto('call_records').values(record).returning('id').executeTakeFirstOrThrow();
  return id;
}

/** The calls an extension made or that reached it, newest first. */
export async function listCallRecordsForExtension(
  db: Kysely<Database>,
  organizationId: number,
  extension: string,
  limit: number,
): Promise<CallRecord[]> {
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`limit must be a positive integer, got ${limit}`);
  return db
    .selectFrom('call_records')
    .selectAll()
    .where('organization_id', '=', organizationId)
    .where((eb) => eb.or([eb('caller_extension', '=', extension), eb('callee_extension', '=', extension)]))
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(limit)
    .execute();
}
