/**
 * Whether a recording holds anything worth keeping: how much of it is louder than a silent line. A message is
 * dropped when it is very short or when (almost) nothing in it rises above the threshold: a caller who hung up
 * at the tone, or an open line with nobody speaking. Measured as the audio goes by, 20 ms at a time.
 */

/** 20 ms windows, as the audio arrives. */
const WINDOW_MS = 20;

/**
 * RMS under which a window counts as silence: about -45 dBFS, above a quiet line's hiss and G.711's idle
 * noise, well below speech at a normal level (-30 to -15 dBFS).
 */
export const SILENCE_RMS = 180;

/** Counts the 20 ms windows of a stream of samples whose RMS is above the silence threshold. */
export class VoiceMeter {
  private readonly size: number;
  private readonly limit: number;
  private energy = 0;
  private filled = 0;
  private voiced = 0;

  constructor(rate: number, threshold = SILENCE_RMS) {
    this.size = (rate * WINDOW_MS) / 1000;
    this.limit = threshold * threshold * this.size;
  }

  add(samples: Int16Array): void {
    for (let i = 0; i < samples.length; i++) {
      this.energy += samples[i]! * samples[i]!;
      if (++this.filled === this.size) {
        if (this.energy > this.limit) this.voiced++;
        this.energy = 0;
        this.filled = 0;
      }
    }
  }

  /** Milliseconds of the audio so far, in whole windows, louder than silence. */
  get voicedMs(): number {
    return this.voiced * WINDOW_MS;
  }
}

/** Milliseconds of `samples` (mono at `rate`) in 20 ms windows whose RMS is above `threshold`. */
export function voicedMs(samples: Int16Array, rate: number, threshold = SILENCE_RMS): number {
  const meter = new VoiceMeter(rate, threshold);
  meter.add(samples);
  return meter.voicedMs;
}

export interface KeepRules {
  /** A message shorter than this is dropped (1.5 s). */
  minDurationMs: number;
  /** A message with less sound than this above the silence threshold is dropped. */
  minVoicedMs: number;
}

export const DEFAULT_KEEP_RULES: KeepRules = { minDurationMs: 1_500, minVoicedMs: 300 };

/** Why a recording of `durationMs` with `voiced` ms of sound is not kept, or undefined when it is. */
export function dropReason(durationMs: number, voiced: number, rules: KeepRules = DEFAULT_KEEP_RULES): 'too-short' | 'silent' | undefined {
  if (durationMs < rules.minDurationMs) return 'too-short';
  if (voiced < rules.minVoicedMs) return 'silent';
  return undefined;
}
