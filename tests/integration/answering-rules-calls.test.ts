/**
 * Calls decided by answering rules, on the running PBX with UDP desk phones: the active rule at the call's
 * moment (the engine's clock, injected) forwards or rings; busy, no answer and no device go where the rule says;
 * the PBX answers calls for voicemail and *97 itself (a recording CallServices stands in for features/voicemail)
 * with media reaching the service's leg, and such calls end cleanly on either side's hang-up.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AnsweringRule, TimeFrame } from '../../shared/answering-rules';
import type { SessionResponse } from '../../shared/api';
import type { CallServices, ScreenedCaller, ServiceCall, ServiceUser, VoicemailReason } from '../../server/calls';
import type { SipText } from '../support/sip-phone';
import { audioDestination } from '../support/udp-desk-phone';
import type { UdpDeskPhone } from '../support/udp-desk-phone';
import { DOMAIN, deskPassword, udpPbxSuite } from '../support/udp-pbx';

const MONDAY_10_UTC = Date.parse('2026-12-07T10:00:00Z');
const MONDAY_20_UTC = Date.parse('2026-12-07T20:00:00Z');

interface Served {
  service: 'voicemail' | 'mailbox-menu';
  call: ServiceCall;
  user: ServiceUser;
  reason: VoicemailReason | undefined;
  endedWith: string[];
}

/** CallServices at the edge: records each call it is handed and what ended it. */
class RecordingServices implements CallServices {
  readonly served: Served[] = [];
  private waiting: Array<(served: Served) => void> = [];

  voicemail(call: ServiceCall, mailbox: ServiceUser, reason: VoicemailReason): void {
    this.take({ service: 'voicemail', call, user: mailbox, reason, endedWith: [] });
  }

  mailboxMenu(call: ServiceCall, user: ServiceUser): void {
    this.take({ service: 'mailbox-menu', call, user, reason: undefined, endedWith: [] });
  }

  screen(): Promise<ScreenedCaller | undefined> {
    return Promise.resolve(undefined);
  }

  next(): Promise<Served> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private take(served: Served): void {
    served.call.onEnded((why) => served.endedWith.push(why));
    this.served.push(served);
    for (const resolve of this.waiting.splice(0)) resolve(served);
  }
}

describe('calls decided by answering rules', () => {
  const suite = udpPbxSuite('rules-calls');
  let services: RecordingServices;
  const tokens: Record<string, string> = {};

  async function api<T>(extension: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${suite.pbx.httpUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${tokens[extension] ?? ''}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async function rule(extension: string, name: string, spec: unknown, priority: number, action: unknown): Promise<AnsweringRule> {
    const frame = await api<TimeFrame>(extension, 'POST', '/time-frames', { name: `${name} frame`, spec });
    expect(frame.status).toBe(201);
    const created = await api<AnsweringRule>(extension, 'POST', '/answering-rules', { name, timeFrameId: frame.body.id, priority, action });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    suite.cleanups.push(async () => {
      await api(extension, 'DELETE', `/answering-rules/${created.body.id}`);
      await api(extension, 'DELETE', `/time-frames/${frame.body.id}`);
    });
    return created.body;
  }

  beforeAll(async () => {
    for (const [extension, password] of [['101', 'alice-101'], ['102', 'bob-102'], ['103', 'carol-103']]) {
      const response = await fetch(`${suite.pbx.httpUrl}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ extension, password, organization: DOMAIN }),
      });
      tokens[extension!] = ((await response.json()) as SessionResponse).token;
    }
  });

  afterEach(() => {
    suite.pbx.sip.calls.services = undefined;
    suite.pbx.sip.calls.now = Date.now;
  });

  /** A registered desk phone, unregistered after the test, so that its user has no device in the next one. */
  async function phone(extension: string): Promise<UdpDeskPhone> {
    const desk = await suite.deskPhone(extension);
    suite.cleanups.push(() => desk.register(deskPassword(extension), { Expires: '0' }));
    return desk;
  }

  function withServices(): RecordingServices {
    services = new RecordingServices();
    suite.pbx.sip.calls.services = services;
    return services;
  }

  async function record(callId: string) {
    await suite.pbx.sip.calls.flushRecords();
    return suite.pbx.db.selectFrom('call_records').selectAll().where('call_id', '=', callId).executeTakeFirst();
  }

  /** The caller sends audio to the PBX's leg until the service's leg has heard it. */
  async function mediaReaches(caller: UdpDeskPhone, final: SipText, served: Served): Promise<void> {
    const to = audioDestination(final.body);
    let seq = 1;
    await expect
      .poll(() => {
        caller.sendAudio(0x55, seq++, to);
        return served.call.leg.packetsReceived;
      })
      .toBeGreaterThan(0);
  }

  it('answers a call to a user with no device for voicemail (unreachable); media reaches the service; the record stays missed', async () => {
    withServices();
    const caller = await phone('101');
    const serving = services.next();
    const { final, dialog } = await caller.invite('102', deskPassword('101'));
    expect(final.status).toBe(200);
    const served = await serving;
    expect(served).toMatchObject({ service: 'voicemail', reason: 'unreachable', user: { extension: '102', displayName: 'Bob Brown' } });
    expect(served.call.caller).toMatchObject({ extension: '101', displayName: 'Alice Adams', number: '101' });
    await mediaReaches(caller, final, served);

    // The service hangs up: the caller gets a BYE, the call ends once.
    served.call.hangUp('message recorded');
    const bye = await caller.request('BYE');
    caller.reply(bye, 200, 'OK');
    expect(served.call.ended).toBe(true);
    expect(served.endedWith).toEqual(['message recorded']);
    expect(await record(dialog.callId)).toMatchObject({ disposition: 'missed', end_reason: 'voicemail', callee_extension: '102', answered_at: null });
  });

  it('keeps today\'s 480 for a user with no device when nothing serves voicemail', async () => {
    const caller = await phone('101');
    const { final } = await caller.invite('102', deskPassword('101'));
    expect(final.status).toBe(480);
  });

  it('rings for the rule\'s seconds, then cancels the device and answers for voicemail (no answer); the caller\'s BYE ends it', async () => {
    withServices();
    await rule('102', 'Short ring', { type: 'always' }, 1, { type: 'ring', ringSeconds: 5 });
    const caller = await phone('101');
    const callee = await phone('102');
    const serving = services.next();
    const calling = caller.invite('102', deskPassword('101'));
    const invite = await callee.request('INVITE');
    const ringingAt = Date.now();
    callee.reply(invite, 180, 'Ringing', { toTag: 'bobdesk', headers: { Contact: callee.contact } });
    const cancel = await callee.request('CANCEL', 10_000);
    expect(Date.now() - ringingAt).toBeGreaterThanOrEqual(4_500);
    callee.reply(cancel, 200, 'OK');
    callee.reply(invite, 487, 'Request Terminated', { toTag: 'bobdesk' });
    const { final, dialog } = await calling;
    expect(final.status).toBe(200);
    const served = await serving;
    expect(served).toMatchObject({ service: 'voicemail', reason: 'no-answer', user: { extension: '102' } });
    await mediaReaches(caller, final, served);

    caller.bye(dialog);
    expect((await caller.response('BYE')).status).toBe(200);
    await expect.poll(() => served.endedWith).toEqual(['caller hung up']);
    expect(await record(dialog.callId)).toMatchObject({ disposition: 'missed', end_reason: 'voicemail' });
  }, 20_000);

  it('follows a weekly rule at the injected moment (forward to 103) and the lower-priority rule outside it (voicemail)', async () => {
    withServices();
    const weekdays = ['mon', 'tue', 'wed', 'thu', 'fri'];
    await rule('102', 'Office hours to Carol', { type: 'weekly', ranges: [{ days: weekdays, start: '09:00', end: '17:00' }] }, 1, { type: 'forward', to: { type: 'user', extension: '103' } });
    await rule('102', 'Otherwise voicemail', { type: 'always' }, 2, { type: 'forward', to: { type: 'voicemail' } });
    const caller = await phone('101');
    const bob = await phone('102');
    const carol = await phone('103');

    suite.pbx.sip.calls.now = () => MONDAY_10_UTC;
    const calling = caller.invite('102', deskPassword('101'));
    const invite = await carol.request('INVITE');
    expect(invite.header('To')).toContain('sip:103@');
    carol.answer(invite);
    const { final, dialog } = await calling;
    expect(final.status).toBe(200);
    await expect(bob.request('INVITE', 300)).rejects.toThrow(/no matching SIP message/);
    caller.bye(dialog);
    expect((await caller.response('BYE')).status).toBe(200);
    const bye = await carol.request('BYE');
    carol.reply(bye, 200, 'OK');

    suite.pbx.sip.calls.now = () => MONDAY_20_UTC;
    const serving = services.next();
    const second = await caller.invite('102', deskPassword('101'));
    expect(second.final.status).toBe(200);
    expect(await serving).toMatchObject({ service: 'voicemail', reason: 'forwarded', user: { extension: '102' } });
    (await serving).call.hangUp('done');
    const secondBye = await caller.request('BYE');
    caller.reply(secondBye, 200, 'OK');
  }, 20_000);

  it('sends a busy user\'s call where the rule says when busy (another user)', async () => {
    await rule('102', 'Busy to Carol', { type: 'always' }, 1, { type: 'ring', ringSeconds: 20, whenBusy: { type: 'user', extension: '103' } });
    const caller = await phone('101');
    const bob = await phone('102');
    const carol = await phone('103');
    const calling = caller.invite('102', deskPassword('101'));
    const bobInvite = await bob.request('INVITE');
    bob.reply(bobInvite, 486, 'Busy Here', { toTag: 'busy' });
    const carolInvite = await carol.request('INVITE');
    carol.answer(carolInvite);
    const { final, dialog } = await calling;
    expect(final.status).toBe(200);
    caller.bye(dialog);
    expect((await caller.response('BYE')).status).toBe(200);
    carol.reply(await carol.request('BYE'), 200, 'OK');
  });

  it('rings others with the user (also ring): the first to answer wins, the rest are cancelled; an outside number with no carrier is skipped', async () => {
    await rule('102', 'Ring Carol too', { type: 'always' }, 1, { type: 'ring', ringSeconds: 20, alsoRing: [{ type: 'user', extension: '103' }, { type: 'number', number: '+15551234567' }] });
    const caller = await phone('101');
    const bob = await phone('102');
    const carol = await phone('103');
    const calling = caller.invite('102', deskPassword('101'));
    const [bobInvite, carolInvite] = await Promise.all([bob.request('INVITE'), carol.request('INVITE')]);
    bob.reply(bobInvite, 180, 'Ringing', { toTag: 'bobdesk', headers: { Contact: bob.contact } });
    carol.answer(carolInvite);
    const cancel = await bob.request('CANCEL');
    expect(cancel.header('Reason')).toBe('SIP;cause=200;text="Call completed elsewhere"');
    bob.reply(cancel, 200, 'OK');
    bob.reply(bobInvite, 487, 'Request Terminated', { toTag: 'bobdesk' });
    const { final, dialog } = await calling;
    expect(final.status).toBe(200);
    caller.bye(dialog);
    expect((await caller.response('BYE')).status).toBe(200);
    carol.reply(await carol.request('BYE'), 200, 'OK');
  });

  it('follows one forward only: two users forwarding to each other ring the second\'s devices, not back and forth', async () => {
    await rule('102', 'Bob to Carol', { type: 'always' }, 1, { type: 'forward', to: { type: 'user', extension: '103' } });
    const carolToken = await fetch(`${suite.pbx.httpUrl}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extension: '103', password: 'carol-103', organization: DOMAIN }),
    });
    tokens['103'] = ((await carolToken.json()) as SessionResponse).token;
    await rule('103', 'Carol to Bob', { type: 'always' }, 1, { type: 'forward', to: { type: 'user', extension: '102' } });
    const caller = await phone('101');
    const bob = await phone('102');
    const carol = await phone('103');
    const calling = caller.invite('102', deskPassword('101'));
    carol.answer(await carol.request('INVITE'));
    const { final, dialog } = await calling;
    expect(final.status).toBe(200);
    await expect(bob.request('INVITE', 300)).rejects.toThrow(/no matching SIP message/);
    caller.bye(dialog);
    expect((await caller.response('BYE')).status).toBe(200);
    carol.reply(await carol.request('BYE'), 200, 'OK');
  });

  it('forwards to an outside number as the user would dial it: refused here (no outside calls, no carrier), the caller hears 480 and nothing rings', async () => {
    await rule('102', 'To my mobile', { type: 'always' }, 1, { type: 'forward', to: { type: 'number', number: '+15551234567' } });
    const caller = await phone('101');
    const bob = await phone('102');
    const { final } = await caller.invite('102', deskPassword('101'));
    expect(final.status).toBe(480);
    await expect(bob.request('INVITE', 300)).rejects.toThrow(/no matching SIP message/);
  });

  /** Do not disturb on for the user, through their app's API; off again after the test. */
  async function doNotDisturb(extension: string): Promise<void> {
    expect((await api(extension, 'PUT', '/me/do-not-disturb', { enabled: true })).status).toBe(200);
    suite.cleanups.push(async () => {
      await api(extension, 'PUT', '/me/do-not-disturb', { enabled: false });
    });
  }

  it('does not ring a user with do not disturb on when another\'s rule forwards to them: the caller hears 480', async () => {
    await rule('101', 'Alice to Bob', { type: 'always' }, 1, { type: 'forward', to: { type: 'user', extension: '102' } });
    await doNotDisturb('102');
    const caller = await phone('103');
    const alice = await phone('101');
    const bob = await phone('102');
    const { final, dialog } = await caller.invite('101', deskPassword('103'));
    expect(final.status).toBe(480);
    await expect(bob.request('INVITE', 300)).rejects.toThrow(/no matching SIP message/);
    await expect(alice.request('INVITE', 100)).rejects.toThrow(/no matching SIP message/);
    expect(await record(dialog.callId)).toMatchObject({ disposition: 'missed', callee_extension: '101' });
  });

  it('does not ring a user with do not disturb on when another\'s rule diverts to them after ringing (not answered)', async () => {
    await rule('101', 'Unanswered to Bob', { type: 'always' }, 1, { type: 'ring', ringSeconds: 5, whenNotAnswered: { type: 'user', extension: '102' } });
    await doNotDisturb('102');
    const caller = await phone('103');
    const alice = await phone('101');
    const bob = await phone('102');
    const calling = caller.invite('101', deskPassword('103'));
    const invite = await alice.request('INVITE');
    alice.reply(invite, 180, 'Ringing', { toTag: 'alicedesk', headers: { Contact: alice.contact } });
    const cancel = await alice.request('CANCEL', 10_000);
    alice.reply(cancel, 200, 'OK');
    alice.reply(invite, 487, 'Request Terminated', { toTag: 'alicedesk' });
    const { final } = await calling;
    expect(final.status).toBe(480);
    await expect(bob.request('INVITE', 300)).rejects.toThrow(/no matching SIP message/);
  }, 20_000);

  it('skips a user with do not disturb on whom another\'s rule also rings: only the owner\'s device rings', async () => {
    await rule('101', 'Ring Bob too', { type: 'always' }, 1, { type: 'ring', ringSeconds: 20, alsoRing: [{ type: 'user', extension: '102' }] });
    await doNotDisturb('102');
    const caller = await phone('103');
    const alice = await phone('101');
    const bob = await phone('102');
    const calling = caller.invite('101', deskPassword('103'));
    alice.answer(await alice.request('INVITE'));
    const { final, dialog } = await calling;
    expect(final.status).toBe(200);
    await expect(bob.request('INVITE', 300)).rejects.toThrow(/no matching SIP message/);
    caller.bye(dialog);
    expect((await caller.response('BYE')).status).toBe(200);
    alice.reply(await alice.request('BYE'), 200, 'OK');
  });

  it('answers *97 with the caller\'s own mailbox menu', async () => {
    withServices();
    const caller = await phone('101');
    const serving = services.next();
    const { final, dialog } = await caller.invite('*97', deskPassword('101'));
    expect(final.status).toBe(200);
    const served = await serving;
    expect(served).toMatchObject({ service: 'mailbox-menu', user: { extension: '101', displayName: 'Alice Adams' } });
    await mediaReaches(caller, final, served);
    caller.bye(dialog);
    expect((await caller.response('BYE')).status).toBe(200);
    await expect.poll(() => served.call.ended).toBe(true);
    expect(await record(dialog.callId)).toMatchObject({ disposition: 'answered', callee_extension: '*97' });
  });

  it('answers *97 with 404 when nothing serves the mailbox menu', async () => {
    const caller = await phone('101');
    const { final } = await caller.invite('*97', deskPassword('101'));
    expect(final.status).toBe(404);
  });
});
