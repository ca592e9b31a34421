/**
 * Music on hold with two desk phones on real UDP sockets through the PBX (in-process, SQLite): the held party
 * hears the PBX's music, coded in its own codec, while the other holds, and nothing of it once the call is
 * resumed; both lines are reported held, by whom, and answered again after.
 */
import { describe, expect, it } from 'vitest';
import type { CallStateChangedEvent } from '../../server/calls';
import { holdMusic } from '../../server/media/player';
import { udpPbxSuite } from '../support/udp-pbx';

/** Whether `heard` is a run of consecutive frames of `frames`, looping. */
function isRunOf(heard: Buffer[], frames: readonly Buffer[]): boolean {
  const start = frames.findIndex((frame) => frame.equals(heard[0]!));
  if (start < 0) return false;
  return heard.every((payload, i) => payload.equals(frames[(start + i) % frames.length]!));
}

describe('music on hold between desk phones', () => {
  const suite = udpPbxSuite('hold-music');

  it('plays the hold music to the held phone while the other holds, stops on resume, and tells both lines who holds', async () => {
    const { caller, callee, callerDialog } = await suite.answeredCall();
    await callee.request('ACK');
    suite.cleanups.push(async () => {
      if (suite.pbx.sip.calls.activeCallCount === 0) return;
      caller.bye(callerDialog);
      callee.reply(await callee.request('BYE'), 200, 'OK');
      await caller.response('BYE');
    });
    const changes: CallStateChangedEvent[] = [];
    suite.cleanups.push(suite.pbx.sip.calls.on('callStateChanged', (change) => changes.push(change)));
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(callee.heard).toHaveLength(0);

    expect((await caller.reinvite(callerDialog, 'sendonly')).status).toBe(200);
    await expect.poll(() => callee.heard.length, { timeout: 3_000 }).toBeGreaterThanOrEqual(25);
    // What 102 hears is the PBX's music, frame after frame, coded once in PCMU for every held call.
    const music = holdMusic();
    expect(music).toBeDefined();
    expect(isRunOf(callee.heard.slice(0, 25), music!.frames('pcmu'))).toBe(true);
    // The holder asked not to receive: it hears nothing.
    expect(caller.heard).toHaveLength(0);
    const held = changes.filter((change) => change.heldBy);
    expect(held.map((change) => [change.extension, change.state, change.heldBy?.extension]).sort()).toEqual([
      ['101', 'confirmed', '101'],
      ['102', 'confirmed', '101'],
    ]);

    expect((await caller.reinvite(callerDialog, 'sendrecv')).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 100));
    const afterResume = callee.heard.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(callee.heard.length).toBe(afterResume);
    const resumed = changes.slice(held.length + changes.indexOf(held[0]!)).filter((change) => !change.heldBy);
    expect(resumed.map((change) => change.extension).sort()).toEqual(['101', '102']);
    expect(suite.pbx.sip.calls.player.active).toBe(0);
  });

  it('stops the music when the call ends while held', async () => {
    const { caller, callee, callerDialog } = await suite.answeredCall();
    await callee.request('ACK');
    expect((await caller.reinvite(callerDialog, 'inactive')).status).toBe(200);
    await expect.poll(() => callee.heard.length, { timeout: 3_000 }).toBeGreaterThan(5);
    expect(suite.pbx.sip.calls.player.active).toBe(1);
    caller.bye(callerDialog);
    callee.reply(await callee.request('BYE'), 200, 'OK');
    expect((await caller.response('BYE')).status).toBe(200);
    await expect.poll(() => suite.pbx.sip.calls.player.active).toBe(0);
  });
});
