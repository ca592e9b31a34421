/**
 * Dialogs through the B2BUA, on the wire: phones that speak SIP over real WebSockets to an in-process PBX,
 * with werift peers on loopback for media. Covers hold and resume, UPDATE, session timers (422, expiry,
 * refresh, glare with a PBX refresh), INFO relay, early media, and blind and attended transfer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPbx } from '../../server/pbx';
import type { RunningPbx } from '../../server/pbx';
import { RING_TIMEOUT_MS } from '../../server/calls';
import type { CallStateChangedEvent } from '../../server/calls';
import { MediaPeer, SipPhone } from '../support/sip-phone';
import type { PhoneDialog, SipText } from '../support/sip-phone';

const PASSWORDS: Record<string, string> = { '101': 'alice-101', '102': 'bob-102', '103': 'carol-103' };

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

function direction(sdp: string): string | undefined {
  return /^a=(sendrecv|sendonly|recvonly|inactive)\s*$/m.exec(sdp)?.[1];
}

function withDirection(sdp: string, value: string): string {
  return sdp.replace(/^a=(sendrecv|sendonly|recvonly|inactive)\s*$/gm, `a=${value}`);
}

describe('dialogs through the PBX', () => {
  let pbx: RunningPbx;
  let dataDir: string;
  const cleanups: Array<() => unknown> = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-dialogs-'));
    pbx = await startPbx({ httpPort: 0, bind: '127.0.0.1', dataDir, mediaAddress: '127.0.0.1', sipHost: '127.0.0.1', demo: true, webRoot: join(dataDir, 'no-web-phone') });
  });

  afterEach(async () => {
    pbx.sip.calls.sessionTimers.minSeconds = 90;
    pbx.sip.transfers.ringMs = RING_TIMEOUT_MS;
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    await until(() => pbx.sip.calls.activeCallCount === 0, 5_000).catch(() => undefined);
  });

  afterAll(async () => {
    await pbx?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function phone(extension: string): Promise<SipPhone> {
    const registered = await SipPhone.register(pbx.httpUrl, pbx.sipWebSocketUrl, extension, PASSWORDS[extension] ?? '');
    cleanups.push(() => registered.close());
    return registered;
  }

  function peer(): MediaPeer {
    const created = new MediaPeer();
    cleanups.push(() => created.close());
    return created;
  }

  /** `from` calls `to`, which answers: returns both dialogs, the callee's INVITE and both media peers. */
  async function connected(from: SipPhone, to: SipPhone, extra: Record<string, string> = {}, early?: 'ringing' | 'sdp', answerHeaders: Record<string, string> = {}) {
    const callerMedia = peer();
    const calleeMedia = peer();
    const placing = from.invite(to.extension, await callerMedia.offer(), extra);
    const invite = await to.request('INVITE');
    const calleeDialog = to.answer(invite, await calleeMedia.answer(invite.body), { ...(early ? { early } : {}), headers: answerHeaders });
    const { final, provisional, dialog: callerDialog } = await placing;
    expect(final.status).toBe(200);
    await callerMedia.accept(final.body);
    await to.next((m) => m.kind === 'request' && m.method === 'ACK');
    return { callerDialog, calleeDialog, callerMedia, calleeMedia, final, provisional, invite };
  }

  async function hearsEachOther(a: MediaPeer, b: MediaPeer, markers: [number, number]): Promise<void> {
    const [fromA, fromB] = markers;
    for (let seq = 1; seq <= 150 && (!b.received.includes(fromA) || !a.received.includes(fromB)); seq++) {
      a.send(fromA, seq);
      b.send(fromB, seq);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(b.received).toContain(fromA);
    expect(a.received).toContain(fromB);
  }

  async function hangUp(by: SipPhone, dialog: PhoneDialog, other?: SipPhone): Promise<void> {
    by.inDialog(dialog, 'BYE');
    expect((await by.response('BYE')).status).toBe(200);
    if (other) {
      const bye = await other.request('BYE');
      other.reply(bye, 200, 'OK');
    }
  }

  it('puts a call on hold with a re-INVITE (sendonly → recvonly) and resumes it (sendrecv)', async () => {
    const alice = await phone('101');
    const bob = await phone('102');
    const { callerDialog, callerMedia, calleeMedia } = await connected(alice, bob);
    await hearsEachOther(callerMedia, calleeMedia, [0xa1, 0xb2]);
    const holdCseq = alice.inDialog(callerDialog, 'INVITE', {}, await callerMedia.reoffer('sendonly'));
    const held = await alice.response('INVITE');
    expect(held.status).toBe(200);
    expect(held.header('Content-Type')).toBe('application/sdp');
    expect(direction(held.body)).toBe('recvonly');
    alice.ack(callerDialog, holdCseq);
    await callerMedia.accept(held.body);

    const resumeCseq = alice.inDialog(callerDialog, 'INVITE', {}, await callerMedia.reoffer('sendrecv'));
    const resumed = await alice.response('INVITE');
    expect(resumed.status).toBe(200);
    expect(direction(resumed.body)).toBe('sendrecv');
    alice.ack(callerDialog, resumeCseq);
    await callerMedia.accept(resumed.body);

    // Bob's device is not disturbed by Alice's hold: the PBX anchors the media.
    expect(await bob.quietFor(300, (m) => m.kind === 'request' && m.method === 'INVITE')).toBe(true);
    await hangUp(alice, callerDialog, bob);
  });

  it('answers UPDATE with an offer and UPDATE as a bare refresh', async () => {
    const alice = await phone('101');
    const bob = await phone('102');
    const { calleeDialog, calleeMedia, callerMedia } = await connected(alice, bob);
    await hearsEachOther(callerMedia, calleeMedia, [0xa1, 0xb2]);
    bob.inDialog(calleeDialog, 'UPDATE', {}, await calleeMedia.reoffer('inactive'));
    const answered = await bob.response('UPDATE');
    expect(answered.status).toBe(200);
    expect(direction(answered.body)).toBe('inactive');
    await calleeMedia.accept(answered.body);

    bob.inDialog(calleeDialog, 'UPDATE');
    const refreshed = await bob.response('UPDATE');
    expect(refreshed.status).toBe(200);
    expect(refreshed.body).toBe('');
    await hangUp(bob, calleeDialog, alice);
  });

  it('offers the current session in the 200 to a re-INVITE without SDP and takes the answer in the ACK', async () => {
    const alice = await phone('101');
    const bob = await phone('102');
    const { callerDialog, final } = await connected(alice, bob);
    const cseq = alice.inDialog(callerDialog, 'INVITE');
    const offered = await alice.response('INVITE');
    expect(offered.status).toBe(200);
    expect(offered.body).toBe(final.body);
    alice.ack(callerDialog, cseq, withDirection(final.body, 'sendrecv'));
    await hangUp(alice, callerDialog, bob);
  });

  it('refuses too short a session interval with 422 and its Min-SE', async () => {
    const alice = await phone('101');
    await phone('102');
    const media = peer();
    const { final } = await alice.invite('102', await media.offer(), { 'Supported': 'timer', 'Session-Expires': '30' });
    expect(final.status).toBe(422);
    expect(final.header('Min-SE')).toBe('90');
  });

  it('honours Session-Expires, accepts refreshes, and tears the call down when a session expires', async () => {
    pbx.sip.calls.sessionTimers.minSeconds = 1;
    const alice = await phone('101');
    const bob = await phone('102');
    const { callerDialog, final } = await connected(alice, bob, { 'Supported': 'timer', 'Session-Expires': '3;refresher=uac' });
    expect(final.header('Session-Expires')).toBe('3;refresher=uac');
    expect(final.header('Require')).toBe('timer');

    // A refresh at 1 s moves the expiry (3 s − 1 s) from 2 s to 3 s after the answer.
    await new Promise((r) => setTimeout(r, 1_000));
    alice.inDialog(callerDialog, 'UPDATE', { 'Supported': 'timer', 'Session-Expires': '3;refresher=uac' });
    const refreshed = await alice.response('UPDATE');
    expect(refreshed.status).toBe(200);
    expect(refreshed.header('Session-Expires')).toBe('3;refresher=uac');
    expect(await alice.quietFor(1_400, (m) => m.kind === 'request' && m.method === 'BYE')).toBe(true);

    const [byeToAlice, byeToBob] = await Promise.all([alice.request('BYE', 3_000), bob.request('BYE', 3_000)]);
    alice.reply(byeToAlice, 200, 'OK');
    bob.reply(byeToBob, 200, 'OK');
    await until(() => pbx.sip.calls.activeCallCount === 0);
  });

  it('keeps a session timer the callee puts in its 200: refreshes it when refresher=uac, ends the call when the callee lets it lapse', async () => {
    pbx.sip.calls.sessionTimers.minSeconds = 1;
    const alice = await phone('101');
    const bob = await phone('102');
    const { calleeDialog, calleeMedia, invite } = await connected(alice, bob, {}, undefined, { 'Session-Expires': '2;refresher=uac', 'Require': 'timer' });
    expect(invite.header('Supported')).toMatch(/timer/);

    // We were the UAC of Bob's dialog, so the PBX refreshes at half the interval, and Bob names himself refresher.
    const refresh = await bob.request('INVITE', 3_000);
    expect(refresh.header('Session-Expires')).toBe('2;refresher=uac');
    expect(refresh.header('Call-ID')).toBe(calleeDialog.callId);
    bob.reply(refresh, 200, 'OK', { headers: { 'Contact': bob.contact, 'Session-Expires': '2;refresher=uas', 'Require': 'timer' }, body: calleeMedia.pc.localDescription!.sdp });
    await bob.next((m) => m.kind === 'request' && m.method === 'ACK');

    // Bob now refreshes and does not: the session ends 2 s − ⅓ after that, with BYE to both sides.
    const [byeToAlice, byeToBob] = await Promise.all([alice.request('BYE', 4_000), bob.request('BYE', 4_000)]);
    alice.reply(byeToAlice, 200, 'OK');
    bob.reply(byeToBob, 200, 'OK');
    await until(() => pbx.sip.calls.activeCallCount === 0);
  });

  it('answers 491 to a re-INVITE that crosses its own session refresh (glare), and both then succeed', async () => {
    pbx.sip.calls.sessionTimers.minSeconds = 1;
    const alice = await phone('101');
    const bob = await phone('102');
    const { callerDialog, callerMedia } = await connected(alice, bob, { 'Supported': 'timer', 'Session-Expires': '4;refresher=uas' });

    // The PBX refreshes at half the interval with a re-INVITE of its own.
    const refresh = await alice.request('INVITE', 4_000);
    expect(refresh.header('Session-Expires')).toBe('4;refresher=uac');
    expect(refresh.header('Content-Type')).toBe('application/sdp');

    const crossing = alice.inDialog(callerDialog, 'INVITE', {}, withDirection(callerMedia.pc.localDescription!.sdp, 'sendonly'));
    const glare = await alice.response('INVITE');
    expect(glare.status).toBe(491);
    alice.ack(callerDialog, crossing);

    alice.reply(refresh, 200, 'OK', { headers: { 'Contact': alice.contact, 'Session-Expires': '4;refresher=uac', 'Require': 'timer' }, body: callerMedia.pc.localDescription!.sdp });
    const ack = await alice.next((m) => m.kind === 'request' && m.method === 'ACK');
    expect(ack.header('CSeq')).toMatch(/ ACK$/);

    const retry = alice.inDialog(callerDialog, 'INVITE', {}, await callerMedia.reoffer('sendonly'));
    const held = await alice.response('INVITE');
    expect(held.status).toBe(200);
    expect(direction(held.body)).toBe('recvonly');
    alice.ack(callerDialog, retry);
    await callerMedia.accept(held.body);
    await hangUp(alice, callerDialog, bob);
  });

  it('relays INFO to the other party and relays its response back', async () => {
    const alice = await phone('101');
    const bob = await phone('102');
    const { callerDialog } = await connected(alice, bob);

    alice.inDialog(callerDialog, 'INFO', {}, 'Signal=5\r\nDuration=160\r\n', 'application/dtmf-relay');
    const info = await bob.request('INFO');
    expect(info.header('Content-Type')).toBe('application/dtmf-relay');
    expect(info.body).toBe('Signal=5\r\nDuration=160\r\n');
    bob.reply(info, 200, 'OK');
    expect((await alice.response('INFO')).status).toBe(200);
    await hangUp(alice, callerDialog, bob);
  });

  it('relays a 183 with SDP as early media carrying the caller leg\'s answer, and keeps 180', async () => {
    const alice = await phone('101');
    const bob = await phone('102');
    const callerMedia = peer();
    const calleeMedia = peer();
    let early183: (response: SipText) => void = () => undefined;
    const provisional = new Promise<SipText>((resolve) => (early183 = resolve));
    const placing = alice.invite('102', await callerMedia.offer(), {}, (response) => {
      if (response.status === 183) early183(response);
    });
    const invite = await bob.request('INVITE');
    const answerSdp = await calleeMedia.answer(invite.body);
    bob.reply(invite, 183, 'Session Progress', { toTag: 'early1', headers: { Contact: bob.contact }, body: answerSdp });
    const early = await provisional;
    expect(early.status).toBe(183);
    expect(early.header('Content-Type')).toBe('application/sdp');
    await callerMedia.accept(early.body);
    // The bridge runs before anyone answers.
    await hearsEachOther(callerMedia, calleeMedia, [0xa1, 0xb2]);
    bob.reply(invite, 200, 'OK', { toTag: 'early1', headers: { Contact: bob.contact }, body: answerSdp });
    const { final, dialog } = await placing;
    expect(final.status).toBe(200);
    expect(final.body).toBe(early.body);
    await bob.next((m) => m.kind === 'request' && m.method === 'ACK');
    await hangUp(alice, dialog, bob);

    const ringing = await connected(alice, bob, {}, 'ringing');
    expect(ringing.provisional.map((p) => p.status)).toContain(180);
    await hangUp(alice, ringing.callerDialog, bob);
  });

  it('carries out a blind transfer: 202, NOTIFY sipfrag 100 then 200, the target bridged to the transferee', async () => {
    const events: CallStateChangedEvent[] = [];
    const off = pbx.sip.calls.on('callStateChanged', (event) => events.push(event));
    cleanups.push(off);
    const alice = await phone('101');
    const bob = await phone('102');
    const carol = await phone('103');
    const { callerMedia, calleeDialog } = await connected(alice, bob);

    // Bob, the callee, transfers Alice to Carol; his REFER names someone else as the referrer.
    bob.inDialog(calleeDialog, 'REFER', { 'Refer-To': `<sip:103@${bob.domain}>`, 'Referred-By': `<sip:100@${bob.domain}>` });
    expect((await bob.response('REFER')).status).toBe(202);
    const trying = await bob.request('NOTIFY');
    expect(trying.header('Event')).toMatch(/^refer/);
    expect(trying.header('Content-Type')).toBe('message/sipfrag;version=2.0');
    expect(trying.body).toBe('SIP/2.0 100 Trying\r\n');
    expect(trying.header('Subscription-State')).toMatch(/^active/);
    bob.reply(trying, 200, 'OK');

    const invite = await carol.request('INVITE');
    expect(invite.header('From')).toContain('sip:101@');
    // RFC 3892: Carol's phone learns who transferred the call, as the PBX knows him.
    expect(invite.header('Referred-By')).toMatch(/^"Bob[^"]*" <sip:102@demo\.offhook\.test>$/);
    const carolMedia = peer();
    const carolDialog = carol.answer(invite, await carolMedia.answer(invite.body), { early: 'ringing' });

    const notifies: SipText[] = [];
    for (;;) {
      const notify = await bob.request('NOTIFY');
      bob.reply(notify, 200, 'OK');
      notifies.push(notify);
      if (notify.header('Subscription-State')?.startsWith('terminated')) break;
    }
    expect(notifies.at(-1)?.body).toBe('SIP/2.0 200 OK\r\n');
    const bye = await bob.request('BYE');
    bob.reply(bye, 200, 'OK');

    await hearsEachOther(callerMedia, carolMedia, [0xa1, 0xc3]);
    expect(events.filter((e) => e.extension === '102').at(-1)?.state).toBe('terminated');
    expect(events.filter((e) => e.extension === '103').map((e) => e.state)).toContain('confirmed');
    expect(events.filter((e) => e.extension === '101').at(-1)).toMatchObject({ state: 'confirmed', remote: { extension: '103' } });
    await hangUp(carol, carolDialog, alice);
  });

  it('refuses a REFER outside a call with 403, placing no call', async () => {
    const alice = await phone('101');
    const carol = await phone('103');
    const target = `sip:102@${alice.domain}`;
    alice.sendRequest('REFER', target, { 'From': `<${alice.uri}>;tag=r1`, 'To': `<${target}>`, 'Call-ID': 'refer-outside', 'CSeq': '1 REFER', 'Refer-To': `<sip:103@${alice.domain}>` });
    const refused = await alice.response('REFER');
    expect(refused.status).toBe(403);
    expect(await carol.quietFor(300, (m) => m.method === 'INVITE')).toBe(true);
  });

  it('reports a failed blind transfer in the final NOTIFY and keeps the call', async () => {
    const alice = await phone('101');
    const bob = await phone('102');
    const { callerDialog, calleeDialog } = await connected(alice, bob);
    // Dana (100) has no device registered.
    alice.inDialog(callerDialog, 'REFER', { 'Refer-To': `<sip:100@${alice.domain}>` });
    expect((await alice.response('REFER')).status).toBe(202);
    let last: SipText;
    do {
      last = await alice.request('NOTIFY');
      alice.reply(last, 200, 'OK');
    } while (!last.header('Subscription-State')?.startsWith('terminated'));
    expect(last.body).toBe('SIP/2.0 480 Temporarily Unavailable\r\n');
    expect(pbx.sip.calls.activeCallCount).toBe(1);
    await hangUp(bob, calleeDialog, alice);
  });

  it('sends no NOTIFY to a transferor that asked for none with Refer-Sub: false (RFC 4488), and still transfers', async () => {
    const alice = await phone('101');
    const bob = await phone('102');
    const carol = await phone('103');
    const { calleeDialog } = await connected(alice, bob);
    bob.inDialog(calleeDialog, 'REFER', { 'Refer-To': `<sip:103@${bob.domain}>`, 'Refer-Sub': 'false', 'Require': 'norefersub' });
    const accepted = await bob.response('REFER');
    expect([accepted.status, accepted.header('Refer-Sub')]).toEqual([202, 'false']);
    const invite = await carol.request('INVITE');
    const carolMedia = peer();
    const carolDialog = carol.answer(invite, await carolMedia.answer(invite.body));
    // The transfer completes: Bob's call ends with a BYE, and no NOTIFY came before it.
    const bye = await bob.next((m) => m.kind === 'request' && (m.method === 'BYE' || m.method === 'NOTIFY'));
    expect(bye.method).toBe('BYE');
    bob.reply(bye, 200, 'OK');
    await hangUp(carol, carolDialog, alice);
  });

  it('gives up a blind transfer nobody answers: CANCEL to the target, 480 in the last NOTIFY, and BYE to a transferee left alone', async () => {
    pbx.sip.transfers.ringMs = 1_000;
    const alice = await phone('101');
    const bob = await phone('102');
    const carol = await phone('103');
    const { calleeDialog } = await connected(alice, bob);
    bob.inDialog(calleeDialog, 'REFER', { 'Refer-To': `<sip:103@${bob.domain}>` });
    expect((await bob.response('REFER')).status).toBe(202);
    const invite = await carol.request('INVITE');
    carol.reply(invite, 180, 'Ringing', { toTag: 'away', headers: { Contact: carol.contact } });
    // Bob hangs up at once, as people do after a blind transfer.
    bob.inDialog(calleeDialog, 'BYE');
    expect((await bob.response('BYE')).status).toBe(200);

    // Carol is away: her phone is let go, and Alice is not left in silence.
    const cancel = await carol.request('CANCEL', 5_000);
    carol.reply(cancel, 200, 'OK');
    carol.reply(invite, 487, 'Request Terminated', { toTag: 'away' });
    const bye = await alice.request('BYE', 5_000);
    alice.reply(bye, 200, 'OK');
    await until(() => pbx.sip.calls.activeCallCount === 0);
  });

  it('reports a blind transfer nobody answers in the final NOTIFY to a transferor still on the call', async () => {
    pbx.sip.transfers.ringMs = 1_000;
    const alice = await phone('101');
    const bob = await phone('102');
    const carol = await phone('103');
    const { callerDialog, calleeDialog } = await connected(alice, bob);
    bob.inDialog(calleeDialog, 'REFER', { 'Refer-To': `<sip:103@${bob.domain}>` });
    expect((await bob.response('REFER')).status).toBe(202);
    const invite = await carol.request('INVITE');
    carol.reply(invite, 180, 'Ringing', { toTag: 'away', headers: { Contact: carol.contact } });
    let last: SipText;
    do {
      last = await bob.request('NOTIFY', 5_000);
      bob.reply(last, 200, 'OK');
    } while (!last.header('Subscription-State')?.startsWith('terminated'));
    expect(last.body).toBe('SIP/2.0 480 Temporarily Unavailable\r\n');
    const cancel = await carol.request('CANCEL');
    carol.reply(cancel, 200, 'OK');
    carol.reply(invite, 487, 'Request Terminated', { toTag: 'away' });
    expect(pbx.sip.calls.activeCallCount).toBe(1);
    await hangUp(alice, callerDialog, bob);
  });

  it('refuses a transfer to an outside number by the transferor\'s dial policy, and keeps the call', async () => {
    const alice = await phone('101');
    const bob = await phone('102');
    const { callerDialog, calleeDialog } = await connected(alice, bob);
    alice.inDialog(callerDialog, 'REFER', { 'Refer-To': `<sip:15551234567@${alice.domain}>` });
    const refused = await alice.response('REFER');
    expect(refused.status).toBe(403);
    expect(refused.reason).toMatch(/Outside calls are not allowed/);
    expect(pbx.sip.calls.activeCallCount).toBe(1);
    await hangUp(bob, calleeDialog, alice);
  });

  it('carries out an attended transfer: REFER with Replaces joins the two remote parties', async () => {
    const alice = await phone('101');
    const bob = await phone('102');
    const carol = await phone('103');
    const first = await connected(alice, bob);
    const second = await connected(bob, carol);

    // Bob (callee in the first call, caller in the second) joins Alice and Carol.
    const replaces = encodeURIComponent(`${second.callerDialog.callId};to-tag=${second.callerDialog.remoteTag};from-tag=${second.callerDialog.localTag}`);
    bob.inDialog(first.calleeDialog, 'REFER', { 'Refer-To': `<sip:103@${bob.domain}?Replaces=${replaces}>` });
    expect((await bob.response('REFER')).status).toBe(202);
    let last: SipText;
    do {
      last = await bob.request('NOTIFY');
      bob.reply(last, 200, 'OK');
    } while (!last.header('Subscription-State')?.startsWith('terminated'));
    expect(last.body).toBe('SIP/2.0 200 OK\r\n');
    const byes = [await bob.request('BYE'), await bob.request('BYE')];
    for (const bye of byes) bob.reply(bye, 200, 'OK');
    expect(new Set(byes.map((b) => b.header('Call-ID')))).toEqual(new Set([first.calleeDialog.callId, second.callerDialog.callId]));

    await hearsEachOther(first.callerMedia, second.calleeMedia, [0xa1, 0xc3]);
    expect(pbx.sip.calls.activeCallCount).toBe(1);
    await hangUp(alice, first.callerDialog, carol);
  });
});
