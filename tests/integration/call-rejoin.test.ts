/**
 * An app that reloads during a call (its SIP WebSocket closes, its WebRTC session is lost) and comes back: the
 * PBX keeps the other party on music on hold for a grace, the reloaded app rejoins with INVITE and Replaces
 * naming its old dialog, and the two hear each other again; an app that does not come back in time ends the
 * call, with the reason in its record. Real PBX in-process, SQLite, SIP over WebSocket, werift media peers.
 */
import { describe, expect, it } from 'vitest';
import { holdMusic } from '../../server/media/player';
import type { PhoneDialog } from '../support/sip-phone';
import { until, wsPbxSuite } from '../support/ws-pbx';

/** The Replaces header (RFC 3891) that names `dialog`, as the phone that had it knows it. */
function replacesFor(dialog: PhoneDialog): string {
  return `${dialog.callId};to-tag=${dialog.remoteTag};from-tag=${dialog.localTag}`;
}

describe('an app that reloads during a call', () => {
  const suite = wsPbxSuite('call-rejoin');

  it('keeps the other party on hold music while the app is away, and the app rejoins the call with INVITE/Replaces', async () => {
    const alice = await suite.phone('101');
    const bob = await suite.phone('102');
    const { callerDialog, callerMedia, calleeMedia, calleeDialog } = await suite.connected(alice, bob);
    await suite.hearsEachOther(callerMedia, calleeMedia, [0x11, 0x22]);

    // The page reloads: its WebSocket closes and its WebRTC session is gone, without a BYE.
    alice.close();
    await callerMedia.close();
    const music = holdMusic()!.frames('opus');
    const before = calleeMedia.payloads.length;
    await until(() => calleeMedia.payloads.slice(before).filter((payload) => music.some((frame) => frame.equals(payload))).length >= 10, 3_000);
    expect(suite.pbx.sip.calls.activeCallCount).toBe(1);

    // Registered again, the app takes its old dialog over.
    const aliceAgain = await suite.phone('101');
    const media = suite.peer();
    const { final, dialog } = await aliceAgain.invite('102', await media.offer(), { Replaces: replacesFor(callerDialog) });
    expect(final.status).toBe(200);
    await media.accept(final.body);
    await suite.hearsEachOther(media, calleeMedia, [0x33, 0x44]);
    // Bob's call never ended, and the music stopped.
    expect(await bob.quietFor(300, (m) => m.kind === 'request' && m.method === 'BYE')).toBe(true);
    expect(suite.pbx.sip.calls.player.active).toBe(0);
    expect(suite.pbx.sip.calls.activeCallCount).toBe(1);
    await suite.hangUp(bob, calleeDialog, aliceAgain);
    expect(dialog.callId).not.toBe(callerDialog.callId);
  });

  it('ends the call when the app does not come back within the grace, recording why', async () => {
    const calls = suite.pbx.sip.calls;
    const grace = calls.rejoinGraceMs;
    calls.rejoinGraceMs = 1_000;
    suite.cleanups.push(() => {
      calls.rejoinGraceMs = grace;
    });
    const alice = await suite.phone('101');
    const bob = await suite.phone('102');
    const { callerMedia, calleeMedia } = await suite.connected(alice, bob);
    await suite.hearsEachOther(callerMedia, calleeMedia, [0x11, 0x22]);
    alice.close();
    await callerMedia.close();
    await until(() => calls.player.active === 1, 2_000);
    const started = Date.now();
    bob.reply(await bob.request('BYE', 5_000), 200, 'OK');
    expect(Date.now() - started).toBeGreaterThan(500);
    await until(() => calls.activeCallCount === 0 && calls.player.active === 0, 2_000);
    await calls.flushRecords();
    const record = await suite.pbx.db.selectFrom('call_records').select(['end_reason', 'disposition']).orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(record).toEqual({ end_reason: 'app disconnected and did not rejoin within 1 s', disposition: 'answered' });
  });

  it('an app that checks its call with a re-INVITE over a new connection (a network blip, not a reload) hears 481, and the call ends at once', async () => {
    const alice = await suite.phone('101');
    const bob = await suite.phone('102');
    const { callerDialog, callerMedia, calleeMedia } = await suite.connected(alice, bob);
    await suite.hearsEachOther(callerMedia, calleeMedia, [0x11, 0x22]);
    alice.close();
    await until(() => suite.pbx.sip.calls.player.active === 1, 2_000);
    const aliceAgain = await suite.phone('101');
    aliceAgain.inDialog(callerDialog, 'INVITE', {}, await callerMedia.reoffer('sendrecv'));
    expect((await aliceAgain.response('INVITE')).status).toBe(481);
    bob.reply(await bob.request('BYE', 2_000), 200, 'OK');
    await until(() => suite.pbx.sip.calls.activeCallCount === 0 && suite.pbx.sip.calls.player.active === 0, 2_000);
  });

  it('does not wait for an app whose connection closes before the call was answered: the ringing stops at once', async () => {
    const alice = await suite.phone('101');
    const bob = await suite.phone('102');
    const media = suite.peer();
    void alice.invite('102', await media.offer()).catch(() => undefined);
    const invite = await bob.request('INVITE');
    bob.reply(invite, 180, 'Ringing', { toTag: 'ringing' });
    await new Promise((resolve) => setTimeout(resolve, 100));
    alice.close();
    const cancel = await bob.request('CANCEL', 2_000);
    bob.reply(cancel, 200, 'OK');
    await until(() => suite.pbx.sip.calls.activeCallCount === 0, 2_000);
    expect(suite.pbx.sip.calls.player.active).toBe(0);
  });
});
