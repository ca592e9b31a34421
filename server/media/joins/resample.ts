/**
 * Integer-ratio sample-rate conversion between G.711's 8 kHz and the mixer's wideband rate (16 or 48 kHz),
 * for conferences where browsers (Opus, coded at the mix rate) and desk phones meet. Opus itself needs none:
 * its encoder and decoder run at any of 8, 12, 16, 24 and 48 kHz.
 *
 * Both directions use one low-pass FIR (a Blackman-windowed sinc cut at 3.6 kHz, 16 taps per output phase):
 * going up it removes the spectral images that inserting zeros makes (above 4 kHz); going down it removes
 * what the browsers' wideband audio has above 4 kHz before it would fold back into the telephone band.
 * Each converter keeps its input history between frames, so a stream is filtered without seams; one
 * converter serves one stream.
 */

const TAPS_PER_PHASE = 16;
const CUTOFF_HZ = 3600;

const filters = new Map<number, Float32Array>();

/** The FIR for a ratio, at the high rate (8000 × factor), normalised to unity gain at DC. */
function lowPass(factor: number): Float32Array {
  const cached = filters.get(factor);
  if (cached) return cached;
  const length = TAPS_PER_PHASE * factor;
  const taps = new Float32Array(length);
  const cutoff = CUTOFF_HZ / (8000 * factor);
  const middle = (length - 1) / 2;
  let sum = 0;
  for (let n = 0; n < length; n++) {
    const x = n - middle;
    const sinc = x === 0 ? 2 * cutoff : Math.sin(2 * Math.PI * cutoff * x) / (Math.PI * x);
    const window = 0.42 - 0.5 * Math.cos((2 * Math.PI * n) / (length - 1)) + 0.08 * Math.cos((4 * Math.PI * n) / (length - 1));
    taps[n] = sinc * window;
    sum += taps[n]!;
  }
  for (let n = 0; n < length; n++) taps[n]! /= sum;
  filters.set(factor, taps);
  return taps;
}

function saturate(value: number): number {
  const rounded = Math.round(value);
  return rounded > 32767 ? 32767 : rounded < -32768 ? -32768 : rounded;
}

/** 8 kHz up to 8 kHz × factor. */
export class Upsampler {
  private readonly taps: Float32Array;
  /** The last TAPS_PER_PHASE input samples, oldest first, then the current frame's. */
  private history: Float32Array;

  constructor(readonly factor: number) {
    this.taps = lowPass(factor);
    this.history = new Float32Array(TAPS_PER_PHASE);
  }

  /** Converts `input` (8 kHz) into `output`, which holds input.length × factor samples. */
  process(input: Int16Array, output: Int16Array): void {
    const factor = this.factor;
    const taps = this.taps;
    const keep = TAPS_PER_PHASE;
    const buffer = new Float32Array(keep + input.length);
    buffer.set(this.history);
    for (let i = 0; i < input.length; i++) buffer[keep + i] = input[i]!;
    // Output sample j·factor + phase sums the inputs at or before it, each weighted by the tap that lies on
    // it; the zeros between them contribute nothing, which is the polyphase short cut. × factor restores the
    // gain that the zeros took away.
    for (let i = 0; i < input.length; i++) {
      for (let phase = 0; phase < factor; phase++) {
        let acc = 0;
        for (let k = 0; k < TAPS_PER_PHASE; k++) acc += taps[phase + k * factor]! * buffer[keep + i - k]!;
        output[i * factor + phase] = saturate(acc * factor);
      }
    }
    this.history = buffer.slice(buffer.length - keep);
  }
}

/** 8 kHz × factor down to 8 kHz. */
export class Downsampler {
  private readonly taps: Float32Array;
  private history: Float32Array;

  constructor(readonly factor: number) {
    this.taps = lowPass(factor);
    this.history = new Float32Array(this.taps.length);
  }

  /** Converts `input` (8 kHz × factor) into `output`, which holds input.length / factor samples. */
  process(input: Int16Array, output: Int16Array): void {
    const factor = this.factor;
    const taps = this.taps;
    const keep = taps.length;
    const buffer = new Float32Array(keep + input.length);
    buffer.set(this.history);
    for (let i = 0; i < input.length; i++) buffer[keep + i] = input[i]!;
    for (let j = 0; j < output.length; j++) {
      const newest = keep + (j + 1) * factor - 1;
      let acc = 0;
      for (let k = 0; k < keep; k++) acc += taps[k]! * buffer[newest - k]!;
      output[j] = saturate(acc);
    }
    this.history = buffer.slice(buffer.length - keep);
  }
}
