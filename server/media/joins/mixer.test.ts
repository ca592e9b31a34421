import { describe, expect, it } from 'vitest';
import { rtpPayload } from '../legs/media-leg';
import { ULAW_TO_LINEAR } from './g711';
import type { CodecKind } from './frame-codec';
import { Mixer } from './mixer';
import type { LeaveReason, ParticipantInfo } from './mixer';
import { FakeClock, FakeLeg, CODECS, Party, toneLevel, toneFrame } from './mixer.test-helper';
import { Downsampler, Upsampler } from './resample';

/** Distinct tones, all within the telephone band so that G.711 parties carry them too. */
const TONES = [440, 620, 810, 1030, 1270, 1490, 1720, 1960, 2230, 2510];
/** A tone heard: well above what codecs and mixing leave at a frequency nobody sends. */
const HEARD = 1500;
const NOT_HEARD = 300;

function conference(kinds: CodecKind[], options: ConstructorParameters<typeof Mixer>[0] = {}, amplitude = 8000) {
  const clock = new FakeClock();
  const mixer = new Mixer({ clock, ...options });
  const parties = kinds.map((kind, i) => new Party(`p${i}`, kind, TONES[i], amplitude));
  for (const party of parties) mixer.add(party.leg);
  /** Each party sends a frame, then the mixer's clock moves on by one frame. */
  const run = (frames: number) => {
    for (let f = 0; f < frames; f++) {
      for (const party of parties) if (mixer.has(party.leg.id)) party.speak();
      clock.advance(20);
    }
  };
  return { clock, mixer, parties, run };
}

function expectHearsOthersOnly(parties: Party[], heard = HEARD): void {
  for (const listener of parties) {
    for (const speaker of parties) {
      const level = listener.levelOf(speaker.hz!);
      if (speaker === listener) expect(level, `${listener.leg.id} hears itself`).toBeLessThan(NOT_HEARD);
      else expect(level, `${listener.leg.id} hears ${speaker.leg.id}`).toBeGreaterThan(heard);
    }
  }
}

describe('Mixer', () => {
  it('lets each of three phones hear the other two and never itself', () => {
    const { parties, run } = conference(['pcmu', 'pcmu', 'pcmu']);
    run(50);
    expectHearsOthersOnly(parties);
  });

  it('mixes browsers (Opus) and desk phones (PCMU, PCMA) in one conference, each in its own codec', () => {
    const { mixer, parties, run } = conference(['opus', 'pcmu', 'opus', 'pcma']);
    expect(mixer.mixRate).toBe(48000);
    run(60);
    expectHearsOthersOnly(parties);
    // Each leg got its own codec's payloads: 20 ms of G.711 is 160 bytes, Opus at 32 kb/s far less.
    expect(rtpPayload(parties[1]!.leg.sent.at(-1)!).length).toBe(160);
    expect(rtpPayload(parties[0]!.leg.sent.at(-1)!).length).toBeLessThan(160);
  });

  it('carries ten participants, each hearing the nine others', () => {
    // Nine tones at 3,000 each sum to at most 27,000: below the 16-bit limit, where clipping would spread them.
    const { parties, run } = conference(['opus', 'pcmu', 'opus', 'pcma', 'opus', 'pcmu', 'opus', 'pcmu', 'opus', 'pcma'], {}, 3000);
    run(60);
    expectHearsOthersOnly(parties, 1000);
  });

  it('stops a removed party being heard, and sends it nothing more', () => {
    const { mixer, parties, run } = conference(['pcmu', 'pcmu', 'pcmu']);
    const left: Array<[ParticipantInfo, LeaveReason]> = [];
    mixer.on('participantLeft', (info, reason) => left.push([info, reason]));
    run(30);
    const [a, b, c] = parties as [Party, Party, Party];
    expect(a.levelOf(b.hz!)).toBeGreaterThan(HEARD);
    expect(mixer.remove(b.leg.id)).toBe(true);
    const sentToB = b.leg.sent.length;
    run(30);
    expect(a.levelOf(b.hz!)).toBeLessThan(NOT_HEARD);
    expect(c.levelOf(b.hz!)).toBeLessThan(NOT_HEARD);
    expect(a.levelOf(c.hz!)).toBeGreaterThan(HEARD);
    expect(b.leg.sent.length).toBe(sentToB);
    expect(b.leg.hasListeners()).toBe(false);
    expect(b.leg.state).toBe('connected');
    expect(left).toEqual([[{ id: 'p1', codec: 'pcmu' }, 'removed']]);
  });

  it('lets a party join a conference under way and be heard from then on', () => {
    const { clock, mixer, parties, run } = conference(['pcmu', 'pcmu']);
    run(20);
    // A tone above the telephone band: the phones cannot hear it, and it must not fold back into their band.
    const late = new Party('late', 'opus', 5000);
    mixer.add(late.leg);
    parties.push(late);
    run(40);
    expect(mixer.mixRate).toBe(48000);
    expect(parties[0]!.levelOf(3000)).toBeLessThan(NOT_HEARD);
    expect(parties[0]!.levelOf(TONES[1]!)).toBeGreaterThan(HEARD);
    late.hz = 1800;
    run(40);
    expect(parties[0]!.levelOf(1800)).toBeGreaterThan(HEARD);
    expect(late.levelOf(TONES[0]!)).toBeGreaterThan(HEARD);
    expect(clock.pending).toBe(1);
  });

  it('encodes once per codec for the silent participants, who all get the same full mix', () => {
    const { mixer, parties, run } = conference(['pcmu', 'pcmu', 'pcmu', 'pcma', 'opus', 'opus']);
    for (const party of parties.slice(1)) party.hz = undefined;
    run(40);
    // The full mix once for PCMU, once for PCMA, once for Opus; the lone speaker hears a silent frame coded once.
    expect(mixer.stats().encodesLastTick).toBe(3);
    const [speaker, s1, s2, , o1, o2] = parties as Party[];
    expect(s1!.leg.sentPayloads.at(-1)).toBe(s2!.leg.sentPayloads.at(-1));
    expect(o1!.leg.sentPayloads.at(-1)).toBe(o2!.leg.sentPayloads.at(-1));
    expect(s1!.levelOf(TONES[0]!)).toBeGreaterThan(HEARD);
    // The speaker hears silence (nobody else speaks), and the speaker's stream is its own.
    expect(speaker!.leg.sentPayloads.at(-1)).not.toBe(s1!.leg.sentPayloads.at(-1));
    const heard = new Int16Array(rtpPayload(speaker!.leg.sent.at(-1)!)).map((_, i) => ULAW_TO_LINEAR[speaker!.leg.sent.at(-1)!.bytes[i]!]!);
    expect(Math.max(...heard.map(Math.abs))).toBeLessThan(50);
    expect(mixer.stats().participants.p1!.speaking).toBe(false);
    expect(mixer.stats().participants.p0!.speaking).toBe(true);
  });

  it('sends silence, not noise, when nobody speaks', () => {
    const { mixer, parties, run } = conference(['pcmu', 'pcma']);
    for (const party of parties) party.hz = undefined;
    run(10);
    expect(mixer.stats().encodesLastTick).toBe(0);
    expect(rtpPayload(parties[0]!.leg.sent.at(-1)!).every((byte) => byte === 0xff)).toBe(true);
    expect(rtpPayload(parties[1]!.leg.sent.at(-1)!).every((byte) => byte === 0xd5)).toBe(true);
  });

  it('saturates loud sums instead of letting them wrap round', () => {
    const { clock, parties } = conference(['pcmu', 'pcmu', 'pcmu']);
    // Two parties at about +24,000 each: the third hears their sum, past the 16-bit limit.
    const loud = Buffer.alloc(160, 0x82);
    expect(ULAW_TO_LINEAR[0x82]).toBeGreaterThan(20000);
    const [a, b, c] = parties as [Party, Party, Party];
    c.hz = undefined;
    for (let f = 0; f < 10; f++) {
      a.leg.deliver(f, f * 160, loud);
      b.leg.deliver(f, f * 160, loud);
      c.speak();
      clock.advance(20);
    }
    const last = rtpPayload(c.leg.sent.at(-1)!);
    expect(ULAW_TO_LINEAR[last[0]!]).toBeGreaterThan(30000);
    expect(last.every((byte) => byte === last[0])).toBe(true);
  });

  it('gives each participant its own RTP stream: one SSRC, numbers that count on, the first packet marked', () => {
    const { parties, run } = conference(['pcmu', 'opus', 'pcma']);
    run(10);
    const ssrcs = new Set<number>();
    for (const party of parties) {
      const sent = party.leg.sent;
      const step = party.codec === 'opus' ? 960 : 160;
      expect(sent.length).toBe(10);
      expect(new Set(sent.map((f) => f.ssrc)).size).toBe(1);
      ssrcs.add(sent[0]!.ssrc);
      expect(sent.map((f) => f.marker)).toEqual([true, ...Array<boolean>(9).fill(false)]);
      for (let i = 1; i < sent.length; i++) {
        expect(sent[i]!.sequenceNumber).toBe((sent[i - 1]!.sequenceNumber + 1) & 0xffff);
        expect(sent[i]!.timestamp).toBe((sent[i - 1]!.timestamp + step) >>> 0);
      }
    }
    expect(ssrcs.size).toBe(3);
  });

  it('conceals one lost packet and plays the others in order', () => {
    const { clock, mixer, parties } = conference(['pcmu', 'pcmu'], { jitter: { prefill: 2 } });
    const [a, b] = parties as [Party, Party];
    b.hz = undefined;
    const frames = Array.from({ length: 40 }, (_, f) => toneFrame(TONES[0]!, 8000, f));
    const ulaw = (pcm: Int16Array) => Buffer.from(pcm.map((x) => [...ULAW_TO_LINEAR].reduce((best, v, i) => (Math.abs(v - x) < Math.abs(ULAW_TO_LINEAR[best]! - x) ? i : best), 0xff)));
    const packets = frames.map(ulaw);
    // Frames 10 and 11 swap places; frame 20 never comes.
    const order = [...Array(40).keys()].filter((f) => f !== 20);
    order[10] = 11;
    order[11] = 10;
    for (const f of order) {
      a.leg.deliver(f, f * 160, packets[f]!);
      b.speak();
      clock.advance(20);
    }
    clock.advance(60);
    expect(mixer.stats().participants.p0).toMatchObject({ lost: 1, concealed: 1, late: 0 });
    expect(b.levelOf(TONES[0]!, 40)).toBeGreaterThan(HEARD);
  });

  it('leaves a leg that closed, and on close lets every participant go, leaving the legs open', () => {
    const { mixer, parties, run, clock } = conference(['pcmu', 'pcmu', 'opus']);
    const events: string[] = [];
    mixer.on('participantLeft', (info, reason) => events.push(`${info.id} ${reason}`));
    mixer.on('closed', () => events.push('closed'));
    run(5);
    parties[0]!.leg.close();
    expect(mixer.has('p0')).toBe(false);
    mixer.close();
    mixer.close();
    expect(events).toEqual(['p0 leg-closed', 'p1 mixer-closed', 'p2 mixer-closed', 'closed']);
    expect(parties.slice(1).map((p) => p.leg.state)).toEqual(['connected', 'connected']);
    expect(parties.every((p) => !p.leg.hasListeners())).toBe(true);
    expect(clock.pending).toBe(0);
    expect(() => mixer.add(new FakeLeg('x', CODECS.pcmu))).toThrow(/closed/);
  });

  it('refuses a leg whose codec it cannot carry', () => {
    const mixer = new Mixer({ clock: new FakeClock() });
    expect(() => mixer.add(new FakeLeg('g722', { mimeType: 'audio/G722', clockRate: 8000, payloadType: 9 }))).toThrow(/G722/);
    expect(mixer.size).toBe(0);
  });

  it('does not mix a party that holds the call', () => {
    const { parties, run } = conference(['pcmu', 'pcmu', 'pcmu']);
    parties[1]!.leg.remoteDirection = 'sendonly';
    run(30);
    expect(parties[0]!.levelOf(TONES[1]!)).toBeLessThan(NOT_HEARD);
    expect(parties[0]!.levelOf(TONES[2]!)).toBeGreaterThan(HEARD);
  });

  it('catches up on frames when its timer fires late, rather than letting the buffers fill', () => {
    const { clock, mixer, parties } = conference(['pcmu', 'pcmu']);
    for (let f = 0; f < 3; f++) for (const party of parties) party.speak();
    clock.advance(60);
    expect(parties[0]!.leg.sent.length).toBe(3);
    expect(mixer.stats().clock.ticks).toBe(3);
  });
});

describe('resampling between 8 kHz and the wideband mix', () => {
  it('carries a telephone-band tone up and back down at its level', () => {
    const up = new Upsampler(6);
    const down = new Downsampler(6);
    const wide = new Int16Array(960);
    const back = new Int16Array(160);
    let level = 0;
    for (let f = 0; f < 10; f++) {
      up.process(toneFrame(1000, 8000, f), wide);
      down.process(wide, back);
      level = toneLevel(back, 8000, 1000);
    }
    expect(level).toBeGreaterThan(7000);
    expect(level).toBeLessThan(8500);
  });

  it('filters out what lies above the telephone band before it would fold back into it', () => {
    const down = new Downsampler(6);
    const back = new Int16Array(160);
    for (let f = 0; f < 10; f++) down.process(toneFrame(6000, 48000, f), back);
    // 6 kHz would alias to 2 kHz at 8 kHz.
    expect(toneLevel(back, 8000, 2000)).toBeLessThan(100);
  });
});
