import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_ACTION } from '../../shared/answering-rules';
import type { AnsweringRule, RuleAction, TimeFrame } from '../../shared/answering-rules';
import { seedDemo } from '../store/demo';
import { setDoNotDisturb } from '../store/do-not-disturb';
import type { Database } from '../store/schema';
import { openTestDatabase } from '../store/test-support';
import type { TestDatabase } from '../store/test-support';
import type { RuleOwner } from '../store/answering-rules';
import { AnsweringRuleBook } from './answering-rule-book';
import type { RuleChange } from './answering-rule-book';
import { planFor, RuleAnsweringPlanner } from './answering-planner';

const MONDAY_10_UTC = Date.parse('2026-12-07T10:00:00Z');
const MONDAY_20_UTC = Date.parse('2026-12-07T20:00:00Z');

describe('planFor', () => {
  it('rings by a ring rule: its seconds, the others, and each diversion', () => {
    const action: RuleAction = {
      type: 'ring',
      ringSeconds: 12,
      alsoRing: [{ type: 'user', extension: '103' }, { type: 'number', number: '+15551234567' }],
      whenBusy: { type: 'user', extension: '104' },
      whenNotAnswered: { type: 'voicemail' },
      whenUnreachable: { type: 'number', number: '+15550000000' },
      screen: false,
    };
    expect(planFor(action, false)).toEqual({
      kind: 'ring',
      ringMs: 12_000,
      alsoRing: ['103', '+15551234567'],
      whenBusy: { kind: 'dial', dialled: '104' },
      whenNotAnswered: { kind: 'voicemail' },
      whenUnreachable: { kind: 'dial', dialled: '+15550000000' },
      screen: false,
    });
    expect(planFor({ ...action, screen: true }, false)).toMatchObject({ kind: 'ring', screen: true });
  });

  it('rings 30 s then voicemail by default', () => {
    expect(planFor(DEFAULT_ACTION, false)).toMatchObject({ kind: 'ring', ringMs: 30_000, whenBusy: { kind: 'voicemail' }, whenNotAnswered: { kind: 'voicemail' }, whenUnreachable: { kind: 'voicemail' } });
  });

  it('forwards at once, saying it was forwarded', () => {
    expect(planFor({ type: 'forward', to: { type: 'user', extension: '103' } }, false)).toMatchObject({ kind: 'divert', to: { kind: 'dial', dialled: '103' }, reason: 'forwarded' });
  });

  it('diverts for do not disturb: a rule\'s busy or voicemail; the PBX setting to voicemail over any other rule', () => {
    expect(planFor({ type: 'do-not-disturb', then: 'busy' }, false)).toMatchObject({ kind: 'divert', to: { kind: 'busy' }, reason: 'do-not-disturb' });
    expect(planFor({ type: 'do-not-disturb', then: 'busy' }, true)).toMatchObject({ kind: 'divert', to: { kind: 'busy' }, reason: 'do-not-disturb' });
    expect(planFor({ type: 'forward', to: { type: 'user', extension: '103' } }, true)).toMatchObject({ kind: 'divert', to: { kind: 'voicemail' }, reason: 'do-not-disturb' });
    expect(planFor(DEFAULT_ACTION, true)).toMatchObject({ kind: 'divert', to: { kind: 'voicemail' }, reason: 'do-not-disturb' });
  });
});

describe('RuleAnsweringPlanner', () => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let book: AnsweringRuleBook;
  let planner: RuleAnsweringPlanner;
  let compiles: number;
  let bob: RuleOwner & { role: 'user' };
  let carol: RuleOwner & { role: 'user' };
  const userOf = (owner: RuleOwner, extension: string) => ({ ...owner, extension, displayName: extension });

  beforeEach(async () => {
    store = await openTestDatabase('memory');
    db = store.db;
    const { organization, users } = await seedDemo(db);
    bob = { organizationId: organization.id, userId: users.find((u) => u.extension === '102')!.id, role: 'user' };
    carol = { organizationId: organization.id, userId: users.find((u) => u.extension === '103')!.id, role: 'user' };
    compiles = 0;
    // The planner is told of every change the book stores, as the API wires them.
    book = new AnsweringRuleBook(db, Date.now, (change: RuleChange) => planner.rulesChanged(change));
    const counting = {
      compile: (owner: RuleOwner) => {
        compiles++;
        return book.compile(owner);
      },
    };
    planner = new RuleAnsweringPlanner(db, counting);
  });
  afterEach(async () => {
    await store.close();
  });

  async function officeForward(): Promise<{ frame: TimeFrame; rule: AnsweringRule }> {
    const frame = await book.createTimeFrame(bob, { name: 'Office', scope: 'user', spec: { type: 'weekly', ranges: [{ days: ['mon'], start: '09:00', end: '17:00' }] } });
    const rule = await book.createRule(bob, { name: 'To Carol', timeFrameId: frame.id, priority: 1, enabled: true, action: { type: 'forward', to: { type: 'user', extension: '103' } } });
    return { frame, rule };
  }

  it('plans by the rule active at the moment asked', async () => {
    await officeForward();
    expect(await planner.plan(userOf(bob, '102'), MONDAY_10_UTC)).toMatchObject({ kind: 'divert', to: { kind: 'dial', dialled: '103' } });
    expect(await planner.plan(userOf(bob, '102'), MONDAY_20_UTC)).toMatchObject({ kind: 'ring', ringMs: 30_000 });
  });

  it('compiles a user\'s rules once, and again only after a change to them', async () => {
    const { rule } = await officeForward();
    await planner.plan(userOf(bob, '102'), MONDAY_10_UTC);
    await planner.plan(userOf(bob, '102'), MONDAY_20_UTC);
    expect(compiles).toBe(1);

    await book.updateRule(bob, rule.id, { ...rule, action: { type: 'do-not-disturb', then: 'busy' } });
    expect(await planner.plan(userOf(bob, '102'), MONDAY_10_UTC)).toMatchObject({ kind: 'divert', to: { kind: 'busy' } });
    expect(compiles).toBe(2);

    await book.deleteRule(bob, rule.id);
    expect(await planner.plan(userOf(bob, '102'), MONDAY_10_UTC)).toMatchObject({ kind: 'ring' });
    expect(compiles).toBe(3);
  });

  it('drops everyone\'s compiled rules in the organization when its time zone or a frame changes, and no one else\'s', async () => {
    const { frame } = await officeForward();
    await planner.plan(userOf(bob, '102'), MONDAY_10_UTC);
    await planner.plan(userOf(carol, '103'), MONDAY_10_UTC);
    expect(planner.cachedUsers).toBe(2);

    // 10:00 UTC is 05:00 in New York: outside the office hours there.
    await book.setTimeZone({ ...bob, role: 'admin' }, 'America/New_York');
    expect(planner.cachedUsers).toBe(0);
    expect(await planner.plan(userOf(bob, '102'), MONDAY_10_UTC)).toMatchObject({ kind: 'ring' });

    await book.updateTimeFrame(bob, frame.id, { name: 'Office', spec: { type: 'weekly', ranges: [{ days: ['mon'], start: '04:00', end: '17:00' }] } });
    expect(await planner.plan(userOf(bob, '102'), MONDAY_10_UTC)).toMatchObject({ kind: 'divert' });

    planner.rulesChanged({ organizationId: bob.organizationId + 1 });
    expect(planner.cachedUsers).toBe(1);
  });

  it('reads do not disturb for every call: on, it wins over the rule', async () => {
    await officeForward();
    await planner.plan(userOf(bob, '102'), MONDAY_10_UTC);
    await setDoNotDisturb(db, bob, true);
    expect(await planner.plan(userOf(bob, '102'), MONDAY_10_UTC)).toMatchObject({ kind: 'divert', to: { kind: 'voicemail' }, reason: 'do-not-disturb' });
    await setDoNotDisturb(db, bob, false);
    expect(await planner.plan(userOf(bob, '102'), MONDAY_10_UTC)).toMatchObject({ kind: 'divert', reason: 'forwarded' });
  });

  it('does not keep a load that failed: the next call tries again', async () => {
    let fail = true;
    const flaky = new RuleAnsweringPlanner(db, {
      compile: async (owner) => {
        if (fail) throw new Error('database busy');
        return book.compile(owner);
      },
    });
    await expect(flaky.plan(userOf(bob, '102'), MONDAY_10_UTC)).rejects.toThrow('database busy');
    fail = false;
    expect(await flaky.plan(userOf(bob, '102'), MONDAY_10_UTC)).toMatchObject({ kind: 'ring' });
    expect(flaky.cachedUsers).toBe(1);
  });
});
