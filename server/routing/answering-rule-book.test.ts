import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AnsweringRuleInput, MAX_RULES_PER_USER, MAX_TIME_FRAMES } from '../../shared/answering-rules';
import type { TimeFrameSpec } from '../../shared/answering-rules';
import { seedPeople } from '../store/test-people';
import { openTestDatabase } from '../store/test-support';
import type { TestDatabase } from '../store/test-support';
import { AnsweringRuleBook } from './answering-rule-book';
import type { RuleActor } from './answering-rule-book';

describe('the answering-rule book', () => {
  let store: TestDatabase;
  let book: AnsweringRuleBook;
  let admin: RuleActor;
  let bob: RuleActor;

  beforeEach(async () => {
    store = await openTestDatabase('memory');
    const { organizationId, userIds } = await seedPeople(store.db, 'demo.test', ['100', '102']);
    admin = { organizationId, userId: userIds[0]!, role: 'admin' };
    bob = { organizationId, userId: userIds[1]!, role: 'user' };
    book = new AnsweringRuleBook(store.db, () => Date.parse('2026-12-07T10:00:00Z'));
  });
  afterEach(() => store.close());

  const weekly = (start: string, end: string): TimeFrameSpec => ({ type: 'weekly', ranges: [{ days: ['mon'], start, end }] });
  const rule = (timeFrameId: number, priority: number) => AnsweringRuleInput.parse({ name: `p${priority}`, timeFrameId, priority, action: { type: 'do-not-disturb' } });

  it('refuses more rules and frames than the limits, saying so', async () => {
    const always = await book.createTimeFrame(bob, { name: 'Always', scope: 'user', spec: { type: 'always' } });
    for (let i = 1; i < MAX_TIME_FRAMES; i++) await book.createTimeFrame(bob, { name: `f${i}`, scope: 'user', spec: weekly('09:00', '10:00') });
    await expect(book.createTimeFrame(bob, { name: 'one more', scope: 'user', spec: { type: 'always' } })).rejects.toMatchObject({ kind: 'too_many', message: 'There are 100 time frames already: delete one first.' });
    // The organization's frames count apart.
    await book.createTimeFrame(admin, { name: 'Business hours', scope: 'organization', spec: { type: 'always' } });
    for (let i = 1; i <= MAX_RULES_PER_USER; i++) await book.createRule(bob, rule(always.id, i));
    await expect(book.createRule(bob, rule(always.id, 500))).rejects.toMatchObject({ kind: 'too_many', message: 'You have 100 rules already: delete one first.' });
  });

  it("re-checks every user's rules when an organization frame changes, and lets only admins change it", async () => {
    const morning = await book.createTimeFrame(admin, { name: 'Morning', scope: 'organization', spec: weekly('08:00', '12:00') });
    const afternoon = await book.createTimeFrame(admin, { name: 'Afternoon', scope: 'organization', spec: weekly('13:00', '17:00') });
    await book.createRule(bob, rule(morning.id, 1));
    await book.createRule(bob, rule(afternoon.id, 1));
    await expect(book.updateTimeFrame(bob, afternoon.id, { name: 'Afternoon', spec: weekly('12:00', '17:00') })).rejects.toMatchObject({ kind: 'forbidden' });
    await expect(book.updateTimeFrame(admin, afternoon.id, { name: 'Afternoon', spec: weekly('11:00', '17:00') })).rejects.toMatchObject({ kind: 'priority_conflict' });
    expect(await book.updateTimeFrame(admin, afternoon.id, { name: 'Afternoon', spec: weekly('12:00', '17:00') })).toMatchObject({ spec: weekly('12:00', '17:00') });
    // Monday 2026-12-07 10:00 UTC: the morning rule, by the book's clock.
    expect((await book.decide(bob)).rule?.timeFrameId).toBe(morning.id);
    expect((await book.decide(bob, Date.parse('2026-12-07T12:30:00Z'))).rule?.timeFrameId).toBe(afternoon.id);
  });
});
