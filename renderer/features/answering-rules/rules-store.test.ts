import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AnsweringRule } from '../../../shared/answering-rules';
import { streamFromFakePbx } from '../../testing/fake-event-socket';
import { refusal, signedInPhone } from '../../testing/fake-pbx';
import type { fakePbx } from '../../testing/fake-pbx';
import { useEventsStore } from '../events';
import { useSessionStore } from '../sign-in';
import { RELOAD_DELAY_MS, useAnsweringRulesStore } from './rules-store';

const rule = (id: number, priority: number, name: string): AnsweringRule => ({
  id,
  name,
  timeFrameId: 1,
  priority,
  enabled: true,
  action: { type: 'do-not-disturb', then: 'voicemail' },
});
const frames = { timeFrames: [{ id: 1, name: 'All the time', scope: 'user', spec: { type: 'always' } }] };

describe('answering rules store', () => {
  let pbx: ReturnType<typeof fakePbx>;
  let stop: () => void;

  // Alice signed in to http://pbx.test, whose answers the test queues (fetch is the edge).
  beforeEach(() => {
    vi.useFakeTimers();
    ({ pbx, stop } = signedInPhone());
  });
  afterEach(() => {
    useEventsStore().stop();
    stop();
    vi.useRealTimers();
  });

  async function loaded(rules: AnsweringRule[], activeRuleId: number | null) {
    const store = useAnsweringRulesStore();
    pbx.answers.push({ status: 200, body: { rules, activeRuleId, timeZone: 'Europe/Berlin' } }, { status: 200, body: frames });
    await store.load();
    pbx.requests.length = 0;
    return store;
  }

  it('moves a rule, saves the whole order, announces the new place and reads which rule is active again', async () => {
    const store = await loaded([rule(1, 1, 'Night'), rule(2, 2, 'Day'), rule(3, 3, 'Lunch')], 2);
    expect(store.timeZone).toBe('Europe/Berlin');
    pbx.answers.push(
      { status: 200, body: { rules: [rule(3, 1, 'Lunch'), rule(1, 2, 'Night'), rule(2, 3, 'Day')] } },
      { status: 200, body: { rules: [rule(3, 1, 'Lunch'), rule(1, 2, 'Night'), rule(2, 3, 'Day')], activeRuleId: 3, timeZone: 'Europe/Berlin' } },
      { status: 200, body: frames },
    );
    expect(await store.moveTo(3, 0)).toBe(true);
    expect(pbx.requests[0]).toEqual({ url: 'http://pbx.test/api/v1/answering-rules/order', method: 'PUT', body: { ids: [3, 1, 2] } });
    expect(store.rules.map((r) => [r.name, r.priority])).toEqual([
      ['Lunch', 1],
      ['Night', 2],
      ['Day', 3],
    ]);
    expect(store.activeRuleId).toBe(3);
    expect(store.announcement).toBe('Lunch moved to position 1 of 3.');
  });

  it('puts the old order back and says why when the PBX refuses it', async () => {
    const store = await loaded([rule(1, 1, 'Night'), rule(2, 2, 'Day')], 1);
    pbx.answers.push(refusal(400, 'invalid', 'List every one of your rules once, highest priority first.'));
    expect(await store.move(2, -1)).toBe(false);
    expect(store.rules.map((r) => r.name)).toEqual(['Night', 'Day']);
    expect(store.error).toBe('List every one of your rules once, highest priority first.');
    expect(store.announcement).toBe('Day was not moved: List every one of your rules once, highest priority first.');
  });

  it('does not move past either end', async () => {
    const store = await loaded([rule(1, 1, 'Night'), rule(2, 2, 'Day')], 1);
    expect(await store.move(1, -1)).toBe(false);
    expect(await store.move(2, 1)).toBe(false);
    expect(pbx.requests).toEqual([]);
  });

  it('hands a refusal back with the field it names, for the form to show beside it', async () => {
    const store = await loaded([rule(1, 1, 'Night')], 1);
    pbx.answers.push({
      status: 409,
      body: { error: { code: 'priority_conflict', message: 'Rules "Night" and "Clash" both have priority 1, and their time frames ("All the time", "All the time") can match the same moment: give one of them another priority.', field: 'priority' } },
    });
    const input = { name: 'Clash', timeFrameId: 1, priority: 1, enabled: true, action: { type: 'do-not-disturb' as const, then: 'busy' as const } };
    await expect(store.saveRule(undefined, input)).rejects.toMatchObject({ status: 409, code: 'priority_conflict', field: 'priority' });
    pbx.answers.push({ status: 400, body: { error: { code: 'invalid_request', message: 'spec.ranges.0.end: the range ends (09:00) before it starts (17:00)', field: 'spec.ranges.0.end' } } });
    await expect(store.saveFrame(undefined, { name: 'Office', spec: { type: 'weekly', ranges: [{ days: ['mon'], start: '17:00', end: '09:00' }] } })).rejects.toMatchObject({
      message: 'The range ends (09:00) before it starts (17:00).',
      field: 'spec.ranges.0.end',
    });
    expect(store.rules.map((r) => r.name)).toEqual(['Night']);
  });

  it('asks the preview for the instant the organization clocks show', async () => {
    const store = await loaded([], null);
    pbx.answers.push({ status: 200, body: { rule: null, action: { type: 'do-not-disturb', then: 'voicemail' }, summary: 'x', localTime: '2026-12-24T09:30', timeZone: 'Europe/Berlin' } });
    await store.preview('2026-12-24', '09:30');
    expect(pbx.requests[0]?.url).toBe('http://pbx.test/api/v1/answering-rules/preview?at=2026-12-24T08%3A30%3A00.000Z');
  });

  it('reads the list again when the PBX says it changed elsewhere, once a burst, while a pane follows and is not busy', async () => {
    const store = await loaded([rule(1, 1, 'Night')], 1);
    const stream = streamFromFakePbx();
    const fresh = () => pbx.answers.push({ status: 200, body: { rules: [rule(1, 1, 'Night'), rule(2, 2, 'Day')], activeRuleId: 2, timeZone: 'Europe/Berlin' } }, { status: 200, body: frames });
    const asked = () => pbx.requests.map((request) => `${request.method} ${request.url}`);

    // No pane open: nothing is read (opening one reads the list anyway).
    stream.publish({ type: 'answering-rules' });
    await vi.advanceTimersByTimeAsync(RELOAD_DELAY_MS * 2);
    expect(pbx.requests).toEqual([]);

    let dragging = true;
    const unfollow = store.follow(() => dragging);
    fresh();
    stream.publish({ type: 'answering-rules' });
    stream.publish({ type: 'answering-rules' });
    // A rule is being dragged: the read waits for the drop.
    await vi.advanceTimersByTimeAsync(RELOAD_DELAY_MS * 3);
    expect(pbx.requests).toEqual([]);
    dragging = false;
    await vi.advanceTimersByTimeAsync(RELOAD_DELAY_MS);
    expect(asked()).toEqual(['GET http://pbx.test/api/v1/answering-rules', 'GET http://pbx.test/api/v1/time-frames']);
    expect(store.rules.map((r) => r.name)).toEqual(['Night', 'Day']);
    expect(store.activeRuleId).toBe(2);

    // A resync reads it too; after the pane closes, nothing more.
    fresh();
    stream.publish({ type: 'resync', reason: 'expired' });
    await vi.advanceTimersByTimeAsync(RELOAD_DELAY_MS);
    expect(pbx.requests).toHaveLength(4);
    unfollow();
    stream.publish({ type: 'answering-rules' });
    await vi.advanceTimersByTimeAsync(RELOAD_DELAY_MS * 2);
    expect(pbx.requests).toHaveLength(4);
  });

  it('ends the session when the PBX says it is over', async () => {
    const store = await loaded([], null);
    pbx.answers.push({ status: 401, body: { error: { code: 'unauthorized', message: 'Sign in.' } } });
    await store.removeRule(4);
    expect(store.error).toBe('Your session has ended. Sign in again.');
    expect(useSessionStore().signedIn).toBe(false);
  });
});
