/**
 * Call records: the history of calls between extensions, one row per call, written by the call engine
 * when a call starts and updated as it is answered and ends.
 */
import type { Kysely, Updateable } from 'kysely';
import { createLogger } from '../log';
import type { CallRecord, CallRecordTable, Database, NewCallRecordRow } from './schema';

const log = createLogger('store');

export type NewCallRecord = Omit<NewCallRecordRow, 'id'>;
/** What may change once a call is recorded: how it went, not who took part. */
export type CallRecordPatch = Omit<Updateable<CallRecordTable>, 'id' | 'organization_id' | 'call_id' | 'caller_extension' | 'started_at'>;

/** Returns the new record's id. */
export async function insertCallRecord(db: Kysely<Database>, record: NewCallRecord): Promise<number> {
  log.debug('inserting call record', { callId: record.call_id });
  const { id } = await db.insertInto('call_records').values(record).returning('id').executeTakeFirstOrThrow();
  return id;
}

/** Returns the record as it now is, or undefined when there is no record with this id. */
export async function updateCallRecord(db: Kysely<Database>, id: number, patch: CallRecordPatch): Promise<CallRecord | undefined> {
  log.debug('updating call record', { id });
  if (Object.keys(patch).length === 0) return db.selectFrom('call_records').selectAll().where('id', '=', id).executeTakeFirst();
  return db.updateTable('call_records').set(patch).where('id', '=', id).returningAll().executeTakeFirst();
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
