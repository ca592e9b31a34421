import { describe, expect, it } from 'vitest';
import { TimeFrameUpdate } from '../../../shared/answering-rules';
import { describeDays, describeFrame, frameDraftOf, frameInputOf } from './frame-form';

describe('the time frame form', () => {
  it('sends only the ranges of the kind chosen', () => {
    const draft = frameDraftOf(undefined);
    draft.name = 'Office';
    expect(TimeFrameUpdate.parse(frameInputOf(draft))).toEqual({ name: 'Office', spec: { type: 'weekly', ranges: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' }] } });
    draft.type = 'always';
    expect(frameInputOf(draft)).toEqual({ name: 'Office', spec: { type: 'always' } });
    draft.type = 'dates';
    draft.dates = [{ start: '2026-12-24', end: '2026-12-26' }];
    expect(frameInputOf(draft)).toEqual({ name: 'Office', spec: { type: 'dates', ranges: [{ start: '2026-12-24', end: '2026-12-26' }] } });
  });

  it('fills the form from a frame and gives it back unchanged', () => {
    const frame = { id: 4, name: 'Split', scope: 'user' as const, spec: { type: 'weekly' as const, ranges: [{ days: ['sat' as const], start: '10:00', end: '12:00' }] } };
    expect(frameInputOf(frameDraftOf(frame))).toEqual({ name: 'Split', spec: frame.spec });
  });

  it('says a frame in words', () => {
    expect(describeDays(['fri', 'mon', 'wed', 'tue', 'thu'])).toBe('Mon–Fri');
    expect(describeDays(['mon', 'wed', 'sat', 'sun'])).toBe('Mon, Wed, Sat, Sun');
    expect(describeDays(['fri', 'sat', 'sun', 'mon'])).toBe('Mon, Fri–Sun');
    expect(describeFrame({ type: 'always' })).toBe('Always');
    expect(describeFrame({ type: 'weekly', ranges: [{ days: ['mon', 'tue', 'wed'], start: '09:00', end: '12:00' }, { days: ['sat'], start: '10:00', end: '11:00' }] })).toBe(
      'Mon–Wed 09:00–12:00; Sat 10:00–11:00',
    );
    expect(describeFrame({ type: 'dates', ranges: [{ start: '2026-12-24', end: '2026-12-26' }, { start: '2027-01-01', end: '2027-01-01' }] })).toBe('2026-12-24 to 2026-12-26; 2027-01-01');
  });
});
