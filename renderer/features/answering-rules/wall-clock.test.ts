import { describe, expect, it } from 'vitest';
import { instantOfWallClock, wallClockOf } from './wall-clock';

describe('wall-clock time in the organization zone', () => {
  it('reads a time in the zone, not in this computer', () => {
    expect(instantOfWallClock('2026-12-24', '09:30', 'Europe/Berlin')?.toISOString()).toBe('2026-12-24T08:30:00.000Z');
    expect(instantOfWallClock('2026-07-01', '09:30', 'Europe/Berlin')?.toISOString()).toBe('2026-07-01T07:30:00.000Z');
    expect(instantOfWallClock('2026-07-01', '09:30', 'America/New_York')?.toISOString()).toBe('2026-07-01T13:30:00.000Z');
    expect(instantOfWallClock('2026-07-01', '09:30', 'UTC')?.toISOString()).toBe('2026-07-01T09:30:00.000Z');
  });

  it('is right on the days the clocks change', () => {
    // Berlin springs forward at 02:00 on 2026-03-29: 01:30 is still winter time, 03:30 summer time.
    expect(instantOfWallClock('2026-03-29', '01:30', 'Europe/Berlin')?.toISOString()).toBe('2026-03-29T00:30:00.000Z');
    expect(instantOfWallClock('2026-03-29', '03:30', 'Europe/Berlin')?.toISOString()).toBe('2026-03-29T01:30:00.000Z');
    // 02:30 does not exist: it lands after the change.
    expect(instantOfWallClock('2026-03-29', '02:30', 'Europe/Berlin')?.toISOString()).toBe('2026-03-29T01:30:00.000Z');
    // New York falls back at 02:00 on 2026-11-01: 01:30 happens twice, the first (EDT) is taken.
    expect(instantOfWallClock('2026-11-01', '01:30', 'America/New_York')?.toISOString()).toBe('2026-11-01T05:30:00.000Z');
  });

  it('refuses what is not a date or a time', () => {
    expect(instantOfWallClock('2026-13-01', '09:30', 'UTC')).toBeUndefined();
    expect(instantOfWallClock('2026-02-30', '09:30', 'UTC')).toBeUndefined();
    expect(instantOfWallClock('2026-02-01', '24:30', 'UTC')).toBeUndefined();
    expect(instantOfWallClock('', '09:30', 'UTC')).toBeUndefined();
    expect(instantOfWallClock('2026-12-24', '9:30', 'UTC')).toBeUndefined();
  });

  it('shows an instant as the zone clocks show it', () => {
    expect(wallClockOf(new Date('2026-12-24T08:30:00Z'), 'Europe/Berlin')).toEqual({ date: '2026-12-24', time: '09:30' });
    expect(wallClockOf(new Date('2026-12-24T03:30:00Z'), 'America/New_York')).toEqual({ date: '2026-12-23', time: '22:30' });
  });
});
