import { describe, expect, it } from 'vitest';
import type { ScreenedCaller, ServiceCaller } from '../../calls/ports';
import { FakeServiceCall, KeyLeg } from '../../calls/service-call.test-helper';
import { CODECS, FakeClock, toneFrame, toneLevel } from '../../media/joins/mixer.test-helper';
import { decodeG711, encodeG711 } from '../../media/joins/g711';
import { RecordingPlayer } from '../../media/player/player.test-helper';
import { CallScreener } from './screener';

const caller: ServiceCaller = { organizationId: 1, extension: '201', userId: 7, displayName: 'Alice', number: '201' };
const NAME_HZ = 700;

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function setup() {
  const clock = new FakeClock();
  const player = new RecordingPlayer({ clock });
  const screener = new CallScreener({ player, clock });
  const call = new FakeServiceCall(new KeyLeg('caller', CODECS.pcmu), caller);
  let frame = 0;
  let seen = 0;
  /** Lets `ms` pass, 20 ms at a time; the caller sends a frame of `hz` (0: silence) each tick. */
  const pass = async (ms: number, hz = 0, send = true): Promise<void> => {
    for (let t = 0; t < ms; t += 20) {
      await flush();
      const samples = hz ? toneFrame(hz, 8000, frame) : new Int16Array(160);
      if (send) call.leg.deliver(frame, frame * 160, encodeG711('ulaw', samples));
      frame++;
      clock.advance(20);
    }
    await flush();
  };
  const heard = (): string[] => {
    const since = player.said.slice(seen);
    seen = player.said.length;
    return since;
  };
  /** Screens the caller: the prompt and the tone play out, then the caller says `nameMs` of tone and is silent. */
  const screen = async (nameMs: number): Promise<ScreenedCaller | undefined> => {
    const screened = screener.screen(call);
    let result: ScreenedCaller | undefined | 'pending' = 'pending';
    void screened.then((value) => (result = value));
    // "At the tone, please say your name." (2.3 s) and the tone.
    await pass(2_700);
    await pass(nameMs, NAME_HZ);
    for (let t = 0; t < 6_000 && result === 'pending'; t += 100) await pass(100);
    return screened;
  };
  return { clock, player, screener, call, pass, heard, screen };
}

describe('call screening', () => {
  it('asks the caller their name and lets the user who answers hear it, then 1 accepts', async () => {
    const s = setup();
    const screened = await s.screen(1_000);
    expect(screened).toBeDefined();
    expect(s.heard()).toEqual(['priv-recordintro', 'voicemail record tone']);
    // A second of silence after the voice ended the name: well before the 4 s at most.
    expect(s.clock.now()).toBeLessThan(2_700 + 1_000 + 1_500);

    const user = new KeyLeg('user', CODECS.pcmu);
    const choice = screened!.offerTo(user);
    await s.pass(8_000);
    expect(s.heard()).toEqual(['priv-callpending', 'the name of caller Alice', 'followme/options']);
    user.press('1');
    expect(await choice).toBe('accept');
  });

  it('keeps what the caller said, trimmed to their voice, and plays it to the user', async () => {
    const s = setup();
    const screened = await s.screen(1_000);
    const user = new KeyLeg('user', CODECS.pcmu);
    const choice = screened!.offerTo(user);
    // priv-callpending lasts 3.9 s; the name follows it.
    await s.pass(4_000);
    const before = user.sent.length;
    await s.pass(1_000);
    const decoded = new Int16Array((user.sent.length - before) * 160);
    user.sent.slice(before).forEach((frame, i) => decodeG711('ulaw', Buffer.from(frame.bytes), decoded.subarray(i * 160)));
    expect(toneLevel(decoded, 8000, NAME_HZ)).toBeGreaterThan(1_000);
    user.press('2');
    expect(await choice).toBe('decline');
  });

  it('says the caller’s number when they said nothing', async () => {
    const s = setup();
    const screened = await s.screen(0);
    expect(screened).toBeDefined();
    s.heard();
    const choice = screened!.offerTo(new KeyLeg('user', CODECS.pcmu));
    await s.pass(9_000);
    expect(s.heard()).toEqual(['priv-callpending', 'digits/2', 'digits/0', 'digits/1', 'followme/options']);
    void choice;
  });

  it('sends the call on when the user presses nothing: the options twice, then decline', async () => {
    const s = setup();
    const screened = await s.screen(500);
    s.heard();
    const choice = screened!.offerTo(new KeyLeg('user', CODECS.pcmu));
    let settled: string | undefined;
    void choice.then((value) => (settled = value));
    await s.pass(40_000);
    expect(settled).toBe('decline');
    expect(s.heard().filter((part) => part === 'followme/options')).toHaveLength(2);
  });

  it('takes the user hanging up while they hear who calls for a decline', async () => {
    const s = setup();
    const screened = await s.screen(500);
    const user = new KeyLeg('user', CODECS.pcmu);
    const choice = screened!.offerTo(user);
    await s.pass(500);
    user.close();
    expect(await choice).toBe('decline');
  });

  it('ends the name on the clock when the caller’s phone goes quiet and sends nothing', async () => {
    const s = setup();
    const screened = s.screener.screen(s.call);
    let result: unknown = 'pending';
    void screened.then((value) => (result = value));
    await s.pass(2_700);
    await s.pass(800, NAME_HZ);
    // Silence suppressed: no packets at all.
    for (let t = 0; t < 3_000 && result === 'pending'; t += 100) await s.pass(100, 0, false);
    expect(result).toBeDefined();
    expect(result).not.toBe('pending');
    // A second or so after the voice, not the 4 s at most.
    expect(s.clock.now()).toBeLessThan(2_700 + 800 + 1_600);
  });

  it('gives up when the caller hangs up while asked their name', async () => {
    const s = setup();
    const screened = s.screener.screen(s.call);
    await s.pass(1_000);
    s.call.finish('caller hung up');
    expect(await screened).toBeUndefined();
  });

  it('plays "please hold" and then ringback to the caller until stopped', async () => {
    const s = setup();
    const screened = await s.screen(500);
    s.heard();
    const stop = screened!.ringback();
    await s.pass(4_500);
    expect(s.heard()).toEqual(['priv-introsaved', 'ringback']);
    await s.pass(6_000);
    const sent = s.call.leg.sent.length;
    stop();
    await s.pass(1_000);
    expect(s.call.leg.sent.length).toBe(sent);
  });
});
