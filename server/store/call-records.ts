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

interface QueuedWrite {
  apply(db: Kysely<Database>): Promise<void>;
  /** The write's transaction committed. */
  commit(): void;
  fail(error: unknown): void;
}

/**
 * The call engine's writes to call records, a few per call, gathered into one transaction per turn of the
 * event loop: with SQLite each transaction appends every page it touched to the write-ahead log, so a
 * hundred inserts and updates in one cost little more than one alone. A write is queued at once and its
 * promise settles when its transaction has committed; should a batch fail, its writes are tried one by one,
 * so one bad write costs no other. `flush()` waits for everything queued so far (the PBX calls it before
 * closing the database).
 */
export class CallRecordWriter {
  private queue: QueuedWrite[] = [];
  private running: Promise<void> | undefined;
  private scheduled = false;

  constructor(private readonly db: Kysely<Database>) {}

  /** Returns the new record's id once it is written. */
  insert(record: NewCallRecord): Promise<number> {
    return this.enqueue((db) => insertCallRecord(db, record));
  }

  async update(id: number, patch: CallRecordPatch): Promise<void> {
    await this.enqueue((db) => updateCallRecord(db, id, patch));
  }

  async flush(): Promise<void> {
    while (this.running || this.queue.length > 0) await (this.running ?? this.run());
  }

  private enqueue<T>(write: (db: Kysely<Database>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let result: T | undefined;
      this.queue.push({
        apply: async (db) => {
          result = await write(db);
        },
        commit: () => resolve(result as T),
        fail: reject,
      });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.run();
    });
  }

  private run(): Promise<void> {
    if (this.running) return this.running;
    const batch = this.queue;
    this.queue = [];
    this.running = this.write(batch).finally(() => {
      this.running = undefined;
      if (this.queue.length > 0) this.schedule();
    });
    return this.running;
  }

  private async write(batch: QueuedWrite[]): Promise<void> {
    if (batch.length === 0) return;
    try {
      await this.db.transaction().execute(async (trx) => {
        for (const entry of batch) await entry.apply(trx);
      });
      for (const entry of batch) entry.commit();
    } catch (error) {
      log.warn('call record batch failed; writing its records one by one', { count: batch.length, error });
      for (const entry of batch) {
        try {
          await entry.apply(this.db);
          entry.commit();
        } catch (single) {
          entry.fail(single);
        }
      }
    }
  }
}
