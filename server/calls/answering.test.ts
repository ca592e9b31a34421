/**
 * Why past 500 lines: every answering plan, service and screening case drives the one engine set up by `call()`
 * below (endpoint, legs, the caller's and the device's wires), which the cases share rather than repeat.
 *
 * The engine carrying out answering plans, with a real endpoint and transaction layer on short timers, real RTP
 * legs on loopback, recording flows for the caller's and the called device's wire, and fakes at the ports: a
 * planner that hands out a fixed plan (recording the moment it was asked at) and CallServices that record.
 */
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { phoneOffer, until } from '../media/legs/rtp-peer.test-helper';
import { DEMO_ORGANIZATION, seedDemo } from '../store/demo';
import type { ActiveCall } from '../store/active-calls';
import { CallJournal } from '../store/call-journal';
import type { Database } from '../store/schema';
import { openTestDatabase } from '../store/test-support';
import type { TestDatabase } from '../store/test-support';
import type { AuthenticatedUser, SipAuthenticator } from '../sip/edge/authenticator';
import { findUserByExtension } from '../store/users';
import { CallEngine } from './call-engine';
import { SipEndpoint } from '../sip/endpoint';
import { createResponse, parseNameAddr } from '../sip/syntax/message';
import type { SipRequest } from '../sip/syntax/message';
import type { Binding, Registrar } from '../presence/registrar';
import { FakeConnection, sipRequest } from '../sip/test-support';
import { systemClock } from '../sip/transaction/timers';
import type { MediaLeg } from '../media/legs/media-leg';
import type { AnsweringPlan, CallServices, Dialplan, ScreenedCaller, ServiceCall, ServiceUser, VoicemailReason } from './ports';

const DOMAIN = DEMO_ORGANIZATION.domain;
const T1_MS = 10;
const AT = Date.parse('2026-12-07T10:00:00Z');

const RING_THEN_VOICEMAIL: AnsweringPlan = {
  kind: 'ring',
  ringMs: 5_000,
  alsoRing: [],
  whenBusy: { kind: 'voicemail' },
  whenNotAnswered: { kind: 'voicemail' },
  whenUnreachable: { kind: 'voicemail' },
  screen: false,
};

interface Served {
  call: ServiceCall;
  user: ServiceUser;
  reason: VoicemailReason | 'menu';
}

describe('CallEngine answering plans and services', () => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let alice: AuthenticatedUser;
  let organizationId: number;

  beforeAll(async () => {
    store = await openTestDatabase('memory');
    db = store.db;
    const { organization, users } = await seedDemo(db);
    organizationId = organization.id;
    const user = users.find((u) => u.extension === '101')!;
    alice = { userId: user.id, organizationId, extension: '101', displayName: 'Alice Adams', domain: DOMAIN };
  });
  afterAll(async () => {
    await store.close();
  });

  const dialplan: Dialplan = {
    async route(caller, dialled) {
      if (dialled === '*97') return { kind: 'mailbox-menu', user: { organizationId: caller.organizationId, userId: caller.userId, extension: caller.extension, displayName: caller.displayName } };
      const user = await findUserByExtension(db, caller.organizationId, dialled);
      return user ? { kind: 'user', userId: user.id, extension: user.extension, displayName: user.display_name } : { kind: 'refused', status: 404, reason: 'Not Found' };
    },
  };

  /** An engine whose called user (102) has one device, or none; Alice's INVITE (with an offer, unless `delayed`) sent to `target`. */
  async function call(
    plan: AnsweringPlan | Error | undefined,
    options: { devices?: number; services?: boolean; delayed?: boolean; target?: string; dialplan?: Dialplan; screen?: CallServices['screen'] } = {},
  ) {
    const endpoint = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'offhook-test', transactions: { clock: systemClock, timers: { t1: T1_MS, t2: 4 * T1_MS, t4: 5 * T1_MS } } });
    const bobWire = new FakeConnection('192.0.2.20', 'TCP');
    const binding: Binding = {
      aor: `${organizationId}:102`,
      contact: parseNameAddr('<sip:102@192.0.2.20;transport=tcp>'),
      path: [],
      connection: bobWire,
      callId: 'bob-registration',
      cseq: 1,
      expiresAt: Infinity,
    };
    const bindings = (options.devices ?? 1) > 0 ? [binding] : [];
    const registrar = { lookup: () => bindings, connectionFor: () => Promise.resolve(bobWire) } as unknown as Registrar;
    const authenticator = { authenticate: () => Promise.resolve(alice) } as unknown as SipAuthenticator;
    const asked: Array<{ user: ServiceUser; at: number }> = [];
    const planner = {
      plan: (user: ServiceUser, at: number) => {
        asked.push({ user, at });
        return plan instanceof Error ? Promise.reject(plan) : Promise.resolve(plan ?? RING_THEN_VOICEMAIL);
      },
      doNotDisturb: () => Promise.resolve(false),
    };
    const served: Served[] = [];
    const services: CallServices = {
      voicemail: (serviceCall, mailbox, reason) => served.push({ call: serviceCall, user: mailbox, reason }),
      mailboxMenu: (serviceCall, user) => served.push({ call: serviceCall, user, reason: 'menu' }),
      screen: options.screen ?? (() => Promise.resolve(undefined)),
    };
    const engine = new CallEngine({
      db,
      endpoint,
      registrar,
      authenticator,
      media: { address: '127.0.0.1' },
      contactHost: '127.0.0.1',
      dialplan: options.dialplan ?? dialplan,
      planner: plan === undefined ? undefined : planner,
      services: options.services === false ? undefined : services,
      now: () => AT,
    });
    endpoint.setApplication({
      onRequest: (tx) => {
        if (tx.request.method === 'INVITE') void engine.handleInvite(tx);
        else if (tx.request.method === 'BYE') engine.handleBye(tx);
        else if (tx.request.method === 'CANCEL') engine.handleCancel(tx);
        else if (tx.request.method === 'INFO') engine.handleInfo(tx);
      },
      onAck: (request) => engine.handleAck(request),
    });
    const aliceWire = new FakeConnection('192.0.2.10', 'TCP');
    const target = options.target ?? '102';
    const invite = sipRequest({
      method: 'INVITE',
      uri: `sip:${target}@${DOMAIN}`,
      from: `<sip:101@${DOMAIN}>;tag=alice`,
      to: `<sip:${target}@${DOMAIN}>`,
      headers: [['Contact', '<sip:101@192.0.2.10;transport=tcp>'], ...(options.delayed ? [] : [['Content-Type', 'application/sdp'] as [string, string]])],
      body: options.delayed ? '' : phoneOffer(40_000),
    });
    endpoint.receiveMessage(invite, aliceWire);
    const forked = async () => {
      await until(() => bobWire.requests.some((r) => r.method === 'INVITE'));
      return bobWire.requests.find((r) => r.method === 'INVITE')!;
    };
    const bobReplies = async (status: number, reason: string) => endpoint.receiveMessage(createResponse(await forked(), status, reason, { toTag: 'bob' }), bobWire);
    const finalToAlice = async () => {
      await until(() => aliceWire.responses.some((r) => r.status >= 200));
      return aliceWire.responses.find((r) => r.status >= 200)!;
    };
    return { engine, endpoint, aliceWire, bobWire, invite, asked, served, forked, bobReplies, finalToAlice };
  }

  const recordOf = async (engine: CallEngine, invite: SipRequest) => {
    await engine.flushRecords();
    return db.selectFrom('call_records').selectAll().where('call_id', '=', invite.headers.get('Call-ID') ?? '').executeTakeFirst();
  };

  it('asks the planner at the engine\'s clock, for the user called', async () => {
    const { engine, asked, forked } = await call(RING_THEN_VOICEMAIL);
    await forked();
    expect(asked).toEqual([{ user: { organizationId, userId: expect.any(Number), extension: '102', displayName: 'Bob Brown' }, at: AT }]);
    engine.shutdown();
  });

  it('answers for voicemail when every device is busy: 200 with an SDP answer, the service told "busy"; its hang-up sends BYE', async () => {
    const { engine, aliceWire, invite, served, bobReplies, finalToAlice } = await call(RING_THEN_VOICEMAIL);
    await bobReplies(486, 'Busy Here');
    const final = await finalToAlice();
    expect(final.status).toBe(200);
    expect(final.headers.get('Content-Type')).toBe('application/sdp');
    expect(final.body.toString()).toContain('m=audio');
    expect(served.map((s) => [s.user.extension, s.reason])).toEqual([['102', 'busy']]);
    const ended: string[] = [];
    served[0]!.call.onEnded((why) => ended.push(why));
    served[0]!.call.hangUp('message taken');
    expect(aliceWire.requests.map((r) => r.method)).toEqual(['BYE']);
    expect(ended).toEqual(['message taken']);
    expect(engine.activeCallCount).toBe(0);
    expect(await recordOf(engine, invite)).toMatchObject({ disposition: 'missed', end_reason: 'voicemail', answered_at: null });
  });

  it('cancels the ringing device when the plan\'s ring time is up, then answers for voicemail (no answer)', async () => {
    const { engine, bobWire, served, bobReplies, finalToAlice } = await call({ ...RING_THEN_VOICEMAIL, ringMs: 150 });
    await bobReplies(180, 'Ringing');
    await until(() => bobWire.requests.some((r) => r.method === 'CANCEL'));
    expect((await finalToAlice()).status).toBe(200);
    expect(served.map((s) => s.reason)).toEqual(['no-answer']);
    engine.shutdown();
  });

  it('gives the service the caller\'s key presses sent in SIP INFO as its leg\'s dtmf events', async () => {
    const { engine, endpoint, aliceWire, invite, served, finalToAlice } = await call(RING_THEN_VOICEMAIL, { devices: 0 });
    const ok = await finalToAlice();
    const keys: string[] = [];
    served[0]!.call.leg.on('dtmf', (event) => keys.push(event.digit));
    const info = sipRequest({
      method: 'INFO',
      uri: 'sip:pbx@127.0.0.1;transport=tcp',
      from: invite.headers.get('From') ?? '',
      to: ok.headers.get('To') ?? '',
      callId: invite.headers.get('Call-ID') ?? '',
      cseq: 2,
      headers: [['Content-Type', 'application/dtmf-relay']],
      body: 'Signal=7\r\nDuration=160\r\n',
    });
    endpoint.receiveMessage(info, aliceWire);
    await until(() => aliceWire.responses.some((r) => r.headers.get('CSeq') === '2 INFO'));
    expect(aliceWire.responses.find((r) => r.headers.get('CSeq') === '2 INFO')?.status).toBe(200);
    expect(keys).toEqual(['7']);
    engine.shutdown();
  });

  it('lets an answer being stored win over the ring time running out: the caller gets the device, not voicemail', async () => {
    const store = CallJournal.prototype.answered;
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    vi.spyOn(CallJournal.prototype, 'answered').mockImplementation(function (this: CallJournal, active: ActiveCall) {
      const written = store.call(this, active);
      return held.then(() => written);
    });
    const { engine, endpoint, bobWire, served, forked, finalToAlice } = await call({ ...RING_THEN_VOICEMAIL, ringMs: 100 });
    const invite = await forked();
    endpoint.receiveMessage(
      createResponse(invite, 200, 'OK', { toTag: 'bob', headers: [['Contact', '<sip:102@192.0.2.20;transport=tcp>']], contentType: 'application/sdp', body: Buffer.from(phoneOffer(40_002)) }),
      bobWire,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    expect((await finalToAlice()).status).toBe(200);
    expect(served).toEqual([]);
    expect(bobWire.requests.map((r) => r.method)).toEqual(['INVITE', 'ACK']);
    engine.shutdown();
    vi.restoreAllMocks();
  });

  it('takes a device that answers unavailable as no device: voicemail for "unreachable"', async () => {
    const { engine, served, bobReplies, finalToAlice } = await call(RING_THEN_VOICEMAIL);
    await bobReplies(480, 'Temporarily Unavailable');
    expect((await finalToAlice()).status).toBe(200);
    expect(served.map((s) => s.reason)).toEqual(['unreachable']);
    engine.shutdown();
  });

  it('keeps today\'s answers without CallServices: the device\'s busy, and 480 once the ring time is up', async () => {
    const busy = await call(RING_THEN_VOICEMAIL, { services: false });
    await busy.bobReplies(486, 'Busy Here');
    expect((await busy.finalToAlice()).status).toBe(486);
    expect(await recordOf(busy.engine, busy.invite)).toMatchObject({ disposition: 'busy' });

    const unanswered = await call({ ...RING_THEN_VOICEMAIL, ringMs: 100 }, { services: false });
    await unanswered.bobReplies(180, 'Ringing');
    expect((await unanswered.finalToAlice()).status).toBe(480);
    expect(await recordOf(unanswered.engine, unanswered.invite)).toMatchObject({ disposition: 'missed', end_reason: 'no answer' });
  });

  it('answers at once for voicemail when the user has no device (unreachable), without ringing anything', async () => {
    const { engine, bobWire, served, finalToAlice } = await call(RING_THEN_VOICEMAIL, { devices: 0 });
    expect((await finalToAlice()).status).toBe(200);
    expect(served.map((s) => s.reason)).toEqual(['unreachable']);
    expect(bobWire.requests).toEqual([]);
    engine.shutdown();
  });

  it('diverts at once: do not disturb to busy answers 486 and rings nothing; to voicemail says why', async () => {
    const busy = await call({ kind: 'divert', ringMs: 30_000, to: { kind: 'busy' }, reason: 'do-not-disturb' });
    expect((await busy.finalToAlice()).status).toBe(486);
    expect(busy.bobWire.requests).toEqual([]);
    expect(await recordOf(busy.engine, busy.invite)).toMatchObject({ disposition: 'busy' });

    const voicemail = await call({ kind: 'divert', ringMs: 30_000, to: { kind: 'voicemail' }, reason: 'do-not-disturb' });
    expect((await voicemail.finalToAlice()).status).toBe(200);
    expect(voicemail.served.map((s) => s.reason)).toEqual(['do-not-disturb']);
    expect(voicemail.bobWire.requests).toEqual([]);
    voicemail.engine.shutdown();
  });

  it('puts our offer in the 200 to a caller that sent none, for a service as for a device', async () => {
    const { engine, served, finalToAlice } = await call(RING_THEN_VOICEMAIL, { devices: 0, delayed: true });
    const final = await finalToAlice();
    expect(final.status).toBe(200);
    expect(final.body.toString()).toMatch(/RTP\/AVP 0 8/);
    expect(served).toHaveLength(1);
    engine.shutdown();
  });

  it('rings the devices when the rules cannot be read', async () => {
    const { engine, forked } = await call(new Error('disk gone'));
    expect((await forked()).method).toBe('INVITE');
    engine.shutdown();
  });

  /** The test's dialplan, but a lookup of 103 fails as a database gone away would. */
  const failingFor103: Dialplan = {
    route: (caller, dialled) => (dialled === '103' ? Promise.reject(new Error('database is locked')) : dialplan.route(caller, dialled)),
  };

  it('ends a call whose diversion cannot be looked up: 480, a missed call, "diversion failed"', async () => {
    const plan: AnsweringPlan = { ...RING_THEN_VOICEMAIL, ringMs: 100, whenNotAnswered: { kind: 'dial', dialled: '103' } };
    const { engine, invite, served, bobReplies, finalToAlice } = await call(plan, { dialplan: failingFor103 });
    await bobReplies(180, 'Ringing');
    expect((await finalToAlice()).status).toBe(480);
    expect(served).toEqual([]);
    expect(engine.activeCallCount).toBe(0);
    expect(await recordOf(engine, invite)).toMatchObject({ disposition: 'missed', end_reason: 'diversion failed' });
  });

  it('skips an also-ring target that cannot be looked up: the owner\'s devices ring on, then the plan goes on', async () => {
    const plan: AnsweringPlan = { ...RING_THEN_VOICEMAIL, ringMs: 150, alsoRing: ['103'] };
    const { engine, served, bobReplies, finalToAlice } = await call(plan, { dialplan: failingFor103 });
    await bobReplies(180, 'Ringing');
    expect((await finalToAlice()).status).toBe(200);
    expect(served.map((s) => s.reason)).toEqual(['no-answer']);
    engine.shutdown();
  });

  it('answers *97 with the mailbox menu of the caller, and 404 without services', async () => {
    const menu = await call(undefined, { target: '*97' });
    expect((await menu.finalToAlice()).status).toBe(200);
    expect(menu.served.map((s) => [s.user.extension, s.reason])).toEqual([['101', 'menu']]);
    menu.engine.shutdown();

    const nobody = await call(undefined, { target: '*97', services: false });
    expect((await nobody.finalToAlice()).status).toBe(404);
  });
  /** A screening service at the edge: names every caller at once, and lets the test choose for the user who answers. */
  function screeningService() {
    const log: string[] = [];
    const offered: MediaLeg[] = [];
    let choose: (choice: 'accept' | 'decline') => void = () => undefined;
    const screened: ScreenedCaller = {
      ringback: () => {
        log.push('ringback');
        return () => log.push('ringback stopped');
      },
      offerTo: (leg) => {
        offered.push(leg);
        return new Promise((resolve) => {
          choose = resolve;
          // As the real screener: a user who hangs up has declined.
          leg.on('stateChanged', (state) => state === 'closed' && resolve('decline'));
        });
      },
    };
    const screen: CallServices['screen'] = (serviceCall) => {
      log.push(`asked ${serviceCall.caller.extension ?? ''}`);
      return Promise.resolve(screened);
    };
    return { log, offered, screen, choose: (choice: 'accept' | 'decline') => choose(choice) };
  }

  const SCREENED: AnsweringPlan = { ...RING_THEN_VOICEMAIL, screen: true };

  async function bobAnswers(endpoint: SipEndpoint, bobWire: FakeConnection, forked: () => Promise<SipRequest>): Promise<void> {
    const invite = await forked();
    endpoint.receiveMessage(
      createResponse(invite, 200, 'OK', { toTag: 'bob', headers: [['Contact', '<sip:102@192.0.2.20;transport=tcp>']], contentType: 'application/sdp', body: Buffer.from(phoneOffer(40_002)) }),
      bobWire,
    );
  }

  it('screens: answers the caller and asks their name before any device rings; 1 from the user who answers joins them', async () => {
    const screening = screeningService();
    const { engine, endpoint, bobWire, invite, served, forked, finalToAlice } = await call(SCREENED, { screen: screening.screen });
    expect((await finalToAlice()).status).toBe(200);
    await until(() => screening.log.includes('ringback'));
    expect(screening.log.slice(0, 2)).toEqual(['asked 101', 'ringback']);
    await bobAnswers(endpoint, bobWire, forked);
    await until(() => screening.offered.length === 1);
    // The user is choosing: the caller still hears ringback, and the call is not answered yet.
    expect(screening.log).not.toContain('ringback stopped');
    screening.choose('accept');
    await until(() => screening.log.includes('ringback stopped'));
    await until(() => engine.activeCallCount === 1 && bobWire.requests.every((r) => r.method !== 'BYE'));
    expect(served).toEqual([]);
    engine.shutdown();
    expect(await recordOf(engine, invite)).toMatchObject({ disposition: 'answered', answered_at: expect.any(String) });
  });

  it('sends a screened call the user declines (2) where the rule sends an unanswered one: BYE to the device, voicemail for the caller', async () => {
    const screening = screeningService();
    const { engine, endpoint, bobWire, invite, served, forked, finalToAlice } = await call(SCREENED, { screen: screening.screen });
    expect((await finalToAlice()).status).toBe(200);
    await bobAnswers(endpoint, bobWire, forked);
    await until(() => screening.offered.length === 1);
    screening.choose('decline');
    await until(() => served.length === 1);
    expect(served.map((s) => [s.user.extension, s.reason])).toEqual([['102', 'no-answer']]);
    expect(bobWire.requests.map((r) => r.method)).toEqual(['INVITE', 'ACK', 'BYE']);
    served[0]!.call.hangUp('message taken');
    expect(await recordOf(engine, invite)).toMatchObject({ disposition: 'missed', end_reason: 'voicemail', answered_at: null });
  });

  it('sends a screened call on when the ring time passes: the device is cancelled, voicemail takes it (no answer)', async () => {
    const screening = screeningService();
    const { engine, bobWire, served, bobReplies, finalToAlice } = await call({ ...SCREENED, ringMs: 150 }, { screen: screening.screen });
    expect((await finalToAlice()).status).toBe(200);
    await bobReplies(180, 'Ringing');
    await until(() => bobWire.requests.some((r) => r.method === 'CANCEL'));
    await until(() => served.length === 1);
    expect(served[0]!.reason).toBe('no-answer');
    expect(screening.log).toContain('ringback stopped');
    engine.shutdown();
  });

  it('hangs up on the user still choosing when the screened caller hangs up', async () => {
    const screening = screeningService();
    const { engine, endpoint, aliceWire, bobWire, invite, forked, finalToAlice } = await call(SCREENED, { screen: screening.screen });
    const ok = await finalToAlice();
    await bobAnswers(endpoint, bobWire, forked);
    await until(() => screening.offered.length === 1);
    const bye = sipRequest({
      method: 'BYE',
      uri: 'sip:pbx@127.0.0.1;transport=tcp',
      from: invite.headers.get('From') ?? '',
      to: ok.headers.get('To') ?? '',
      callId: invite.headers.get('Call-ID') ?? '',
      cseq: 2,
    });
    endpoint.receiveMessage(bye, aliceWire);
    await until(() => bobWire.requests.some((r) => r.method === 'BYE'));
    expect(engine.activeCallCount).toBe(0);
    screening.choose('accept');
    expect(await recordOf(engine, invite)).toMatchObject({ disposition: 'cancelled', answered_at: null });
  });

  it('hands the user who is choosing their key presses sent in SIP INFO', async () => {
    const screening = screeningService();
    const { engine, endpoint, bobWire, forked, finalToAlice } = await call(SCREENED, { screen: screening.screen });
    await finalToAlice();
    await bobAnswers(endpoint, bobWire, forked);
    await until(() => screening.offered.length === 1);
    const keys: string[] = [];
    screening.offered[0]!.on('dtmf', (event) => keys.push(event.digit));
    const bobInvite = await forked();
    const info = sipRequest({
      method: 'INFO',
      uri: 'sip:pbx@127.0.0.1;transport=tcp',
      from: `${bobInvite.headers.get('To') ?? ''};tag=bob`,
      to: bobInvite.headers.get('From') ?? '',
      callId: bobInvite.headers.get('Call-ID') ?? '',
      cseq: 7,
      headers: [['Content-Type', 'application/dtmf-relay']],
      body: 'Signal=1\r\nDuration=160\r\n',
    });
    endpoint.receiveMessage(info, bobWire);
    await until(() => keys.length === 1);
    expect(keys).toEqual(['1']);
    engine.shutdown();
  });

  it('rings unscreened when the screening service fails, and joins whoever answers at once', async () => {
    const { engine, endpoint, bobWire, invite, served, forked, finalToAlice } = await call(SCREENED, { screen: () => Promise.reject(new Error('no prompts')) });
    expect((await finalToAlice()).status).toBe(200);
    await bobAnswers(endpoint, bobWire, forked);
    // Joined once the answer is stored: the call's legs are in active_calls.
    const callId = invite.headers.get('Call-ID') ?? '';
    for (let tries = 0; !(await db.selectFrom('active_calls').select('id').where('call_id', '=', callId).executeTakeFirst()); tries++) {
      expect(tries).toBeLessThan(100);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await new Promise((resolve) => setImmediate(resolve));
    expect(served).toEqual([]);
    engine.shutdown();
    expect(await recordOf(engine, invite)).toMatchObject({ disposition: 'answered', answered_at: expect.any(String) });
  });

  it('sends a screened call on when the user hangs up while hearing who calls', async () => {
    const screening = screeningService();
    const { engine, endpoint, bobWire, served, forked, finalToAlice } = await call(SCREENED, { screen: screening.screen });
    await finalToAlice();
    await bobAnswers(endpoint, bobWire, forked);
    await until(() => screening.offered.length === 1);
    const bobInvite = await forked();
    const bye = sipRequest({
      method: 'BYE',
      uri: 'sip:pbx@127.0.0.1;transport=tcp',
      from: `${bobInvite.headers.get('To') ?? ''};tag=bob`,
      to: bobInvite.headers.get('From') ?? '',
      callId: bobInvite.headers.get('Call-ID') ?? '',
      cseq: 9,
    });
    endpoint.receiveMessage(bye, bobWire);
    await until(() => served.length === 1);
    expect(served[0]!.reason).toBe('no-answer');
    expect(bobWire.responses.find((r) => r.headers.get('CSeq') === '9 BYE')?.status).toBe(200);
    engine.shutdown();
  });

  it('sends a screened call the devices refuse as busy where the rule sends busy calls', async () => {
    const screening = screeningService();
    const { engine, served, bobReplies, finalToAlice } = await call(SCREENED, { screen: screening.screen });
    await finalToAlice();
    await until(() => screening.log.includes('ringback'));
    await bobReplies(486, 'Busy Here');
    await until(() => served.length === 1);
    expect(served[0]!.reason).toBe('busy');
    expect(screening.log).toContain('ringback stopped');
    engine.shutdown();
  });

  it('records a screened caller who hangs up before the user takes the call as cancelled', async () => {
    const screening = screeningService();
    const { engine, endpoint, aliceWire, invite, finalToAlice } = await call(SCREENED, { screen: screening.screen });
    const ok = await finalToAlice();
    await until(() => screening.log.includes('ringback'));
    endpoint.receiveMessage(
      sipRequest({ method: 'BYE', uri: 'sip:pbx@127.0.0.1;transport=tcp', from: invite.headers.get('From') ?? '', to: ok.headers.get('To') ?? '', callId: invite.headers.get('Call-ID') ?? '', cseq: 2 }),
      aliceWire,
    );
    await until(() => engine.activeCallCount === 0);
    expect(await recordOf(engine, invite)).toMatchObject({ disposition: 'cancelled', answered_at: null });
  });
});
