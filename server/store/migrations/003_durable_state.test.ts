import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrateTo } from '../migrate';
import type { Database } from '../schema';
import { openTestDatabase, TEST_STORAGES } from '../test-support';
import type { TestDatabase } from '../test-support';

const NOW = '2025-01-02T03:04:05.678Z';

describe.each(TEST_STORAGES)('migration 003_durable_state (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let organizationId: number;
  let aliceId: number;

  // A database as 002 left it, with people, a session, a device password and a call record in it.
  beforeEach(async () => {
    store = await openTestDatabase(storage, { migrate: false });
    db = store.db;
    await migrateTo(db, '002_device_credentials');
    organizationId = (await db.insertInto('organizations').values({ name: 'Demo Company', domain: 'demo.offhook.test', created_at: NOW }).returning('id').executeTakeFirstOrThrow()).id;
    const user = (extension: string, name: string) => ({
      organization_id: organizationId,
      extension,
      display_name: name,
      role: 'user' as const,
      password_hash: 'scrypt$32768$8$1$c2FsdA==$a2V5',
      created_at: NOW,
      updated_at: NOW,
    });
    aliceId = (await db.insertInto('users').values(user('101', 'Alice Adams')).returning('id').executeTakeFirstOrThrow()).id;
    await db.insertInto('users').values(user('102', 'Bob Brown')).execute();
    await db
      .insertInto('sessions')
      .values({ user_id: aliceId, token_hash: 'a'.repeat(64), sip_ha1_md5: '0'.repeat(32), sip_ha1_sha256: '0'.repeat(64), created_at: NOW, expires_at: NOW })
      .execute();
    await db.insertInto('device_credentials').values({ user_id: aliceId, label: 'desk phone', ha1_md5: '1'.repeat(32), ha1_sha256: '1'.repeat(64), created_at: NOW }).execute();
    await db.insertInto('call_records').values(callRecord()).execute();
    expect(await migrateTo(db, '003_durable_state')).toEqual(['003_durable_state']);
  });
  afterEach(async () => {
    await store.close();
  });

  const callRecord = () => ({
    organization_id: organizationId,
    call_id: 'c1@192.0.2.10',
    caller_extension: '101',
    caller_name: 'Alice Adams',
    callee: 'Bob Brown',
    callee_extension: '102',
    started_at: NOW,
    answered_at: NOW,
    ended_at: NOW,
    disposition: 'answered' as const,
    end_reason: 'caller hung up',
  });
  const registration = (extra: Partial<Database['registrations']> = {}) => ({
    organization_id: organizationId,
    extension: '101',
    binding_key: 'sip:101@192.0.2.7:5070',
    contact: '<sip:101@192.0.2.7:5070>',
    path: '[]',
    transport: 'UDP' as const,
    remote_address: '192.0.2.7',
    remote_port: 5070,
    call_id: 'reg-1',
    cseq: 1,
    expires_at: NOW,
    user_agent: null,
    ...extra,
  });
  const activeCall = () => ({
    id: 'call-1',
    organization_id: organizationId,
    call_id: 'c2@192.0.2.10',
    caller_extension: '101',
    caller_name: 'Alice Adams',
    callee: 'Bob Brown',
    callee_extension: '102',
    started_at: NOW,
    answered_at: NOW,
    legs: '[]',
  });

  it('keeps every row 002 knew', async () => {
    expect(await db.selectFrom('users').select('extension').orderBy('extension').execute()).toEqual([{ extension: '101' }, { extension: '102' }]);
    expect(await db.selectFrom('sessions').select('user_id').execute()).toEqual([{ user_id: aliceId }]);
    expect(await db.selectFrom('device_credentials').select('label').execute()).toEqual([{ label: 'desk phone' }]);
    expect(await db.selectFrom('call_records').select(['call_id', 'end_reason']).execute()).toEqual([{ call_id: 'c1@192.0.2.10', end_reason: 'caller hung up' }]);
  });

  it('stores one registration per user and binding key, over UDP, TCP or TLS only', async () => {
    await db.insertInto('registrations').values(registration()).execute();
    await db.insertInto('registrations').values(registration({ binding_key: 'sip:101@192.0.2.7:5080', transport: 'TLS' })).execute();
    await expect(db.insertInto('registrations').values(registration()).execute()).rejects.toThrow(/UNIQUE|PRIMARY KEY/);
    await expect(db.insertInto('registrations').values(registration({ binding_key: 'ws', transport: 'WS' as 'UDP' })).execute()).rejects.toThrow(/CHECK/);
    await expect(db.insertInto('registrations').values(registration({ organization_id: 999 })).execute()).rejects.toThrow(/FOREIGN KEY/);
  });

  it('stores active calls by id and a single heartbeat', async () => {
    await db.insertInto('active_calls').values(activeCall()).execute();
    await expect(db.insertInto('active_calls').values(activeCall()).execute()).rejects.toThrow(/UNIQUE|PRIMARY KEY/);
    await expect(db.insertInto('active_calls').values({ ...activeCall(), id: 'call-2', organization_id: 999 }).execute()).rejects.toThrow(/FOREIGN KEY/);
    await db.insertInto('heartbeat').values({ id: 1, alive_at: NOW }).execute();
    await expect(db.insertInto('heartbeat').values({ id: 2, alive_at: NOW }).execute()).rejects.toThrow(/CHECK/);
  });

  it('deletes registrations and active calls with their organization', async () => {
    await db.insertInto('registrations').values(registration()).execute();
    await db.insertInto('active_calls').values(activeCall()).execute();
    await db.deleteFrom('organizations').where('id', '=', organizationId).execute();
    expect(await db.selectFrom('registrations').select('extension').execute()).toEqual([]);
    expect(await db.selectFrom('active_calls').select('id').execute()).toEqual([]);
  });

  it('rolls back to 002 with the rows 002 knew still there', async () => {
    await db.insertInto('registrations').values(registration()).execute();
    await db.insertInto('active_calls').values(activeCall()).execute();
    await migrateTo(db, '002_device_credentials');
    const tables = (await db.introspection.getTables()).map((table) => table.name);
    expect(tables).not.toContain('registrations');
    expect(tables).not.toContain('active_calls');
    expect(tables).not.toContain('heartbeat');
    expect(await db.selectFrom('call_records').select('call_id').execute()).toEqual([{ call_id: 'c1@192.0.2.10' }]);
    expect(await db.selectFrom('device_credentials').select('label').execute()).toEqual([{ label: 'desk phone' }]);
  });
});
