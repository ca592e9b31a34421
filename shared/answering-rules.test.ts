import { describe, expect, it } from 'vitest';
import {
  AnsweringRuleInput,
  describeAction,
  findPriorityConflict,
  framesCanOverlap,
  isTimeZone,
  localMinutes,
  minuteOfWeek,
  TimeFrameInput,
  TimeFrameSpec,
} from './answering-rules';

const weekly = (days: string[], start: string, end: string): TimeFrameSpec => TimeFrameSpec.parse({ type: 'weekly', ranges: [{ days, start, end }] });
const dates = (start: string, end: string): TimeFrameSpec => TimeFrameSpec.parse({ type: 'dates', ranges: [{ start, end }] });
const firstMessage = (result: { success: boolean; error?: { issues: Array<{ message: string; path: PropertyKey[] }> } }) => result.error?.issues[0];

describe('time frame schemas', () => {
  it('accepts weekly ranges, date ranges and always', () => {
    expect(TimeFrameInput.parse({ name: ' Business hours ', spec: { type: 'weekly', ranges: [{ days: ['mon', 'fri'], start: '09:00', end: '17:00' }] } })).toEqual({
      name: 'Business hours',
      scope: 'user',
      spec: { type: 'weekly', ranges: [{ days: ['mon', 'fri'], start: '09:00', end: '17:00' }] },
    });
    expect(TimeFrameSpec.parse({ type: 'always' })).toEqual({ type: 'always' });
    expect(dates('2026-12-24', '2026-12-26').type).toBe('dates');
    expect(weekly(['sun'], '18:00', '24:00').type).toBe('weekly');
  });

  it('refuses a weekly range that ends before it starts, saying so', () => {
    const result = TimeFrameSpec.safeParse({ type: 'weekly', ranges: [{ days: ['mon'], start: '17:00', end: '09:00' }] });
    expect(result.success).toBe(false);
    const issue = firstMessage(result);
    expect(issue?.message).toBe('the range ends (09:00) before it starts (17:00); write a range past midnight as two ranges');
    expect(issue?.path).toEqual(['ranges', 0, 'end']);
    expect(TimeFrameSpec.safeParse({ type: 'weekly', ranges: [{ days: ['mon'], start: '09:00', end: '09:00' }] }).success).toBe(false);
  });

  it('refuses a date range that ends before it starts, and dates that do not exist', () => {
    expect(firstMessage(TimeFrameSpec.safeParse({ type: 'dates', ranges: [{ start: '2026-12-26', end: '2026-12-24' }] }))?.message).toBe(
      'the range ends (2026-12-24) before it starts (2026-12-26)',
    );
    expect(TimeFrameSpec.safeParse({ type: 'dates', ranges: [{ start: '2026-12-24T12:00', end: '2026-12-24T08:00' }] }).success).toBe(false);
    // A single day is a range of one whole day.
    expect(TimeFrameSpec.safeParse({ type: 'dates', ranges: [{ start: '2026-12-25', end: '2026-12-25' }] }).success).toBe(true);
    expect(firstMessage(TimeFrameSpec.safeParse({ type: 'dates', ranges: [{ start: '2026-02-30', end: '2026-03-01' }] }))?.message).toMatch(/YYYY-MM-DD/);
    expect(TimeFrameSpec.safeParse({ type: 'weekly', ranges: [{ days: ['mon'], start: '9:00', end: '25:00' }] }).success).toBe(false);
  });

  it('refuses too many ranges and empty ones', () => {
    const range = { days: ['mon'], start: '09:00', end: '10:00' };
    expect(firstMessage(TimeFrameSpec.safeParse({ type: 'weekly', ranges: Array.from({ length: 51 }, () => range) }))?.message).toBe('at most 50 ranges');
    expect(firstMessage(TimeFrameSpec.safeParse({ type: 'weekly', ranges: [] }))?.message).toBe('add at least one range');
    expect(firstMessage(TimeFrameSpec.safeParse({ type: 'weekly', ranges: [{ ...range, days: [] }] }))?.message).toBe('choose at least one day');
  });

  it('knows IANA zones', () => {
    expect(isTimeZone('Europe/Berlin')).toBe(true);
    expect(isTimeZone('UTC')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });

  it('counts wall-clock minutes and weekdays without a zone', () => {
    expect(localMinutes('1970-01-01')).toBe(0);
    expect(localMinutes('1970-01-01', true)).toBe(1440);
    expect(localMinutes('1970-01-02T01:30')).toBe(1440 + 90);
    // 2026-12-07 is a Monday.
    expect(minuteOfWeek(localMinutes('2026-12-07T00:10'))).toBe(1440 + 10);
  });
});

describe('rule schema', () => {
  it('fills in the defaults of a ring rule', () => {
    const rule = AnsweringRuleInput.parse({ name: 'Office', timeFrameId: 1, priority: 1, action: { type: 'ring', alsoRing: [{ type: 'user', extension: '102' }] } });
    expect(rule).toEqual({
      name: 'Office',
      timeFrameId: 1,
      priority: 1,
      enabled: true,
      action: {
        type: 'ring',
        ringSeconds: 30,
        alsoRing: [{ type: 'user', extension: '102' }],
        whenBusy: { type: 'voicemail' },
        whenNotAnswered: { type: 'voicemail' },
        whenUnreachable: { type: 'voicemail' },
        screen: false,
      },
    });
    expect(describeAction(rule.action)).toBe('Rings your devices and extension 102 for 30 s; when not answered, voicemail; when busy, voicemail; when unreachable, voicemail.');
  });

  it('refuses what cannot be done', () => {
    const base = { name: 'x', timeFrameId: 1, priority: 1 };
    expect(AnsweringRuleInput.safeParse({ ...base, action: { type: 'ring', ringSeconds: 1 } }).success).toBe(false);
    expect(AnsweringRuleInput.safeParse({ ...base, action: { type: 'ring', alsoRing: [{ type: 'voicemail' }] } }).success).toBe(false);
    expect(AnsweringRuleInput.safeParse({ ...base, action: { type: 'forward', to: { type: 'number', number: 'call me' } } }).success).toBe(false);
    expect(AnsweringRuleInput.safeParse({ ...base, priority: 0, action: { type: 'forward', to: { type: 'voicemail' } } }).success).toBe(false);
    expect(describeAction(AnsweringRuleInput.parse({ ...base, action: { type: 'do-not-disturb', then: 'busy' } }).action)).toBe('Do not disturb: callers hear busy.');
  });
});

describe('overlap of time frames', () => {
  it('overlaps always with anything', () => {
    expect(framesCanOverlap({ type: 'always' }, weekly(['mon'], '09:00', '10:00'))).toBe(true);
  });

  it('compares weekly ranges day by day, ends exclusive', () => {
    expect(framesCanOverlap(weekly(['mon', 'tue'], '09:00', '12:00'), weekly(['tue'], '11:00', '13:00'))).toBe(true);
    expect(framesCanOverlap(weekly(['mon'], '09:00', '12:00'), weekly(['tue'], '09:00', '12:00'))).toBe(false);
    expect(framesCanOverlap(weekly(['mon'], '09:00', '12:00'), weekly(['mon'], '12:00', '13:00'))).toBe(false);
  });

  it('compares date ranges with each other and with the weekdays they cover', () => {
    expect(framesCanOverlap(dates('2026-12-24', '2026-12-26'), dates('2026-12-26', '2026-12-31'))).toBe(true);
    expect(framesCanOverlap(dates('2026-12-24', '2026-12-25'), dates('2026-12-26', '2026-12-31'))).toBe(false);
    // 2026-12-24 is a Thursday, 2026-12-26 a Saturday.
    expect(framesCanOverlap(dates('2026-12-24', '2026-12-26'), weekly(['fri'], '09:00', '17:00'))).toBe(true);
    expect(framesCanOverlap(dates('2026-12-24', '2026-12-26'), weekly(['mon'], '09:00', '17:00'))).toBe(false);
    expect(framesCanOverlap(weekly(['thu'], '09:00', '17:00'), dates('2026-12-24T17:00', '2026-12-24T20:00'))).toBe(false);
    // Saturday to Monday wraps past the end of the week.
    expect(framesCanOverlap(dates('2026-12-26', '2026-12-28'), weekly(['sun'], '10:00', '11:00'))).toBe(true);
    expect(framesCanOverlap(dates('2026-01-01', '2026-12-31'), weekly(['wed'], '10:00', '11:00'))).toBe(true);
  });

  it('finds two enabled rules of equal priority that can match the same moment', () => {
    const frames = new Map([
      [1, { name: 'Weekdays', spec: weekly(['mon', 'tue', 'wed', 'thu', 'fri'], '09:00', '17:00') }],
      [2, { name: 'Lunch', spec: weekly(['mon'], '12:00', '13:00') }],
      [3, { name: 'Weekend', spec: weekly(['sat', 'sun'], '00:00', '24:00') }],
    ]);
    const rule = (id: number, timeFrameId: number, priority: number, enabled = true) => ({ id, name: `r${id}`, timeFrameId, priority, enabled });
    expect(findPriorityConflict([rule(1, 1, 1), rule(2, 3, 1)], frames)).toBeUndefined();
    expect(findPriorityConflict([rule(1, 1, 1), rule(2, 2, 2)], frames)).toBeUndefined();
    expect(findPriorityConflict([rule(1, 1, 1), rule(2, 2, 1, false)], frames)).toBeUndefined();
    expect(findPriorityConflict([rule(1, 1, 1), rule(2, 2, 1)], frames)?.message).toBe(
      'Rules "r1" and "r2" both have priority 1, and their time frames ("Weekdays", "Lunch") can match the same moment: give one of them another priority.',
    );
  });
});
