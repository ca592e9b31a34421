/**
 * Whether a recording holds anything worth keeping: how much of it is louder than a silent line. A message is
 * dropped when it is very short or when (almost) nothing in it rises above the threshold: a caller who hung up
 * at the tone, or an open line with nobody speaking.
 */

/** 20 ms windows, as the audio arrived. */
const WINDOW_MS = 20;

/**
 * RMS under which a window counts as silence: about -45 dBFS, above a quiet line's hiss and G.711's idle
 * noise, well below speech at a normal level (-30 to -15 dBFS).
 */
export const SILENCE_RMS = 180;

/** Milliseconds of `samples` (mono at `rate`) in 20 ms windows whose RMS is above `threshold`. */
export function voicedMs(samples: Int16Array, rate: number, threshold = SILENCE_RMS): number {
  const size = (rate * WINDOW_MS) / 1000;
  const limit = threshold * threshold * size;
  let voiced = 0;
  for (let from = 0; from + size <= samples.length; from += size) {
    let energy = 0;
    for (let i = from; i < from + size; i++) energy += samples[i]! * samples[i]!;
    if (energy > limit) voiced++;
  }
  return voiced * WINDOW_MS;
}

export interface KeepRules {
  /** A message shorter than this is dropped (1.5 s). */
  minDurationMs: number;
  /** A message with less sound than this above the silence threshold is dropped. */
  minVoicedMs: number;
}

export const DEFAULT_KEEP_RULES: KeepRules = { minDurationMs: 1_500, minVoicedMs: 300 };

/** Why a recording is not kept, or undefined when it is. */
export function dropReason(samples: Int16Array, rate: number, rules: KeepRules = DEFAULT_KEEP_RULES): 'too-short' | 'silent' | undefined {
  if ((samples.length * 1000) / rate < rules.minDurationMs) return 'too-short';
  if (voicedMs(samples, rate) < rules.minVoicedMs) return 'silent';
  return undefined;
}
