/**
 * A time frame as its form holds it, and how a frame reads in a sentence. Times and dates are wall-clock times of
 * the organization's zone; the PBX checks every range (one that ends before it starts is refused, naming
 * `spec.ranges.<n>.end`).
 */
import type { TimeFrame, TimeFrameSpec, TimeFrameUpdate, Weekday } from '../../../shared/answering-rules';

export const DAY_LABELS: Record<Weekday, string> = { sun: 'Sun', mon: 'Mon', tue: 'Tue', wed: 'Wed', thu: 'Thu', fri: 'Fri', sat: 'Sat' };
/** The week as the form lists it: Monday first. */
export const FORM_DAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

export interface WeeklyDraft {
  days: Weekday[];
  start: string;
  end: string;
}

export interface DateDraft {
  start: string;
  end: string;
}

export interface FrameDraft {
  name: string;
  type: TimeFrameSpec['type'];
  weekly: WeeklyDraft[];
  dates: DateDraft[];
}

export const newWeeklyRange = (): WeeklyDraft => ({ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' });
export const newDateRange = (): DateDraft => ({ start: '', end: '' });

export function frameDraftOf(frame: TimeFrame | undefined): FrameDraft {
  const spec = frame?.spec;
  return {
    name: frame?.name ?? '',
    type: spec?.type ?? 'weekly',
    weekly: spec?.type === 'weekly' ? spec.ranges.map((range) => ({ days: [...range.days], start: range.start, end: range.end })) : [newWeeklyRange()],
    dates: spec?.type === 'dates' ? spec.ranges.map((range) => ({ ...range })) : [newDateRange()],
  };
}

/** The request body for the PBX; only the ranges of the chosen kind go. */
export function frameInputOf(draft: FrameDraft): TimeFrameUpdate {
  if (draft.type === 'always') return { name: draft.name, spec: { type: 'always' } };
  if (draft.type === 'weekly') return { name: draft.name, spec: { type: 'weekly', ranges: draft.weekly.map((range) => ({ ...range, days: [...range.days] })) } };
  return { name: draft.name, spec: { type: 'dates', ranges: draft.dates.map((range) => ({ ...range })) } };
}

/** Days in week order, runs of three or more joined: "Mon–Fri", "Mon, Wed, Sat–Sun". */
export function describeDays(days: readonly Weekday[]): string {
  const order = FORM_DAYS.filter((day) => days.includes(day));
  const runs: Weekday[][] = [];
  for (const day of order) {
    const run = runs.at(-1);
    const last = run?.at(-1);
    if (run && last !== undefined && FORM_DAYS.indexOf(day) === FORM_DAYS.indexOf(last) + 1) run.push(day);
    else runs.push([day]);
  }
  return runs
    .map((run) => (run.length >= 3 ? `${DAY_LABELS[run[0]!]}–${DAY_LABELS[run.at(-1)!]}` : run.map((day) => DAY_LABELS[day]).join(', ')))
    .join(', ');
}

/** A frame in words: "Always", "Mon–Fri 09:00–17:00", "2026-12-24 to 2026-12-26". */
export function describeFrame(spec: TimeFrameSpec): string {
  if (spec.type === 'always') return 'Always';
  if (spec.type === 'weekly') return spec.ranges.map((range) => `${describeDays(range.days)} ${range.start}–${range.end}`).join('; ');
  return spec.ranges.map((range) => (range.start === range.end ? range.start : `${range.start} to ${range.end}`).replace(/T/g, ' ')).join('; ');
}
