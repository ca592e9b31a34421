import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendEvent, purgeEvents, readEvents, streamPosition } from './events';
import type { NewEvent } from './events';
import type { Database } from './schema';
import { seedPeople } from './test-people';
import { openTestDatabase, TEST_STORAGES } from './test-support';
import type { TestDatabase } from './test-support';

const NOW = '2026-12-08T10:00:00.000Z';

describe.each(TEST_STORAGES)('event store (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let org: number;
  let alice: number;
  let bob: number;
  let otherOrg: number;
  let mallory: number;

  beforeEach(async () => {
    store = await openTestDatabase(storage);
    db = store.db;
    ({ organizationId: org, userIds: [alice = 0, bob = 0] } = await seedPeople(db, 'demo.test', ['101', '102']));
    ({ organizationId: otherOrg, userIds: [mallory = 0] } = await seedPeople(db, 'other.test', ['101']));
  });
  afterEach(async () => {
    await store.close();
  });

  const event = (audience: number[], n: number, publishedAt = NOW, organizationId = org): NewEvent => ({
    organizationId,
    audience,
    type: 'call',
    body: JSON.stringify({ n }),
    publishedAt,
  });
  const bodies = async (userId: number, after = 0, organizationId = org) =>
    (await readEvents(db, organizationId, userId, after, 1000)).map((row) => [row.seq, JSON.parse(row.body).n as number]);

  it('numbers each user’s events 1, 2, 3… in their own stream', async () => {
    expect(await appendEvent(db, event([alice, bob], 1))).toEqual([
      { userId: alice, seq: 1 },
      { userId: bob, seq: 1 },
    ]);
    expect(await appendEvent(db, event([alice], 2))).toEqual([{ userId: alice, seq: 2 }]);
    expect(await appendEvent(db, event([bob, alice, bob], 3))).toEqual([
      { userId: alice, seq: 3 },
      { userId: bob, seq: 2 },
    ]);
    expect(await bodies(alice)).toEqual([[1, 1], [2, 2], [3, 3]]);
    expect(await bodies(bob)).toEqual([[1, 1], [2, 3]]);
    expect(await bodies(alice, 1)).toEqual([[2, 2], [3, 3]]);
    expect(await streamPosition(db, org, alice)).toEqual({ lastSeq: 3, oldestKeptSeq: 1 });
    expect(await streamPosition(db, org, bob)).toEqual({ lastSeq: 2, oldestKeptSeq: 1 });
  });

  it('gives nothing to a user of another organization, whatever ids the publisher passes', async () => {
    expect(await appendEvent(db, event([alice, mallory], 1))).toEqual([{ userId: alice, seq: 1 }]);
    expect(await appendEvent(db, event([mallory], 2))).toEqual([]);
    expect(await appendEvent(db, event([alice], 3, NOW, otherOrg))).toEqual([]);
    expect(await bodies(mallory, 0, otherOrg)).toEqual([]);
    // Nor is one organization's stream read under another's id.
    expect(await bodies(alice, 0, otherOrg)).toEqual([]);
    expect(await streamPosition(db, otherOrg, alice)).toEqual({ lastSeq: 0, oldestKeptSeq: undefined });
  });

  it('purges by age and beyond the last few per user, and numbering goes on from where it was', async () => {
    const hourAgo = new Date(Date.parse(NOW) - 3_600_000).toISOString();
    await appendEvent(db, event([alice, bob], 1, hourAgo));
    for (let n = 2; n <= 6; n++) await appendEvent(db, event([alice], n));
    const removed = await purgeEvents(db, { maxAgeMs: 30 * 60_000, maxPerUser: 3 }, new Date(NOW));
    // Alice: 1 by age, 2 and 3 beyond the last three. Bob: 1 by age.
    expect(removed).toBe(4);
    expect(await bodies(alice)).toEqual([[4, 4], [5, 5], [6, 6]]);
    expect(await bodies(bob)).toEqual([]);
    expect(await streamPosition(db, org, bob)).toEqual({ lastSeq: 1, oldestKeptSeq: undefined });
    expect(await appendEvent(db, event([alice, bob], 7))).toEqual([
      { userId: alice, seq: 7 },
      { userId: bob, seq: 2 },
    ]);
  });

  it('stores all of an event’s copies or none', async () => {
    await appendEvent(db, event([alice], 1));
    // A body that cannot be stored (NOT NULL) fails the whole event: no stream moves.
    await expect(appendEvent(db, { ...event([alice, bob], 2), body: null as unknown as string })).rejects.toThrow();
    expect(await streamPosition(db, org, alice)).toEqual({ lastSeq: 1, oldestKeptSeq: 1 });
    expect(await streamPosition(db, org, bob)).toEqual({ lastSeq: 0, oldestKeptSeq: undefined });
  });

  it('deletes a user’s stream with the user', async () => {
    await appendEvent(db, event([alice, bob], 1));
    await db.deleteFrom('users').where('id', '=', alice).execute();
    expect(await db.selectFrom('events').select('user_id').execute()).toEqual([{ user_id: bob }]);
    expect(await db.selectFrom('event_streams').select('user_id').execute()).toEqual([{ user_id: bob }]);
  });
});
