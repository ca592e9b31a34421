/**
 * The ringback a screened caller hears while the user's phones ring: the PBX answered the call to ask their name,
 * so no phone's 180 reaches them and the tone is played into the call. North American ringback (ITU-T E.180):
 * 440 Hz and 480 Hz together, 2 s on, 4 s off, played in a loop.
 */
import { Sound } from '../../media/player';

const RATE = 8000;
const ON_MS = 2_000;
const OFF_MS = 4_000;
/** Each of the two tones at about -19 dBFS: together about -13 dBFS, clearly heard, never clipped by G.711. */
const AMPLITUDE = 3_600;
const FADE_MS = 10;

let ringback: Sound | undefined;

/** One cadence (6 s), made once for the process; looped by the player. */
export function ringbackTone(): Sound {
  if (ringback) return ringback;
  const on = (RATE * ON_MS) / 1000;
  const fade = (RATE * FADE_MS) / 1000;
  const samples = new Int16Array(((ON_MS + OFF_MS) * RATE) / 1000);
  for (let i = 0; i < on; i++) {
    const envelope = Math.min(1, i / fade, (on - 1 - i) / fade);
    const t = i / RATE;
    samples[i] = Math.round(AMPLITUDE * envelope * (Math.sin(2 * Math.PI * 440 * t) + Math.sin(2 * Math.PI * 480 * t)));
  }
  ringback = new Sound('ringback', RATE, samples);
  return ringback;
}
