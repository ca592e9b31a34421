/**
 * The tone after the greeting that tells the caller to speak: 300 ms of 440 Hz, faded in and out so it does not
 * click. Not 1 kHz, the test tone phones and tests send, so a recording that caught the beep would show it.
 */
import { Sound } from '../../media/player';

const RATE = 8000;
const HZ = 440;
const DURATION_MS = 300;
const FADE_MS = 10;
/** About -12 dBFS: clearly heard, never clipped by G.711. */
const AMPLITUDE = 8000;

let beep: Sound | undefined;

/** The beep, made once for the process (a sound is coded once per codec for every call, media/player/sound.ts). */
export function recordTone(): Sound {
  if (beep) return beep;
  const count = (RATE * DURATION_MS) / 1000;
  const fade = (RATE * FADE_MS) / 1000;
  const samples = new Int16Array(count);
  for (let i = 0; i < count; i++) {
    const envelope = Math.min(1, i / fade, (count - 1 - i) / fade);
    samples[i] = Math.round(AMPLITUDE * envelope * Math.sin((2 * Math.PI * HZ * i) / RATE));
  }
  beep = new Sound('voicemail record tone', RATE, samples);
  return beep;
}
