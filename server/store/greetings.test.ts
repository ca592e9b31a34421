import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countGreetings, deleteGreeting, findActiveGreeting, findGreeting, insertGreeting, listGreetings, renameGreeting, setGreetingActive } from './greetings';
import type { GreetingOwner } from './greetings';
import { seedPeople } from './test-people';
import { openTestDatabase, TEST_STORAGES } from './test-support';
import type { TestDatabase } from './test-support';

describe.each(TEST_STORAGES)('greetings store (%s)', (storage) => {
  let store: TestDatabase;
  let alice: GreetingOwner;
  let bob: GreetingOwner;
  let stranger: GreetingOwner;

  beforeEach(async () => {
    store = await openTestDatabase(storage);
    const demo = await seedPeople(store.db, 'demo.test', ['101', '102']);
    const other = await seedPeople(store.db, 'other.test', ['101']);
    alice = { organizationId: demo.organizationId, userId: demo.userIds[0]! };
    bob = { organizationId: demo.organizationId, userId: demo.userIds[1]! };
    stranger = { organizationId: other.organizationId, userId: other.userIds[0]! };
  });
  afterEach(() => store.close());

  let files = 0;
  const add = (owner: GreetingOwner, name: string, createdAt = '2026-12-08T10:00:00.000Z') =>
    insertGreeting(store.db, owner, { name, file: `greetings/${++files}.opus`, durationMs: 4200, createdAt });

  it('lists a user their own greetings, newest first, none active at first', async () => {
    const first = await add(alice, 'Office', '2026-12-08T10:00:00.000Z');
    const second = await add(alice, 'Holidays', '2026-12-09T10:00:00.000Z');
    await add(bob, "Bob's");
    expect(first).toMatchObject({ name: 'Office', durationMs: 4200, active: false });
    expect((await listGreetings(store.db, alice)).map((g) => g.id)).toEqual([second.id, first.id]);
    expect(await countGreetings(store.db, alice)).toBe(2);
    expect(await findActiveGreeting(store.db, alice.userId)).toBeUndefined();
  });

  it("never reaches another user's or organization's greeting", async () => {
    const mine = await add(alice, 'Office');
    for (const other of [bob, stranger, { organizationId: stranger.organizationId, userId: alice.userId }]) {
      expect(await findGreeting(store.db, other, mine.id)).toBeUndefined();
      expect(await renameGreeting(store.db, other, mine.id, 'Mine now')).toBe(false);
      expect(await store.db.transaction().execute((trx) => setGreetingActive(trx, other, mine.id, true))).toBe(false);
      expect(await deleteGreeting(store.db, other, mine.id)).toBeUndefined();
    }
    expect(await findGreeting(store.db, alice, mine.id)).toMatchObject({ name: 'Office', active: false });
  });

  it('keeps one active greeting a user: making another active clears the first', async () => {
    const office = await add(alice, 'Office');
    const holidays = await add(alice, 'Holidays');
    const bobs = await add(bob, "Bob's");
    const activate = (owner: GreetingOwner, id: number, active = true) => store.db.transaction().execute((trx) => setGreetingActive(trx, owner, id, active));
    await activate(bob, bobs.id);
    await activate(alice, office.id);
    expect((await findActiveGreeting(store.db, alice.userId))?.id).toBe(office.id);
    await activate(alice, holidays.id);
    expect((await listGreetings(store.db, alice)).map((g) => [g.name, g.active])).toEqual([
      ['Holidays', true],
      ['Office', false],
    ]);
    // Bob's choice is his own.
    expect((await findActiveGreeting(store.db, bob.userId))?.id).toBe(bobs.id);
    await activate(alice, holidays.id, false);
    expect(await findActiveGreeting(store.db, alice.userId)).toBeUndefined();
  });

  it('the database itself refuses two active greetings for one user', async () => {
    const office = await add(alice, 'Office');
    const holidays = await add(alice, 'Holidays');
    await store.db.updateTable('greetings').set({ active: 1 }).where('id', '=', office.id).execute();
    await expect(store.db.updateTable('greetings').set({ active: 1 }).where('id', '=', holidays.id).execute()).rejects.toThrow(/UNIQUE/);
  });

  it('renames, and deletes returning the row so its file can go; deleting the active one leaves none active', async () => {
    const office = await add(alice, 'Office');
    expect(await renameGreeting(store.db, alice, office.id, 'Front desk')).toBe(true);
    await store.db.transaction().execute((trx) => setGreetingActive(trx, alice, office.id, true));
    const deleted = await deleteGreeting(store.db, alice, office.id);
    expect(deleted).toMatchObject({ name: 'Front desk', file: office.file, active: true });
    expect(await findActiveGreeting(store.db, alice.userId)).toBeUndefined();
    expect(await deleteGreeting(store.db, alice, office.id)).toBeUndefined();
  });
});
