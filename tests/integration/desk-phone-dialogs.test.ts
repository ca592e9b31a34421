/**
 * Two desk phones on real UDP sockets in a call through the PBX (in-process, SQLite): how the PBX answers what
 * phones and trunks send inside and around a call when it is not the usual INVITE/BYE.
 */
import { createSocket } from 'node:dgram';
import { beforeAll, describe, expect, it } from 'vitest';
import type { PhoneDialog, SipText } from '../support/sip-phone';
import { audioDestination } from '../support/udp-desk-phone';
import type { UdpDeskPhone } from '../support/udp-desk-phone';
import { deskPassword, DOMAIN, udpPbxSuite } from '../support/udp-pbx';

describe('desk phones in a call: the less usual requests', () => {
  const suite = udpPbxSuite('desk-dialogs');
  const { cleanups, deskPhone } = suite;
  // These tests are about the SIP exchange itself: a device's refusal (busy, unavailable, a challenge) reaches the
  // caller as it was given. With the PBX's services, such a call goes to voicemail instead, which the voicemail and
  // answering-rules tests cover; here the engine runs without them.
  beforeAll(() => {
    suite.pbx.sip.calls.services = undefined;
  });

  /** The callee answers the INVITE it was sent; once the caller has the 200, the callee hangs up. */
  async function answerThenHangUp(caller: UdpDeskPhone, callee: UdpDeskPhone, invite: SipText, calling: Promise<{ final: SipText }>): Promise<void> {
    const dialog = callee.answer(invite);
    expect((await calling).final.status).toBe(200);
    await callee.request('ACK');
    callee.bye(dialog);
    caller.reply(await caller.request('BYE'), 200, 'OK');
    expect((await callee.response('BYE')).status).toBe(200);
  }

  /** 101 calls 102, 102 answers; on cleanup 101 hangs up. */
  async function call(): Promise<{ caller: UdpDeskPhone; callee: UdpDeskPhone; callerDialog: PhoneDialog; calleeDialog: PhoneDialog; callerToPbx: { address: string; port: number } }> {
    const { caller, callee, callerDialog, calleeDialog, final } = await suite.answeredCall();
    await callee.request('ACK');
    cleanups.push(async () => {
      if (suite.pbx.sip.calls.activeCallCount === 0) return;
      caller.bye(callerDialog);
      callee.reply(await callee.request('BYE'), 200, 'OK');
      await caller.response('BYE');
    });
    return { caller, callee, callerDialog, calleeDialog, callerToPbx: audioDestination(final.body) };
  }

  it('refuses a re-offer without the codec the call carries with 488 and a Warning, and the call goes on (RFC 3261 §14.2)', async () => {
    const { caller, callerDialog } = await call();
    const pcmaOnly = caller.sdp().replace('RTP/AVP 0 101', 'RTP/AVP 8 101').replace('a=rtpmap:0 PCMU/8000', 'a=rtpmap:8 PCMA/8000');
    const refused = await caller.reinvite(callerDialog, 'sendrecv', pcmaOnly);
    expect(refused.status).toBe(488);
    expect(refused.header('Warning')).toMatch(/^305 \S+ "Incompatible media format"$/);
    // The session is as it was: holding it still works, in PCMU.
    const held = await caller.reinvite(callerDialog, 'sendonly');
    expect(held.status).toBe(200);
    expect(held.body).toMatch(/^m=audio \d+ RTP\/AVP 0 101/m);
    expect(suite.pbx.sip.calls.activeCallCount).toBe(1);
  });

  it('takes the answer in the ACK after an offerless re-INVITE: media follows the phone to its new port (RFC 3261 §14.2)', async () => {
    const { caller, callee, calleeDialog, callerToPbx } = await call();
    const moved = createSocket('udp4');
    await new Promise<void>((resolve) => moved.bind(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => moved.close());
    let heardAtNewPort = 0;
    moved.on('message', () => heardAtNewPort++);

    calleeDialog.cseq += 1;
    const headers = { 'From': calleeDialog.local, 'To': calleeDialog.remote, 'Call-ID': calleeDialog.callId, 'Contact': callee.contact };
    callee.send('INVITE', calleeDialog.remoteTarget, { ...headers, CSeq: `${calleeDialog.cseq} INVITE` });
    const offer = await callee.response('INVITE', 8_000, calleeDialog.cseq);
    expect(offer.status).toBe(200);
    expect(offer.body).toMatch(/^m=audio \d+ RTP\/AVP 0 101/m);
    const answer = callee.sdp().replace(`m=audio ${callee.rtpPort} `, `m=audio ${moved.address().port} `);
    callee.send('ACK', calleeDialog.remoteTarget, { ...headers, CSeq: `${calleeDialog.cseq} ACK` }, answer);

    for (let seq = 1; seq <= 100 && heardAtNewPort < 5; seq++) {
      caller.sendAudio(0x33, seq, callerToPbx);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(heardAtNewPort).toBeGreaterThanOrEqual(5);
  });

  it('ends an INVITE with no hops left with 483, and passes one hop fewer on to the called phone (RFC 7332 §3)', async () => {
    const caller = await deskPhone('101');
    const callee = await deskPhone('102');
    const headers = { 'From': `<sip:101@${DOMAIN}>;tag=mf0`, 'To': `<sip:102@${DOMAIN}>`, 'Call-ID': 'max-forwards-0@127.0.0.1', 'Contact': caller.contact, 'Max-Forwards': '0' };
    const branch = caller.send('INVITE', `sip:102@${DOMAIN}`, { ...headers, CSeq: '1 INVITE' }, caller.sdp());
    const refused = await caller.response('INVITE', 8_000, 1);
    expect([refused.status, refused.reason]).toEqual([483, 'Too Many Hops']);
    caller.send('ACK', `sip:102@${DOMAIN}`, { ...headers, 'To': refused.header('To') ?? '', 'CSeq': '1 ACK' }, '', branch);

    const calling = caller.invite('102', deskPassword('101'), { 'Max-Forwards': '5' });
    const invite = await callee.request('INVITE');
    expect(invite.header('Max-Forwards')).toBe('4');
    // What the PBX offers a UDP phone fits a datagram (RFC 3261 §18.1.1), and so goes the way the phone registered.
    expect(Buffer.byteLength(invite.raw)).toBeLessThanOrEqual(1300);
    await answerThenHangUp(caller, callee, invite, calling);
  });

  it('turns a callee device\'s 401 or 407 into 480 for the caller, who can act on it, and acknowledges the challenge', async () => {
    // 103, which no earlier test registered: the call rings this one phone alone, so its refusal is final.
    const caller = await deskPhone('101');
    const callee = await deskPhone('103');
    cleanups.push(() => callee.register(deskPassword('103'), { Expires: '0' }));
    for (const [status, header] of [[401, 'WWW-Authenticate'], [407, 'Proxy-Authenticate']] as const) {
      const calling = caller.invite('103', deskPassword('101'));
      const invite = await callee.request('INVITE');
      // The device asks the PBX to authenticate, as a phone set to challenge incoming calls does.
      callee.reply(invite, status, status === 401 ? 'Unauthorized' : 'Proxy Authentication Required', {
        toTag: `challenge${status}`,
        headers: { [header]: 'Digest realm="phone.invalid", nonce="abc", algorithm=MD5' },
      });
      expect((await callee.request('ACK')).header('CSeq')).toMatch(/ACK$/);
      const { final } = await calling;
      expect([final.status, final.reason]).toEqual([480, 'Temporarily Unavailable']);
      expect(final.header('WWW-Authenticate')).toBeUndefined();
      expect(final.header('Proxy-Authenticate')).toBeUndefined();
    }
    expect(suite.pbx.sip.calls.activeCallCount).toBe(0);
  });

  it('answers an in-dialog OPTIONS with 200 while the call is up, and 481 for a dialog it does not know (RFC 3261 §12.2.2)', async () => {
    const { caller, callerDialog } = await call();
    const options = (to: string, cseq: number) => {
      caller.send('OPTIONS', callerDialog.remoteTarget, { 'From': callerDialog.local, 'To': to, 'Call-ID': callerDialog.callId, 'CSeq': `${cseq} OPTIONS` });
      return caller.response('OPTIONS', 8_000, cseq);
    };
    callerDialog.cseq += 1;
    expect((await options(callerDialog.remote, callerDialog.cseq)).status).toBe(200);
    callerDialog.cseq += 1;
    const gone = await options(callerDialog.remote.replace(/tag=[^;>]+/, 'tag=no-such-dialog'), callerDialog.cseq);
    expect([gone.status, gone.reason]).toEqual([481, 'Call/Transaction Does Not Exist']);
  });

  it('refuses a new offer in UPDATE while the INVITE\'s own offer is still open: 491 from the ringing phone, 500 from the caller (RFC 3311 §5.2)', async () => {
    const caller = await deskPhone('101');
    const callee = await deskPhone('102');
    const calling = caller.invite('102', deskPassword('101'));
    const invite = await callee.request('INVITE');
    callee.reply(invite, 180, 'Ringing', { toTag: 'early102', headers: { Contact: callee.contact } });

    // The ringing phone has not answered our offer yet: its own offer crosses it.
    const pbxContact = /<([^>]+)>/.exec(invite.header('Contact') ?? '')?.[1] ?? '';
    callee.send('UPDATE', pbxContact, { 'From': `${invite.header('To')};tag=early102`, 'To': invite.header('From') ?? '', 'Call-ID': invite.header('Call-ID') ?? '', 'CSeq': '1 UPDATE', 'Contact': callee.contact }, callee.sdp());
    expect((await callee.response('UPDATE', 8_000, 1)).status).toBe(491);

    // The caller has had 180 without SDP: we owe it an answer still.
    const ringing = await caller.next((m) => m.kind === 'response' && m.status === 180);
    const callerContact = /<([^>]+)>/.exec(ringing.header('Contact') ?? '')?.[1] ?? '';
    caller.send('UPDATE', callerContact, { 'From': ringing.header('From') ?? '', 'To': ringing.header('To') ?? '', 'Call-ID': ringing.header('Call-ID') ?? '', 'CSeq': '3 UPDATE', 'Contact': caller.contact }, caller.sdp());
    const owed = await caller.response('UPDATE', 8_000, 3);
    expect(owed.status).toBe(500);
    expect(Number(owed.header('Retry-After'))).toBeLessThanOrEqual(10);

    await answerThenHangUp(caller, callee, invite, calling);
  });

  it('takes an INVITE without SDP: its offer comes in our 200, in the codec the callee chose, and its answer in the ACK (RFC 3261 §13.2.1)', async () => {
    const caller = await deskPhone('101');
    const callee = await deskPhone('102');
    const calling = caller.invite('102', deskPassword('101'), {}, '', () => caller.sdp());
    const invite = await callee.request('INVITE');
    // The callee is offered both G.711 laws and picks µ-law.
    expect(invite.body).toMatch(/^m=audio \d+ RTP\/AVP 0 8 /m);
    callee.reply(invite, 180, 'Ringing', { toTag: 'late102', headers: { Contact: callee.contact } });
    callee.reply(invite, 200, 'OK', { toTag: 'late102', headers: { Contact: callee.contact }, body: callee.sdp() });
    const { final, dialog } = await calling;
    expect(final.status).toBe(200);
    // Our offer to the caller carries just that codec, so the bridge need not transcode.
    expect(final.body).toMatch(/^m=audio \d+ RTP\/AVP 0 101\r?$/m);
    await callee.request('ACK');
    expect(suite.pbx.sip.calls.activeCallCount).toBe(1);
    const callerToPbx = audioDestination(final.body);
    // The caller answered in its ACK; its audio reaches the callee.
    for (let seq = 1; seq <= 100 && callee.heard.length < 5; seq++) {
      caller.sendAudio(0x44, seq, callerToPbx);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(callee.heard.length).toBeGreaterThanOrEqual(5);
    caller.bye(dialog);
    callee.reply(await callee.request('BYE'), 200, 'OK');
    expect((await caller.response('BYE')).status).toBe(200);
  });

  it('hangs up a call whose caller sent no offer and then no answer in its ACK (RFC 3261 §13.3.1.4)', async () => {
    const caller = await deskPhone('101');
    const callee = await deskPhone('102');
    const calling = caller.invite('102', deskPassword('101'), {}, '');
    const invite = await callee.request('INVITE');
    callee.answer(invite);
    expect((await calling).final.status).toBe(200);
    await callee.request('ACK');
    const [toCaller, toCallee] = await Promise.all([caller.request('BYE'), callee.request('BYE')]);
    caller.reply(toCaller, 200, 'OK');
    callee.reply(toCallee, 200, 'OK');
    await expect.poll(() => suite.pbx.sip.calls.activeCallCount).toBe(0);
  });

  it.each([
    ['with an offer', false],
    ['without an offer, answering ours in its ACK', true],
  ])('names the ringing dialog in busy-lamp NOTIFYs, so another phone picks the call up with INVITE and Replaces %s (RFC 4235, RFC 3891)', async (_how, delayed) => {
    const caller = await deskPhone('101');
    const ringing = await deskPhone('102');
    const picker = await deskPhone('103');
    const subscribed = await picker.authenticated('SUBSCRIBE', '102', deskPassword('103'), { 'Event': 'dialog', 'Accept': 'application/dialog-info+xml', 'Expires': '120' });
    expect(subscribed.status).toBe(200);
    picker.reply(await picker.request('NOTIFY'), 200, 'OK');

    const calling = caller.invite('102', deskPassword('101'));
    const invite = await ringing.request('INVITE');
    ringing.reply(invite, 180, 'Ringing', { toTag: 'ring102', headers: { Contact: ringing.contact } });
    // The lamp blinks: the NOTIFY names 102's dialog with the PBX, as 102 sees it.
    let early = '';
    while (!early.includes('<state>early</state>')) {
      const notify = await picker.request('NOTIFY');
      picker.reply(notify, 200, 'OK');
      early = notify.body;
    }
    const attribute = (name: string) => new RegExp(`${name}="([^"]+)"`).exec(early)?.[1] ?? '';
    expect([attribute('call-id'), attribute('local-tag')]).toEqual([invite.header('Call-ID'), 'ring102']);
    expect(attribute('remote-tag')).toBe(/tag=([^;>\s]+)/.exec(invite.header('From') ?? '')?.[1]);

    const replaces = { Replaces: `${attribute('call-id')};to-tag=${attribute('remote-tag')};from-tag=${attribute('local-tag')}` };
    const pickup = delayed ? picker.invite('102', deskPassword('103'), replaces, '', () => picker.sdp()) : picker.invite('102', deskPassword('103'), replaces);
    // The ringing phone is let go, and the caller is answered by the phone that picked up.
    const cancel = await ringing.request('CANCEL');
    ringing.reply(cancel, 200, 'OK');
    ringing.reply(invite, 487, 'Request Terminated', { toTag: 'ring102' });
    const [picked, answered] = await Promise.all([pickup, calling]);
    expect(picked.final.status).toBe(200);
    expect(answered.final.status).toBe(200);
    expect(suite.pbx.sip.calls.activeCallCount).toBe(1);
    // Without an offer, the picking phone was offered the codec the call already carries.
    if (delayed) expect(picked.final.body).toMatch(/^m=audio \d+ RTP\/AVP 0 101\r?$/m);
    // The caller and the phone that picked up hear each other.
    const [callerToPbx, pickerToPbx] = [audioDestination(answered.final.body), audioDestination(picked.final.body)];
    for (let seq = 1; seq <= 100 && (picker.heard.length < 5 || caller.heard.length < 5); seq++) {
      caller.sendAudio(0x41, seq, callerToPbx);
      picker.sendAudio(0x43, seq, pickerToPbx);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect([picker.heard.length, caller.heard.length].every((n) => n >= 5)).toBe(true);
    caller.bye(answered.dialog);
    picker.reply(await picker.request('BYE'), 200, 'OK');
    expect((await caller.response('BYE')).status).toBe(200);
  });
});
