import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateTo } from '../migrate';
import type { Database } from '../schema';
import { TEST_STORAGES } from '../test-support';
import type { TestDatabase } from '../test-support';
import { databaseBefore, MIGRATION_TEST_NOW } from './test-before';

const NOW = MIGRATION_TEST_NOW;

describe.each(TEST_STORAGES)('migration 006_voicemail (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let organizationId: number;
  let aliceId: number;

  // A database as 005 left it, with an organization, a user and a time frame in it.
  beforeEach(async () => {
    ({ store, db, organizationId, aliceId } = await databaseBefore(storage, '006_voicemail'));
    await db.insertInto('time_frames').values({ organization_id: organizationId, user_id: aliceId, name: 'Always', spec: '{"type":"always"}', created_at: NOW, updated_at: NOW }).execute();
    expect(await migrateTo(db, '006_voicemail')).toEqual(['006_voicemail']);
  });
  afterEach(async () => {
    await store.close();
  });

  const row = (fields: Record<string, unknown> = {}) => ({
    organization_id: organizationId,
    user_id: aliceId,
    caller_name: 'Bob Brown',
    caller_number: '102',
    caller_extension: '102',
    received_at: NOW,
    duration_ms: 3000,
    file: 'voicemail/1/a.opus',
    size_bytes: 900,
    reason: 'no-answer',
    ...fields,
  });

  it('keeps every row 005 knew', async () => {
    expect(await db.selectFrom('users').select('extension').execute()).toEqual([{ extension: '101' }]);
    expect(await db.selectFrom('time_frames').select('name').execute()).toEqual([{ name: 'Always' }]);
  });

  it('stores a message as new and narrowband by default, and refuses what cannot be', async () => {
    await db.insertInto('voicemails').values(row()).execute();
    expect(await db.selectFrom('voicemails').select(['status', 'wideband']).execute()).toEqual([{ status: 'new', wideband: 0 }]);
    await expect(db.insertInto('voicemails').values(row({ file: 'b', status: 'heard' })).execute()).rejects.toThrow(/CHECK/);
    await expect(db.insertInto('voicemails').values(row({ file: 'c', duration_ms: -1 })).execute()).rejects.toThrow(/CHECK/);
    await expect(db.insertInto('voicemails').values(row({ file: 'd', user_id: 999 })).execute()).rejects.toThrow(/FOREIGN KEY/);
    await expect(db.insertInto('voicemails').values(row()).execute()).rejects.toThrow(/UNIQUE/);
  });

  it("drops a user's messages and mailbox with the user", async () => {
    await db.insertInto('voicemails').values(row()).execute();
    await db.insertInto('mailboxes').values({ user_id: aliceId, pin_hash: 'scrypt$y', updated_at: NOW }).execute();
    await db.deleteFrom('users').where('id', '=', aliceId).execute();
    expect(await db.selectFrom('voicemails').selectAll().execute()).toEqual([]);
    expect(await db.selectFrom('mailboxes').selectAll().execute()).toEqual([]);
  });

  it('goes down again to what 005 left', async () => {
    await migrateTo(db, '005_answering_rules');
    const tables = (await db.introspection.getTables()).map((table) => table.name);
    expect(tables).not.toContain('voicemails');
    expect(tables).not.toContain('mailboxes');
    expect(tables).toContain('time_frames');
  });
});
