import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { seedDemo } from './demo';
import { getDoNotDisturb, setDoNotDisturb } from './do-not-disturb';
import type { Database } from './schema';
import { openTestDatabase } from './test-support';
import type { TestDatabase } from './test-support';

describe('do not disturb in the store', () => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let alice: { organizationId: number; userId: number };
  let bob: { organizationId: number; userId: number };

  beforeEach(async () => {
    store = await openTestDatabase('memory');
    db = store.db;
    const { organization, users } = await seedDemo(db);
    alice = { organizationId: organization.id, userId: users.find((u) => u.extension === '101')!.id };
    bob = { organizationId: organization.id, userId: users.find((u) => u.extension === '102')!.id };
  });
  afterEach(async () => {
    await store.close();
  });

  it('is off until set, then what was set last, per user', async () => {
    expect(await getDoNotDisturb(db, alice)).toBe(false);
    await setDoNotDisturb(db, alice, true);
    expect(await getDoNotDisturb(db, alice)).toBe(true);
    expect(await getDoNotDisturb(db, bob)).toBe(false);
    await setDoNotDisturb(db, alice, false);
    expect(await getDoNotDisturb(db, alice)).toBe(false);
  });

  it('reads nothing of a user through another organization', async () => {
    await setDoNotDisturb(db, alice, true);
    expect(await getDoNotDisturb(db, { organizationId: alice.organizationId + 1, userId: alice.userId })).toBe(false);
  });
});
