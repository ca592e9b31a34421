import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateTo } from '../migrate';
import type { Database } from '../schema';
import { openTestDatabase, TEST_STORAGES } from '../test-support';
import type { TestDatabase } from '../test-support';

const NOW = '2026-12-08T10:00:00.000Z';

describe.each(TEST_STORAGES)('migration 004_event_stream (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let organizationId: number;
  let aliceId: number;

  // A database as 003 left it, with people, a registration and a call record in it.
  beforeEach(async () => {
    store = await openTestDatabase(storage, { migrate: false });
    db = store.db;
    await migrateTo(db, '003_durable_state');
    organizationId = (await db.insertInto('organizations').values({ name: 'Demo Company', domain: 'demo.offhook.test', created_at: NOW }).returning('id').executeTakeFirstOrThrow()).id;
    aliceId = (
      await db
        .insertInto('users')
        .values({ organization_id: organizationId, extension: '101', display_name: 'Alice Adams', role: 'user', password_hash: 'scrypt$x', created_at: NOW, updated_at: NOW })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
    await db.insertInto('heartbeat').values({ id: 1, alive_at: NOW }).execute();
    await db
      .insertInto('call_records')
      .values({ organization_id: organizationId, call_id: 'c1', caller_extension: '101', caller_name: 'Alice Adams', callee: '102', callee_extension: '102', started_at: NOW, answered_at: null, ended_at: NOW, disposition: 'missed', end_reason: null })
      .execute();
    expect(await migrateTo(db, '004_event_stream')).toEqual(['004_event_stream']);
  });
  afterEach(async () => {
    await store.close();
  });

  const row = (seq: number, userId = aliceId) => ({ user_id: userId, seq, organization_id: organizationId, type: 'call', body: '{}', published_at: NOW });

  it('keeps every row 003 knew', async () => {
    expect(await db.selectFrom('users').select('extension').execute()).toEqual([{ extension: '101' }]);
    expect(await db.selectFrom('call_records').select('call_id').execute()).toEqual([{ call_id: 'c1' }]);
    expect(await db.selectFrom('heartbeat').select('alive_at').execute()).toEqual([{ alive_at: NOW }]);
  });

  it('stores one event per user and number, only in a stream that exists', async () => {
    await expect(db.insertInto('events').values(row(1)).execute()).rejects.toThrow(/FOREIGN KEY/);
    await db.insertInto('event_streams').values({ user_id: aliceId, organization_id: organizationId, last_seq: 1 }).execute();
    await db.insertInto('events').values(row(1)).execute();
    await expect(db.insertInto('events').values(row(1)).execute()).rejects.toThrow(/UNIQUE|PRIMARY KEY/);
    await expect(db.insertInto('event_streams').values({ user_id: 999, organization_id: organizationId, last_seq: 1 }).execute()).rejects.toThrow(/FOREIGN KEY/);
  });

  it('rolls back to 003 with the rows 003 knew still there', async () => {
    await db.insertInto('event_streams').values({ user_id: aliceId, organization_id: organizationId, last_seq: 1 }).execute();
    await db.insertInto('events').values(row(1)).execute();
    await migrateTo(db, '003_durable_state');
    const tables = (await db.introspection.getTables()).map((table) => table.name);
    expect(tables).not.toContain('events');
    expect(tables).not.toContain('event_streams');
    expect(await db.selectFrom('users').select('extension').execute()).toEqual([{ extension: '101' }]);
  });
});
