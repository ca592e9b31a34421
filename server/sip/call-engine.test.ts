/**
 * The call engine with a real endpoint and transaction layer on short timers (T1 = 10 ms, so 64·T1 is 640 ms),
 * real plain RTP legs on loopback, and two recording flows for the caller's and the called device's wire.
 */
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { phoneOffer, until } from '../media/rtp-peer.test-helper';
import { DEMO_ORGANIZATION, seedDemo } from '../store/demo';
import type { Database } from '../store/schema';
import { openTestDatabase } from '../store/test-support';
import type { TestDatabase } from '../store/test-support';
import type { AuthenticatedUser, SipAuthenticator } from './authenticator';
import { CallEngine } from './call-engine';
import { formatTarget } from './dialog';
import { SipEndpoint } from './endpoint';
import { createResponse, parseNameAddr } from './message';
import type { SipRequest } from './message';
import type { Binding, Registrar } from './registrar';
import { FakeConnection, sipRequest } from './test-support';
import { systemClock } from './timers';

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

  /** Alice's desk phone calls Bob's; Bob's answers at once. Returns both wires once Alice has the 200. */
  async function answeredCall() {
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
    const engine = new CallEngine({ db, endpoint, registrar, authenticator, media: { address: '127.0.0.1' }, contactHost: '127.0.0.1' });
    endpoint.setApplication({
      onRequest: (tx) => {
        if (tx.request.method === 'INVITE') void engine.handleInvite(tx);
        else if (tx.request.method === 'BYE') engine.handleBye(tx);
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
    endpoint.receiveMessage(
      createResponse(forked, 200, 'OK', { toTag: 'bob', headers: [['Contact', '<sip:102@192.0.2.20;transport=tcp>']], contentType: 'application/sdp', body: Buffer.from(phoneOffer(40_002)) }),
      bobWire,
    );
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
