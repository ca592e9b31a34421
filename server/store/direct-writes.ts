/**
 * Writes on the PBX's hottest paths (every REGISTER, every answered call, every call record), run straight
 * on the SQLite handle: statements prepared once, a batch in one synchronous transaction. Through Kysely the
 * same write costs several times as much (building and compiling the query, an asynchronous transaction of
 * several steps), which at a few thousand REGISTERs a second would be a tenth of the PBX's time. The SQL is
 * plain and the tables are those of schema.ts; these writes touch only tables no cached read depends on
 * (db.ts UNCACHED_TABLES), so the read caches need not hear of them.
 */
import type SqliteDatabase from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { sqliteHandle } from './db';
import type { Database } from './schema';

/** How long a direct write waits, at most, for a Kysely transaction to let go of the connection. */
const WAIT_FOR_TRANSACTION_MS = 5_000;

const caches = new WeakMap<SqliteDatabase.Database, Map<string, SqliteDatabase.Statement>>();

function statementFor(sqlite: SqliteDatabase.Database, sql: string): SqliteDatabase.Statement {
  let cache = caches.get(sqlite);
  if (!cache) {
    cache = new Map();
    caches.set(sqlite, cache);
  }
  let statement = cache.get(sql);
  if (!statement) {
    statement = sqlite.prepare(sql);
    cache.set(sql, statement);
  }
  return statement;
}

/**
 * Runs `write` in one transaction on `db`'s handle; `statement(sql)` gives that SQL prepared (once per
 * handle). Resolves once committed; rejects, with nothing written, if `write` throws.
 */
export async function writeDirect<T>(db: Kysely<Database>, write: (statement: (sql: string) => SqliteDatabase.Statement) => T): Promise<T> {
  const sqlite = sqliteHandle(db);
  if (!sqlite) throw new Error('the database is closed, or was not opened by openDatabase');
  // Kysely's transactions await nothing but their own statements, so none is open when a timer runs this; should
  // one ever be, the write waits for it rather than joining (and sharing the fate of) a transaction not its own.
  const until = performance.now() + WAIT_FOR_TRANSACTION_MS;
  while (sqlite.inTransaction) {
    if (performance.now() > until) throw new Error('a transaction has held the database for too long');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return sqlite.transaction(() => write((sql) => statementFor(sqlite, sql)))();
}
