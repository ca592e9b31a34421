/**
 * Wall-clock time in the organization's zone, which is how rules and the preview speak ("a call at 09:30 on the
 * 24th" means 09:30 where the organization is, not where this computer is).
 */

/** The zone's offset from UTC, in minutes, at `instant`. */
function offsetMinutes(instant: number, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(new Date(instant));
  const value = (type: string) => Number(parts.find((part) => part.type === type)?.value);
  const asUtc = Date.UTC(value('year'), value('month') - 1, value('day'), value('hour'), value('minute'), value('second'));
  return Math.round((asUtc - Math.floor(instant / 1000) * 1000) / 60_000);
}

/**
 * The instant at which the clocks of `timeZone` show `date` (YYYY-MM-DD) and `time` (HH:MM). A time the clocks
 * skip (spring forward) is read with the offset from before the change, so it lands just after it; a time they
 * show twice (fall back) is the first of the two. Undefined when the date or time is not one.
 */
export function instantOfWallClock(date: string, time: string, timeZone: string): Date | undefined {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  const t = /^(\d{2}):(\d{2})$/.exec(time);
  if (!d || !t) return undefined;
  const wall = Date.UTC(Number(d[1]), Number(d[2]) - 1, Number(d[3]), Number(t[1]), Number(t[2]));
  const check = new Date(wall);
  if (check.getUTCDate() !== Number(d[3]) || check.getUTCMonth() !== Number(d[2]) - 1 || Number(t[1]) > 23 || Number(t[2]) > 59) return undefined;
  // Two guesses: the offset a day before and a day after; the earlier instant that shows this wall time wins.
  const candidates = [offsetMinutes(wall - 86_400_000, timeZone), offsetMinutes(wall + 86_400_000, timeZone)]
    .map((offset) => wall - offset * 60_000)
    .filter((instant) => wall - offsetMinutes(instant, timeZone) * 60_000 === instant)
    .sort((a, b) => a - b);
  const instant = candidates[0] ?? wall - offsetMinutes(wall - 86_400_000, timeZone) * 60_000;
  return new Date(instant);
}

/** What the clocks of `timeZone` show at `instant`, as the date and time fields of the preview want them. */
export function wallClockOf(instant: Date, timeZone: string): { date: string; time: string } {
  const shifted = new Date(instant.getTime() + offsetMinutes(instant.getTime(), timeZone) * 60_000);
  const iso = shifted.toISOString();
  return { date: iso.slice(0, 10), time: iso.slice(11, 16) };
}
