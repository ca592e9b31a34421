import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { activeCallRow, closeCallsLeftByCrash, CRASH_END_REASON, crashEnd, listActiveCalls } from './active-calls';
import type { ActiveCall, StoredLeg } from './active-calls';
import { listCallRecordsForExtension } from './call-records';
import { writeHeartbeat } from './heartbeat';
import { ensureOrganization } from './organizations';
import type { ActiveCallRow, Database, Organization } from './schema';
import { openTestDatabase, TEST_STORAGES } from './test-support';
import type { TestDatabase } from './test-support';

const leg = (callId: string, transport: StoredLeg['transport'] = 'UDP'): StoredLeg => ({
  callId,
  localTag: `ours-${callId}`,
  remoteTag: `theirs-${callId}`,
  localUri: `<sip:101@demo.offhook.test>;tag=ours-${callId}`,
  remoteUri: '<sip:102@demo.offhook.test>',
  remoteTarget: 'sip:102@192.0.2.20:5070',
  routeSet: ['<sip:edge.offhook.test;lr>'],
  nextCseq: 3,
  transport,
  remoteAddress: '192.0.2.20',
  remotePort: 5070,
});

describe('crashEnd', () => {
  const now = new Date('2025-06-01T13:00:00.000Z');

  it('is the last heartbeat', () => {
    expect(crashEnd('2025-06-01T12:00:00.000Z', '2025-06-01T12:30:00.000Z', now)).toBe('2025-06-01T12:30:00.000Z');
  });

  it('is the answer when the call was answered after the last heartbeat, or when there was none', () => {
    expect(crashEnd('2025-06-01T12:30:02.000Z', '2025-06-01T12:30:00.000Z', now)).toBe('2025-06-01T12:30:02.000Z');
    expect(crashEnd('2025-06-01T12:30:02.000Z', undefined, now)).toBe('2025-06-01T12:30:02.000Z');
  });

  it('is never later than now', () => {
    expect(crashEnd('2025-06-01T12:00:00.000Z', '2025-06-01T14:00:00.000Z', now)).toBe('2025-06-01T13:00:00.000Z');
  });
});

describe.each(TEST_STORAGES)('calls left by a crash (%s)', (storage) => {
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

  const insert = async (rows: ActiveCallRow[]) => {
    await db.insertInto('active_calls').values(rows).execute();
  };
  const active = (id: string, answeredAt: string, legs: StoredLeg[]): ActiveCall => ({
    id,
    record: {
      organization_id: demo.id,
      call_id: `${id}@192.0.2.10`,
      caller_extension: '101',
      caller_name: 'Alice Adams',
      callee: 'Bob Brown',
      callee_extension: '102',
      started_at: '2025-06-01T12:00:00.000Z',
    },
    answeredAt,
    legs,
  });

  it('records each call as answered and ended at the last heartbeat, deletes its row, and hands back its legs', async () => {
    await insert([
      activeCallRow(active('one', '2025-06-01T12:00:05.000Z', [leg('a'), leg('b', 'WS')])),
      activeCallRow(active('two', '2025-06-01T12:10:00.000Z', [leg('c', 'TCP')])),
    ]);
    await writeHeartbeat(db, new Date('2025-06-01T12:09:55.000Z'));

    const crashed = await closeCallsLeftByCrash(db, new Date('2025-06-01T13:00:00.000Z'));

    expect(crashed).toEqual([
      { id: 'one', legs: [leg('a'), leg('b', 'WS')] },
      { id: 'two', legs: [leg('c', 'TCP')] },
    ]);
    expect(await listActiveCalls(db)).toEqual([]);
    const records = await listCallRecordsForExtension(db, demo.id, '101', 10);
    // Newest first (same start, so by id): the second call first.
    expect(records.map((r) => [r.call_id, r.disposition, r.answered_at, r.ended_at, r.end_reason])).toEqual([
      // Answered after the last heartbeat: it was up at least until its answer.
      ['two@192.0.2.10', 'answered', '2025-06-01T12:10:00.000Z', '2025-06-01T12:10:00.000Z', CRASH_END_REASON],
      ['one@192.0.2.10', 'answered', '2025-06-01T12:00:05.000Z', '2025-06-01T12:09:55.000Z', CRASH_END_REASON],
    ]);
  });

  it('still records a call whose legs cannot be read, and hangs none of them up', async () => {
    await insert([{ ...activeCallRow(active('one', '2025-06-01T12:00:05.000Z', [])), legs: '{not json' }]);
    await insert([{ ...activeCallRow(active('two', '2025-06-01T12:00:06.000Z', [])), legs: JSON.stringify([{ callId: 'no more than that' }, leg('d')]) }]);
    const crashed = await closeCallsLeftByCrash(db, new Date('2025-06-01T13:00:00.000Z'));
    expect(crashed).toEqual([
      { id: 'one', legs: [] },
      { id: 'two', legs: [leg('d')] },
    ]);
    expect(await listCallRecordsForExtension(db, demo.id, '101', 10)).toHaveLength(2);
  });

  it('writes the records and deletes the rows together or not at all', async () => {
    await insert([activeCallRow(active('one', '2025-06-01T12:00:05.000Z', [leg('a')]))]);
    // The deletion fails after the records went in: the records must go too, so the next start tries again.
    await sql`create trigger refuse_delete before delete on active_calls begin select raise(abort, 'disk full'); end`.execute(db);
    await expect(closeCallsLeftByCrash(db, new Date())).rejects.toThrow('disk full');
    expect((await listActiveCalls(db)).map((row) => row.id)).toEqual(['one']);
    expect(await listCallRecordsForExtension(db, demo.id, '101', 10)).toEqual([]);
  });

  it('finds nothing to do after a clean stop', async () => {
    expect(await closeCallsLeftByCrash(db, new Date())).toEqual([]);
    expect(await listCallRecordsForExtension(db, demo.id, '101', 10)).toEqual([]);
  });
});
