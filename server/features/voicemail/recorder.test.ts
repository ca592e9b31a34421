import { describe, expect, it } from 'vitest';
import { encodeG711, ULAW_TO_LINEAR } from '../../media/joins/g711';
import { CODECS, FakeClock, FakeLeg, Party, toneFrame, toneLevel } from '../../media/joins/mixer.test-helper';
import type { RtpFrame } from '../../media/legs/media-leg';
import { dropReason, voicedMs, VoiceMeter } from './audio-level';
import { MessageRecorder } from './recorder';
import type { RecordingEnd } from './recorder';

/** A fake leg whose caller also presses keys and sends packets of any payload type. */
class CallerLeg extends FakeLeg {
  private frame = 0;

  constructor() {
    super('caller', CODECS.pcmu);
  }

  press(digit: string): void {
    this.emit('dtmf', { digit, durationMs: 100 });
  }

  listening(): number {
    return this.listenerCount('dtmf') + this.listenerCount('rtp');
  }

  raw(frame: RtpFrame): void {
    this.emit('rtp', frame);
  }

  /** The next 20 ms of a 1 kHz tone in PCMU. */
  speak(): void {
    this.deliver(this.frame & 0xffff, this.frame * 160, encodeG711('ulaw', toneFrame(1000, 8000, this.frame)));
    this.frame++;
  }
}

/** A PCMU frame whose every sample is the byte `value` (so where it landed can be read back). */
function mark(value: number): Buffer {
  return Buffer.alloc(160, value);
}

function recorderOn(leg: FakeLeg, maxMs = 180_000) {
  const clock = new FakeClock();
  const chunks: Int16Array[] = [];
  const rates: number[] = [];
  const recorder = new MessageRecorder(leg, {
    maxMs,
    clock,
    open: (rate) => {
      rates.push(rate);
      return { write: (samples) => chunks.push(samples.slice()) };
    },
  });
  const ends: RecordingEnd[] = [];
  recorder.onEnded((why) => ends.push(why));
  /** What reached the sink so far, as one stretch. */
  const recording = () => {
    const samples = new Int16Array(chunks.reduce((n, c) => n + c.length, 0));
    let at = 0;
    for (const chunk of chunks) {
      samples.set(chunk, at);
      at += chunk.length;
    }
    return { samples, rate: rates[0], wideband: recorder.wideband, durationMs: recorder.durationMs, end: recorder.end };
  };
  return { clock, recorder, ends, recording };
}

/** The byte each 20 ms stretch of a PCMU recording was made of, or 'silence'. */
function stretches(samples: Int16Array): Array<number | 'silence'> {
  const out: Array<number | 'silence'> = [];
  for (let at = 0; at < samples.length; at += 160) {
    const value = samples[at]!;
    out.push(value === 0 ? 'silence' : ULAW_TO_LINEAR.indexOf(value));
  }
  return out;
}

describe('MessageRecorder', () => {
  it('records a G.711 caller at 8 kHz: the tone they sent, as long as they sent it', () => {
    const caller = new Party('caller', 'pcmu', 1000);
    const { recorder, recording } = recorderOn(caller.leg);
    for (let i = 0; i < 100; i++) caller.speak();
    // The audio goes out as it comes, but for the few frames held back for reordering.
    expect(recording().durationMs).toBe(1940);
    recorder.stop();
    const recorded = recording();
    expect(recorded).toMatchObject({ rate: 8000, wideband: false, durationMs: 2000, end: 'stopped' });
    expect(recorded.samples).toHaveLength(16000);
    expect(toneLevel(recorded.samples, 8000, 1000)).toBeGreaterThan(6000);
    expect(toneLevel(recorded.samples, 8000, 1500)).toBeLessThan(500);
  });

  it('records an Opus caller at 16 kHz, marked wideband', () => {
    const caller = new Party('caller', 'opus', 1000);
    const { recorder, recording } = recorderOn(caller.leg);
    for (let i = 0; i < 100; i++) caller.speak();
    recorder.stop();
    const recorded = recording();
    expect(recorded).toMatchObject({ rate: 16000, wideband: true, durationMs: 2000 });
    // Past the codec's first frames, the tone is all there is.
    expect(toneLevel(recorded.samples.subarray(3200), 16000, 1000)).toBeGreaterThan(5000);
    expect(toneLevel(recorded.samples.subarray(3200), 16000, 1500)).toBeLessThan(500);
  });

  it('puts frames back in order by timestamp, keeps gaps silent, drops duplicates and frames too late', () => {
    const leg = new FakeLeg('caller', CODECS.pcmu);
    const { recorder, recording } = recorderOn(leg);
    const send = (seq: number, value: number) => leg.deliver(seq, 1000 + seq * 160, mark(value));
    send(0, 0x10);
    send(2, 0x12);
    send(1, 0x11);
    send(1, 0x55);
    send(3, 0x13);
    // 4 and 5 lost
    send(6, 0x16);
    send(7, 0x17);
    send(8, 0x18);
    send(9, 0x19);
    // far too late: 0 again, behind everything decoded
    send(0, 0x66);
    recorder.stop();
    expect(stretches(recording().samples)).toEqual([0x10, 0x11, 0x12, 0x13, 'silence', 'silence', 0x16, 0x17, 0x18, 0x19]);
  });

  it('follows timestamps across the 32-bit wrap and a new SSRC, and leaves out telephone-events', () => {
    const leg = new CallerLeg();
    const { recorder, recording } = recorderOn(leg);
    const start = 0xffffffff - 160 * 2 + 1;
    for (let i = 0; i < 4; i++) leg.deliver(i, (start + i * 160) >>> 0, mark(0x20 + i));
    // An RFC 4733 event (payload type 101) between them is not audio.
    leg.raw({ marker: true, payloadType: 101, sequenceNumber: 4, timestamp: 480, ssrc: 0x1234, bytes: Buffer.from([11, 0x80, 0, 160]), payloadStart: 0, payloadEnd: 4 });
    for (let i = 0; i < 2; i++) leg.deliver(100 + i, 777 + i * 160, mark(0x30 + i), 0xbeef);
    recorder.stop();
    expect(stretches(recording().samples)).toEqual([0x20, 0x21, 0x22, 0x23, 0x30, 0x31]);
  });

  it('carries on where the audio stands when the timestamps jump by seconds (a clock restarted), rather than ending the message', () => {
    const leg = new FakeLeg('caller', CODECS.pcmu);
    const { recorder, ends, recording } = recorderOn(leg);
    leg.deliver(0, 5_000, mark(0x40));
    leg.deliver(1, 5_160, mark(0x41));
    leg.deliver(2, 5_000 + 8000 * 200, mark(0x42));
    leg.deliver(3, 5_160 + 8000 * 200, mark(0x43));
    recorder.stop();
    expect(ends).toEqual(['stopped']);
    expect(stretches(recording().samples)).toEqual([0x40, 0x41, 0x42, 0x43]);
  });

  it('ends at # and hears nothing after it', () => {
    const caller = new CallerLeg();
    const { ends, recording } = recorderOn(caller);
    for (let i = 0; i < 50; i++) caller.speak();
    caller.press('5');
    expect(ends).toEqual([]);
    caller.press('#');
    for (let i = 0; i < 50; i++) caller.speak();
    expect(ends).toEqual(['hash']);
    expect(recording()).toMatchObject({ durationMs: 1000, end: 'hash' });
    expect(caller.listening()).toBe(0);
  });

  it('ends at the maximum length on the clock, even when the caller sends nothing', () => {
    const leg = new FakeLeg('caller', CODECS.pcmu);
    const { clock, recorder, ends, recording } = recorderOn(leg, 3_000);
    clock.advance(2_999);
    expect(ends).toEqual([]);
    clock.advance(1);
    expect(ends).toEqual(['max-length']);
    expect(recording()).toMatchObject({ durationMs: 0, end: 'max-length' });
    recorder.stop();
    expect(ends).toEqual(['max-length']);
  });

  it('ends at the maximum length of audio, never holding more than it', () => {
    const caller = new Party('caller', 'pcmu', 1000);
    const { clock, ends, recording } = recorderOn(caller.leg, 1_000);
    for (let i = 0; i < 60; i++) caller.speak();
    expect(ends).toEqual(['max-length']);
    expect(recording().samples.length).toBe(8000);
    expect(caller.leg.hasListeners()).toBe(false);
    expect(clock.pending).toBe(0);
  });
});

describe('dropReason and VoiceMeter', () => {
  const tone = (ms: number, amplitude: number) => {
    const samples = new Int16Array(8 * ms);
    for (let i = 0; i < samples.length; i++) samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * 440 * i) / 8000));
    return samples;
  };

  it('keeps a message with sound in it, and drops one too short or silent', () => {
    const judge = (samples: Int16Array) => dropReason((samples.length * 1000) / 8000, voicedMs(samples, 8000));
    expect(judge(tone(2_000, 3000))).toBeUndefined();
    expect(judge(tone(1_400, 3000))).toBe('too-short');
    expect(judge(new Int16Array(8000 * 10))).toBe('silent');
    // a quiet hiss (about -60 dBFS) is silence
    expect(judge(tone(10_000, 40))).toBe('silent');
    expect(voicedMs(tone(1_000, 3000), 8000)).toBe(1000);
    // 250 ms of sound (13 windows touched) in 10 s of silence is not enough; measured in pieces of any size
    const mostlySilent = new Int16Array(80_000);
    mostlySilent.set(tone(250, 3000), 40_000);
    const meter = new VoiceMeter(8000);
    for (let at = 0; at < mostlySilent.length; at += 333) meter.add(mostlySilent.subarray(at, at + 333));
    expect(meter.voicedMs).toBe(260);
    expect(dropReason(10_000, meter.voicedMs)).toBe('silent');
  });
});
