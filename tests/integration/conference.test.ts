/**
 * A conference at the PBX, on the wire: three phones speaking SIP over real WebSockets, with werift peers
 * on loopback that send Opus-encoded tones, each at its own pitch. A user with two calls merges them
 * (features/conference), and every party must then hear both others and never itself; what each receives is
 * decoded and measured at each pitch (Goertzel). Then a party is removed, and the builder hangs up.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunningPbx } from '../../server/pbx';
import { OpusFrameDecoder, OpusFrameEncoder } from '../../server/media/joins/opus-codec';
import { TestEventStream } from '../support/events-client';
import type { MediaPeer, PhoneDialog, SipPhone } from '../support/sip-phone';
import { wsPbxSuite } from '../support/ws-pbx';

const RATE = 48_000;
const PITCH = { alice: 500, bob: 1_100, carol: 1_700 } as const;

function tone(hz: number, index: number): Int16Array {
  const samples = RATE / 50;
  const frame = new Int16Array(samples);
  for (let i = 0; i < samples; i++) frame[i] = Math.round(8_000 * Math.sin((2 * Math.PI * hz * (index * samples + i)) / RATE));
  return frame;
}

/** The amplitude of the `hz` component of `samples` (Goertzel's single-bin DFT, scaled to a sine's peak). */
function level(samples: Int16Array, hz: number): number {
  const coefficient = 2 * Math.cos((2 * Math.PI * hz) / RATE);
  let s1 = 0;
  let s2 = 0;
  for (const sample of samples) {
    const s0 = sample + coefficient * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return (2 * Math.sqrt(Math.max(0, s1 * s1 + s2 * s2 - coefficient * s1 * s2))) / samples.length;
}

/** A phone's audio end: it speaks its tone and measures what it heard since `mark()`. */
class Speaker {
  private readonly encoder = new OpusFrameEncoder(RATE);
  private from = 0;
  private seq = 0;

  constructor(
    readonly media: MediaPeer,
    readonly pitch: number,
  ) {}

  speak(): void {
    this.seq++;
    this.media.sendPayload(this.encoder.encode(tone(this.pitch, this.seq)), this.seq);
  }

  mark(): void {
    this.from = this.media.payloads.length;
  }

  /** The level heard at `hz` over what arrived since mark(), decoded as the phone would. */
  heard(hz: number): number {
    const decoder = new OpusFrameDecoder(RATE);
    const packets = this.media.payloads.slice(this.from);
    const all = new Int16Array(packets.length * (RATE / 50));
    const frame = new Int16Array(RATE / 50);
    packets.forEach((packet, i) => {
      decoder.decode(packet, frame);
      all.set(frame, i * frame.length);
    });
    // The first frames may still carry the mix before everyone spoke: measure the second half.
    return level(all.subarray(all.length >> 1), hz);
  }
}

describe('a conference mixed at the PBX', () => {
  const suite = wsPbxSuite('conference');
  const { cleanups, phone, peer, connected } = suite;
  let pbx: RunningPbx;
  let organizationId: number;

  beforeAll(async () => {
    pbx = suite.pbx;
    organizationId = (await pbx.db.selectFrom('organizations').select('id').executeTakeFirstOrThrow()).id;
  });

  /** Everyone speaks for `ms`; then returns. */
  async function talk(speakers: Speaker[], ms = 1_200): Promise<void> {
    for (const speaker of speakers) speaker.mark();
    for (let at = 0; at < ms; at += 20) {
      for (const speaker of speakers) speaker.speak();
      await new Promise((r) => setTimeout(r, 20));
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  function expectHears(listener: Speaker, others: Speaker[], notHeard: Speaker[] = []): void {
    for (const other of others) expect(listener.heard(other.pitch), `hears ${other.pitch} Hz`).toBeGreaterThan(800);
    for (const silent of [listener, ...notHeard]) expect(listener.heard(silent.pitch), `does not hear ${silent.pitch} Hz`).toBeLessThan(300);
  }

  /** Bob calls Alice, then Carol, and merges the two calls: returns everyone's phone, dialog and voice. */
  async function threeWay() {
    const alice = await phone('101');
    const bob = await phone('102');
    const carol = await phone('103');
    const first = await connected(bob, alice);
    const second = await connected(bob, carol);
    const merged = await pbx.sip.conferences.merge({ organizationId, extension: '102' }, first.callerDialog.callId, second.callerDialog.callId);
    expect(merged).toEqual({ ok: true });
    // Bob's leg of the second call ends; the conference goes on over his first.
    const bye = await bob.request('BYE');
    expect(bye.header('Call-ID')).toBe(second.callerDialog.callId);
    bob.reply(bye, 200, 'OK');
    return {
      alice,
      bob,
      carol,
      bobDialog: first.callerDialog,
      aliceDialog: first.calleeDialog,
      carolDialog: second.calleeDialog,
      voices: { alice: new Speaker(first.calleeMedia, PITCH.alice), bob: new Speaker(first.callerMedia, PITCH.bob), carol: new Speaker(second.calleeMedia, PITCH.carol) },
    };
  }

  async function hangUp(by: SipPhone, dialog: PhoneDialog): Promise<void> {
    by.inDialog(dialog, 'BYE');
    expect((await by.response('BYE')).status).toBe(200);
  }

  it('merges two calls: each party hears both others and never itself', async () => {
    const { voices, carol, carolDialog } = await threeWay();
    await talk([voices.alice, voices.bob, voices.carol]);
    // Carol moved into the first call: her line there goes on; the second call's end did not end it.
    const carolsApp = await TestEventStream.open(pbx.httpUrl, carol.token, { after: 0 });
    cleanups.push(() => carolsApp.socket.close());
    await carolsApp.until(() => carolsApp.messages.some((m) => m.kind === 'ready'), 'the stream caught up');
    const carolsLeg = carolsApp.messages.flatMap((m) => (m.kind === 'event' && m.event.type === 'call' && m.event.leg?.sipCallId === carolDialog.callId ? [m.event] : []));
    expect(carolsLeg.map((e) => e.state)).toContain('answered');
    expect(carolsLeg.at(-1)?.state).toBe('answered');
    expectHears(voices.alice, [voices.bob, voices.carol]);
    expectHears(voices.bob, [voices.alice, voices.carol]);
    expectHears(voices.carol, [voices.alice, voices.bob]);
  });

  it('stops a removed party being heard, and only its builder may remove', async () => {
    const { voices, bobDialog, aliceDialog, carol } = await threeWay();
    expect(await pbx.sip.conferences.remove({ organizationId, extension: '101' }, aliceDialog.callId, '103')).toMatchObject({ ok: false, status: 403 });
    expect(await pbx.sip.conferences.remove({ organizationId, extension: '102' }, bobDialog.callId, '103')).toEqual({ ok: true });
    carol.reply(await carol.request('BYE'), 200, 'OK');
    await talk([voices.alice, voices.bob, voices.carol]);
    expectHears(voices.alice, [voices.bob], [voices.carol]);
    expectHears(voices.bob, [voices.alice], [voices.carol]);
  });

  it('lets a party whose session fails leave the conference alone: the others stay connected', async () => {
    pbx.sip.calls.sessionTimers.minSeconds = 1;
    cleanups.push(() => {
      pbx.sip.calls.sessionTimers.minSeconds = 90;
    });
    const alice = await phone('101');
    const bob = await phone('102');
    const carol = await phone('103');
    const first = await connected(bob, alice);
    // Carol calls Bob and promises to refresh her session every 3 s (RFC 4028); she never will.
    const second = await connected(carol, bob, { 'Supported': 'timer', 'Session-Expires': '3;refresher=uac' });
    expect(await pbx.sip.conferences.merge({ organizationId, extension: '102' }, first.callerDialog.callId, second.calleeDialog.callId)).toEqual({ ok: true });
    bob.reply(await bob.request('BYE'), 200, 'OK');

    // Her session expires: she alone is hung up.
    carol.reply(await carol.request('BYE', 6_000), 200, 'OK');
    expect(await alice.quietFor(500, (m) => m.kind === 'request' && m.method === 'BYE')).toBe(true);
    const voices = { alice: new Speaker(first.calleeMedia, PITCH.alice), bob: new Speaker(first.callerMedia, PITCH.bob) };
    await talk([voices.alice, voices.bob]);
    expectHears(voices.alice, [voices.bob]);
    expectHears(voices.bob, [voices.alice]);
  });

  it('refuses to hand a conference over whole in an attended transfer, and the conference goes on', async () => {
    const { voices, bob, bobDialog } = await threeWay();
    // Bob also talks to Dana, and asks to join Dana with the conference (his leg there named as the consult).
    const dana = await phone('100');
    const withDana = await connected(bob, dana);
    const refused = await pbx.sip.transfers.transfer({ userId: 0, organizationId, extension: '102' }, withDana.callerDialog.callId, { kind: 'attended', withSipCallId: bobDialog.callId });
    expect(refused).toMatchObject({ ok: false, status: 403 });
    await talk([voices.alice, voices.bob, voices.carol]);
    expectHears(voices.alice, [voices.bob, voices.carol]);
    expectHears(voices.carol, [voices.alice, voices.bob]);
  });

  it('moves a member to another of their devices: the new device takes their place in the mix (RFC 3891)', async () => {
    const { voices, alice, aliceDialog } = await threeWay();
    const aliceElsewhere = await phone('101');
    const media = peer();
    const replaces = `${aliceDialog.callId};to-tag=${aliceDialog.remoteTag};from-tag=${aliceDialog.localTag}`;
    const { final } = await aliceElsewhere.invite('102', await media.offer(), { Replaces: replaces });
    expect(final.status).toBe(200);
    await media.accept(final.body);
    alice.reply(await alice.request('BYE'), 200, 'OK');
    const moved = new Speaker(media, PITCH.alice);
    await talk([moved, voices.bob, voices.carol], 2_000);
    expectHears(moved, [voices.bob, voices.carol]);
    expectHears(voices.carol, [moved, voices.bob]);
    expectHears(voices.bob, [moved, voices.carol]);
  });

  it('keeps the others connected when the builder hangs up', async () => {
    const { voices, bob, bobDialog, alice, carol, carolDialog } = await threeWay();
    await hangUp(bob, bobDialog);
    await talk([voices.alice, voices.carol]);
    expectHears(voices.alice, [voices.carol], [voices.bob]);
    expectHears(voices.carol, [voices.alice], [voices.bob]);
    // With one left, the call ends.
    await hangUp(carol, carolDialog);
    alice.reply(await alice.request('BYE'), 200, 'OK');
  });
});
