import SqliteDatabase from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ensureOrganization } from './organizations';
import { loadRegistrations, RegistrationWriter } from './registrations';
import type { Database, Organization, StoredRegistration } from './schema';
import { openTestDatabase, TEST_STORAGES } from './test-support';
import type { TestDatabase } from './test-support';

describe.each(TEST_STORAGES)('registrations (%s)', (storage) => {
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

  const binding = (extension: string, port: number, expiresAt: string, extra: Partial<StoredRegistration> = {}): StoredRegistration => ({
    organization_id: demo.id,
    extension,
    binding_key: `sip:${extension}@192.0.2.7:${port}`,
    contact: `<sip:${extension}@192.0.2.7:${port}>`,
    path: '[]',
    transport: 'UDP',
    remote_address: '192.0.2.7',
    remote_port: port,
    call_id: `reg-${extension}-${port}`,
    cseq: 1,
    expires_at: expiresAt,
    user_agent: 'Desk 1.0',
    ...extra,
  });
  const all = () => db.selectFrom('registrations').selectAll().orderBy('extension').orderBy('remote_port').execute();

  it('stores what a few milliseconds of REGISTERs change in one transaction, each promise settling once it is in', async () => {
    const writer = new RegistrationWriter(db);
    const transaction = vi.spyOn(SqliteDatabase.prototype, 'transaction');
    await Promise.all([writer.save(binding('101', 5070, '2025-06-01T12:10:00.000Z')), writer.save(binding('102', 5080, '2025-06-01T12:10:00.000Z'))]);
    expect(transaction).toHaveBeenCalledTimes(1);
    expect((await all()).map((row) => row.extension)).toEqual(['101', '102']);
  });

  it('refreshes a binding in place, and deletes it on unregister; of changes to one binding in a batch the last counts', async () => {
    const writer = new RegistrationWriter(db);
    await writer.save(binding('101', 5070, '2025-06-01T12:10:00.000Z'));
    await writer.save(binding('101', 5070, '2025-06-01T12:20:00.000Z', { cseq: 2 }));
    expect((await all()).map((row) => [row.expires_at, row.cseq])).toEqual([['2025-06-01T12:20:00.000Z', 2]]);

    const key = { organization_id: demo.id, extension: '101', binding_key: 'sip:101@192.0.2.7:5070' };
    await Promise.all([writer.remove(key), writer.save(binding('101', 5070, '2025-06-01T12:30:00.000Z', { cseq: 3 }))]);
    expect((await all()).map((row) => row.cseq)).toEqual([3]);
    await Promise.all([writer.save(binding('101', 5070, '2025-06-01T12:40:00.000Z', { cseq: 4 })), writer.remove(key), writer.save(binding('101', 5071, '2025-06-01T12:40:00.000Z'))]);
    expect((await all()).map((row) => row.remote_port)).toEqual([5071]);
  });

  it('loses no other change when one fails', async () => {
    const writer = new RegistrationWriter(db);
    const good = writer.save(binding('101', 5070, '2025-06-01T12:10:00.000Z'));
    const bad = writer.save(binding('102', 5080, '2025-06-01T12:10:00.000Z', { organization_id: 9_999 })).catch((error: unknown) => error);
    await writer.flush();
    await expect(good).resolves.toBeUndefined();
    expect(String(await bad)).toMatch(/FOREIGN KEY/i);
    expect((await all()).map((row) => row.extension)).toEqual(['101']);
  });

  it('loads the bindings still running at start, latest expiry first, and deletes those that ran out', async () => {
    const writer = new RegistrationWriter(db);
    await Promise.all([
      writer.save(binding('101', 5070, '2025-06-01T12:10:00.000Z')),
      writer.save(binding('102', 5080, '2025-06-01T12:20:00.000Z', { transport: 'TCP', path: '["<sip:edge.offhook.test;lr>"]', user_agent: null })),
      writer.save(binding('103', 5090, '2025-06-01T11:59:59.999Z')),
    ]);
    const loaded = await loadRegistrations(db, new Date('2025-06-01T12:00:00.000Z'));
    expect(loaded).toEqual([
      binding('102', 5080, '2025-06-01T12:20:00.000Z', { transport: 'TCP', path: '["<sip:edge.offhook.test;lr>"]', user_agent: null }),
      binding('101', 5070, '2025-06-01T12:10:00.000Z'),
    ]);
    expect((await all()).map((row) => row.extension)).toEqual(['101', '102']);
  });

  it('goes with its organization', async () => {
    const writer = new RegistrationWriter(db);
    await writer.save(binding('101', 5070, '2025-06-01T12:10:00.000Z'));
    await db.deleteFrom('organizations').where('id', '=', demo.id).execute();
    expect(await all()).toEqual([]);
  });
});
