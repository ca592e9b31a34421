/**
 * The call engine's writes, group-committed (group-commit.ts): an answered call's row (active-calls.ts), its
 * legs when they change, and each call's record when it ends, with the deletion of its row in the same
 * transaction. One transaction takes whatever is queued, in this order: new rows, leg updates, records,
 * deletions; so a call answered and ended within one batch is inserted and deleted there.
 *
 * An answer is what a user would miss after a crash, so it waits only DEFAULT_ANSWER_COMMIT_MS and the engine sends
 * the caller its 200 once it has committed. Records and leg updates may wait RECORD_COMMIT_MS: the call is
 * over, or the update only sharpens what is stored, so nobody waits for them. Every call passes here, so the
 * statements are prepared ones run straight on SQLite (direct-statements.ts).
 */
import type { Kysely } from 'kysely';
import { activeCallRow } from './active-calls';
import type { ActiveCall, StoredLeg } from './active-calls';
import type { NewCallRecord } from './call-records';
import { writeDirect } from './direct-statements';
import { GroupCommit } from './group-commit';
import type { ActiveCallRow, Database } from './schema';

/** How long an answered call waits for others to share its transaction before its 200 goes. */
export const DEFAULT_ANSWER_COMMIT_MS = 5;
/** How long a record or a leg update waits for others: a hundred rows in one cost little more than one. */
export const RECORD_COMMIT_MS = 50;
/** Entries per transaction. */
const ENTRIES_PER_COMMIT = 1_000;

type Entry = { answered: ActiveCallRow } | { legs: StoredLeg[]; id: string } | { ended: NewCallRecord; activeId: string | undefined };

const ACTIVE_COLUMNS: ReadonlyArray<keyof ActiveCallRow> = ['id', 'organization_id', 'call_id', 'caller_extension', 'caller_name', 'callee', 'callee_extension', 'started_at', 'answered_at', 'legs'];
const RECORD_COLUMNS = ['organization_id', 'call_id', 'caller_extension', 'caller_name', 'callee', 'callee_extension', 'started_at', 'answered_at', 'ended_at', 'disposition', 'end_reason'] as const satisfies ReadonlyArray<keyof NewCallRecord>;
const insert = (table: string, columns: readonly string[]) => `insert into ${table} (${columns.join(', ')}) values (${columns.map((column) => `@${column}`).join(', ')})`;
const INSERT_ACTIVE = insert('active_calls', ACTIVE_COLUMNS);
const UPDATE_LEGS = 'update active_calls set legs = @legs where id = @id';
const INSERT_RECORD = insert('call_records', RECORD_COLUMNS);
const DELETE_ACTIVE = 'delete from active_calls where id = ?';

/** A record's statement parameters, every column named (the optional ones null). */
function recordParameters(record: NewCallRecord): Record<(typeof RECORD_COLUMNS)[number], unknown> {
  return {
    organization_id: record.organization_id,
    call_id: record.call_id,
    caller_extension: record.caller_extension,
    caller_name: record.caller_name,
    callee: record.callee,
    callee_extension: record.callee_extension ?? null,
    started_at: record.started_at,
    answered_at: record.answered_at ?? null,
    ended_at: record.ended_at ?? null,
    disposition: record.disposition,
    end_reason: record.end_reason ?? null,
  };
}

/** Writes a batch of entries in one transaction. */
export async function writeCallEntries(db: Kysely<Database>, entries: readonly Entry[]): Promise<void> {
  const answered: ActiveCallRow[] = [];
  const legs = new Map<string, StoredLeg[]>();
  const records: NewCallRecord[] = [];
  const ended: string[] = [];
  for (const entry of entries) {
    if ('answered' in entry) answered.push(entry.answered);
    else if ('legs' in entry) legs.set(entry.id, entry.legs);
    else {
      records.push(entry.ended);
      if (entry.activeId !== undefined) ended.push(entry.activeId);
    }
  }
  await writeDirect(db, (statement) => {
    for (const row of answered) statement(INSERT_ACTIVE).run(row);
    for (const [id, each] of legs) statement(UPDATE_LEGS).run({ id, legs: JSON.stringify(each) });
    for (const record of records) statement(INSERT_RECORD).run(recordParameters(record));
    for (const id of ended) statement(DELETE_ACTIVE).run(id);
  });
}

export class CallJournal {
  private readonly commits: GroupCommit<Entry>;

  /**
   * @param answerCommitMs how long an answered call waits for others to share its transaction; settable later,
   *   for the PBX's setting.
   */
  constructor(
    db: Kysely<Database>,
    public answerCommitMs = DEFAULT_ANSWER_COMMIT_MS,
  ) {
    this.commits = new GroupCommit((entries) => writeCallEntries(db, entries), { windowMs: RECORD_COMMIT_MS, maxItems: ENTRIES_PER_COMMIT }, 'call journal');
  }

  /** Stores a call just answered; resolves once it is durable, when the caller may hear of the answer. */
  answered(call: ActiveCall): Promise<void> {
    return this.commits.add({ answered: activeCallRow(call) }, this.answerCommitMs);
  }

  /** Stores the legs of an answered call anew (a transfer, another device, CSeqs moved on). */
  legsChanged(id: string, legs: StoredLeg[]): Promise<void> {
    return this.commits.add({ legs, id });
  }

  /** Writes a call's record; for an answered call (`activeId`), deletes its row in the same transaction. */
  ended(record: NewCallRecord, activeId?: string): Promise<void> {
    return this.commits.add({ ended: record, activeId });
  }

  /** Resolves once everything queued so far is in the database (before it closes). */
  flush(): Promise<void> {
    return this.commits.flush();
  }
}
