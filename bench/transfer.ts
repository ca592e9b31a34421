/**
 * Transfer and conference latency at the PBX, as the app drives them: its REST command on its own leg, over
 * loopback, against the PBX as it runs in production (its HTTP app, SQLite in a data folder), with phones that
 * speak SIP over real WebSockets and werift peers for media (tests/support/sip-phone.ts).
 *
 * - "Transfer now": the command sent → the target's phone receiving its INVITE (target ringing). Target: the
 *   app's click to the target ringing under 200 ms; this is the PBX's share of it.
 * - "Complete transfer": the command sent → audio from the transferred party arriving at the target.
 *   Target: under 300 ms.
 * - "Merge": the command (the conference service's, as the REST route calls it) → audio from each of the two
 *   others arriving at a third, decoded by the mixer and re-encoded.
 * Beside them, in the same run, the reference: a plain call's INVITE → the callee's phone receiving it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startPbx } from '../server/pbx';
import type { RunningPbx } from '../server/pbx';
import { OpusFrameEncoder } from '../server/media/joins/opus-codec';
import { MediaPeer, SipPhone } from '../tests/support/sip-phone';

export const TRANSFER_RINGING_TARGET_MS = 200;
export const TRANSFER_AUDIO_TARGET_MS = 300;

const PASSWORDS: Record<string, string> = { '101': 'alice-101', '102': 'bob-102', '103': 'carol-103' };

export interface TransferFigures {
  runs: number;
  referenceInviteMs: number;
  transferNowRingingMs: number;
  completeTransferAudioMs: number;
  mergeAudioMs: number;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Number((sorted[Math.floor(sorted.length / 2)] ?? 0).toFixed(2));
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 1));
  }
}

class Bench {
  private readonly closers: Array<() => unknown> = [];
  constructor(private readonly pbx: RunningPbx) {}

  async phone(extension: string): Promise<SipPhone> {
    const phone = await SipPhone.register(this.pbx.httpUrl, this.pbx.sipWebSocketUrl, extension, PASSWORDS[extension] ?? '');
    this.closers.push(() => phone.close());
    return phone;
  }

  peer(): MediaPeer {
    const peer = new MediaPeer();
    this.closers.push(() => peer.close());
    return peer;
  }

  async connected(from: SipPhone, to: SipPhone, inviteMs?: number[]) {
    const callerMedia = this.peer();
    const calleeMedia = this.peer();
    const offer = await callerMedia.offer();
    const sent = performance.now();
    const placing = from.invite(to.extension, offer);
    const invite = await to.request('INVITE');
    inviteMs?.push(performance.now() - sent);
    const calleeDialog = to.answer(invite, await calleeMedia.answer(invite.body));
    const { final, dialog: callerDialog } = await placing;
    await callerMedia.accept(final.body);
    await to.next((m) => m.kind === 'request' && m.method === 'ACK');
    return { callerDialog, calleeDialog, callerMedia, calleeMedia };
  }

  transfer(by: SipPhone, sipCallId: string, body: unknown): Promise<Response> {
    return fetch(`${this.pbx.httpUrl}/api/v1/calls/${encodeURIComponent(sipCallId)}/transfer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${by.token}` },
      body: JSON.stringify(body),
    });
  }

  async close(): Promise<void> {
    for (const close of this.closers.splice(0).reverse()) await close();
    await until(() => this.pbx.sip.calls.activeCallCount === 0).catch(() => undefined);
  }
}

/** Sends a marker every 2 ms from `from` until `to` receives it; the time from `start` to its arrival. */
async function audioArrives(from: MediaPeer, to: MediaPeer, marker: number, start: number): Promise<number> {
  const had = to.received.length;
  for (let seq = 1; seq < 2_500; seq++) {
    from.send(marker, seq);
    if (to.received.slice(had).includes(marker)) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error('no audio arrived');
}

/** Sends Opus frames from `from` until `to` has received `frames` packets from the PBX since `start`. */
async function mixedAudioArrives(speakers: MediaPeer[], to: MediaPeer, start: number): Promise<number> {
  const encoders = speakers.map(() => new OpusFrameEncoder(48_000));
  const had = to.payloads.length;
  const frame = new Int16Array(960);
  for (let seq = 1; seq < 500; seq++) {
    for (let i = 0; i < frame.length; i++) frame[i] = Math.round(6_000 * Math.sin((2 * Math.PI * 700 * (seq * 960 + i)) / 48_000));
    speakers.forEach((speaker, i) => speaker.sendPayload(encoders[i]!.encode(frame), seq));
    // The mixer's packets are larger than a silent frame once a speaker is in them.
    if (to.payloads.slice(had).some((payload) => payload.length > 20)) return performance.now() - start;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error('no mixed audio arrived');
}

export async function transferLatency(): Promise<TransferFigures> {
  const runs = Number(process.env.BENCH_TRANSFER_RUNS ?? 15);
  const dataDir = mkdtempSync(join(tmpdir(), 'offhook-bench-transfer-'));
  const pbx = await startPbx({ httpPort: 0, bind: '127.0.0.1', dataDir, mediaAddress: '127.0.0.1', sipHost: '127.0.0.1', demo: true, webRoot: join(dataDir, 'none') });
  const organizationId = (await pbx.db.selectFrom('organizations').select('id').executeTakeFirstOrThrow()).id;
  const reference: number[] = [];
  const ringing: number[] = [];
  const completed: number[] = [];
  const merged: number[] = [];
  try {
    for (let run = 0; run < runs; run++) {
      // "Transfer now": Alice calls Bob; Bob's app transfers her to Carol.
      let bench = new Bench(pbx);
      let [alice, bob, carol] = [await bench.phone('101'), await bench.phone('102'), await bench.phone('103')];
      const blind = await bench.connected(alice, bob, reference);
      const sent = performance.now();
      const answer = bench.transfer(bob, blind.calleeDialog.callId, { kind: 'blind', target: '103' });
      const invite = await carol.request('INVITE');
      ringing.push(performance.now() - sent);
      carol.answer(invite, await bench.peer().answer(invite.body), { early: 'ringing' });
      if ((await answer).status !== 202) throw new Error('transfer refused');
      await bench.close();

      // "Complete transfer": Alice↔Bob and Bob↔Carol; Bob's app joins Alice and Carol.
      bench = new Bench(pbx);
      [alice, bob, carol] = [await bench.phone('101'), await bench.phone('102'), await bench.phone('103')];
      const first = await bench.connected(alice, bob);
      const consult = await bench.connected(bob, carol);
      const start = performance.now();
      const done = bench.transfer(bob, first.calleeDialog.callId, { kind: 'attended', withSipCallId: consult.callerDialog.callId });
      completed.push(await audioArrives(first.callerMedia, consult.calleeMedia, 0xa1, start));
      if ((await done).status !== 202) throw new Error('attended transfer refused');
      await bench.close();

      // "Merge": Bob calls Alice, then Carol, and merges; Carol hears the mix of Alice and Bob.
      bench = new Bench(pbx);
      [alice, bob, carol] = [await bench.phone('101'), await bench.phone('102'), await bench.phone('103')];
      const one = await bench.connected(bob, alice);
      const two = await bench.connected(bob, carol);
      const began = performance.now();
      const outcome = await pbx.sip.conferences.merge({ organizationId, extension: '102' }, one.callerDialog.callId, two.callerDialog.callId);
      if (!outcome.ok) throw new Error(`merge refused: ${outcome.reason}`);
      merged.push(await mixedAudioArrives([one.callerMedia, one.calleeMedia], two.calleeMedia, began));
      await bench.close();
    }
  } finally {
    await pbx.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
  return {
    runs,
    referenceInviteMs: median(reference),
    transferNowRingingMs: median(ringing),
    completeTransferAudioMs: median(completed),
    mergeAudioMs: median(merged),
  };
}

export function transferTable(figures: TransferFigures): Array<Record<string, string | number>> {
  return [
    { measure: 'plain call: INVITE sent → callee phone has it (reference)', 'median ms': figures.referenceInviteMs, target: '—' },
    { measure: '"Transfer now" command → target phone ringing', 'median ms': figures.transferNowRingingMs, target: `< ${TRANSFER_RINGING_TARGET_MS}: ${figures.transferNowRingingMs < TRANSFER_RINGING_TARGET_MS ? 'met' : 'not met'}` },
    { measure: '"Complete transfer" command → transferred party heard by target', 'median ms': figures.completeTransferAudioMs, target: `< ${TRANSFER_AUDIO_TARGET_MS}: ${figures.completeTransferAudioMs < TRANSFER_AUDIO_TARGET_MS ? 'met' : 'not met'}` },
    { measure: '"Merge" → the mix of the two others heard by the third', 'median ms': figures.mergeAudioMs, target: '—' },
  ];
}
