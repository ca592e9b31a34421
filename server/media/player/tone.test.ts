import { describe, expect, it } from 'vitest';
import { toneLevel } from '../joins/mixer.test-helper';
import { toneSound } from './tone';

describe('toneSound', () => {
  it('sums its frequencies for the time on, then stays silent to the end of the cadence', () => {
    const sound = toneSound('test ring', { rate: 8000, hz: [440, 480], amplitude: 3000, onMs: 1000, totalMs: 3000 });
    expect(sound.durationMs).toBe(3000);
    const on = sound.samples.subarray(800, 7200);
    expect(toneLevel(on, 8000, 440)).toBeGreaterThan(2500);
    expect(toneLevel(on, 8000, 480)).toBeGreaterThan(2500);
    expect(toneLevel(on, 8000, 1000)).toBeLessThan(100);
    expect(Math.max(...sound.samples.subarray(8000).map(Math.abs))).toBe(0);
    // Faded in: no click at the start.
    expect(Math.abs(sound.samples[1]!)).toBeLessThan(500);
  });
});
