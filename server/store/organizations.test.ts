import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureOrganization, findOrganizationByDomain, getOrganizationById, listOrganizations } from './organizations';
import type { Database } from './schema';
import { openTestDatabase, TEST_STORAGES } from './test-support';
import type { TestDatabase } from './test-support';

describe.each(TEST_STORAGES)('organizations (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  beforeEach(async () => {
    store = await openTestDatabase(storage);
    db = store.db;
  });
  afterEach(async () => {
    await store.close();
  });

  it('creates an organization once per domain', async () => {
    const first = await ensureOrganization(db, { name: 'Demo Company', domain: 'demo.offhook.test' });
    expect(first).toMatchObject({ name: 'Demo Company', domain: 'demo.offhook.test' });
    expect(new Date(first.created_at).toISOString()).toBe(first.created_at);

    const again = await ensureOrganization(db, { name: 'Renamed', domain: 'Demo.Offhook.Test' });
    expect(again).toEqual(first);
    expect(await listOrganizations(db)).toHaveLength(1);
  });

  it('finds an organization by domain without regard to case, and by id', async () => {
    const created = await ensureOrganization(db, { name: 'Demo Company', domain: 'DEMO.offhook.test' });
    expect(created.domain).toBe('demo.offhook.test');
    expect(await findOrganizationByDomain(db, 'demo.OFFHOOK.test')).toEqual(created);
    expect(await findOrganizationByDomain(db, 'other.offhook.test')).toBeUndefined();
    expect(await getOrganizationById(db, created.id)).toEqual(created);
    expect(await getOrganizationById(db, created.id + 1)).toBeUndefined();
  });

  it('lists organizations by name', async () => {
    await ensureOrganization(db, { name: 'Zeta Works', domain: 'zeta.offhook.test' });
    await ensureOrganization(db, { name: 'Acme', domain: 'acme.offhook.test' });
    expect((await listOrganizations(db)).map((org) => org.name)).toEqual(['Acme', 'Zeta Works']);
  });

  it('refuses an organization without a name or a domain', async () => {
    await expect(ensureOrganization(db, { name: 'Demo', domain: ' ' })).rejects.toThrow('an organization needs a domain');
    await expect(ensureOrganization(db, { name: '', domain: 'demo.offhook.test' })).rejects.toThrow(
      'organization demo.offhook.test needs a name',
    );
  });
});
