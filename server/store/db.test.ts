import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { closeDatabase, openDatabase, syncCommitted } from './db';
import { migrateToLatest } from './migrate';
import { ensureOrganization, listOrganizations } from './organizations';

async function pragma(db: ReturnType<typeof openDatabase>, name: string): Promise<unknown> {
  const { rows } = await sql<Record<string, unknown>>`pragma ${sql.raw(name)}`.execute(db);
  return Object.values(rows[0] ?? {})[0];
}

describe('openDatabase', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-db-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens a file in WAL mode with foreign keys enforced and a busy timeout', async () => {
    const db = openDatabase(join(dir, 'offhook.db'));
    expect(await pragma(db, 'journal_mode')).toBe('wal');
    expect(await pragma(db, 'foreign_keys')).toBe(1);
    expect(await pragma(db, 'busy_timeout')).toBe(5000);
    // NORMAL (1): in WAL mode, synced at checkpoints rather than at each commit.
    expect(await pragma(db, 'synchronous')).toBe(1);
    await closeDatabase(db);
  });

  it('prepares each SQL text once and reuses it, with each run reading its own parameters', async () => {
    const prepare = vi.spyOn(SqliteDatabase.prototype, 'prepare');
    try {
      const db = openDatabase(':memory:');
      await migrateToLatest(db);
      for (const domain of ['a.test', 'b.test', 'c.test']) await ensureOrganization(db, { name: domain, domain });
      const before = prepare.mock.calls.length;
      const found: string[] = [];
      for (const domain of ['c.test', 'a.test', 'b.test', 'nowhere.test']) {
        const row = await db.selectFrom('organizations').select('domain').where('domain', '=', domain).executeTakeFirst();
        found.push(row?.domain ?? 'none');
      }
      expect(found).toEqual(['c.test', 'a.test', 'b.test', 'none']);
      expect(prepare.mock.calls.length - before).toBe(1);
      await closeDatabase(db);
    } finally {
      prepare.mockRestore();
    }
  });

  it('opens an in-memory database with foreign keys enforced', async () => {
    const db = openDatabase(':memory:');
    expect(await pragma(db, 'journal_mode')).toBe('memory');
    expect(await pragma(db, 'foreign_keys')).toBe(1);
    await closeDatabase(db);
  });

  it('keeps what was written after the file is closed and opened again', async () => {
    const file = join(dir, 'offhook.db');
    const first = openDatabase(file);
    await migrateToLatest(first);
    await ensureOrganization(first, { name: 'Demo Company', domain: 'demo.offhook.test' });
    await closeDatabase(first);

    const second = openDatabase(file);
    expect(await migrateToLatest(second)).toEqual([]);
    expect((await listOrganizations(second)).map((org) => org.domain)).toEqual(['demo.offhook.test']);
    await closeDatabase(second);
  });

  it('syncs the WAL file that holds the commits so far, for writes a power cut must not undo', async () => {
    const file = join(dir, 'offhook.db');
    const db = openDatabase(file);
    await migrateToLatest(db);
    await ensureOrganization(db, { name: 'Demo Company', domain: 'demo.offhook.test' });
    expect(await syncCommitted(db)).toBe(`${file}-wal`);
    await closeDatabase(db);
    // Nothing to sync once closed (SQLite checkpointed and removed the WAL), nor in memory.
    expect(await syncCommitted(db)).toBeUndefined();
    const memory = openDatabase(':memory:');
    expect(await syncCommitted(memory)).toBeUndefined();
    await closeDatabase(memory);
  });

  it('closes the SQLite handle even when no query ran, which Kysely alone would not', async () => {
    const close = vi.spyOn(SqliteDatabase.prototype, 'close');
    try {
      const db = openDatabase(join(dir, 'unused.db'));
      await closeDatabase(db);
      expect(close).toHaveBeenCalledTimes(1);
    } finally {
      close.mockRestore();
    }
  });
});
