/**
 * Registration bindings that outlive the PBX's process: stored when a REGISTER makes or refreshes them,
 * deleted when they end, loaded at start with what is left of their expiry. The registrar decides which
 * bindings these are (server/presence/registrar.ts); here they are rows.
 *
 * Every REGISTER writes, so writes go through a group commit (group-commit.ts): the changes of a few
 * milliseconds share one transaction, each a prepared upsert or delete run straight on SQLite
 * (direct-statements.ts), and the registrar sends its 200s once that has committed.
 */
import type { Kysely } from 'kysely';
import { createLogger } from '../log';
import { writeDirect } from './direct-statements';
import { GroupCommit } from './group-commit';
import type { Database, StoredRegistration } from './schema';

const log = createLogger('store');

/** Which binding a row is. */
export type RegistrationKey = Pick<StoredRegistration, 'organization_id' | 'extension' | 'binding_key'>;

/**
 * How long a REGISTER waits for others to share its transaction before its 200 goes. A few milliseconds
 * is nothing to a phone and, at a few thousand REGISTERs a second, makes each transaction a dozen rows.
 */
export const DEFAULT_REGISTRATION_COMMIT_MS = 5;
/** Changes per transaction. */
const CHANGES_PER_COMMIT = 1_000;

/** The bindings not yet expired at `now`, latest expiry first; expired ones are deleted. */
export async function loadRegistrations(db: Kysely<Database>, now: Date): Promise<StoredRegistration[]> {
  const at = now.toISOString();
  const { numDeletedRows } = await db.deleteFrom('registrations').where('expires_at', '<=', at).executeTakeFirst();
  if (numDeletedRows > 0n) log.info('deleted registrations that expired while the PBX was down', { count: Number(numDeletedRows) });
  return db.selectFrom('registrations').selectAll().orderBy('expires_at', 'desc').execute();
}

type Change = { save: StoredRegistration } | { remove: RegistrationKey };

function keyOf(change: Change): RegistrationKey {
  return 'save' in change ? change.save : change.remove;
}

const COLUMNS: ReadonlyArray<keyof StoredRegistration> = ['organization_id', 'extension', 'binding_key', 'contact', 'path', 'transport', 'remote_address', 'remote_port', 'call_id', 'cseq', 'expires_at', 'user_agent'];
const KEY_COLUMNS: ReadonlyArray<keyof StoredRegistration> = ['organization_id', 'extension', 'binding_key'];
const UPSERT = `insert into registrations (${COLUMNS.join(', ')}) values (${COLUMNS.map((column) => `@${column}`).join(', ')})
  on conflict (${KEY_COLUMNS.join(', ')}) do update set ${COLUMNS.filter((column) => !KEY_COLUMNS.includes(column)).map((column) => `${column} = excluded.${column}`).join(', ')}`;
const DELETE = 'delete from registrations where organization_id = @organization_id and extension = @extension and binding_key = @binding_key';

/** Writes changes in one transaction; of several changes to one binding, the last counts. */
export async function writeRegistrationChanges(db: Kysely<Database>, changes: readonly Change[]): Promise<void> {
  const latest = new Map<string, Change>();
  for (const change of changes) {
    const key = keyOf(change);
    // NUL cannot occur in the parts (an extension is digits, a key is header text), so the join is unambiguous.
    latest.set(`${key.organization_id}\0${key.extension}\0${key.binding_key}`, change);
  }
  const saves: StoredRegistration[] = [];
  const removes: RegistrationKey[] = [];
  for (const change of latest.values()) {
    if ('save' in change) saves.push(change.save);
    else removes.push(change.remove);
  }
  await writeDirect(db, (statement) => {
    const upsert = statement(UPSERT);
    const remove = statement(DELETE);
    for (const row of saves) upsert.run(row);
    for (const key of removes) remove.run(key);
  });
}

/** The registrar's writes, group-committed; each promise settles once its change is durable (or failed). */
export class RegistrationWriter {
  private readonly commits: GroupCommit<Change>;

  constructor(db: Kysely<Database>, { windowMs = DEFAULT_REGISTRATION_COMMIT_MS }: { windowMs?: number } = {}) {
    this.commits = new GroupCommit((changes) => writeRegistrationChanges(db, changes), { windowMs, maxItems: CHANGES_PER_COMMIT }, 'registrations');
  }

  save(row: StoredRegistration): Promise<void> {
    return this.commits.add({ save: row });
  }

  remove(key: RegistrationKey): Promise<void> {
    return this.commits.add({ remove: key });
  }

  flush(): Promise<void> {
    return this.commits.flush();
  }
}
