import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { insertCallRecord, listCallRecordsForExtension } from './call-records';
import type { NewCallRecord } from './call-records';
import { ensureOrganization } from './organizations';
import type { Database, Organization } from './schema';
import { openTestDatabase, TEST_STORAGES } from './test-support';
import type { TestDatabase } from './test-support';

describe.each(TEST_STORAGES)('call records (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let demo: Organization;
  beforeEach(async () => {
    store = await openTestDatabase(storage);
    db = store.db;
    demo = await ensureOrganization(db, { name: 'Demo Company', domain: 'demo.offhook.test' });
  });
  afterEach(async () => {
    await store.close();
  });

  const call = (caller: string, callee: string, startedAt: string, extra: Partial<NewCallRecord> = {}): NewCallRecord => ({
    organization_id: demo.id,
    call_id: `${caller}-${callee}-${startedAt}@offhook.test`,
    caller_extension: caller,
    caller_name: `Caller ${caller}`,
    callee,
    callee_extension: callee,
    started_at: startedAt,
    answered_at: null,
    ended_at: null,
    disposition: 'missed',
    end_reason: null,
    ...extra,
  });

  it('keeps a complete record as it was written', async () => {
    const record = call('101', '102', '2025-06-01T12:00:00.000Z', {
      answered_at: '2025-06-01T12:00:05.000Z',
      ended_at: '2025-06-01T12:03:00.000Z',
      disposition: 'answered',
      end_reason: 'caller hung up',
    });
    const id = await insertCallRecord(db, record);
    expect(await listCallRecordsForExtension(db, demo.id, '102', 10)).toEqual([{ ...record, id }]);
  });

  it("lists an extension's calls both ways, newest first, up to a limit", async () => {
    await insertCallRecord(db, call('101', '102', '2025-06-01T09:00:00.000Z'));
    await insertCallRecord(db, call('102', '101', '2025-06-01T10:00:00.000Z', { disposition: 'answered' }));
    await insertCallRecord(db, call('102', '103', '2025-06-01T11:00:00.000Z'));
    await insertCallRecord(db, call('101', '*97', '2025-06-01T12:00:00.000Z', { callee_extension: null, disposition: 'failed' }));
    const other = await ensureOrganization(db, { name: 'Other', domain: 'other.offhook.test' });
    await insertCallRecord(db, { ...call('101', '102', '2025-06-01T13:00:00.000Z'), organization_id: other.id });

    const history = await listCallRecordsForExtension(db, demo.id, '101', 10);
    expect(history.map((record) => [record.caller_extension, record.callee])).toEqual([
      ['101', '*97'],
      ['102', '101'],
      ['101', '102'],
    ]);
    expect((await listCallRecordsForExtension(db, demo.id, '101', 2)).map((record) => record.started_at)).toEqual([
      '2025-06-01T12:00:00.000Z',
      '2025-06-01T10:00:00.000Z',
    ]);
    expect(await listCallRecordsForExtension(db, demo.id, '103', 10)).toHaveLength(1);
    expect(await listCallRecordsForExtension(db, demo.id, '104', 10)).toEqual([]);
  });

  it('orders calls that started in the same millisecond by when they were recorded', async () => {
    const first = await insertCallRecord(db, call('101', '102', '2025-06-01T12:00:00.000Z'));
    const second = await insertCallRecord(db, call('103', '101', '2025-06-01T12:00:00.000Z'));
    expect((await listCallRecordsForExtension(db, demo.id, '101', 10)).map((record) => record.id)).toEqual([second, first]);
  });

  it('refuses a limit that is not a positive integer', async () => {
    await expect(listCallRecordsForExtension(db, demo.id, '101', 0)).rejects.toThrow('limit must be a positive integer, got 0');
    await expect(listCallRecordsForExtension(db, demo.id, '101', 1.5)).rejects.toThrow(/positive integer/);
  });
});
