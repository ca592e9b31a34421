/**
 * What the app does to its calls through the PBX, on the wire: each signed-in app hears of its user's calls on
 * the event stream (the PBX's call id and its own leg's SIP Call-ID), and transfers a call with a REST command
 * that the PBX carries out with the same feature as a desk phone's REFER. Phones speak SIP over real
 * WebSockets to an in-process PBX, with werift peers on loopback for media; the app's side is its REST token.
 */
import { describe, expect, it } from 'vitest';
import type { CallEvent, EventMessage } from '../../shared/events';
import { TestEventStream } from '../support/events-client';
import type { SipPhone } from '../support/sip-phone';
import { wsPbxSuite } from '../support/ws-pbx';

describe('the app commands its calls at the PBX', () => {
  const suite = wsPbxSuite('app-calls');
  const { cleanups, phone, peer, connected, hearsEachOther, hangUp } = suite;

  async function stream(of: SipPhone): Promise<TestEventStream> {
    const opened = await TestEventStream.open(suite.pbx.httpUrl, of.token);
    cleanups.push(() => opened.socket.close());
    return opened;
  }

  function transfer(by: SipPhone, sipCallId: string, body: unknown): Promise<Response> {
    return fetch(`${suite.pbx.httpUrl}/api/v1/calls/${encodeURIComponent(sipCallId)}/transfer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${by.token}` },
      body: JSON.stringify(body),
    });
  }

  const callEvents = (s: TestEventStream): CallEvent[] =>
    s.messages.flatMap((m) => (m.kind === 'event' && (m as EventMessage).event.type === 'call' ? [(m as EventMessage).event as CallEvent] : []));

  it("tells each app of its user's call: the PBX's call id, the state, the parties and its own leg's SIP Call-ID", async () => {
    const alice = await phone('101');
    const bob = await phone('102');
    const bobsApp = await stream(bob);
    const alicesApp = await stream(alice);
    const { calleeDialog, callerDialog } = await connected(alice, bob);

    await bobsApp.until(() => callEvents(bobsApp).some((e) => e.state === 'answered'), 'bob answered');
    const bobs = callEvents(bobsApp);
    expect(bobs.map((e) => e.state)).toEqual(['ringing', 'answered']);
    const answered = bobs.at(-1);
    expect(answered?.leg?.sipCallId).toBe(calleeDialog.callId);
    expect(answered?.parties).toEqual([
      { extension: '102', name: expect.any(String), role: 'callee' },
      { extension: '101', name: expect.any(String), role: 'caller' },
    ]);
    await alicesApp.until(() => callEvents(alicesApp).some((e) => e.state === 'answered'), 'alice connected');
    const alices = callEvents(alicesApp);
    expect(alices.at(-1)?.leg?.sipCallId).toBe(callerDialog.callId);
    // One call, one id, whichever side is told.
    expect(new Set([...alices, ...bobs].map((e) => e.callId)).size).toBe(1);

    await hangUp(alice, callerDialog, bob);
    await bobsApp.until(() => callEvents(bobsApp).at(-1)?.state === 'ended', 'the call ended');
  });

  it('transfers a call blind with "Transfer now": the target rings, answers, hears the transferred party, and the app\'s leg ends', async () => {
    const alice = await phone('101');
    const bob = await phone('102');
    const carol = await phone('103');
    const { callerMedia, calleeDialog } = await connected(alice, bob);

    const answer = transfer(bob, calleeDialog.callId, { kind: 'blind', target: '103' });
    const invite = await carol.request('INVITE');
    expect(invite.header('From')).toContain('sip:101@');
    expect(invite.header('Referred-By')).toContain('sip:102@');
    const carolMedia = peer();
    const carolDialog = carol.answer(invite, await carolMedia.answer(invite.body), { early: 'ringing' });
    expect((await answer).status).toBe(202);
    const bye = await bob.request('BYE');
    bob.reply(bye, 200, 'OK');
    // Alice's phone is told whom she now talks to (RFC 3311 UPDATE, RFC 3325 P-Asserted-Identity).
    const update = await alice.request('UPDATE');
    expect(update.header('P-Asserted-Identity')).toMatch(/^"[^"]+" <sip:103@/);
    expect(update.body).toBe('');
    alice.reply(update, 200, 'OK');
    await hearsEachOther(callerMedia, carolMedia, [0xa1, 0xc3]);
    await hangUp(carol, carolDialog, alice);
  });

  it('answers a blind transfer to someone with no phone online with a sentence, and the call goes on', async () => {
    const alice = await phone('101');
    const bob = await phone('102');
    const { callerMedia, calleeMedia, calleeDialog } = await connected(alice, bob);

    const nobody = await transfer(bob, calleeDialog.callId, { kind: 'blind', target: '199' });
    expect(nobody.status).toBe(404);
    expect(((await nobody.json()) as { error: { message: string } }).error.message).toBe('No one has the number 199.');
    // Carol (103) exists but has no device registered.
    const refused = await transfer(bob, calleeDialog.callId, { kind: 'blind', target: '103' });
    expect(refused.status).toBe(480);
    expect(((await refused.json()) as { error: { message: string } }).error.message).toMatch(/103.*not available/);
    await hearsEachOther(callerMedia, calleeMedia, [0xa1, 0xb2]);
    await hangUp(bob, calleeDialog, alice);
  });

  it('tells the app on its event stream when a blind transfer fails after it began, and the call goes on', async () => {
    const alice = await phone('101');
    const bob = await phone('102');
    const carol = await phone('103');
    const bobsApp = await stream(bob);
    const { callerMedia, calleeMedia, calleeDialog } = await connected(alice, bob);

    const answer = transfer(bob, calleeDialog.callId, { kind: 'blind', target: '103' });
    const invite = await carol.request('INVITE');
    carol.reply(invite, 180, 'Ringing', { toTag: 'carol-rings' });
    expect((await answer).status).toBe(202);
    carol.reply(invite, 603, 'Decline', { toTag: 'carol-rings' });

    await bobsApp.until(() => callEvents(bobsApp).some((e) => e.reason !== undefined), 'the failure');
    const told = callEvents(bobsApp).find((e) => e.reason !== undefined);
    expect(told).toMatchObject({ state: 'answered', reason: '103 declined the call', leg: { sipCallId: calleeDialog.callId } });
    await hearsEachOther(callerMedia, calleeMedia, [0xa1, 0xb2]);
    await hangUp(bob, calleeDialog, alice);
  });

  it('completes an attended transfer: the consulted target and the held party are joined, both of the app\'s legs end', async () => {
    const alice = await phone('101');
    const bob = await phone('102');
    const carol = await phone('103');
    const first = await connected(alice, bob);
    const consult = await connected(bob, carol);

    const answer = await transfer(bob, first.calleeDialog.callId, { kind: 'attended', withSipCallId: consult.callerDialog.callId });
    expect(answer.status).toBe(202);
    for (let byes = 0; byes < 2; byes++) {
      const bye = await bob.request('BYE');
      bob.reply(bye, 200, 'OK');
    }
    // Each of the two who remain is told whom they now talk to.
    expect((await alice.request('UPDATE')).header('P-Asserted-Identity')).toContain('sip:103@');
    expect((await carol.request('UPDATE')).header('P-Asserted-Identity')).toContain('sip:101@');
    await hearsEachOther(first.callerMedia, consult.calleeMedia, [0xa1, 0xc3]);
    await hangUp(alice, first.callerDialog, carol);
  });

  it("refuses to transfer someone else's call, and a command without a session", async () => {
    const alice = await phone('101');
    const bob = await phone('102');
    const carol = await phone('103');
    const { calleeDialog } = await connected(alice, bob);

    expect((await transfer(carol, calleeDialog.callId, { kind: 'blind', target: '103' })).status).toBe(404);
    const anonymous = await fetch(`${suite.pbx.httpUrl}/api/v1/calls/${calleeDialog.callId}/transfer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'blind', target: '103' }),
    });
    expect(anonymous.status).toBe(401);
    // Nothing was placed: Carol's phone never rings.
    await expect(carol.request('INVITE', 500)).rejects.toThrow();
    await hangUp(bob, calleeDialog, alice);
  });
});
