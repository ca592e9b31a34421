import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from './schema';
import { openTestDatabase } from './test-support';
import type { TestDatabase } from './test-support';
import { StoreVoicemailCounter } from './voicemail-counts';
import { insertVoicemail, setVoicemailStatus } from './voicemails';
import { seedPeople } from './test-people';

describe('StoreVoicemailCounter', () => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  beforeEach(async () => {
    store = await openTestDatabase('memory');
    db = store.db;
  });
  afterEach(async () => {
    await store.close();
  });

  it('reads an empty mailbox as 0 new, 0 old', async () => {
    expect(await new StoreVoicemailCounter(db).count(1)).toEqual({ newMessages: 0, oldMessages: 0 });
  });

  it("counts a user's new messages as new and saved ones as old, and nobody else's", async () => {
    const { organizationId, userIds } = await seedPeople(db, 'demo.test', ['101', '102']);
    const [alice, bob] = userIds as [number, number];
    const message = (userId: number, n: number) =>
      insertVoicemail(db, {
        organizationId,
        userId,
        callerName: 'Carol',
        callerNumber: '103',
        callerExtension: '103',
        receivedAt: new Date(Date.UTC(2026, 11, 7, 10, n)).toISOString(),
        durationMs: 3000,
        file: `voicemail/${userId}/${n}.opus`,
        sizeBytes: 100,
        wideband: false,
        reason: 'no-answer',
      });
    const first = await message(alice, 1);
    await message(alice, 2);
    await message(alice, 3);
    await message(bob, 4);
    await setVoicemailStatus(db, { organizationId, userId: alice }, first, 'saved');
    const counter = new StoreVoicemailCounter(db);
    expect(await counter.count(alice)).toEqual({ newMessages: 2, oldMessages: 1 });
    expect(await counter.count(bob)).toEqual({ newMessages: 1, oldMessages: 0 });
  });
});
