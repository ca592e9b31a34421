import type { Kysely } from 'kysely';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { DEMO_ORGANIZATION, seedDemo } from '../store/demo';
import { ensureOrganization } from '../store/organizations';
import type { Database } from '../store/schema';
import { openTestDatabase } from '../store/test-support';
import type { TestDatabase } from '../store/test-support';
import { createUser } from '../store/users';
import type { MailboxCounts } from '../store/voicemail-counts';
import { TypedEmitter } from '../util/typed-emitter';
import type { AuthenticatedUser } from '../sip/edge/authenticator';
import type { SipConnection } from '../sip/transport/connection';
import { createResponse } from '../sip/syntax/message';
import type { SipRequest, SipResponse } from '../sip/syntax/message';
import { dialogInfoBody, messageSummaryBody, SubscriptionManager } from './subscriptions';
import type { DialogStateChange } from './subscriptions';
import { FakeConnection, serverTransaction, sipRequest } from '../sip/test-support';
import type { ClientTransactionHandler } from '../sip/transaction/transactions';

const DOMAIN = DEMO_ORGANIZATION.domain;

class FakeCalls extends TypedEmitter<{ callStateChanged: [DialogStateChange] }> {
  report(change: DialogStateChange): void {
    this.emit('callStateChanged', change);
  }
}

interface Sent {
  request: SipRequest;
  connection: SipConnection;
  respond(status: number): void;
}

describe('SubscriptionManager', () => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let users: Record<string, AuthenticatedUser>;
  let sent: Sent[];
  let mailbox: MailboxCounts;
  let calls: FakeCalls;
  let manager: SubscriptionManager;
  let now: number;
  let authenticateAs: string;
  /** The flow the endpoint picks for a request (connectionForSize): by default the one it was given. */
  let pickFlow: (request: SipRequest, connection: SipConnection) => SipConnection;

  beforeAll(async () => {
    store = await openTestDatabase('memory');
    db = store.db;
    const { organization, users: demo } = await seedDemo(db);
    users = Object.fromEntries(
      demo.map((u) => [u.extension, { userId: u.id, organizationId: organization.id, extension: u.extension, displayName: u.display_name, domain: DOMAIN }]),
    );
    const other = await ensureOrganization(db, { name: 'Other', domain: 'other.offhook.test' });
    await createUser(db, { organizationId: other.id, extension: '201', displayName: 'Olga Other', password: 'olga-201' });
  });
  afterAll(async () => {
    await store.close();
  });

  beforeEach(() => {
    vi.useFakeTimers();
    now = 1_700_000_000_000;
    sent = [];
    mailbox = { newMessages: 0, oldMessages: 0 };
    calls = new FakeCalls();
    authenticateAs = '101';
    pickFlow = (_request, connection) => connection;
    manager = new SubscriptionManager(
      {
        db,
        endpoint: {
          sendRequest: (request: SipRequest, connection: SipConnection, handler: ClientTransactionHandler) => {
            sent.push({ request, connection, respond: (status) => handler(createResponse(request, status), undefined as never) });
            return undefined as never;
          },
          connectionForSize: (request: SipRequest, connection: SipConnection) => Promise.resolve(pickFlow(request, connection)),
        },
        // Digest authentication has its own tests; here the subscriber is whoever the test says.
        authenticator: { authenticate: () => Promise.resolve(users[authenticateAs]) },
        voicemail: { count: () => Promise.resolve(mailbox) },
        dialogStates: calls,
        contactHost: 'pbx.offhook.test',
      },
      () => now,
    );
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  async function subscribe(connection: FakeConnection, options: { target: string; event: string; expires?: number; accept?: string; callId?: string; contact?: string }): Promise<SipResponse> {
    const request = sipRequest({
      method: 'SUBSCRIBE',
      uri: `sip:${options.target}`,
      from: `<sip:${authenticateAs}@${DOMAIN}>;tag=sub-tag`,
      to: `<sip:${options.target}>`,
      callId: options.callId ?? `sub-${Math.random()}`,
      headers: [
        ['Event', options.event],
        ['Contact', options.contact ?? `<sip:${authenticateAs}@phone.invalid;transport=ws>`],
        ...(options.expires !== undefined ? [['Expires', `${options.expires}`] as [string, string]] : []),
        ...(options.accept ? [['Accept', options.accept] as [string, string]] : []),
      ],
    });
    await manager.handleSubscribe(serverTransaction(request, connection));
    await flush();
    return connection.lastResponse()!;
  }

  /** An in-dialog SUBSCRIBE for the message-summary subscription that `first` accepted. */
  async function resubscribe(connection: FakeConnection, first: SipResponse, expires: number, cseq = 2): Promise<SipResponse> {
    const request = sipRequest({
      method: 'SUBSCRIBE',
      uri: 'sip:pbx@pbx.offhook.test',
      from: first.headers.get('From')!,
      to: first.headers.get('To')!,
      callId: first.headers.get('Call-ID')!,
      cseq,
      headers: [['Event', 'message-summary'], ['Contact', '<sip:101@phone.invalid>'], ['Expires', `${expires}`]],
    });
    await manager.handleSubscribe(serverTransaction(request, connection));
    await flush();
    return connection.lastResponse()!;
  }

  async function flush(): Promise<void> {
    for (let i = 0; i < 10; i++) await Promise.resolve();
    await vi.advanceTimersByTimeAsync(0);
  }

  it('sends each NOTIFY over the flow the endpoint picks for its size (RFC 3261 §18.1.1)', async () => {
    const flow = new FakeConnection('192.0.2.40', 'UDP');
    const tcp = new FakeConnection('192.0.2.40', 'TCP');
    pickFlow = (request, connection) => (request.method === 'NOTIFY' ? tcp : connection);
    expect((await subscribe(flow, { target: `101@${DOMAIN}`, event: 'message-summary', expires: 600 })).status).toBe(200);
    expect(sent.map((s) => [s.request.method, s.connection])).toEqual([['NOTIFY', tcp]]);
  });

  it('answers a message-summary SUBSCRIBE with 200 and a NOTIFY of the empty mailbox, over the same flow', async () => {
    const flow = new FakeConnection();
    const ok = await subscribe(flow, { target: `101@${DOMAIN}`, event: 'message-summary', expires: 600 });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('Expires')).toBe('600');
    const toTag = /tag=([^;]+)/.exec(ok.headers.get('To') ?? '')?.[1];
    expect(sent).toHaveLength(1);
    const notify = sent[0]!.request;
    expect(sent[0]!.connection).toBe(flow);
    expect(notify.method).toBe('NOTIFY');
    expect(notify.uri).toBe('sip:101@phone.invalid;transport=ws');
    expect(notify.headers.get('From')).toContain(`tag=${toTag}`);
    expect(notify.headers.get('To')).toContain('tag=sub-tag');
    expect(notify.headers.get('Call-ID')).toBe(ok.headers.get('Call-ID'));
    expect(notify.headers.get('Event')).toBe('message-summary');
    expect(notify.headers.get('Subscription-State')).toBe('active;expires=600');
    expect(notify.headers.get('Content-Type')).toBe('application/simple-message-summary');
    expect(notify.body.toString()).toBe(`Messages-Waiting: no\r\nMessage-Account: sip:101@${DOMAIN}\r\nVoice-Message: 0/0\r\n`);
  });

  it('sends fresh counts when the mailbox changes, one NOTIFY at a time (RFC 6665 §4.2.2)', async () => {
    const flow = new FakeConnection();
    await subscribe(flow, { target: `101@${DOMAIN}`, event: 'message-summary' });
    mailbox = { newMessages: 2, oldMessages: 1 };
    manager.mailboxChanged(users['101']!.organizationId, '101');
    await flush();
    expect(sent).toHaveLength(1);
    sent[0]!.respond(200);
    await flush();
    expect(sent).toHaveLength(2);
    expect(sent[1]!.request.body.toString()).toContain('Messages-Waiting: yes\r\n');
    expect(sent[1]!.request.body.toString()).toContain('Voice-Message: 2/1\r\n');
    expect(sent[1]!.request.headers.get('CSeq')).toBe('2 NOTIFY');
  });

  it('refreshes, then ends with Expires: 0 and a final NOTIFY; a later refresh gets 481', async () => {
    const flow = new FakeConnection();
    const ok = await subscribe(flow, { target: `101@${DOMAIN}`, event: 'message-summary', expires: 600 });
    sent[0]!.respond(200);
    now += 300_000;
    const refreshed = await resubscribe(flow, ok, 900);
    expect([refreshed.status, refreshed.headers.get('Expires')]).toEqual([200, '900']);
    expect(sent[1]!.request.headers.get('Subscription-State')).toBe('active;expires=900');
    sent[1]!.respond(200);
    const ended = await resubscribe(flow, ok, 0, 3);
    expect(ended.status).toBe(200);
    expect(sent[2]!.request.headers.get('Subscription-State')).toBe('terminated;reason=timeout');
    expect(manager.size).toBe(0);
    expect((await resubscribe(flow, ok, 600, 4)).status).toBe(481);
  });

  it('ends an unrefreshed subscription when it expires, with a final NOTIFY', async () => {
    const flow = new FakeConnection();
    await subscribe(flow, { target: `101@${DOMAIN}`, event: 'message-summary', expires: 120 });
    sent[0]!.respond(200);
    now += 120_000;
    await vi.advanceTimersByTimeAsync(120_000);
    await flush();
    expect(sent.map((s) => s.request.headers.get('Subscription-State'))).toEqual(['active;expires=120', 'terminated;reason=timeout']);
    expect(manager.size).toBe(0);
  });

  it('lets a subscription die with its flow, silently', async () => {
    const flow = new FakeConnection();
    await subscribe(flow, { target: `102@${DOMAIN}`, event: 'dialog' });
    sent[0]!.respond(200);
    flow.drop();
    expect(manager.size).toBe(0);
    calls.report({ callId: 'c1', organizationId: users['101']!.organizationId, extension: '102', direction: 'recipient', state: 'early' });
    await flush();
    expect(sent).toHaveLength(1);
  });

  it('drops the subscription when the device answers a NOTIFY with 481', async () => {
    await subscribe(new FakeConnection(), { target: `102@${DOMAIN}`, event: 'dialog' });
    sent[0]!.respond(481);
    expect(manager.size).toBe(0);
  });

  it('fetches once for Expires: 0 on a new subscription', async () => {
    const ok = await subscribe(new FakeConnection(), { target: `101@${DOMAIN}`, event: 'message-summary', expires: 0 });
    expect(ok.status).toBe(200);
    expect(sent.map((s) => s.request.headers.get('Subscription-State'))).toEqual(['terminated;reason=timeout']);
    expect(manager.size).toBe(0);
  });

  it('lets a phone that subscribes again after a restart take the place of its own oldest subscriptions at the cap', async () => {
    const desk = new FakeConnection('192.0.2.40', 'UDP');
    const deskContact = '<sip:101@192.0.2.40:5060>';
    for (let i = 0; i < 100; i++) expect((await subscribe(desk, { target: `102@${DOMAIN}`, event: 'dialog', contact: deskContact })).status).toBe(200);
    expect(manager.size).toBe(100);
    // The phone restarted: the same keys again, with new dialogs, on the same flow.
    for (let i = 0; i < 3; i++) expect((await subscribe(desk, { target: `102@${DOMAIN}`, event: 'dialog', contact: deskContact })).status).toBe(200);
    expect(manager.size).toBe(100);
    // Another device of the same user has nothing of its own to give up: it is refused.
    const other = await subscribe(new FakeConnection('192.0.2.41', 'UDP'), { target: `102@${DOMAIN}`, event: 'dialog', contact: '<sip:101@192.0.2.41:5060>' });
    expect([other.status, other.headers.get('Retry-After')]).toEqual([503, '300']);
  });

  it('follows the watched extension’s line through a call for busy lamps (RFC 4235)', async () => {
    authenticateAs = '103';
    const flow = new FakeConnection();
    await subscribe(flow, { target: `102@${DOMAIN}`, event: 'dialog' });
    const organizationId = users['102']!.organizationId;
    const first = sent[0]!.request;
    expect(first.headers.get('Content-Type')).toBe('application/dialog-info+xml');
    expect(first.body.toString()).toContain(`version="0" state="full" entity="sip:102@${DOMAIN}"`);
    expect(first.body.toString()).not.toContain('<dialog ');
    sent[0]!.respond(200);

    const alice = { extension: '101', displayName: 'Alice Adams' };
    // Someone else's line is no business of this subscription.
    calls.report({ callId: 'c1', organizationId, extension: '101', direction: 'initiator', state: 'trying', remote: { extension: '102' } });
    const sipDialog = { callId: 'fork-1@pbx', localTag: 'phone-tag', remoteTag: 'pbx-tag' };
    calls.report({ callId: 'c1', organizationId, extension: '102', direction: 'recipient', state: 'early', remote: alice, dialog: sipDialog });
    await flush();
    expect(sent).toHaveLength(2);
    const ringing = sent[1]!.request.body.toString();
    expect(ringing).toContain('version="1"');
    // The SIP dialog as the ringing phone sees it: what another phone needs to pick the call up (RFC 3891).
    expect(ringing).toContain('<dialog id="c1-recipient" call-id="fork-1@pbx" local-tag="phone-tag" remote-tag="pbx-tag" direction="recipient"><state>early</state>');
    expect(ringing).toContain(`<identity display="Alice Adams">sip:101@${DOMAIN}</identity>`);
    sent[1]!.respond(200);

    calls.report({ callId: 'c1', organizationId, extension: '102', direction: 'recipient', state: 'confirmed', remote: alice });
    await flush();
    expect(sent[2]!.request.body.toString()).toContain('<state>confirmed</state>');
    sent[2]!.respond(200);
    calls.report({ callId: 'c1', organizationId, extension: '102', direction: 'recipient', state: 'terminated', remote: alice });
    await flush();
    expect(sent[3]!.request.body.toString()).toContain('<state>terminated</state>');
    sent[3]!.respond(200);

    // Once reported, an ended line is forgotten: a refresh shows the extension idle.
    calls.report({ callId: 'c2', organizationId, extension: '101', direction: 'initiator', state: 'trying' });
    await flush();
    expect(sent).toHaveLength(4);
  });

  it('refuses unknown packages with 489, another organization with 403, someone else’s mailbox with 403, unknown users with 404', async () => {
    const flow = new FakeConnection();
    const bad = await subscribe(flow, { target: `102@${DOMAIN}`, event: 'presence' });
    expect([bad.status, bad.headers.getAll('Allow-Events')]).toEqual([489, ['message-summary', 'dialog']]);
    expect((await subscribe(flow, { target: '201@other.offhook.test', event: 'dialog' })).status).toBe(403);
    expect((await subscribe(flow, { target: `102@${DOMAIN}`, event: 'message-summary' })).status).toBe(403);
    expect((await subscribe(flow, { target: `999@${DOMAIN}`, event: 'dialog' })).status).toBe(404);
    expect((await subscribe(flow, { target: `102@${DOMAIN}`, event: 'dialog', expires: 10 })).status).toBe(423);
    expect((await subscribe(flow, { target: `102@${DOMAIN}`, event: 'dialog', accept: 'application/pidf+xml' })).status).toBe(406);
    expect(manager.size).toBe(0);
    expect(sent).toEqual([]);
  });
});

describe('NOTIFY bodies', () => {
  it('writes a message summary as RFC 3842 §5.2 does', () => {
    expect(messageSummaryBody('sip:101@demo.offhook.test', { newMessages: 3, oldMessages: 7 })).toBe(
      'Messages-Waiting: yes\r\nMessage-Account: sip:101@demo.offhook.test\r\nVoice-Message: 3/7\r\n',
    );
  });

  it('escapes what people name themselves in dialog-info XML', () => {
    const body = dialogInfoBody('sip:102@d.test', 4, [
      { callId: 'a"b', organizationId: 1, extension: '102', direction: 'recipient', state: 'early', remote: { extension: '101', displayName: 'Tom & <Jerry>' }, dialog: { callId: 'x"y', localTag: '<t>', remoteTag: 'u&v' } },
    ], 'd.test');
    expect(body).toContain('display="Tom &#38; &#60;Jerry&#62;"');
    expect(body).toContain('id="a&#34;b-recipient" call-id="x&#34;y" local-tag="&#60;t&#62;" remote-tag="u&#38;v"');
  });
});
