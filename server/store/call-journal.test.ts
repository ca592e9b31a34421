import SqliteDatabase from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ActiveCall, StoredLeg } from './active-calls';
import { listActiveCalls } from './active-calls';
import { CallJournal } from './call-journal';
import { listCallRecordsForExtension } from './call-records';
import type { NewCallRecord } from './call-records';
import { ensureOrganization } from './organizations';
import type { Database, Organization } from './schema';
import { openTestDatabase, TEST_STORAGES } from './test-support';
import type { TestDatabase } from './test-support';

const LEG: StoredLeg = {
  callId: 'leg-1@192.0.2.10',
  localTag: 'pbx1',
  remoteTag: 'phone1',
  localUri: '<sip:102@demo.offhook.test>;tag=pbx1',
  remoteUri: '<sip:101@demo.offhook.test>;tag=phone1',
  remoteTarget: 'sip:101@192.0.2.10:5062',
  routeSet: [],
  nextCseq: 1,
  transport: 'UDP',
  remoteAddress: '192.0.2.10',
  remotePort: 5062,
};

describe.each(TEST_STORAGES)('call journal (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let demo: Organization;
  beforeEach(async () => {
    store = await openTestDatabase(storage);
    db = store.db;
    demo = await ensureOrganization(db, { name: 'Demo Company', domain: 'demo.offhook.test' });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
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

  const answered = (id: string, organizationId = demo.id): ActiveCall => ({
    id,
    record: { ...call('101', '102', '2025-06-01T12:00:00.000Z'), organization_id: organizationId },
    answeredAt: '2025-06-01T12:00:04.000Z',
    legs: [LEG],
  });

  it('writes the records queued in one turn in one transaction, each settling once it is written', async () => {
    const journal = new CallJournal(db);
    const transaction = vi.spyOn(SqliteDatabase.prototype, 'transaction');
    await Promise.all(['102', '103', '104'].map((callee, i) => journal.ended(call('101', callee, `2025-06-01T12:00:0${i}.000Z`))));
    expect(transaction).toHaveBeenCalledTimes(1);
    await journal.ended(call('101', '105', '2025-06-01T12:00:03.000Z', { ended_at: '2025-06-01T12:01:00.000Z', end_reason: 'hung up' }));
    expect(transaction).toHaveBeenCalledTimes(2);
    const rows = await listCallRecordsForExtension(db, demo.id, '101', 10);
    expect(rows.map((r) => [r.callee_extension, r.end_reason])).toEqual([['105', 'hung up'], ['104', null], ['103', null], ['102', null]]);
  });

  it('writes a long queue in one transaction', async () => {
    const journal = new CallJournal(db);
    const transaction = vi.spyOn(SqliteDatabase.prototype, 'transaction');
    await Promise.all(Array.from({ length: 150 }, (_, i) => journal.ended(call('101', String(200 + i), '2025-06-01T12:00:00.000Z'))));
    expect(transaction).toHaveBeenCalledTimes(1);
    expect(await listCallRecordsForExtension(db, demo.id, '101', 500)).toHaveLength(150);
  });

  it('loses no other write when one in the batch fails, and flush() waits for everything queued', async () => {
    const journal = new CallJournal(db);
    const good = journal.ended(call('101', '102', '2025-06-01T12:00:00.000Z'));
    const bad = journal.ended(call('101', '103', '2025-06-01T12:00:01.000Z', { organization_id: 9_999 })).catch((error: unknown) => error);
    const alsoGood = journal.ended(call('101', '104', '2025-06-01T12:00:02.000Z'));
    await journal.flush();
    expect(String(await bad)).toMatch(/FOREIGN KEY/i);
    await expect(good).resolves.toBeUndefined();
    await expect(alsoGood).resolves.toBeUndefined();
    expect((await listCallRecordsForExtension(db, demo.id, '101', 10)).map((r) => r.callee_extension)).toEqual(['104', '102']);
  });

  it('has an answered call stored when its promise resolves, without waiting for the records window', async () => {
    // Records may wait 50 ms; an answer holds up the caller's 200, so it goes after a few.
    const journal = new CallJournal(db, 0);
    const record = journal.ended(call('101', '103', '2025-06-01T11:00:00.000Z'));
    await journal.answered(answered('call-a'));
    const [row] = await listActiveCalls(db);
    expect(row).toMatchObject({ id: 'call-a', caller_extension: '101', callee_extension: '102', answered_at: '2025-06-01T12:00:04.000Z' });
    expect(JSON.parse(row?.legs ?? '[]')).toEqual([LEG]);
    // The record queued before it went along in the same batch.
    expect(await listCallRecordsForExtension(db, demo.id, '103', 10)).toHaveLength(1);
    await record;
  });

  it("inserts an answered call's record and deletes its row in one transaction, and keeps the row when the record fails", async () => {
    const journal = new CallJournal(db, 0);
    await journal.answered(answered('call-a'));
    await journal.answered(answered('call-b'));
    await journal.legsChanged('call-a', [LEG, { ...LEG, callId: 'leg-2@192.0.2.20', nextCseq: 7 }]);
    expect(JSON.parse((await listActiveCalls(db)).find((row) => row.id === 'call-a')?.legs ?? '')).toHaveLength(2);

    await journal.ended(call('101', '102', '2025-06-01T12:00:00.000Z', { answered_at: '2025-06-01T12:00:04.000Z', ended_at: '2025-06-01T12:05:00.000Z', disposition: 'answered' }), 'call-a');
    const failed = journal.ended(call('101', '102', '2025-06-01T12:00:00.000Z', { organization_id: 9_999 }), 'call-b').catch((error: unknown) => error);
    expect(String(await failed)).toMatch(/FOREIGN KEY/i);
    expect((await listActiveCalls(db)).map((row) => row.id)).toEqual(['call-b']);
    expect((await listCallRecordsForExtension(db, demo.id, '102', 10)).map((r) => r.ended_at)).toEqual(['2025-06-01T12:05:00.000Z']);
  });

  it('inserts and deletes a call answered and ended within one batch', async () => {
    const journal = new CallJournal(db, 600_000);
    const stored = journal.answered(answered('call-a'));
    const ended = journal.ended(call('101', '102', '2025-06-01T12:00:00.000Z', { disposition: 'answered' }), 'call-a');
    await journal.flush();
    await Promise.all([stored, ended]);
    expect(await listActiveCalls(db)).toEqual([]);
    expect(await listCallRecordsForExtension(db, demo.id, '102', 10)).toHaveLength(1);
  });
});
