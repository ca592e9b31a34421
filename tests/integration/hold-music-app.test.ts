/**
 * Music on hold for apps (SIP over WebSocket, WebRTC media through the PBX): the held app hears the music in
 * Opus; the music stops the moment the held party is joined with others (a merge into a conference), whoever
 * still holds. Real PBX in-process, SQLite, werift media peers.
 */
import { describe, expect, it } from 'vitest';
import { holdMusic } from '../../server/media/player';
import type { MediaPeer, PhoneDialog, SipPhone } from '../support/sip-phone';
import { until, wsPbxSuite } from '../support/ws-pbx';

describe('music on hold for apps', () => {
  const suite = wsPbxSuite('hold-music-app');

  /** `phone` puts the call on hold (a=sendonly) with a re-INVITE and acknowledges the answer. */
  async function hold(phone: SipPhone, dialog: PhoneDialog, media: MediaPeer): Promise<void> {
    const cseq = phone.inDialog(dialog, 'INVITE', {}, await media.reoffer('sendonly'));
    const answer = await phone.response('INVITE');
    expect(answer.status).toBe(200);
    phone.ack(dialog, cseq);
    await media.accept(answer.body);
  }

  /** Payloads of the music heard by `media` since `from`. */
  const musicHeard = (media: MediaPeer, from: number) => {
    const frames = holdMusic()!.frames('opus');
    return media.payloads.slice(from).filter((payload) => frames.some((frame) => frame.equals(payload))).length;
  };

  it('plays the held app the music in Opus, and stops it when the held call is merged into a conference', async () => {
    const organizationId = (await suite.pbx.db.selectFrom('organizations').select('id').executeTakeFirstOrThrow()).id;
    const alice = await suite.phone('101');
    const bob = await suite.phone('102');
    const carol = await suite.phone('103');
    const first = await suite.connected(alice, bob);
    await suite.hearsEachOther(first.callerMedia, first.calleeMedia, [0x11, 0x22]);

    await hold(alice, first.callerDialog, first.callerMedia);
    await until(() => musicHeard(first.calleeMedia, 0) >= 10, 3_000);
    expect(suite.pbx.sip.calls.player.active).toBe(1);

    // Alice calls Carol and merges: Bob is in a conference now, and hears no more music.
    const second = await suite.connected(alice, carol);
    const merged = await suite.pbx.sip.conferences.merge({ organizationId, extension: '101' }, first.callerDialog.callId, second.callerDialog.callId);
    expect(merged).toEqual({ ok: true });
    alice.reply(await alice.request('BYE'), 200, 'OK');
    expect(suite.pbx.sip.calls.player.active).toBe(0);
    const after = first.calleeMedia.payloads.length;
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Bob hears the conference's mix now (the mixer's own stream), and none of the music.
    expect(first.calleeMedia.payloads.length).toBeGreaterThan(after + 5);
    expect(musicHeard(first.calleeMedia, after)).toBe(0);

    // Alice leaves; Bob and Carol go on in the conference until Carol hangs up.
    alice.inDialog(first.callerDialog, 'BYE');
    expect((await alice.response('BYE')).status).toBe(200);
    await suite.hangUp(carol, second.calleeDialog, bob);
    await until(() => suite.pbx.sip.calls.activeCallCount === 0, 3_000);
  });
});
