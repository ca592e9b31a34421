/**
 * Opens the PBX's SQLite database (a file in the data directory, or ':memory:' for tests) as a typed
 * Kysely instance.
 */
import { open } from 'node:fs/promises';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import type { KyselyPlugin, OperationNode, PluginTransformQueryArgs, PluginTransformResultArgs, QueryResult, RootOperationNode, UnknownRow } from 'kysely';
import { createLogger } from '../log';
import type { Database } from './schema';

const log = createLogger('store');

/** How long a writer waits for another connection's lock (the CLI and the server may share a file). */
const BUSY_TIMEOUT_MS = 5_000;

// Kysely closes the SQLite handle only once it has run a query; closeDatabase closes it either way.
const handles = new WeakMap<Kysely<Database>, SqliteDatabase.Database>();
const versions = new WeakMap<Kysely<Database>, () => string>();

/**
 * Tables whose writes no cached read depends on (read-cache.ts): the busiest, written for every call or
 * REGISTER (registrations, active calls), every few seconds (the heartbeat) or with every event to the apps
 * (event streams). Counting them would empty the caches the PBX's hot paths live on.
 */
const UNCACHED_TABLES = new Set(['call_records', 'registrations', 'active_calls', 'heartbeat', 'event_streams', 'events']);

/**
 * Counts the queries through a connection that may change what a cached read saw: everything but a SELECT,
 * and but a write to an uncached table. Counted as the query is compiled, before it runs, so a read that
 * overlaps a write is never kept (read-cache.ts compares the count before and after its query).
 */
class WriteCounter implements KyselyPlugin {
  count = 0;

  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (args.node.kind !== 'SelectQueryNode' && !UNCACHED_TABLES.has(writtenTable(args.node) ?? '')) this.count++;
    return args.node;
  }

  transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return Promise.resolve(args.result);
  }
}

/** The table an INSERT, UPDATE or DELETE writes to, as Kysely's operation tree names it. */
function writtenTable(node: OperationNode): string | undefined {
  let table: unknown;
  if ('into' in node) table = node.into;
  else if (node.kind === 'UpdateQueryNode' && 'table' in node) table = node.table;
  else if (node.kind === 'DeleteQueryNode' && 'from' in node) table = (node.from as { froms?: readonly unknown[] }).froms?.[0];
  if (!table || typeof table !== 'object' || !('table' in table)) return undefined;
  return (table as { table: { identifier: { name: string } } }).table.identifier.name;
}

/**
 * Where the database stands: changes with every counted write through this connection (WriteCounter) and
 * every commit another connection makes to the file (SQLite's data_version). Undefined for a Kysely instance
 * that openDatabase did not return, such as a transaction's: reads through it are not cached.
 */
export function storeVersion(db: Kysely<Database>): string | undefined {
  return versions.get(db)?.();
}

export function openDatabase(file: string): Kysely<Database> {
  log.debug('opening database', { file });
  const sqlite = new SqliteDatabase(file);
  try {
    // WAL lets readers go on while one writer writes; it means nothing for an in-memory database.
    if (file !== ':memory:' && file !== '') sqlite.pragma('journal_mode = WAL');
    // In WAL mode NORMAL syncs at checkpoints, not at every commit: a crash or kill of the PBX loses nothing
    // and never corrupts the file; only an OS crash or power cut may lose the last commits (SQLite's WAL notes).
    sqlite.pragma('synchronous = NORMAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  } catch (error) {
    sqlite.close();
    throw error;
  }
  const writes = new WriteCounter();
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }), plugins: [writes] });
  handles.set(db, sqlite);
  const dataVersion = sqlite.prepare('PRAGMA data_version').pluck();
  // Read once per turn of the event loop: another process's commit is seen from the next turn on, which no
  // caller can tell from its landing a moment later; every read cache asks several times a call.
  let othersThisTurn: string | undefined;
  const forgetOthers = () => {
    othersThisTurn = undefined;
  };
  versions.set(db, () => {
    if (!sqlite.open) return `${writes.count}:closed`;
    if (othersThisTurn === undefined) {
      othersThisTurn = String(dataVersion.get());
      setImmediate(forgetOthers);
    }
    return `${writes.count}:${othersThisTurn}`;
  });
  return db;
}

/** How many distinct statements stay prepared; the PBX's queries are a few dozen shapes. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * The handle Kysely uses, with each SQL text prepared once and reused: preparing a statement costs as much
 * as running a small one, and a call runs several. A statement still being iterated is busy and cannot run
 * twice at once, so that case gets a fresh one. SQLite re-prepares a cached statement itself when the schema
 * changes (migrations).
 */
function withStatementCache(sqlite: SqliteDatabase.Database): { close(): void; prepare(sql: string): SqliteDatabase.Statement } {
  const cache = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => sqlite.close(),
    prepare(sql: string) {
      const cached = cache.get(sql);
      if (cached && !cached.busy) return cached;
      const statement = sqlite.prepare(sql);
      if (!cached) {
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value ?? '');
        cache.set(sql, statement);
      }
      return statement;
    },
  };
}

/** The SQLite handle under a Kysely instance that openDatabase returned (direct-statements.ts); undefined for any other. */
export function sqliteHandle(db: Kysely<Database>): SqliteDatabase.Database | undefined {
  const sqlite = handles.get(db);
  return sqlite?.open ? sqlite : undefined;
}

/**
 * Makes every commit so far through `db` survive an OS crash or power cut, for the few writes a restart must
 * not lose even then (a voicemail row whose message was announced, a mailbox PIN the owner was told is set).
 * Under synchronous=NORMAL a WAL commit is written to the -wal file but synced only at the next checkpoint,
 * and a checkpoint syncs the WAL before copying it and the database after; so syncing the -wal file now
 * settles every committed frame, whichever side of a checkpoint it lies. The file synced, or undefined for
 * a database with no WAL (in memory, closed, or not opened by openDatabase).
 */
export async function syncCommitted(db: Kysely<Database>): Promise<string | undefined> {
  const sqlite = handles.get(db);
  if (!sqlite?.open || sqlite.memory) return undefined;
  const wal = `${sqlite.name}-wal`;
  let handle;
  try {
    handle = await open(wal, 'r');
  } catch (error) {
    // No WAL file: nothing was written since the last checkpoint deleted it, which synced the database.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
  return wal;
}

export async function closeDatabase(db: Kysely<Database>): Promise<void> {
  await db.destroy();
  const sqlite = handles.get(db);
  if (sqlite?.open) sqlite.close();
  handles.delete(db);
  versions.delete(db);
}
