import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { sqliteHandle } from './db';
import { readDirect, writeDirect } from './direct-statements';
import { openTestDatabase } from './test-support';
import type { TestDatabase } from './test-support';

describe('writeDirect', () => {
  let store: TestDatabase;
  beforeEach(async () => {
    store = await openTestDatabase('file');
  });
  afterEach(async () => {
    await store.close();
  });

  const beat = (at: string) => writeDirect(store.db, (statement) => statement('insert or replace into heartbeat (id, alive_at) values (1, ?)').run(at));
  const alive = () => store.db.selectFrom('heartbeat').select('alive_at').executeTakeFirst();

  it('writes everything or nothing', async () => {
    await beat('first');
    await expect(
      writeDirect(store.db, (statement) => {
        statement('update heartbeat set alive_at = ?').run('second');
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    expect(await alive()).toEqual({ alive_at: 'first' });
  });

  it('waits for a transaction it did not open rather than joining it', async () => {
    const sqlite = sqliteHandle(store.db)!;
    sqlite.exec('begin');
    const writing = beat('after');
    await new Promise((resolve) => setTimeout(resolve, 20));
    sqlite.exec('rollback');
    await writing;
    expect(await alive()).toEqual({ alive_at: 'after' });
  });

  it('refuses once the database is closed', async () => {
    const other = await openTestDatabase('memory');
    await other.close();
    await expect(writeDirect(other.db, () => undefined)).rejects.toThrow(/closed/);
  });
});

describe('readDirect', () => {
  let store: TestDatabase;
  beforeEach(async () => {
    store = await openTestDatabase('file');
  });
  afterEach(async () => {
    await store.close();
  });

  const read = () => readDirect(store.db, (statement) => statement('select alive_at from heartbeat where id = 1').get() as { alive_at: string } | undefined);

  it('reads what is committed, with the statement prepared once', async () => {
    await store.db.insertInto('heartbeat').values({ id: 1, alive_at: 'first' }).execute();
    expect(await read()).toEqual({ alive_at: 'first' });
    const statements = new Set<unknown>();
    await readDirect(store.db, (statement) => statements.add(statement('select 1')));
    await readDirect(store.db, (statement) => statements.add(statement('select 1')));
    expect(statements.size).toBe(1);
  });

  it('does not see the rows of a transaction still open, and waits for it', async () => {
    const sqlite = sqliteHandle(store.db)!;
    sqlite.exec('begin');
    sqlite.prepare('insert into heartbeat (id, alive_at) values (1, ?)').run('uncommitted');
    const reading = read();
    await new Promise((resolve) => setTimeout(resolve, 20));
    sqlite.exec('rollback');
    expect(await reading).toBeUndefined();
  });
});
