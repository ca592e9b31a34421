import { describe, expect, it } from 'vitest';
import { AnsweringRuleInput, TimeFrameSpec } from '../../shared/answering-rules';
import type { AnsweringRule, TimeFrame } from '../../shared/answering-rules';
import { AnsweringRuleClock, CompiledAnsweringRules, wallClockMinutes, formatWallClock } from './answering-rules';

const frame = (id: number, spec: unknown, name = `frame ${id}`): TimeFrame => ({ id, name, scope: 'user', spec: TimeFrameSpec.parse(spec) });
const sunday = (id: number, start: string, end: string) => frame(id, { type: 'weekly', ranges: [{ days: ['sun'], start, end }] });
const rule = (id: number, timeFrameId: number, priority: number, action: unknown = { type: 'forward', to: { type: 'voicemail' } }, enabled = true): AnsweringRule => ({
  id,
  ...AnsweringRuleInput.parse({ name: `rule ${id}`, timeFrameId, priority, enabled, action }),
});
const at = (iso: string) => Date.parse(iso);

/** Which rule applies at each moment, by id (null when none). */
function activeIds(rules: CompiledAnsweringRules, moments: string[]): Array<number | null> {
  return moments.map((moment) => rules.decide(at(moment)).rule?.id ?? null);
}

describe('wall-clock time in a zone', () => {
  it('follows the zone across its daylight-saving changes', () => {
    const local = (iso: string, zone: string) => formatWallClock(wallClockMinutes(at(iso), zone));
    expect(local('2026-03-08T06:59:00Z', 'America/New_York')).toBe('2026-03-08T01:59');
    expect(local('2026-03-08T07:00:00Z', 'America/New_York')).toBe('2026-03-08T03:00');
    expect(local('2026-11-01T05:30:00Z', 'America/New_York')).toBe('2026-11-01T01:30');
    expect(local('2026-11-01T06:30:00Z', 'America/New_York')).toBe('2026-11-01T01:30');
    expect(local('2026-03-29T01:00:00Z', 'Europe/Berlin')).toBe('2026-03-29T03:00');
    expect(local('2026-10-25T00:30:00Z', 'Europe/Berlin')).toBe('2026-10-25T02:30');
    expect(local('2026-10-25T01:30:00Z', 'Europe/Berlin')).toBe('2026-10-25T02:30');
    expect(local('2026-12-07T23:59:59.999Z', 'UTC')).toBe('2026-12-07T23:59');
  });
});

describe('the active rule', () => {
  it('is the highest-priority enabled rule whose frame matches', () => {
    const frames = [frame(1, { type: 'always' }), sunday(2, '09:00', '17:00'), sunday(3, '12:00', '13:00')];
    const rules = new CompiledAnsweringRules([rule(10, 1, 3), rule(11, 2, 2), rule(12, 3, 1, undefined, false)], frames, 'UTC');
    // 2026-12-06 is a Sunday.
    expect(activeIds(rules, ['2026-12-06T08:59:00Z', '2026-12-06T09:00:00Z', '2026-12-06T12:30:00Z', '2026-12-06T17:00:00Z'])).toEqual([10, 11, 11, 10]);
    const enabled = new CompiledAnsweringRules([rule(10, 1, 3), rule(11, 2, 2), rule(12, 3, 1)], frames, 'UTC');
    expect(activeIds(enabled, ['2026-12-06T12:30:00Z', '2026-12-06T13:00:00Z'])).toEqual([12, 11]);
  });

  it('is none when no frame matches, which rings and then goes to voicemail; a rule whose frame is gone never applies', () => {
    const rules = new CompiledAnsweringRules([rule(10, 2, 1), rule(11, 99, 1)], [sunday(2, '09:00', '17:00')], 'UTC');
    const decision = rules.decide(at('2026-12-07T10:00:00Z'));
    expect(decision).toEqual({
      rule: null,
      action: { type: 'ring', ringSeconds: 30, alsoRing: [], whenBusy: { type: 'voicemail' }, whenNotAnswered: { type: 'voicemail' }, whenUnreachable: { type: 'voicemail' }, screen: false },
      summary: 'Rings your devices for 30 s; when not answered, voicemail; when busy, voicemail; when unreachable, voicemail.',
      localTime: '2026-12-07T10:00',
      timeZone: 'UTC',
    });
  });

  it('says what happens, in the zone', () => {
    const rules = new CompiledAnsweringRules([rule(10, 1, 1, { type: 'forward', to: { type: 'number', number: '+15551234567' } })], [sunday(1, '09:00', '17:00')], 'Europe/Berlin');
    expect(rules.decide(at('2026-12-06T08:00:00Z'))).toEqual({
      rule: { id: 10, name: 'rule 10', priority: 1, timeFrameId: 1 },
      action: { type: 'forward', to: { type: 'number', number: '+15551234567' } },
      summary: 'Forwards every call to +15551234567.',
      localTime: '2026-12-06T09:00',
      timeZone: 'Europe/Berlin',
    });
  });

  it('reads the moment from the injected clock', () => {
    let now = at('2026-12-06T09:30:00Z');
    const clock = new AnsweringRuleClock(() => now);
    const rules = new CompiledAnsweringRules([rule(10, 1, 1)], [sunday(1, '09:00', '10:00')], 'UTC');
    expect(clock.active(rules).rule?.id).toBe(10);
    now = at('2026-12-06T10:00:00Z');
    expect(clock.active(rules).rule).toBeNull();
  });

  it('takes in date ranges in wall-clock time, a date alone as a whole day', () => {
    const holidays = frame(1, { type: 'dates', ranges: [{ start: '2026-12-24', end: '2026-12-26' }, { start: '2026-12-31T12:00', end: '2027-01-01T00:00' }] });
    const rules = new CompiledAnsweringRules([rule(10, 1, 1)], [holidays], 'Europe/Berlin');
    expect(activeIds(rules, ['2026-12-23T22:59:00Z', '2026-12-23T23:00:00Z', '2026-12-26T22:59:00Z', '2026-12-26T23:00:00Z'])).toEqual([null, 10, 10, null]);
    expect(activeIds(rules, ['2026-12-31T10:59:00Z', '2026-12-31T11:00:00Z', '2026-12-31T22:59:00Z', '2026-12-31T23:00:00Z'])).toEqual([null, 10, 10, null]);
  });
});

describe('across daylight-saving changes', () => {
  // Every day here is a Sunday: 2026-03-08 and 2026-11-01 in New York, 2026-03-29 and 2026-10-25 in Berlin.
  const compile = (zone: string) =>
    new CompiledAnsweringRules(
      [rule(1, 1, 1), rule(2, 2, 2), rule(3, 3, 3)],
      [sunday(1, '02:00', '03:00'), sunday(2, '03:00', '04:00'), sunday(3, '09:00', '17:00')],
      zone,
    );

  it('America/New_York springs forward: 02:00 to 03:00 never happens, 09:00 is 13:00 UTC', () => {
    const rules = compile('America/New_York');
    // 01:59 EST, then 03:00 EDT: the frame of the hour skipped never matches.
    expect(activeIds(rules, ['2026-03-08T06:59:00Z', '2026-03-08T07:00:00Z', '2026-03-08T07:59:00Z', '2026-03-08T08:00:00Z'])).toEqual([null, 2, 2, null]);
    // A fixed offset of -5 would open at 14:00 UTC; the day before it did.
    expect(activeIds(rules, ['2026-03-08T12:59:00Z', '2026-03-08T13:00:00Z', '2026-03-08T20:59:00Z', '2026-03-08T21:00:00Z'])).toEqual([null, 3, 3, null]);
    expect(activeIds(rules, ['2026-03-01T13:59:00Z', '2026-03-01T14:00:00Z'])).toEqual([null, 3]);
  });

  it('America/New_York falls back: 01:00 to 02:00 happens twice, 09:00 is 14:00 UTC', () => {
    const rules = new CompiledAnsweringRules([rule(1, 1, 1), rule(3, 3, 3)], [sunday(1, '01:00', '02:00'), sunday(3, '09:00', '17:00')], 'America/New_York');
    expect(activeIds(rules, ['2026-11-01T04:59:00Z', '2026-11-01T05:00:00Z', '2026-11-01T05:59:00Z', '2026-11-01T06:00:00Z', '2026-11-01T06:59:00Z', '2026-11-01T07:00:00Z'])).toEqual([
      null, 1, 1, 1, 1, null,
    ]);
    expect(activeIds(rules, ['2026-11-01T13:59:00Z', '2026-11-01T14:00:00Z', '2026-11-01T21:59:00Z', '2026-11-01T22:00:00Z'])).toEqual([null, 3, 3, null]);
  });

  it('Europe/Berlin springs forward: 02:00 to 03:00 never happens, 09:00 is 07:00 UTC', () => {
    const rules = compile('Europe/Berlin');
    expect(activeIds(rules, ['2026-03-29T00:59:00Z', '2026-03-29T01:00:00Z', '2026-03-29T01:59:00Z', '2026-03-29T02:00:00Z'])).toEqual([null, 2, 2, null]);
    expect(activeIds(rules, ['2026-03-29T06:59:00Z', '2026-03-29T07:00:00Z', '2026-03-29T14:59:00Z', '2026-03-29T15:00:00Z'])).toEqual([null, 3, 3, null]);
  });

  it('Europe/Berlin falls back: 02:00 to 03:00 happens twice, 09:00 is 08:00 UTC', () => {
    const rules = compile('Europe/Berlin');
    // 02:00 CEST is 00:00 UTC; 02:00 CET again at 01:00 UTC; 03:00 CET at 02:00 UTC.
    expect(activeIds(rules, ['2026-10-24T23:59:00Z', '2026-10-25T00:00:00Z', '2026-10-25T00:59:00Z', '2026-10-25T01:00:00Z', '2026-10-25T01:59:00Z', '2026-10-25T02:00:00Z'])).toEqual([
      null, 1, 1, 1, 1, 2,
    ]);
    expect(activeIds(rules, ['2026-10-25T07:59:00Z', '2026-10-25T08:00:00Z', '2026-10-25T15:59:00Z', '2026-10-25T16:00:00Z'])).toEqual([null, 3, 3, null]);
  });
});
