/**
 * Answered calls while they last. A call's row is written when it is answered (before the caller hears the
 * 200) and deleted, in the transaction that inserts its record, when it ends (call-journal.ts). So the rows
 * here at start are the calls a crash cut off: `closeCallsLeftByCrash` writes their records, ended at the
 * last heartbeat, and hands back their legs, which the PBX then hangs up (server/calls/call-recovery.ts).
 *
 * `call_records` stays write-once: a record is inserted complete and never changed, as the app syncs
 * history by id.
 */
import type { Kysely } from 'kysely';
import { createLogger } from '../log';
import type { NewCallRecord } from './call-records';
import { readHeartbeat } from './heartbeat';
import type { ActiveCallRow, Database } from './schema';

const log = createLogger('store');

/** The end reason of a call the PBX did not live to end. */
export const CRASH_END_REASON = 'server stopped unexpectedly';

/** What a BYE to one leg of a call needs (RFC 3261 §12.2.1.1): the dialog as we hold it, and the flow it went over. */
export interface StoredLeg {
  callId: string;
  localTag: string;
  remoteTag?: string;
  /** From and To of our requests: ours (with our tag), theirs (without the tag). */
  localUri: string;
  remoteUri: string;
  remoteTarget: string;
  /** Route header values, nearest hop first. */
  routeSet: string[];
  /** The CSeq our next request in the dialog would carry. */
  nextCseq: number;
  transport: 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS';
  /** Where the device's messages came from. */
  remoteAddress: string;
  remotePort: number;
}

/** An answered call as stored: its record-to-be (answered, not yet ended) and its legs. */
export interface ActiveCall {
  id: string;
  record: Pick<NewCallRecord, 'organization_id' | 'call_id' | 'caller_extension' | 'caller_name' | 'callee' | 'callee_extension' | 'started_at'>;
  answeredAt: string;
  legs: StoredLeg[];
}

/** A call a crash cut off, whose record is now written: the legs still to hang up. */
export interface CrashedCall {
  id: string;
  legs: StoredLeg[];
}

/** Rows per statement: under SQLite's limit on bound parameters. */
const ROWS_PER_STATEMENT = 100;

export function activeCallRow(call: ActiveCall): ActiveCallRow {
  const { record } = call;
  return {
    id: call.id,
    organization_id: record.organization_id,
    call_id: record.call_id,
    caller_extension: record.caller_extension,
    caller_name: record.caller_name,
    callee: record.callee,
    callee_extension: record.callee_extension ?? null,
    started_at: record.started_at,
    answered_at: call.answeredAt,
    legs: JSON.stringify(call.legs),
  };
}

export async function deleteActiveCalls(db: Kysely<Database>, ids: readonly string[]): Promise<void> {
  for (let at = 0; at < ids.length; at += ROWS_PER_STATEMENT) {
    await db.deleteFrom('active_calls').where('id', 'in', ids.slice(at, at + ROWS_PER_STATEMENT)).execute();
  }
}

export async function listActiveCalls(db: Kysely<Database>): Promise<ActiveCallRow[]> {
  return db.selectFrom('active_calls').selectAll().orderBy('answered_at').execute();
}

/**
 * When a call the crash cut off ended: at the last heartbeat, or at its answer if that came later (it was
 * answered after the last beat, so alive then), and never later than now (a clock set back meanwhile).
 */
export function crashEnd(answeredAt: string, lastAlive: string | undefined, now: Date): string {
  const alive = lastAlive !== undefined && lastAlive > answeredAt ? lastAlive : answeredAt;
  const at = now.toISOString();
  return alive < at ? alive : at;
}

/** A row's legs; a row whose legs cannot be read still gets its record, and nobody a BYE. */
function legsOf(row: ActiveCallRow): StoredLeg[] {
  try {
    const legs: unknown = JSON.parse(row.legs);
    if (Array.isArray(legs)) return legs.filter(isStoredLeg);
  } catch {
    // Reported below.
  }
  log.warn('the legs of a call left by a crash cannot be read; its devices get no BYE', { call: row.id });
  return [];
}

function isStoredLeg(value: unknown): value is StoredLeg {
  if (!value || typeof value !== 'object') return false;
  const leg = value as Record<string, unknown>;
  const strings = ['callId', 'localTag', 'localUri', 'remoteUri', 'remoteTarget', 'transport', 'remoteAddress'];
  return (
    strings.every((name) => typeof leg[name] === 'string') &&
    (leg.remoteTag === undefined || typeof leg.remoteTag === 'string') &&
    Array.isArray(leg.routeSet) &&
    leg.routeSet.every((hop) => typeof hop === 'string') &&
    Number.isInteger(leg.nextCseq) &&
    Number.isInteger(leg.remotePort)
  );
}

/**
 * Closes the calls a crash left: each gets its record (answered, ended at crashEnd, CRASH_END_REASON) and
 * loses its row, all in one transaction; returns their legs to hang up. Run at start, before any new call
 * can be answered and before the heartbeat moves.
 */
export async function closeCallsLeftByCrash(db: Kysely<Database>, now: Date): Promise<CrashedCall[]> {
  const rows = await listActiveCalls(db);
  if (rows.length === 0) return [];
  const lastAlive = await readHeartbeat(db);
  const records: NewCallRecord[] = rows.map((row) => ({
    organization_id: row.organization_id,
    call_id: row.call_id,
    caller_extension: row.caller_extension,
    caller_name: row.caller_name,
    callee: row.callee,
    callee_extension: row.callee_extension,
    started_at: row.started_at,
    answered_at: row.answered_at,
    ended_at: crashEnd(row.answered_at, lastAlive, now),
    disposition: 'answered',
    end_reason: CRASH_END_REASON,
  }));
  await db.transaction().execute(async (trx) => {
    for (let at = 0; at < records.length; at += ROWS_PER_STATEMENT) {
      await trx.insertInto('call_records').values(records.slice(at, at + ROWS_PER_STATEMENT)).execute();
    }
    await deleteActiveCalls(trx, rows.map((row) => row.id));
  });
  log.warn('recorded the calls that were up when the PBX stopped', { count: rows.length, lastAlive });
  return rows.map((row) => ({ id: row.id, legs: legsOf(row) }));
}
