/**
 * Call records: the history of calls between extensions, one row per call. The call engine keeps a call's
 * record in memory while the call lasts and writes it once, complete, when the call ends (as a PBX writes
 * its CDRs): a call costs one write, and a history synced by id (`GET /calls?after=`) never holds a row
 * that changes later.
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

interface QueuedRecord {
  record: NewCallRecord;
  written(): void;
  failed(error: unknown): void;
}

/** How long a record waits for others to share its INSERT. */
const BATCH_MS = 50;
/** Rows per INSERT: well under SQLite's limit on bound parameters, and few distinct statements to prepare. */
const ROWS_PER_INSERT = 100;

/**
 * The call engine's call records, gathered for BATCH_MS into one INSERT (up to ROWS_PER_INSERT rows): one
 * statement is one transaction, and with SQLite each transaction appends every page it touched (the table's
 * and each index's) to the write-ahead log, so a hundred rows in one cost little more than one alone. A
 * record reaches the database at most BATCH_MS after its call ended. A record is queued at once
 * and its promise settles when its statement has run; should one fail, its rows are tried one by one, so one
 * bad record costs no other. `flush()` waits for everything queued so far (the PBX calls it before closing
 * the database).
 */
export class CallRecordWriter {
  private queue: QueuedRecord[] = [];
  private running: Promise<void> | undefined;
  private scheduled = false;

  constructor(private readonly db: Kysely<Database>) {}

  insert(record: NewCallRecord): Promise<void> {
    return new Promise<void>((written, failed) => {
      this.queue.push({ record, written, failed });
      this.schedule();
    });
  }

  async flush(): Promise<void> {
    while (this.running || this.queue.length > 0) await (this.running ?? this.run());
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    setTimeout(() => {
      this.scheduled = false;
      void this.run();
    }, BATCH_MS);
  }

  private run(): Promise<void> {
    if (this.running) return this.running;
    const batch = this.queue.splice(0, ROWS_PER_INSERT);
    this.running = this.write(batch).finally(() => {
      this.running = undefined;
      if (this.queue.length > 0) this.schedule();
    });
    return this.running;
  }

  private async write(batch: QueuedRecord[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      await this.db.insertInto('call_records').values(batch.map((entry) => entry.record)).execute();
      for (const entry of batch) entry.written();
    } catch (error) {
      const [only] = batch;
      if (only && batch.length === 1) {
        only.failed(error);
        return;
      }
      log.warn('call record batch failed; writing its records one by one', { count: batch.length, error });
      for (const entry of batch) {
        try {
          await insertCallRecord(this.db, entry.record);
          entry.written();
        } catch (single) {
          entry.failed(single);
        }
      }
    }
  }
}
