/**
 * The tone after the greeting that tells the caller to speak: 300 ms of 440 Hz, faded in and out so it does not
 * click. Not 1 kHz, the test tone phones and tests send, so a recording that caught the beep would show it.
 */
import { toneSound } from '../../media/player';
import type { Sound } from '../../media/player';

let beep: Sound | undefined;

/** The beep, made once for the process (a sound is coded once per codec for every call, media/player/sound.ts). */
export function recordTone(): Sound {
  // About -12 dBFS: clearly heard, never clipped by G.711.
  beep ??= toneSound('voicemail record tone', { rate: 8000, hz: [440], amplitude: 8000, onMs: 300 });
  return beep;
}
