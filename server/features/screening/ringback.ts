/**
 * The ringback a screened caller hears while the user's phones ring: the PBX answered the call to ask their name,
 * so no phone's 180 reaches them and the tone is played into the call. North American ringback (ITU-T E.180):
 * 440 Hz and 480 Hz together, 2 s on, 4 s off, played in a loop.
 */
import { toneSound } from '../../media/player';
import type { Sound } from '../../media/player';

let ringback: Sound | undefined;

/** One cadence (6 s), made once for the process; looped by the player. */
export function ringbackTone(): Sound {
  // Each of the two tones at about -19 dBFS: together about -13 dBFS, clearly heard, never clipped by G.711.
  ringback ??= toneSound('ringback', { rate: 8000, hz: [440, 480], amplitude: 3_600, onMs: 2_000, totalMs: 6_000 });
  return ringback;
}
