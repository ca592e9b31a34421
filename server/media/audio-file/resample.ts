/**
 * Sample-rate conversion of whole sounds (a file to the rate the PBX plays or stores it at).
 *
 * Between 8 kHz and a whole multiple of it the mixer's own converters are used (joins/resample.ts: they keep
 * the telephone band, which is all 8 kHz can carry). Any other pair (44.1 kHz to 48 kHz, 48 to 16 kHz) goes
 * through a band-limited interpolator: each output sample is the input under a Blackman-windowed sinc cut at
 * 90 % of the lower rate's Nyquist frequency, 16 zero crossings wide.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Downsampler, Upsampler } from '../joins/resample';

const HALF_WIDTH = 8;

function saturate(value: number): number {
  const rounded = Math.round(value);
  return rounded > 32767 ? 32767 : rounded < -32768 ? -32768 : rounded;
}

/** `samples` at `fromRate` converted to `toRate`: round(length × toRate / fromRate) samples. */
export function resample(samples: Int16Array, fromRate: number, toRate: number): Int16Array {
  const steps = resampleSteps(samples, fromRate, toRate);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * As resample, letting the event loop turn after each second of output: two minutes at 44.1 kHz take over a
 * second to convert, which the calls' 20 ms media ticks must not wait for.
 */
export async function resampleAsync(samples: Int16Array, fromRate: number, toRate: number): Promise<Int16Array> {
  const steps = resampleSteps(samples, fromRate, toRate);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await nextTurn();
  }
}

/** The conversion a second of output at a time: the FIR converters keep their history from one piece to the next. */
function* resampleSteps(samples: Int16Array, fromRate: number, toRate: number): Generator<void, Int16Array> {
  if (!(fromRate > 0 && toRate > 0)) throw new RangeError(`cannot resample from ${fromRate} Hz to ${toRate} Hz`);
  if (fromRate === toRate) return samples.slice();
  if (fromRate === 8000 && toRate % 8000 === 0) {
    const factor = toRate / 8000;
    const out = new Int16Array(samples.length * factor);
    const up = new Upsampler(factor);
    for (let at = 0; at < samples.length; at += 8000) {
      const piece = samples.subarray(at, at + 8000);
      up.process(piece, out.subarray(at * factor, (at + piece.length) * factor));
      yield;
    }
    return out;
  }
  if (toRate === 8000 && fromRate % 8000 === 0) {
    const factor = fromRate / 8000;
    const whole = samples.length - (samples.length % factor);
    const out = new Int16Array(whole / factor);
    const down = new Downsampler(factor);
    for (let at = 0; at < whole; at += fromRate) {
      const end = Math.min(at + fromRate, whole);
      down.process(samples.subarray(at, end), out.subarray(at / factor, end / factor));
      yield;
    }
    return out;
  }
  return yield* interpolate(samples, fromRate, toRate);
}

/** Table steps per input sample; the kernel is read from the table with linear interpolation. */
const TABLE_STEPS = 512;

/** The windowed sinc sampled from 0 to `reach` (it is even), so no sine is computed per tap. */
function kernelTable(cutoff: number, reach: number): Float64Array {
  const size = Math.ceil(reach * TABLE_STEPS) + 2;
  const table = new Float64Array(size);
  for (let i = 0; i < size; i++) {
    const x = i / TABLE_STEPS;
    if (x >= reach) break;
    const sinc = x === 0 ? 1 : Math.sin(2 * Math.PI * cutoff * x) / (2 * Math.PI * cutoff * x);
    const window = 0.42 + 0.5 * Math.cos((Math.PI * x) / reach) + 0.08 * Math.cos((2 * Math.PI * x) / reach);
    table[i] = sinc * window;
  }
  return table;
}

function* interpolate(samples: Int16Array, fromRate: number, toRate: number): Generator<void, Int16Array> {
  const outLength = Math.round((samples.length * toRate) / fromRate);
  const out = new Int16Array(outLength);
  const step = fromRate / toRate;
  // Cut-off in cycles per input sample; going down it must fall below the output's Nyquist frequency.
  const cutoff = (0.9 * Math.min(fromRate, toRate)) / (2 * fromRate);
  // The kernel spans HALF_WIDTH zero crossings each side, measured at the cut-off.
  const reach = HALF_WIDTH / (2 * cutoff);
  const table = kernelTable(cutoff, reach);
  for (let j = 0; j < outLength; j++) {
    if (j % toRate === toRate - 1) yield;
    const t = j * step;
    const first = Math.max(0, Math.ceil(t - reach));
    const last = Math.min(samples.length - 1, Math.floor(t + reach));
    let acc = 0;
    let weights = 0;
    for (let k = first; k <= last; k++) {
      const at = Math.abs(k - t) * TABLE_STEPS;
      const index = Math.floor(at);
      const fraction = at - index;
      const weight = table[index]! + (table[index + 1]! - table[index]!) * fraction;
      acc += weight * samples[k]!;
      weights += weight;
    }
    // Normalising by the weights summed keeps unity gain at DC, at the edges as in the middle.
    out[j] = weights === 0 ? 0 : saturate(acc / weights);
  }
  return out;
}
