/**
 * Opens the PBX's SQLite database (a file in the data directory, or ':memory:' for tests) as a typed
 * Kysely instance.
 */
import SqliteDatabase from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { createLogger } from '../log';
import type { Database } from './schema';

const log = createLogger('store');

/** How long a writer waits for another connection's lock (the CLI and the server may share a file). */
const BUSY_TIMEOUT_MS = 5_000;

// Kysely closes the SQLite handle only once it has run a query; closeDatabase closes it either way.
const handles = new WeakMap<Kysely<Database>, SqliteDatabase.Database>();

export function openDatabase(file: string): Kysely<Database> {
  log.debug('opening database', { file });
  const sqlite = new SqliteDatabase(file);
  try {
    // WAL lets readers go on while one writer writes; it means nothing for an in-memory database.
    if (file !== ':memory:' && file !== '') sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('foreign_keys = ON');
    sqlite.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  } catch (error) {
    sqlite.close();
    throw error;
  }
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: sqlite }) });
  handles.set(db, sqlite);
  return db;
}

export async function closeDatabase(db: Kysely<Database>): Promise<void> {
  await db.destroy();
  const sqlite = handles.get(db);
  if (sqlite?.open) sqlite.close();
  handles.delete(db);
}
