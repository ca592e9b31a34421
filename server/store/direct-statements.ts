/**
 * Statements on the PBX's hottest paths, run straight on the SQLite handle and prepared once: the writes of
 * every REGISTER, every answered call and every call record (a batch in one synchronous transaction), and the
 * digest lookup of every authenticated request. Through Kysely the same statement costs several times as much
 * (building and compiling the query, an asynchronous transaction of several steps, and the garbage of both),
 * which at a few thousand REGISTERs a second is a large share of the PBX's time. The SQL is plain and the
 * tables are those of schema.ts; the writes touch only tables no cached read depends on (db.ts
 * UNCACHED_TABLES), so the read caches need not hear of them.
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
  const sqlite = await freeHandle(db);
  return sqlite.transaction(() => write((sql) => statementFor(sqlite, sql)))();
}

/**
 * Runs `read` on `db`'s handle, outside any transaction, so it sees only committed rows, as a Kysely query
 * would; `statement(sql)` gives that SQL prepared (once per handle).
 */
export async function readDirect<T>(db: Kysely<Database>, read: (statement: (sql: string) => SqliteDatabase.Statement) => T): Promise<T> {
  const sqlite = await freeHandle(db);
  return read((sql) => statementFor(sqlite, sql));
}

/**
 * `db`'s SQLite handle once no transaction holds it. Kysely's transactions span awaits, and a statement run
 * on the handle meanwhile would join one (a write would share its fate, a read would see its uncommitted
 * rows); so a direct statement waits for it, as Kysely's own queries do.
 */
async function freeHandle(db: Kysely<Database>): Promise<SqliteDatabase.Database> {
  const sqlite = sqliteHandle(db);
  if (!sqlite) throw new Error(db.isTransaction ? 'a direct statement runs on the database, not in a transaction' : 'the database is closed, or was not opened by openDatabase');
  const until = performance.now() + WAIT_FOR_TRANSACTION_MS;
  while (sqlite.inTransaction) {
    if (performance.now() > until) throw new Error('a transaction has held the database for too long');
    await new Promise((resolve) => setTimeout(resolve, 1));
  }
  return sqlite;
}
