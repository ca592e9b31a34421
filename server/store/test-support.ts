/**
 * For the store's tests: a fresh, migrated database per test, in memory or in a temporary file, so every
 * suite runs against both the way the unit tests and the PBX itself use SQLite.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { closeDatabase, openDatabase } from './db';
import { migrateToLatest } from './migrate';
import type { Database } from './schema';

export type TestStorage = 'memory' | 'file';

export const TEST_STORAGES: readonly TestStorage[] = ['memory', 'file'];

export interface TestDatabase {
  db: Kysely<Database>;
  close(): Promise<void>;
}

export async function openTestDatabase(storage: TestStorage, { migrate = true } = {}): Promise<TestDatabase> {
  const dir = storage === 'file' ? mkdtempSync(join(tmpdir(), 'offhook-store-')) : undefined;
  const db = openDatabase(dir ? join(dir, 'offhook.db') : ':memory:');
  const close = async () => {
    await closeDatabase(db);
    if (dir) rmSync(dir, { recursive: true, force: true });
  };
  try {
    if (migrate) await migrateToLatest(db);
  } catch (error) {
    await close();
    throw error;
  }
  return { db, close };
}
