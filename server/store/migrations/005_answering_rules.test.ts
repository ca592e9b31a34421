import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateTo } from '../migrate';
import type { Database } from '../schema';
import { openTestDatabase, TEST_STORAGES } from '../test-support';
import type { TestDatabase } from '../test-support';

const NOW = '2026-12-08T10:00:00.000Z';

describe.each(TEST_STORAGES)('migration 005_answering_rules (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let organizationId: number;
  let aliceId: number;

  // A database as 004 left it, with an organization, a user and an event in it.
  beforeEach(async () => {
    store = await openTestDatabase(storage, { migrate: false });
    db = store.db;
    await migrateTo(db, '004_event_stream');
    organizationId = (await db.insertInto('organizations').values({ name: 'Demo Company', domain: 'demo.offhook.test', created_at: NOW }).returning('id').executeTakeFirstOrThrow()).id;
    aliceId = (
      await db
        .insertInto('users')
        .values({ organization_id: organizationId, extension: '101', display_name: 'Alice Adams', role: 'user', password_hash: 'scrypt$x', created_at: NOW, updated_at: NOW })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id;
    await db.insertInto('event_streams').values({ user_id: aliceId, organization_id: organizationId, last_seq: 1 }).execute();
    expect(await migrateTo(db, '005_answering_rules')).toEqual(['005_answering_rules']);
  });
  afterEach(async () => {
    await store.close();
  });

  const frame = (userId: number | null) => ({ organization_id: organizationId, user_id: userId, name: 'Business hours', spec: '{"type":"always"}', created_at: NOW, updated_at: NOW });
  const rule = (timeFrameId: number, priority = 1) => ({
    organization_id: organizationId,
    user_id: aliceId,
    name: 'Office',
    priority,
    enabled: 1,
    time_frame_id: timeFrameId,
    action: '{"type":"forward","to":{"type":"voicemail"}}',
    created_at: NOW,
    updated_at: NOW,
  });

  it('keeps every row 004 knew, and gives existing organizations UTC', async () => {
    expect(await db.selectFrom('organizations').select(['domain', 'time_zone']).execute()).toEqual([{ domain: 'demo.offhook.test', time_zone: 'UTC' }]);
    expect(await db.selectFrom('users').select('extension').execute()).toEqual([{ extension: '101' }]);
    expect(await db.selectFrom('event_streams').select('last_seq').execute()).toEqual([{ last_seq: 1 }]);
  });

  it("stores a user's and the organization's frames, and rules only on a frame that exists, never deleting a frame in use", async () => {
    const own = (await db.insertInto('time_frames').values(frame(aliceId)).returning('id').executeTakeFirstOrThrow()).id;
    const shared = (await db.insertInto('time_frames').values(frame(null)).returning('id').executeTakeFirstOrThrow()).id;
    await db.insertInto('answering_rules').values(rule(shared)).execute();
    await expect(db.insertInto('answering_rules').values(rule(999)).execute()).rejects.toThrow(/FOREIGN KEY/);
    await expect(db.insertInto('answering_rules').values(rule(own, 0)).execute()).rejects.toThrow(/CHECK/);
    await expect(db.deleteFrom('time_frames').where('id', '=', shared).execute()).rejects.toThrow(/FOREIGN KEY/);
    await db.deleteFrom('time_frames').where('id', '=', own).execute();
    // A user who goes takes their rules and frames along.
    await db.deleteFrom('event_streams').execute();
    await db.insertInto('time_frames').values(frame(aliceId)).execute();
    await db.deleteFrom('users').where('id', '=', aliceId).execute();
    expect(await db.selectFrom('answering_rules').select('id').execute()).toEqual([]);
    expect(await db.selectFrom('time_frames').select('user_id').execute()).toEqual([{ user_id: null }]);
  });

  it('rolls back to 004 with the rows 004 knew still there', async () => {
    const shared = (await db.insertInto('time_frames').values(frame(null)).returning('id').executeTakeFirstOrThrow()).id;
    await db.insertInto('answering_rules').values(rule(shared)).execute();
    await migrateTo(db, '004_event_stream');
    const tables = await db.introspection.getTables();
    const names = tables.map((table) => table.name);
    expect(names).not.toContain('time_frames');
    expect(names).not.toContain('answering_rules');
    expect(tables.find((table) => table.name === 'organizations')?.columns.map((column) => column.name)).not.toContain('time_zone');
    expect(await db.selectFrom('users').select('extension').execute()).toEqual([{ extension: '101' }]);
  });
});
