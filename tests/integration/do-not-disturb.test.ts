/**
 * Do not disturb as a PBX setting, on the running PBX: set over REST by the user (nobody else's), told to the
 * user's apps as a live event, and followed by every call: the user's desk phone does not ring and the caller
 * reaches voicemail (a recording CallServices at the edge), or busy where the active rule says so. A call that
 * goes to voicemail ends cleanly in the apps' call events.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ApiError, SessionResponse } from '../../shared/api';
import type { DoNotDisturb } from '../../shared/do-not-disturb';
import type { CallEvent, EventMessage } from '../../shared/events';
import type { CallServices, ServiceCall, VoicemailReason } from '../../server/calls';
import { TestEventStream } from '../support/events-client';
import type { UdpDeskPhone } from '../support/udp-desk-phone';
import { DOMAIN, deskPassword, udpPbxSuite } from '../support/udp-pbx';

describe('do not disturb', () => {
  const suite = udpPbxSuite('dnd');
  const tokens: Record<string, string> = {};

  async function api<T>(token: string | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const response = await fetch(`${suite.pbx.httpUrl}/api/v1${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, body: (text ? JSON.parse(text) : undefined) as T };
  }

  async function setDnd(extension: string, enabled: boolean): Promise<void> {
    const result = await api<DoNotDisturb>(tokens[extension], 'PUT', '/me/do-not-disturb', { enabled });
    expect(result).toEqual({ status: 200, body: { enabled } });
  }

  async function phone(extension: string): Promise<UdpDeskPhone> {
    const desk = await suite.deskPhone(extension);
    suite.cleanups.push(() => desk.register(deskPassword(extension), { Expires: '0' }));
    return desk;
  }

  async function stream(extension: string): Promise<TestEventStream> {
    const opened = await TestEventStream.open(suite.pbx.httpUrl, tokens[extension]);
    suite.cleanups.push(() => opened.socket.close());
    await opened.ready();
    return opened;
  }

  function recordingServices(): Array<{ call: ServiceCall; mailbox: string; reason: VoicemailReason }> {
    const served: Array<{ call: ServiceCall; mailbox: string; reason: VoicemailReason }> = [];
    const services: CallServices = {
      voicemail: (call, mailbox, reason) => served.push({ call, mailbox: mailbox.extension, reason }),
      mailboxMenu: () => undefined,
      screen: () => Promise.resolve(undefined),
    };
    suite.pbx.sip.calls.services = services;
    suite.cleanups.push(() => {
      suite.pbx.sip.calls.services = undefined;
    });
    return served;
  }

  beforeAll(async () => {
    for (const [extension, password] of [['101', 'alice-101'], ['102', 'bob-102']] as const) {
      const response = await fetch(`${suite.pbx.httpUrl}/api/v1/session`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ extension, password, organization: DOMAIN }),
      });
      tokens[extension] = ((await response.json()) as SessionResponse).token;
    }
  });

  it('is off until the user sets it; setting it tells their apps and only theirs; bad input changes nothing', async () => {
    expect(await api(tokens['102'], 'GET', '/me/do-not-disturb')).toEqual({ status: 200, body: { enabled: false } });
    const bobApp = await stream('102');
    const aliceApp = await stream('101');
    await setDnd('102', true);
    await bobApp.until(() => bobApp.events().some((m) => m.event.type === 'do-not-disturb'), 'the do-not-disturb event');
    expect(bobApp.events().filter((m) => m.event.type === 'do-not-disturb').map((m) => m.event)).toEqual([{ type: 'do-not-disturb', enabled: true }]);
    expect(await api(tokens['102'], 'GET', '/me/do-not-disturb')).toEqual({ status: 200, body: { enabled: true } });
    // Alice's setting is her own.
    expect(await api(tokens['101'], 'GET', '/me/do-not-disturb')).toEqual({ status: 200, body: { enabled: false } });
    expect(aliceApp.events().filter((m) => m.event.type === 'do-not-disturb')).toEqual([]);

    const bad = await api<ApiError>(tokens['102'], 'PUT', '/me/do-not-disturb', { enabled: 'yes' });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: 'invalid_request', field: 'enabled' });
    expect(await api(tokens['102'], 'GET', '/me/do-not-disturb')).toEqual({ status: 200, body: { enabled: true } });
    expect((await api(undefined, 'PUT', '/me/do-not-disturb', { enabled: false })).status).toBe(401);

    await setDnd('102', false);
    expect(await api(tokens['102'], 'GET', '/me/do-not-disturb')).toEqual({ status: 200, body: { enabled: false } });
  });

  it('keeps the user\'s device from ringing: the caller reaches voicemail, and rings again once it is off', async () => {
    const served = recordingServices();
    const caller = await phone('101');
    const bob = await phone('102');
    await setDnd('102', true);
    suite.cleanups.push(() => setDnd('102', false));

    const { final } = await caller.invite('102', deskPassword('101'));
    expect(final.status).toBe(200);
    await expect.poll(() => served.map((s) => [s.mailbox, s.reason])).toEqual([['102', 'do-not-disturb']]);
    await expect(bob.request('INVITE', 300)).rejects.toThrow(/no matching SIP message/);
    served[0]!.call.hangUp('done');
    caller.reply(await caller.request('BYE'), 200, 'OK');

    await setDnd('102', false);
    const calling = caller.invite('102', deskPassword('101'));
    const invite = await bob.request('INVITE');
    bob.reply(invite, 486, 'Busy Here', { toTag: 'busy' });
    // Busy now goes to voicemail, by the default rule.
    expect((await calling).final.status).toBe(200);
    await expect.poll(() => served.map((s) => s.reason)).toEqual(['do-not-disturb', 'busy']);
    served[1]!.call.hangUp('done');
    caller.reply(await caller.request('BYE'), 200, 'OK');
  });

  it('sends callers busy where the active rule is do not disturb with busy', async () => {
    recordingServices();
    const frame = await api<{ id: number }>(tokens['102'], 'POST', '/time-frames', { name: 'Always', spec: { type: 'always' } });
    const rule = await api<{ id: number }>(tokens['102'], 'POST', '/answering-rules', { name: 'Quiet', timeFrameId: frame.body.id, priority: 1, action: { type: 'do-not-disturb', then: 'busy' } });
    expect(rule.status).toBe(201);
    suite.cleanups.push(async () => {
      await api(tokens['102'], 'DELETE', `/answering-rules/${rule.body.id}`);
      await api(tokens['102'], 'DELETE', `/time-frames/${frame.body.id}`);
    });
    await setDnd('102', true);
    suite.cleanups.push(() => setDnd('102', false));
    const caller = await phone('101');
    const bob = await phone('102');
    const { final } = await caller.invite('102', deskPassword('101'));
    expect(final.status).toBe(486);
    await expect(bob.request('INVITE', 300)).rejects.toThrow(/no matching SIP message/);
  });

  it('ends a call that went to voicemail cleanly in both users\' call events', async () => {
    const served = recordingServices();
    const frame = await api<{ id: number }>(tokens['102'], 'POST', '/time-frames', { name: 'Always', spec: { type: 'always' } });
    const rule = await api<{ id: number }>(tokens['102'], 'POST', '/answering-rules', { name: 'Short', timeFrameId: frame.body.id, priority: 1, action: { type: 'ring', ringSeconds: 5 } });
    suite.cleanups.push(async () => {
      await api(tokens['102'], 'DELETE', `/answering-rules/${rule.body.id}`);
      await api(tokens['102'], 'DELETE', `/time-frames/${frame.body.id}`);
    });
    const aliceApp = await stream('101');
    const bobApp = await stream('102');
    const caller = await phone('101');
    const bob = await phone('102');
    const calling = caller.invite('102', deskPassword('101'));
    const invite = await bob.request('INVITE');
    bob.reply(invite, 180, 'Ringing', { toTag: 'bobdesk', headers: { Contact: bob.contact } });
    const cancel = await bob.request('CANCEL', 10_000);
    bob.reply(cancel, 200, 'OK');
    bob.reply(invite, 487, 'Request Terminated', { toTag: 'bobdesk' });
    const { final, dialog } = await calling;
    expect(final.status).toBe(200);
    await expect.poll(() => served.length).toBe(1);
    caller.bye(dialog);
    expect((await caller.response('BYE')).status).toBe(200);

    const callStates = (app: TestEventStream) => app.events().flatMap((m: EventMessage) => (m.event.type === 'call' ? [(m.event as CallEvent).state] : []));
    await bobApp.until(() => callStates(bobApp).at(-1) === 'ended', 'Bob\'s call ended');
    await aliceApp.until(() => callStates(aliceApp).at(-1) === 'ended', 'Alice\'s call ended');
    // Bob's line rang and ended, never answered: a missed call, not one he took.
    expect(new Set(callStates(bobApp))).toEqual(new Set(['ringing', 'ended']));
    expect(callStates(aliceApp)).toContain('answered');
  }, 20_000);
});
