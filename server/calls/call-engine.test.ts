/**
 * The call engine with a real endpoint and transaction layer on short timers (T1 = 10 ms, so 64·T1 is 640 ms),
 * real plain RTP legs on loopback, and two recording flows for the caller's and the called device's wire.
 */
import type { Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { phoneOffer, until } from '../media/legs/rtp-peer.test-helper';
import { DEMO_ORGANIZATION, seedDemo } from '../store/demo';
import type { ActiveCall } from '../store/active-calls';
import { CallJournal } from '../store/call-journal';
import type { Database } from '../store/schema';
import { openTestDatabase } from '../store/test-support';
import type { TestDatabase } from '../store/test-support';
import type { AuthenticatedUser, SipAuthenticator } from '../sip/edge/authenticator';
import type { Dialplan } from './ports';
import { findUserByExtension } from '../store/users';
import { CallEngine } from './call-engine';
import { formatTarget } from '../sip/dialog/dialog';
import { SipEndpoint } from '../sip/endpoint';
import { createResponse, parseNameAddr } from '../sip/syntax/message';
import type { SipRequest } from '../sip/syntax/message';
import type { Binding, Registrar } from '../presence/registrar';
import { FakeConnection, sipRequest } from '../sip/test-support';
import { systemClock } from '../sip/transaction/timers';

/** The dialplan port as routing fills it, without a dial policy: an extension of the caller's organization. */
function usersOnly(db: Kysely<Database>): Dialplan {
  return {
    async route(caller, dialled) {
      const user = await findUserByExtension(db, caller.organizationId, dialled);
      return user ? { kind: 'user', userId: user.id, extension: user.extension, displayName: user.display_name } : { kind: 'refused', status: 404, reason: 'Not Found' };
    },
  };
}

const DOMAIN = DEMO_ORGANIZATION.domain;
const T1_MS = 10;

describe('CallEngine', () => {
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

  /** Alice's desk phone calls Bob's, whose phone has the INVITE. */
  async function ringingCall() {
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
    // The edges of the engine: who is calling, and where Bob's phone is registered.
    const registrar = { lookup: () => [binding], connectionFor: () => Promise.resolve(bobWire) } as unknown as Registrar;
    const authenticator = { authenticate: () => Promise.resolve(alice) } as unknown as SipAuthenticator;
    const engine = new CallEngine({ db, endpoint, registrar, authenticator, media: { address: '127.0.0.1' }, contactHost: '127.0.0.1', dialplan: usersOnly(db) });
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
    const invite = sipRequest({
      method: 'INVITE',
      uri: `sip:102@${DOMAIN}`,
      from: `<sip:101@${DOMAIN}>;tag=alice`,
      to: `<sip:102@${DOMAIN}>`,
      headers: [['Contact', '<sip:101@192.0.2.10;transport=tcp>'], ['Content-Type', 'application/sdp']],
      body: phoneOffer(40_000),
    });
    endpoint.receiveMessage(invite, aliceWire);
    await until(() => bobWire.requests.some((r) => r.method === 'INVITE'));
    const forked = bobWire.requests.find((r) => r.method === 'INVITE')!;
    const bobAnswers = () =>
      endpoint.receiveMessage(
        createResponse(forked, 200, 'OK', { toTag: 'bob', headers: [['Contact', '<sip:102@192.0.2.20;transport=tcp>']], contentType: 'application/sdp', body: Buffer.from(phoneOffer(40_002)) }),
        bobWire,
      );
    return { engine, endpoint, aliceWire, bobWire, invite, forked, bobAnswers };
  }

  /** Alice's desk phone calls Bob's; Bob's answers at once. Returns both wires once Alice has the 200. */
  async function answeredCall() {
    const { engine, endpoint, aliceWire, bobWire, invite, bobAnswers } = await ringingCall();
    bobAnswers();
    await until(() => aliceWire.responses.some((r) => r.status === 200));
    const ok = aliceWire.responses.find((r) => r.status === 200)!;
    return { engine, endpoint, aliceWire, bobWire, invite, ok };
  }

  function ackFor(invite: SipRequest, ok: ReturnType<typeof createResponse>): SipRequest {
    return sipRequest({
      method: 'ACK',
      uri: formatTarget(ok.headers.get('Contact') ?? ''),
      from: invite.headers.get('From') ?? '',
      to: ok.headers.get('To') ?? '',
      callId: invite.headers.get('Call-ID') ?? '',
      cseq: 1,
    });
  }

  it('hangs up with BYE to both sides when the caller never acknowledges the 2xx (RFC 3261 §13.3.1.4)', async () => {
    const { engine, aliceWire, bobWire } = await answeredCall();
    expect(engine.activeCallCount).toBe(1);
    await until(() => engine.activeCallCount === 0, 64 * T1_MS + 2_000);
    expect(aliceWire.requests.map((r) => r.method)).toEqual(['BYE']);
    expect(bobWire.requests.map((r) => r.method)).toEqual(['INVITE', 'ACK', 'BYE']);
    await engine.flushRecords();
    const record = await db.selectFrom('call_records').selectAll().orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(record).toMatchObject({ disposition: 'answered', end_reason: 'answer never acknowledged' });
  });

  /** Holds every answered call's store until released, as a slow disk would. */
  function holdAnswers(): () => void {
    const store = CallJournal.prototype.answered;
    const releases: Array<() => void> = [];
    vi.spyOn(CallJournal.prototype, 'answered').mockImplementation(function (this: CallJournal, call: ActiveCall) {
      const written = store.call(this, call);
      return new Promise<void>((resolve) => releases.push(resolve)).then(() => written);
    });
    return () => {
      for (const release of releases.splice(0)) release();
    };
  }
  afterEach(() => {
    vi.restoreAllMocks();
  });

  const activeRow = (invite: SipRequest) => db.selectFrom('active_calls').selectAll().where('call_id', '=', invite.headers.get('Call-ID') ?? '').executeTakeFirst();
  const recordOf = (invite: SipRequest) => db.selectFrom('call_records').selectAll().where('call_id', '=', invite.headers.get('Call-ID') ?? '').executeTakeFirst();
  const inDialog = (method: string, invite: SipRequest, ok: ReturnType<typeof createResponse>, cseq: number) =>
    sipRequest({ method, uri: formatTarget(ok.headers.get('Contact') ?? ''), from: invite.headers.get('From') ?? '', to: ok.headers.get('To') ?? '', callId: invite.headers.get('Call-ID') ?? '', cseq });

  it('answers the caller only once the answered call is stored, and ends it with its record written and its row deleted together', async () => {
    const { engine, endpoint, aliceWire, bobWire, invite, bobAnswers } = await ringingCall();
    const release = holdAnswers();
    bobAnswers();
    await until(() => bobWire.requests.some((r) => r.method === 'ACK'));
    await new Promise((r) => setTimeout(r, 30));
    expect(aliceWire.responses.filter((r) => r.status === 200)).toEqual([]);

    release();
    await until(() => aliceWire.responses.some((r) => r.status === 200));
    const ok = aliceWire.responses.find((r) => r.status === 200)!;
    const row = await activeRow(invite);
    expect(row).toMatchObject({ caller_extension: '101', callee_extension: '102' });
    const legs = JSON.parse(row?.legs ?? '[]') as Array<{ callId: string; remoteTag: string; transport: string; nextCseq: number }>;
    expect(legs.map((leg) => [leg.callId, leg.remoteTag, leg.transport, leg.nextCseq])).toEqual([
      [invite.headers.get('Call-ID'), 'alice', 'TCP', 1],
      [bobWire.requests[0]?.headers.get('Call-ID'), 'bob', 'TCP', 2],
    ]);

    endpoint.receiveMessage(ackFor(invite, ok), aliceWire);
    endpoint.receiveMessage(inDialog('BYE', invite, ok, 2), aliceWire);
    await until(() => engine.activeCallCount === 0);
    await engine.flushRecords();
    expect(await activeRow(invite)).toBeUndefined();
    expect(await recordOf(invite)).toMatchObject({ disposition: 'answered', end_reason: 'caller hung up' });
  });

  it('hangs the callee up when the caller cancels while the answer is being stored, and the caller gets 487, not 200', async () => {
    const { engine, endpoint, aliceWire, bobWire, invite, bobAnswers } = await ringingCall();
    const release = holdAnswers();
    bobAnswers();
    await until(() => bobWire.requests.some((r) => r.method === 'ACK'));
    const cancel = sipRequest({ method: 'CANCEL', uri: invite.uri, from: invite.headers.get('From') ?? '', to: invite.headers.get('To') ?? '', callId: invite.headers.get('Call-ID') ?? '', cseq: 1 });
    cancel.headers.set('Via', invite.headers.get('Via') ?? '');
    endpoint.receiveMessage(cancel, aliceWire);
    await until(() => aliceWire.responses.some((r) => r.status === 487));
    expect(bobWire.requests.map((r) => r.method)).toEqual(['INVITE', 'ACK', 'BYE']);

    release();
    await engine.flushRecords();
    expect(aliceWire.responses.filter((r) => r.status === 200 && r.headers.get('CSeq')?.endsWith('INVITE'))).toEqual([]);
    expect(engine.activeCallCount).toBe(0);
    expect(await activeRow(invite)).toBeUndefined();
    expect(await recordOf(invite)).toMatchObject({ disposition: 'cancelled', end_reason: 'caller cancelled' });
  });

  it('tells the caller 480 when the callee hangs up while its answer is being stored', async () => {
    const { engine, endpoint, aliceWire, bobWire, invite, bobAnswers } = await ringingCall();
    const release = holdAnswers();
    bobAnswers();
    await until(() => bobWire.requests.some((r) => r.method === 'ACK'));
    const forked = bobWire.requests[0]!;
    const bye = sipRequest({ method: 'BYE', uri: 'sip:pbx@127.0.0.1;transport=tcp', from: `${forked.headers.get('To') ?? ''};tag=bob`, to: forked.headers.get('From') ?? '', callId: forked.headers.get('Call-ID') ?? '', cseq: 1 });
    endpoint.receiveMessage(bye, bobWire);
    await until(() => bobWire.responses.some((r) => r.status === 200));

    release();
    await until(() => aliceWire.responses.some((r) => r.status >= 300));
    await engine.flushRecords();
    expect(aliceWire.responses.map((r) => r.status).filter((status) => status >= 200)).toEqual([480]);
    expect(engine.activeCallCount).toBe(0);
    expect(await activeRow(invite)).toBeUndefined();
    expect(await recordOf(invite)).toMatchObject({ disposition: 'failed', end_reason: 'callee left before the answer reached the caller' });
  });

  it('stores the legs anew when requests it sends move a CSeq on, so a BYE after a crash is not out of order', async () => {
    const { engine, endpoint, aliceWire, bobWire, invite, ok } = await answeredCall();
    endpoint.receiveMessage(ackFor(invite, ok), aliceWire);
    const legsOfBob = async () => (JSON.parse((await activeRow(invite))?.legs ?? '[]') as Array<{ nextCseq: number }>)[1]?.nextCseq;
    expect(await legsOfBob()).toBe(2);
    // An INFO from Alice is relayed to Bob in his dialog, with the next CSeq.
    const info = inDialog('INFO', invite, ok, 2);
    info.headers.set('Content-Type', 'application/dtmf-relay');
    info.body = Buffer.from('Signal=5\r\nDuration=160\r\n');
    endpoint.receiveMessage(info, aliceWire);
    await until(() => bobWire.requests.some((r) => r.method === 'INFO'));
    engine.storeChangedLegs();
    await engine.flushRecords();
    expect(await legsOfBob()).toBe(3);
    engine.shutdown();
    await engine.flushRecords();
    expect(await activeRow(invite)).toBeUndefined();
  });

  it('keeps an acknowledged call up past 64·T1', async () => {
    const { engine, endpoint, aliceWire, bobWire, invite, ok } = await answeredCall();
    endpoint.receiveMessage(ackFor(invite, ok), aliceWire);
    await new Promise((r) => setTimeout(r, 64 * T1_MS + 300));
    expect(engine.activeCallCount).toBe(1);
    expect(aliceWire.requests).toEqual([]);
    engine.shutdown();
    expect(bobWire.requests.map((r) => r.method)).toEqual(['INVITE', 'ACK', 'BYE']);
    expect(aliceWire.requests.map((r) => r.method)).toEqual(['BYE']);
  });
});
