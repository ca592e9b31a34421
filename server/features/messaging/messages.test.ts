import type { Kysely } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEMO_ORGANIZATION, seedDemo } from '../../store/demo';
import { ensureOrganization } from '../../store/organizations';
import type { Database } from '../../store/schema';
import { openTestDatabase } from '../../store/test-support';
import type { TestDatabase } from '../../store/test-support';
import type { AuthenticatedUser } from '../../sip/edge/authenticator';
import type { SipConnection } from '../../sip/transport/connection';
import { createResponse, parseNameAddr } from '../../sip/syntax/message';
import type { SipRequest } from '../../sip/syntax/message';
import { MAX_MESSAGE_BODY_BYTES, MessageRouter } from './messages';
import type { Binding } from '../../presence/registrar';
import { FakeConnection, serverTransaction, sipRequest } from '../../sip/test-support';
import type { ClientTransactionHandler } from '../../sip/transaction/transactions';

const DOMAIN = DEMO_ORGANIZATION.domain;

describe('MessageRouter', () => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let alice: AuthenticatedUser;
  let bindings: Binding[];
  let sent: Array<{ request: SipRequest; connection: SipConnection; respond: (status: number) => void }>;
  let router: MessageRouter;
  /** The endpoint's choice of flow for a relayed message (connectionForSize): by default the device's own. */
  let pickFlow: (request: SipRequest, connection: SipConnection) => Promise<SipConnection>;

  beforeAll(async () => {
    store = await openTestDatabase('memory');
    db = store.db;
    const { organization, users } = await seedDemo(db);
    const user = users.find((u) => u.extension === '101')!;
    await ensureOrganization(db, { name: 'Other', domain: 'other.offhook.test' });
    alice = { userId: user.id, organizationId: organization.id, extension: '101', displayName: 'Alice Adams', domain: DOMAIN };
  });
  afterAll(async () => {
    await store.close();
  });
  beforeEach(() => {
    sent = [];
    bindings = [];
    pickFlow = (_request, connection) => Promise.resolve(connection);
    router = new MessageRouter({
      db,
      endpoint: {
        sendRequest: (request: SipRequest, connection: SipConnection, handler: ClientTransactionHandler) => {
          sent.push({ request, connection, respond: (status) => handler(createResponse(request, status), undefined as never) });
          return undefined as never;
        },
        connectionForSize: (request: SipRequest, connection: SipConnection) => pickFlow(request, connection),
      },
      registrar: { lookup: () => bindings },
      authenticator: { authenticate: () => Promise.resolve(alice) },
    });
  });

  function device(path: string[] = []): Binding {
    return { aor: '1:102', contact: parseNameAddr('<sip:bob@desk.invalid;transport=tcp>'), path, connection: new FakeConnection(), callId: 'x', cseq: 1, expiresAt: Infinity };
  }

  async function send(target: string, body = 'Lunch?', headers: Array<[string, string]> = []) {
    const connection = new FakeConnection();
    const request = sipRequest({
      method: 'MESSAGE',
      uri: `sip:${target}`,
      from: `<sip:101@${DOMAIN}>;tag=m1`,
      to: `<sip:${target}>`,
      headers: [['Content-Type', 'text/plain;charset=UTF-8'], ...headers],
      body,
    });
    await router.handleMessage(serverTransaction(request, connection));
    // The relayed copies go out once the endpoint has chosen each device's flow, a few turns later.
    await new Promise((resolve) => setImmediate(resolve));
    return connection;
  }

  it('delivers to every device of the recipient and answers the sender with the first 2xx', async () => {
    bindings = [device(), device(['<sip:edge.offhook.test;lr>'])];
    const sender = await send(`102@${DOMAIN}`);
    expect(sent).toHaveLength(2);
    const relayed = sent[0]!.request;
    expect(relayed.uri).toBe('sip:bob@desk.invalid;transport=tcp');
    expect(relayed.headers.get('From')).toMatch(new RegExp(`^"Alice Adams" <sip:101@${DOMAIN}>;tag=`));
    expect(relayed.headers.get('To')).toBe(`<sip:102@${DOMAIN}>`);
    expect(relayed.headers.get('Content-Type')).toBe('text/plain;charset=UTF-8');
    expect(relayed.body.toString()).toBe('Lunch?');
    expect(sent[1]!.request.headers.getAll('Route')).toEqual(['<sip:edge.offhook.test;lr>']);
    expect(sender.sent).toEqual([]);
    sent[1]!.respond(200);
    sent[0]!.respond(200);
    expect(sender.responses.map((r) => r.status)).toEqual([200]);
  });

  it('relays with one hop fewer (RFC 7332 §3)', async () => {
    bindings = [device()];
    const sender = await send(`102@${DOMAIN}`, 'Lunch?', [['Max-Forwards', '9']]);
    expect(sent.map((s) => s.request.headers.get('Max-Forwards'))).toEqual(['8']);
    sent[0]!.respond(200);
    expect(sender.responses.map((r) => r.status)).toEqual([200]);
  });

  it('passes on a refusal from every device, and says unavailable when nobody is there', async () => {
    bindings = [device(), device()];
    const refused = await send(`102@${DOMAIN}`);
    sent[0]!.respond(408);
    sent[1]!.respond(415);
    expect(refused.lastResponse()?.status).toBe(415);
    sent = [];
    const gone = await send(`102@${DOMAIN}`);
    sent[0]!.respond(408);
    sent[1]!.respond(503);
    expect(gone.lastResponse()?.status).toBe(480);
  });

  it('relays messages to a device in the order they came, even when the first waits for its connection', async () => {
    bindings = [device()];
    const tcp = new FakeConnection('192.0.2.50', 'TCP');
    let open: (connection: SipConnection) => void = () => {};
    pickFlow = (request, connection) => (request.body.toString() === 'first' ? new Promise((resolve) => (open = resolve)) : Promise.resolve(connection));
    await send(`102@${DOMAIN}`, 'first');
    await send(`102@${DOMAIN}`, 'second');
    await new Promise((r) => setTimeout(r, 10));
    expect(sent).toEqual([]);
    open(tcp);
    await expect.poll(() => sent.map((s) => [s.request.body.toString(), s.connection])).toEqual([['first', tcp], ['second', bindings[0]!.connection]]);
  });

  it('counts a device it could not send to as unavailable, and passes on the others\' refusal at once', async () => {
    bindings = [device(), device()];
    pickFlow = (_request, connection) => (connection === bindings[0]!.connection ? Promise.reject(new Error('no flow')) : Promise.resolve(connection));
    const sender = await send(`102@${DOMAIN}`);
    await expect.poll(() => sent).toHaveLength(1);
    sent[0]!.respond(415);
    await expect.poll(() => sender.lastResponse()?.status).toBe(415);
  });

  it('answers 404 for an unknown extension, 480 with no device online, 403 for another organization, 413 for a long body', async () => {
    expect((await send(`999@${DOMAIN}`)).lastResponse()?.status).toBe(404);
    expect((await send(`102@${DOMAIN}`)).lastResponse()?.status).toBe(480);
    expect((await send('102@other.offhook.test')).lastResponse()?.status).toBe(403);
    // A host that is no organization's domain (the PBX's address on a desk phone) means the sender's own.
    expect((await send('102@192.0.2.1')).lastResponse()?.status).toBe(480);
    expect((await send(`102@${DOMAIN}`, 'x'.repeat(MAX_MESSAGE_BODY_BYTES + 1))).lastResponse()?.status).toBe(413);
    expect(sent).toEqual([]);
  });
});
