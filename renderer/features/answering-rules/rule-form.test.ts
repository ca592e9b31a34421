import { describe, expect, it } from 'vitest';
import { AnsweringRuleInput } from '../../../shared/answering-rules';
import type { AnsweringRule } from '../../../shared/answering-rules';
import { alsoRingOf, draftOf, inputOf, isAt } from './rule-form';

describe('the rule form', () => {
  it('starts a new rule below the others, ringing for the default time, then voicemail', () => {
    const draft = draftOf(undefined, { priority: 3, timeFrameId: 7 });
    draft.name = 'Office hours';
    const input = AnsweringRuleInput.parse(inputOf(draft));
    expect(input).toEqual({
      name: 'Office hours',
      timeFrameId: 7,
      priority: 3,
      enabled: true,
      action: { type: 'ring', ringSeconds: 30, alsoRing: [], whenNotAnswered: { type: 'voicemail' }, whenBusy: { type: 'voicemail' }, whenUnreachable: { type: 'voicemail' }, screen: false },
    });
  });

  it('gives back exactly the rule it was filled from', () => {
    const rules: AnsweringRule[] = [
      {
        id: 1,
        name: 'Day',
        timeFrameId: 2,
        priority: 1,
        enabled: false,
        action: {
          type: 'ring',
          ringSeconds: 20,
          alsoRing: [{ type: 'user', extension: '103' }, { type: 'number', number: '+4930123456' }],
          whenNotAnswered: { type: 'user', extension: '104' },
          whenBusy: { type: 'number', number: '+15550100' },
          whenUnreachable: { type: 'voicemail' },
          screen: true,
        },
      },
      { id: 2, name: 'Away', timeFrameId: 3, priority: 2, enabled: true, action: { type: 'forward', to: { type: 'number', number: '+15550199' } } },
      { id: 3, name: 'Night', timeFrameId: 4, priority: 3, enabled: true, action: { type: 'do-not-disturb', then: 'busy' } },
    ];
    for (const rule of rules) {
      const { id: _id, ...input } = rule;
      expect(inputOf(draftOf(rule, { priority: 9, timeFrameId: 9 }))).toEqual(input);
    }
  });

  it('reads extensions and numbers typed in one field', () => {
    expect(alsoRingOf(' 103, +4930123456;  2001 ')).toEqual([
      { type: 'user', extension: '103' },
      { type: 'number', number: '+4930123456' },
      { type: 'user', extension: '2001' },
    ]);
    expect(alsoRingOf('')).toEqual([]);
  });

  it('finds the form field a refusal names', () => {
    expect(isAt('action.whenBusy.extension', 'action.whenBusy')).toBe(true);
    expect(isAt('action.whenBusy', 'action.whenBusy')).toBe(true);
    expect(isAt('action.whenBusyish', 'action.whenBusy')).toBe(false);
    expect(isAt(undefined, 'name')).toBe(false);
  });
});
