/**
 * Answering rules and time frames (issue #17), the contract between the PBX (`server/routing`, `server/api`) and
 * the app: runtime schemas that also give the types, and the checks that need more than one rule at a time.
 *
 * - A time frame says when: `always`, weekly ranges (days of the week with a time range), or date ranges
 *   (holidays). Times are wall-clock times in the organization's time zone, so "9:00 to 17:00" means that on
 *   both sides of a daylight-saving change. A range ends after it starts and never wraps past midnight
 *   (22:00-06:00 is written as two ranges), so a wrong order is an error, never a silent overnight range.
 * - A rule = a time frame + what to do. Priority 1 is the highest; the active rule is the enabled rule with
 *   the highest priority whose time frame matches now. Two rules of equal priority whose frames can match the
 *   same moment would make that choice arbitrary, so they are refused (`findPriorityConflict`).
 *
 * Pure TypeScript: no Node, no DOM.
 */
import { z } from 'zod';

export const MAX_RULES_PER_USER = 100;
export const MAX_TIME_FRAMES = 100;
export const MAX_RANGES_PER_FRAME = 50;
export const MAX_ALSO_RING = 10;
export const MIN_RING_SECONDS = 5;
export const MAX_RING_SECONDS = 120;
export const DEFAULT_RING_SECONDS = 30;
export const DEFAULT_TIME_ZONE = 'UTC';

/** Days as `Date.getUTCDay()` numbers them: 0 is Sunday. */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const TIME_OF_DAY = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;
const LOCAL_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL_DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):([0-5]\d)$/;

/** Minutes since midnight of "HH:MM" ("24:00" is 1440, the end of the day). */
export function minutesOfDay(time: string): number {
  const [hours, minutes] = time.split(':').map(Number);
  return (hours ?? 0) * 60 + (minutes ?? 0);
}

/**
 * Minutes since 1970-01-01T00:00 of a wall-clock date or date-time, counted as if every day had 24 hours (no
 * zone): what a local date compares by. A date alone is its midnight, or with `endOfDay` the next midnight, so
 * a holiday written 2026-12-24 to 2026-12-26 takes in all of the 26th.
 */
export function localMinutes(text: string, endOfDay = false): number {
  const dateTime = LOCAL_DATE_TIME.exec(text);
  const date = dateTime ?? LOCAL_DATE.exec(text);
  if (!date) return Number.NaN;
  const [year, month, day] = [Number(date[1]), Number(date[2]), Number(date[3])];
  const midnight = Date.UTC(year, month - 1, day) / 60_000;
  if (dateTime) return midnight + Number(dateTime[4]) * 60 + Number(dateTime[5]);
  return endOfDay ? midnight + 1440 : midnight;
}

function isRealDate(text: string): boolean {
  const match = LOCAL_DATE_TIME.exec(text) ?? LOCAL_DATE.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

const TimeOfDay = z.string().regex(TIME_OF_DAY, { error: 'a time is written HH:MM, from 00:00 to 24:00' });

export const WeeklyRange = z
  .object({
    days: z.array(z.enum(WEEKDAYS)).min(1, { error: 'choose at least one day' }).max(7),
    start: TimeOfDay,
    end: TimeOfDay,
  })
  .refine((range) => minutesOfDay(range.end) > minutesOfDay(range.start), {
    error: (issue) => {
      const range = issue.input as { start: string; end: string };
      return `the range ends (${range.end}) before it starts (${range.start}); write a range past midnight as two ranges`;
    },
    path: ['end'],
  });
export type WeeklyRange = z.infer<typeof WeeklyRange>;

const LocalDateOrTime = z
  .string()
  .refine(isRealDate, { error: 'a date is written YYYY-MM-DD, or YYYY-MM-DDTHH:MM with a time' });

/** A date range in wall-clock time; a date alone starts at its midnight and, as an end, takes in the whole day. */
export const DateRange = z
  .object({ start: LocalDateOrTime, end: LocalDateOrTime })
  .refine((range) => localMinutes(range.end, true) > localMinutes(range.start), {
    error: (issue) => {
      const range = issue.input as { start: string; end: string };
      return `the range ends (${range.end}) before it starts (${range.start})`;
    },
    path: ['end'],
  });
export type DateRange = z.infer<typeof DateRange>;

export const TimeFrameSpec = z.discriminatedUnion('type', [
  z.object({ type: z.literal('always') }),
  z.object({ type: z.literal('weekly'), ranges: z.array(WeeklyRange).min(1, { error: 'add at least one range' }).max(MAX_RANGES_PER_FRAME, { error: `at most ${MAX_RANGES_PER_FRAME} ranges` }) }),
  z.object({ type: z.literal('dates'), ranges: z.array(DateRange).min(1, { error: 'add at least one range' }).max(MAX_RANGES_PER_FRAME, { error: `at most ${MAX_RANGES_PER_FRAME} ranges` }) }),
]);
export type TimeFrameSpec = z.infer<typeof TimeFrameSpec>;

const Name = z.string({ error: 'name is required' }).trim().min(1, { error: 'name is required' }).max(100, { error: 'name is at most 100 characters' });

export const TimeFrameInput = z.object({
  name: Name,
  /** `organization`: shared by everyone in it (business hours, holidays), managed by admins. */
  scope: z.enum(['user', 'organization']).default('user'),
  spec: TimeFrameSpec,
});
export type TimeFrameInput = z.infer<typeof TimeFrameInput>;

export interface TimeFrame {
  id: number;
  name: string;
  scope: 'user' | 'organization';
  spec: TimeFrameSpec;
}

/** Where a call can be sent: one of the organization's users, an outside number, or the user's voicemail. */
const UserDestination = z.object({ type: z.literal('user'), extension: z.string().regex(/^\d{2,10}$/, { error: 'an extension is 2 to 10 digits' }) });
const NumberDestination = z.object({
  type: z.literal('number'),
  number: z.string().trim().regex(/^\+?[0-9*#]{2,20}$/, { error: 'a number is 2 to 20 digits, optionally with + in front' }),
});
export const Destination = z.discriminatedUnion('type', [UserDestination, NumberDestination, z.object({ type: z.literal('voicemail') })]);
export type Destination = z.infer<typeof Destination>;

const VOICEMAIL: Destination = { type: 'voicemail' };

export const RuleAction = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('ring'),
    ringSeconds: z.number().int().min(MIN_RING_SECONDS, { error: `ring for at least ${MIN_RING_SECONDS} s` }).max(MAX_RING_SECONDS, { error: `ring for at most ${MAX_RING_SECONDS} s` }).default(DEFAULT_RING_SECONDS),
    /** Rung at the same time as the user's own devices. */
    alsoRing: z.array(z.discriminatedUnion('type', [UserDestination, NumberDestination])).max(MAX_ALSO_RING, { error: `ring at most ${MAX_ALSO_RING} others` }).default([]),
    whenBusy: Destination.default(VOICEMAIL),
    whenNotAnswered: Destination.default(VOICEMAIL),
    whenUnreachable: Destination.default(VOICEMAIL),
    /** Ask the caller's name before putting the call through. */
    screen: z.boolean().default(false),
  }),
  z.object({ type: z.literal('forward'), to: Destination }),
  z.object({ type: z.literal('do-not-disturb'), then: z.enum(['voicemail', 'busy']).default('voicemail') }),
]);
export type RuleAction = z.infer<typeof RuleAction>;

export const AnsweringRuleInput = z.object({
  name: Name,
  timeFrameId: z.number({ error: 'timeFrameId is required' }).int().positive(),
  /** 1 is the highest priority. */
  priority: z.number({ error: 'priority is required' }).int().min(1, { error: 'priority is 1 or more (1 is the highest)' }).max(1000),
  enabled: z.boolean().default(true),
  action: RuleAction,
});
export type AnsweringRuleInput = z.infer<typeof AnsweringRuleInput>;

export interface AnsweringRule extends AnsweringRuleInput {
  id: number;
}

export const RuleOrderInput = z.object({
  /** Every rule of the user's, highest priority first; they become priorities 1, 2, 3... */
  ids: z.array(z.number().int().positive()).max(MAX_RULES_PER_USER),
});

export const PreviewQuery = z.object({
  at: z.iso.datetime({ offset: true, error: 'at is an ISO 8601 time such as 2026-12-24T09:30:00Z' }),
});

export const TimeZoneInput = z.object({
  timeZone: z.string().refine(isTimeZone, { error: 'timeZone is an IANA time zone such as Europe/Berlin' }),
});

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone !== '';
  } catch {
    return false;
  }
}

/** What the preview (and, later, a call) is told: which rule applies at a moment and what happens. */
export interface RuleDecision {
  /** The rule that applies; none when no rule's frame matches (the default: ring, then voicemail). */
  rule: { id: number; name: string; priority: number; timeFrameId: number } | null;
  action: RuleAction;
  /** A sentence for people: "Rings your devices for 20 s; when not answered, voicemail." */
  summary: string;
  /** The moment as wall-clock time in the organization's zone, YYYY-MM-DDTHH:MM, and the zone. */
  localTime: string;
  timeZone: string;
}

export const DEFAULT_ACTION: RuleAction = {
  type: 'ring',
  ringSeconds: DEFAULT_RING_SECONDS,
  alsoRing: [],
  whenBusy: VOICEMAIL,
  whenNotAnswered: VOICEMAIL,
  whenUnreachable: VOICEMAIL,
  screen: false,
};

export function describeDestination(destination: Destination): string {
  if (destination.type === 'user') return `extension ${destination.extension}`;
  if (destination.type === 'number') return destination.number;
  return 'voicemail';
}

export function describeAction(action: RuleAction): string {
  if (action.type === 'forward') return `Forwards every call to ${describeDestination(action.to)}.`;
  if (action.type === 'do-not-disturb') return action.then === 'busy' ? 'Do not disturb: callers hear busy.' : 'Do not disturb: calls go straight to voicemail.';
  const others = action.alsoRing.map(describeDestination);
  const ringing = others.length ? `your devices and ${others.join(', ')}` : 'your devices';
  return [
    `Rings ${ringing} for ${action.ringSeconds} s${action.screen ? ', asking callers their name first' : ''}`,
    `when not answered, ${describeDestination(action.whenNotAnswered)}`,
    `when busy, ${describeDestination(action.whenBusy)}`,
    `when unreachable, ${describeDestination(action.whenUnreachable)}.`,
  ].join('; ');
}

/** Half-open intervals [start, end) in minutes; a weekly range as minutes of the week from Sunday 00:00. */
export type Interval = readonly [number, number];

export const MINUTES_PER_WEEK = 7 * 1440;

export function weeklyIntervals(ranges: readonly WeeklyRange[]): Interval[] {
  return ranges.flatMap((range) =>
    [...new Set(range.days)].map((day) => {
      const base = WEEKDAYS.indexOf(day) * 1440;
      return [base + minutesOfDay(range.start), base + minutesOfDay(range.end)] as const;
    }),
  );
}

export function dateIntervals(ranges: readonly DateRange[]): Interval[] {
  return ranges.map((range) => [localMinutes(range.start), localMinutes(range.end, true)] as const);
}

const overlaps = (a: Interval, b: Interval) => a[0] < b[1] && b[0] < a[1];

/** Minute of the week (Sunday 00:00 is 0) of a local minute count from localMinutes; 1970-01-01 was a Thursday. */
export function minuteOfWeek(local: number): number {
  return (((local + 4 * 1440) % MINUTES_PER_WEEK) + MINUTES_PER_WEEK) % MINUTES_PER_WEEK;
}

/** Whether some wall-clock moment matches both frames. */
export function framesCanOverlap(a: TimeFrameSpec, b: TimeFrameSpec): boolean {
  if (a.type === 'always' || b.type === 'always') return true;
  if (a.type === 'weekly' && b.type === 'weekly') {
    const left = weeklyIntervals(a.ranges);
    return weeklyIntervals(b.ranges).some((interval) => left.some((other) => overlaps(interval, other)));
  }
  if (a.type === 'dates' && b.type === 'dates') {
    const left = dateIntervals(a.ranges);
    return dateIntervals(b.ranges).some((interval) => left.some((other) => overlaps(interval, other)));
  }
  const weekly = weeklyIntervals(a.type === 'weekly' ? a.ranges : (b as { ranges: WeeklyRange[] }).ranges);
  const dates = dateIntervals(a.type === 'dates' ? a.ranges : (b as { ranges: DateRange[] }).ranges);
  return dates.some(([start, end]) => {
    if (end - start >= MINUTES_PER_WEEK) return weekly.length > 0;
    // The date range as minutes of the week, split where it wraps past Saturday night.
    const from = minuteOfWeek(start);
    const to = from + (end - start);
    const pieces: Interval[] = to <= MINUTES_PER_WEEK ? [[from, to]] : [[from, MINUTES_PER_WEEK], [0, to - MINUTES_PER_WEEK]];
    return pieces.some((piece) => weekly.some((interval) => overlaps(piece, interval)));
  });
}

export interface PriorityConflict {
  rule: { id?: number; name: string };
  other: { id?: number; name: string };
  priority: number;
  message: string;
}

/**
 * The first pair of enabled rules with the same priority whose frames can match the same moment; a rule whose
 * frame is unknown is skipped (the caller checks that frames exist).
 */
export function findPriorityConflict(
  rules: ReadonlyArray<{ id?: number; name: string; priority: number; enabled: boolean; timeFrameId: number }>,
  frames: ReadonlyMap<number, { name: string; spec: TimeFrameSpec }>,
): PriorityConflict | undefined {
  const enabled = rules.filter((rule) => rule.enabled);
  for (let i = 0; i < enabled.length; i++) {
    for (let j = i + 1; j < enabled.length; j++) {
      const [rule, other] = [enabled[i]!, enabled[j]!];
      if (rule.priority !== other.priority) continue;
      const [frame, otherFrame] = [frames.get(rule.timeFrameId), frames.get(other.timeFrameId)];
      if (!frame || !otherFrame || !framesCanOverlap(frame.spec, otherFrame.spec)) continue;
      return {
        rule: { id: rule.id, name: rule.name },
        other: { id: other.id, name: other.name },
        priority: rule.priority,
        message: `Rules "${rule.name}" and "${other.name}" both have priority ${rule.priority}, and their time frames ("${frame.name}", "${otherFrame.name}") can match the same moment: give one of them another priority.`,
      };
    }
  }
  return undefined;
}

/** A frame changed in place: its scope stays what it was. */
export const TimeFrameUpdate = TimeFrameInput.pick({ name: true, spec: true });
export type TimeFrameUpdate = z.infer<typeof TimeFrameUpdate>;

export interface TimeFrameList {
  timeFrames: TimeFrame[];
}

export interface AnsweringRuleList {
  /** Highest priority first. */
  rules: AnsweringRule[];
  /** The rule that applies now (the blue dot), none when no rule's frame matches. */
  activeRuleId: number | null;
  timeZone: string;
}

/**
 * The `answering-rules` live event: what a user's rules decide may have changed (their rules, a time frame they can
 * use, the organization's time zone), from whatever device; the app reads the list again. It carries nothing: the
 * list is the PBX's to tell.
 */
export const AnsweringRulesEvent = z.object({ type: z.literal('answering-rules') });
export type AnsweringRulesEvent = z.infer<typeof AnsweringRulesEvent>;
