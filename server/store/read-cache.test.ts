import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { storeVersion } from './db';
import { ensureOrganization } from './organizations';
import { ReadCache } from './read-cache';
import { openTestDatabase } from './test-support';
import type { TestDatabase } from './test-support';

describe('ReadCache', () => {
  let store: TestDatabase;
  beforeEach(async () => {
    store = await openTestDatabase('memory');
  });
  afterEach(async () => {
    await store.close();
  });

  /** A load that counts its calls and answers with the count. */
  function counter() {
    let calls = 0;
    const load = async () => ({ calls: ++calls });
    return { load, calls: () => calls };
  }

  it('keeps the least recently used answers up to its capacity', async () => {
    const cache = new ReadCache<{ calls: number }>(2);
    const a = counter();
    const b = counter();
    const c = counter();
    await cache.get(store.db, 'a', a.load);
    await cache.get(store.db, 'b', b.load);
    await cache.get(store.db, 'a', a.load);
    await cache.get(store.db, 'c', c.load);
    expect(cache.size).toBe(2);
    await cache.get(store.db, 'a', a.load);
    await cache.get(store.db, 'b', b.load);
    expect([a.calls(), b.calls(), c.calls()]).toEqual([1, 2, 1]);
  });

  it('moves its version with writes but not with reads or call records, and keeps nothing read while a write ran', async () => {
    const db = store.db;
    const before = storeVersion(db);
    await db.selectFrom('users').selectAll().execute();
    expect(storeVersion(db)).toBe(before);
    const organization = await ensureOrganization(db, { name: 'Demo Company', domain: 'demo.offhook.test' });
    const afterWrite = storeVersion(db);
    expect(afterWrite).not.toBe(before);
    await db
      .insertInto('call_records')
      .values({ organization_id: organization.id, call_id: 'x', caller_extension: '101', caller_name: 'A', callee: 'B', callee_extension: '102', started_at: 'now', answered_at: null, ended_at: null, disposition: 'missed', end_reason: null })
      .execute();
    expect(storeVersion(db)).toBe(afterWrite);

    const cache = new ReadCache<{ calls: number }>();
    let calls = 0;
    const loadDuringWrite = async () => {
      await db.updateTable('organizations').set({ name: `Renamed ${calls}` }).execute();
      return { calls: ++calls };
    };
    await cache.get(db, 'k', loadDuringWrite);
    await cache.get(db, 'k', loadDuringWrite);
    expect(calls).toBe(2);
    expect(cache.size).toBe(0);
  });

  it('moves its version with updates and deletes too, but not with the per-call and per-REGISTER tables', async () => {
    const db = store.db;
    const organization = await ensureOrganization(db, { name: 'Demo Company', domain: 'demo.offhook.test' });
    let version = storeVersion(db);
    const moved = () => {
      const now = storeVersion(db);
      const changed = now !== version;
      version = now;
      return changed;
    };
    await db.updateTable('organizations').set({ name: 'Renamed' }).execute();
    expect(moved()).toBe(true);
    await db.deleteFrom('sessions').execute();
    expect(moved()).toBe(true);

    const registration = { organization_id: organization.id, extension: '101', binding_key: 'k', contact: '<sip:101@192.0.2.7>', path: '[]', transport: 'UDP' as const, remote_address: '192.0.2.7', remote_port: 5060, call_id: 'r', cseq: 1, expires_at: 'later', user_agent: null };
    await db.insertInto('registrations').values(registration).execute();
    await db.updateTable('registrations').set({ cseq: 2 }).execute();
    await db.deleteFrom('registrations').execute();
    const call = { id: 'c', organization_id: organization.id, call_id: 'x', caller_extension: '101', caller_name: 'A', callee: 'B', callee_extension: '102', started_at: 'now', answered_at: 'now', legs: '[]' };
    await db.insertInto('active_calls').values(call).execute();
    await db.updateTable('active_calls').set({ legs: '[{}]' }).execute();
    await db.deleteFrom('active_calls').execute();
    await db.insertInto('heartbeat').values({ id: 1, alive_at: 'now' }).execute();
    await db.updateTable('heartbeat').set({ alive_at: 'later' }).execute();
    expect(moved()).toBe(false);
  });

  it('does not keep an answer of nothing', async () => {
    const cache = new ReadCache<{ calls: number }>();
    let calls = 0;
    const load = async () => {
      calls++;
      return undefined;
    };
    await cache.get(store.db, 'k', load);
    await cache.get(store.db, 'k', load);
    expect(calls).toBe(2);
  });
});
