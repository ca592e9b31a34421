/**
 * Transfer whichever side is a desk phone: the app's user (a phone over a real WebSocket, signed in over REST)
 * takes a call from a desk phone on real UDP and transfers it, blind, to another desk phone. The PBX rings the
 * target in the transferred call's codec (PCMU), the two desk phones then hear each other, and the one who
 * stays is told whom it now talks to.
 */
import { describe, expect, it } from 'vitest';
import { MediaPeer, SipPhone } from '../support/sip-phone';
import { audioDestination } from '../support/udp-desk-phone';
import { deskPassword, DOMAIN, udpPbxSuite } from '../support/udp-pbx';
import type { SessionResponse } from '../../shared/api';

describe('transfer with desk phones on either side', () => {
  const suite = udpPbxSuite('desk-transfer');
  const { cleanups, deskPhone } = suite;

  it('the app transfers a desk phone\'s call to another desk phone: they hear each other, PCMU end to end', async () => {
    const alice = await deskPhone('101');
    const carol = await deskPhone('103');
    const bob = await SipPhone.register(suite.pbx.httpUrl, suite.pbx.sipWebSocketUrl, '102', 'bob-102');
    cleanups.push(() => bob.close());
    const bobMedia = new MediaPeer();
    cleanups.push(() => bobMedia.close());

    // Alice's desk phone calls Bob's app, which answers.
    const calling = alice.invite('102', deskPassword('101'));
    const invite = await bob.request('INVITE');
    const bobDialog = bob.answer(invite, await bobMedia.answer(invite.body));
    const { final, dialog: aliceDialog } = await calling;
    expect(final.status).toBe(200);
    await bob.next((m) => m.kind === 'request' && m.method === 'ACK');

    const sent = fetch(`${suite.pbx.httpUrl}/api/v1/calls/${encodeURIComponent(bobDialog.callId)}/transfer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bob.token}` },
      body: JSON.stringify({ kind: 'blind', target: '103' }),
    });
    const ring = await carol.request('INVITE');
    // Offered the codec the transferred call carries: a desk phone's PCMU.
    expect(audioDestination(ring.body).formats[0]).toBe('0');
    carol.answer(ring);
    expect((await sent).status).toBe(202);
    await carol.request('ACK');
    bob.reply(await bob.request('BYE'), 200, 'OK');

    // Alice's phone is told whom she now talks to.
    const update = await alice.request('UPDATE');
    expect(update.header('P-Asserted-Identity')).toContain('sip:103@');
    alice.reply(update, 200, 'OK');

    const aliceToPbx = audioDestination(final.body);
    const carolToPbx = audioDestination(ring.body);
    for (let seq = 1; seq <= 150 && (!carol.heard.some((p) => p[0] === 0x41) || !alice.heard.some((p) => p[0] === 0x43)); seq++) {
      alice.sendAudio(0x41, seq, aliceToPbx);
      carol.sendAudio(0x43, seq, carolToPbx);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(carol.heard.some((p) => p[0] === 0x41)).toBe(true);
    expect(alice.heard.some((p) => p[0] === 0x43)).toBe(true);
    expect(suite.pbx.sip.calls.activeCallCount).toBe(1);
    alice.bye(aliceDialog);
    carol.reply(await carol.request('BYE'), 200, 'OK');
    expect((await alice.response('BYE')).status).toBe(200);
  });

  it('does not ring a target with do not disturb on: the transfer fails as unavailable (480), the call carries on', async () => {
    const session = await fetch(`${suite.pbx.httpUrl}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extension: '103', password: 'carol-103', organization: DOMAIN }),
    });
    const carolToken = ((await session.json()) as SessionResponse).token;
    const doNotDisturb = (enabled: boolean) =>
      fetch(`${suite.pbx.httpUrl}/api/v1/me/do-not-disturb`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${carolToken}` },
        body: JSON.stringify({ enabled }),
      });
    expect((await doNotDisturb(true)).status).toBe(200);
    cleanups.push(async () => {
      await doNotDisturb(false);
    });
    const alice = await deskPhone('101');
    const carol = await deskPhone('103');
    const bob = await SipPhone.register(suite.pbx.httpUrl, suite.pbx.sipWebSocketUrl, '102', 'bob-102');
    cleanups.push(() => bob.close());
    const bobMedia = new MediaPeer();
    cleanups.push(() => bobMedia.close());

    const calling = alice.invite('102', deskPassword('101'));
    const invite = await bob.request('INVITE');
    const bobDialog = bob.answer(invite, await bobMedia.answer(invite.body));
    const { final, dialog: aliceDialog } = await calling;
    expect(final.status).toBe(200);
    await bob.next((m) => m.kind === 'request' && m.method === 'ACK');

    const sent = await fetch(`${suite.pbx.httpUrl}/api/v1/calls/${encodeURIComponent(bobDialog.callId)}/transfer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${bob.token}` },
      body: JSON.stringify({ kind: 'blind', target: '103' }),
    });
    expect(sent.status).toBe(480);
    await expect(carol.request('INVITE', 300)).rejects.toThrow(/no matching SIP message/);
    expect(suite.pbx.sip.calls.activeCallCount).toBe(1);
    alice.bye(aliceDialog);
    bob.reply(await bob.request('BYE'), 200, 'OK');
    expect((await alice.response('BYE')).status).toBe(200);
  });
});
