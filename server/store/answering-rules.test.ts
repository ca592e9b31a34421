import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AnsweringRuleInput } from '../../shared/answering-rules';
import {
  countTimeFrames,
  deleteAnsweringRule,
  deleteTimeFrame,
  findTimeFrame,
  getOrganizationTimeZone,
  insertAnsweringRule,
  insertTimeFrame,
  listAnsweringRules,
  listTimeFrames,
  setAnsweringRulePriorities,
  setOrganizationTimeZone,
  updateAnsweringRule,
  updateTimeFrame,
  usersOfTimeFrame,
} from './answering-rules';
import type { RuleOwner } from './answering-rules';
import { seedPeople } from './test-people';
import { openTestDatabase, TEST_STORAGES } from './test-support';
import type { TestDatabase } from './test-support';

describe.each(TEST_STORAGES)('answering rules store (%s)', (storage) => {
  let store: TestDatabase;
  let alice: RuleOwner;
  let bob: RuleOwner;
  let stranger: RuleOwner;

  beforeEach(async () => {
    store = await openTestDatabase(storage);
    const demo = await seedPeople(store.db, 'demo.test', ['101', '102']);
    const other = await seedPeople(store.db, 'other.test', ['101']);
    alice = { organizationId: demo.organizationId, userId: demo.userIds[0]! };
    bob = { organizationId: demo.organizationId, userId: demo.userIds[1]! };
    stranger = { organizationId: other.organizationId, userId: other.userIds[0]! };
  });
  afterEach(() => store.close());

  const always = { type: 'always' } as const;
  const rule = (timeFrameId: number, priority: number) =>
    AnsweringRuleInput.parse({ name: `p${priority}`, timeFrameId, priority, action: { type: 'do-not-disturb' } });

  it('keeps a time zone per organization, UTC by default', async () => {
    expect(await getOrganizationTimeZone(store.db, alice.organizationId)).toBe('UTC');
    await setOrganizationTimeZone(store.db, alice.organizationId, 'Europe/Berlin');
    expect(await getOrganizationTimeZone(store.db, alice.organizationId)).toBe('Europe/Berlin');
    expect(await getOrganizationTimeZone(store.db, stranger.organizationId)).toBe('UTC');
  });

  it("shows a user their own frames and their organization's, never another user's or organization's", async () => {
    const shared = await insertTimeFrame(store.db, alice, { name: 'Business hours', scope: 'organization', spec: always });
    const own = await insertTimeFrame(store.db, alice, { name: 'Mine', scope: 'user', spec: always });
    const theirs = await insertTimeFrame(store.db, stranger, { name: 'Theirs', scope: 'organization', spec: always });
    expect((await listTimeFrames(store.db, alice)).map((f) => f.name)).toEqual(['Business hours', 'Mine']);
    expect((await listTimeFrames(store.db, bob)).map((f) => f.name)).toEqual(['Business hours']);
    expect(await findTimeFrame(store.db, bob, own.id)).toBeUndefined();
    expect(await findTimeFrame(store.db, alice, theirs.id)).toBeUndefined();
    expect(await findTimeFrame(store.db, bob, shared.id)).toEqual(shared);
    expect(await updateTimeFrame(store.db, bob, own.id, { name: 'x', spec: always })).toBe(false);
    expect(await updateTimeFrame(store.db, alice, theirs.id, { name: 'x', spec: always })).toBe(false);
    expect(await deleteTimeFrame(store.db, alice, theirs.id)).toBe(false);
    expect(await countTimeFrames(store.db, alice, 'user')).toBe(1);
    expect(await countTimeFrames(store.db, alice, 'organization')).toBe(1);
    expect(await updateTimeFrame(store.db, alice, own.id, { name: 'Renamed', spec: { type: 'weekly', ranges: [{ days: ['mon'], start: '09:00', end: '10:00' }] } })).toBe(true);
    expect((await findTimeFrame(store.db, alice, own.id))?.spec.type).toBe('weekly');
    expect(await deleteTimeFrame(store.db, alice, own.id)).toBe(true);
  });

  it("keeps a user's rules in priority order, out of reach of anyone else", async () => {
    const frame = await insertTimeFrame(store.db, alice, { name: 'Business hours', scope: 'organization', spec: always });
    const low = await insertAnsweringRule(store.db, alice, rule(frame.id, 2));
    const high = await insertAnsweringRule(store.db, alice, rule(frame.id, 1));
    expect((await listAnsweringRules(store.db, alice)).map((r) => r.id)).toEqual([high.id, low.id]);
    expect(await listAnsweringRules(store.db, bob)).toEqual([]);
    expect(await usersOfTimeFrame(store.db, alice.organizationId, frame.id)).toEqual([alice.userId]);
    expect(await updateAnsweringRule(store.db, bob, low.id, rule(frame.id, 5))).toBe(false);
    expect(await deleteAnsweringRule(store.db, stranger, low.id)).toBe(false);
    await setAnsweringRulePriorities(store.db, bob, [{ id: low.id, priority: 9 }]);
    await setAnsweringRulePriorities(store.db, alice, [{ id: low.id, priority: 1 }, { id: high.id, priority: 2 }]);
    expect((await listAnsweringRules(store.db, alice)).map((r) => [r.id, r.priority])).toEqual([[low.id, 1], [high.id, 2]]);
    expect(await updateAnsweringRule(store.db, alice, low.id, { ...rule(frame.id, 3), enabled: false })).toBe(true);
    expect((await listAnsweringRules(store.db, alice)).find((r) => r.id === low.id)).toMatchObject({ priority: 3, enabled: false, action: { type: 'do-not-disturb', then: 'voicemail' } });
    expect(await deleteAnsweringRule(store.db, alice, low.id)).toBe(true);
  });
});
