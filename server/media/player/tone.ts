/**
 * Tones the PBX makes in code rather than reads from a file (the record tone, ringback): one or more sine waves
 * summed, on for a while with 10 ms fades so they do not click, then silence to the end of the cadence.
 */
import { Sound } from './sound';
import type { MixRate } from '../joins/frame-codec';

const FADE_MS = 10;

export interface ToneSpec {
  rate: MixRate;
  /** The frequencies sounding together. */
  hz: readonly number[];
  /** Peak of each frequency (16-bit). */
  amplitude: number;
  onMs: number;
  /** The whole cadence, silence after the tone included; at least `onMs`. */
  totalMs?: number;
}

export function toneSound(name: string, spec: ToneSpec): Sound {
  const on = Math.round((spec.rate * spec.onMs) / 1000);
  const fade = (spec.rate * FADE_MS) / 1000;
  const samples = new Int16Array(Math.max(on, Math.round((spec.rate * (spec.totalMs ?? spec.onMs)) / 1000)));
  for (let i = 0; i < on; i++) {
    const envelope = Math.min(1, i / fade, (on - 1 - i) / fade);
    let sum = 0;
    for (const hz of spec.hz) sum += Math.sin((2 * Math.PI * hz * i) / spec.rate);
    samples[i] = Math.round(spec.amplitude * envelope * sum);
  }
  return new Sound(name, spec.rate, samples);
}
