import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { AuthenticatedUser } from '../sip/edge/authenticator';
import { DEFAULT_HELD_IDLE_MS } from '../sip/transport/flow-table';
import { aorKey, FLOW_TIMER_S, MAX_EXPIRES_S, Registrar } from './registrar';
import { FakeConnection, serverTransaction, sipRequest } from '../sip/test-support';

const DOMAIN = 'demo.offhook.test';
const ALICE: AuthenticatedUser = { userId: 1, organizationId: 7, extension: '101', displayName: 'Alice Adams', domain: DOMAIN };
const AOR = aorKey(7, '101');
const INSTANCE = '"<urn:uuid:00000000-0000-4000-8000-000000000001>"';

describe('Registrar', () => {
  let now: number;
  let registrar: Registrar;
  let cseq: number;

  beforeEach(() => {
    now = 1_700_000_000_000;
    cseq = 0;
    // Digest authentication has its own tests; here every REGISTER comes from Alice.
    registrar = new Registrar({ authenticate: () => Promise.resolve(ALICE) }, () => now);
  });
  afterEach(() => registrar.close());

  async function register(connection: FakeConnection, contacts: string[], headers: Array<[string, string]> = [], callId = 'reg-call') {
    cseq += 1;
    const request = sipRequest({
      method: 'REGISTER',
      uri: `sip:${DOMAIN}`,
      from: `<sip:101@${DOMAIN}>;tag=a`,
      to: `<sip:101@${DOMAIN}>`,
      callId,
      cseq,
      headers: [...contacts.map((c): [string, string] => ['Contact', c]), ...headers],
    });
    await registrar.handleRegister(serverTransaction(request, connection));
    return connection.lastResponse()!;
  }

  it('keeps one binding per outbound flow and hands out one per device, the flow refreshed last', async () => {
    const flow1 = new FakeConnection();
    const flow2 = new FakeConnection();
    const supported: [string, string] = ['Supported', 'path, outbound'];
    const first = await register(flow1, [`<sip:a@phone.invalid;transport=ws>;+sip.instance=${INSTANCE};reg-id=1`], [supported], 'flow-1');
    expect(first.status).toBe(200);
    expect(first.headers.get('Require')).toBe('outbound');
    expect(first.headers.get('Flow-Timer')).toBe(`${FLOW_TIMER_S}`);
    await register(flow2, [`<sip:a@phone.invalid;transport=ws>;+sip.instance=${INSTANCE};reg-id=2`], [supported], 'flow-2');

    expect(registrar.flows(AOR).map((b) => b.regId)).toEqual([2, 1]);
    expect(registrar.lookup(AOR).map((b) => b.connection)).toEqual([flow2]);
    // RFC 5626 §5.3: when that flow dies the device is still reachable over the other one.
    flow2.drop();
    expect(registrar.lookup(AOR).map((b) => [b.regId, b.connection])).toEqual([[1, flow1]]);
  });

  it('keeps two devices on one host apart by port, and replaces a binding only for an equal Contact URI', async () => {
    const connection = new FakeConnection();
    await register(connection, ['<sip:101@192.0.2.7:5070>'], [], 'desk-1');
    await register(connection, ['<sip:101@192.0.2.7:5080>'], [], 'desk-2');
    expect(registrar.lookup(AOR).map((b) => b.contact.uri.port).sort()).toEqual([5070, 5080]);
    await register(connection, ['<sip:101@192.0.2.7:5070>;expires=0'], [], 'desk-1');
    expect(registrar.lookup(AOR).map((b) => b.contact.uri.port)).toEqual([5080]);
    // Host and parameter values compare without case (RFC 3261 §19.1.4): the second REGISTER refreshes the first.
    await register(connection, ['<sip:101@desk.EXAMPLE.test;transport=tcp>'], [], 'desk-3');
    await register(connection, ['<sip:101@desk.example.test;transport=TCP>'], [], 'desk-3');
    expect(registrar.lookup(AOR).map((b) => b.contact.uri.host.toLowerCase()).sort()).toEqual(['192.0.2.7', 'desk.example.test']);
  });

  it('replaces the binding of the same instance and reg-id, and unregisters just that flow', async () => {
    const supported: [string, string] = ['Supported', 'outbound'];
    const flow1 = new FakeConnection();
    const flow2 = new FakeConnection();
    await register(flow1, [`<sip:a@phone.invalid>;+sip.instance=${INSTANCE};reg-id=1`], [supported], 'flow-1');
    await register(flow2, [`<sip:a@phone.invalid>;+sip.instance=${INSTANCE};reg-id=2`], [supported], 'flow-2');
    const flow1b = new FakeConnection();
    await register(flow1b, [`<sip:a@phone.invalid>;+sip.instance=${INSTANCE};reg-id=1`], [supported], 'flow-1b');
    expect(registrar.flows(AOR).map((b) => [b.regId, b.connection])).toEqual([[1, flow1b], [2, flow2]]);
    await register(flow2, [`<sip:a@phone.invalid>;+sip.instance=${INSTANCE};reg-id=2;expires=0`], [supported], 'flow-2');
    expect(registrar.flows(AOR).map((b) => b.regId)).toEqual([1]);
  });

  it('ignores reg-id without outbound support or without an instance', async () => {
    const response = await register(new FakeConnection(), [`<sip:a@phone.invalid>;+sip.instance=${INSTANCE};reg-id=1`]);
    expect(response.status).toBe(200);
    expect(response.headers.has('Require')).toBe(false);
    expect(registrar.flows(AOR).map((b) => b.regId)).toEqual([undefined]);
    const bare = await register(new FakeConnection(), ['<sip:b@phone.invalid>;reg-id=1'], [['Supported', 'outbound']]);
    expect(bare.headers.has('Require')).toBe(false);
  });

  it('refuses two outbound contacts in one REGISTER, and a flow through a proxy that lacks outbound', async () => {
    const supported: [string, string] = ['Supported', 'outbound'];
    const two = await register(new FakeConnection(), [
      `<sip:a@phone.invalid>;+sip.instance=${INSTANCE};reg-id=1`,
      `<sip:a@phone.invalid>;+sip.instance=${INSTANCE};reg-id=2`,
    ], [supported]);
    expect([two.status, two.reason]).toEqual([400, 'Bad Request - More than one Contact with reg-id']);
    const viaProxy: [string, string] = ['Via', 'SIP/2.0/TCP edge.offhook.test;branch=z9hG4bKedge1'];
    const lacking = await register(new FakeConnection(), [`<sip:a@phone.invalid>;+sip.instance=${INSTANCE};reg-id=1`], [supported, viaProxy, ['Path', '<sip:edge.offhook.test;lr>']]);
    expect(lacking.status).toBe(439);
    const withOb = await register(new FakeConnection(), [`<sip:a@phone.invalid>;+sip.instance=${INSTANCE};reg-id=1`], [supported, viaProxy, ['Path', '<sip:edge.offhook.test;lr;ob>']]);
    expect(withOb.status).toBe(200);
  });

  it('stores the Path vector with the binding and returns it to a UA that supports path (RFC 3327)', async () => {
    const path: Array<[string, string]> = [['Path', '<sip:edge1.offhook.test;lr>'], ['Path', '<sip:edge2.offhook.test;lr>']];
    const silent = await register(new FakeConnection(), ['<sip:a@phone.invalid>'], path);
    expect(silent.headers.getAll('Path')).toEqual([]);
    expect(registrar.lookup(AOR)[0]?.path).toEqual(['<sip:edge1.offhook.test;lr>', '<sip:edge2.offhook.test;lr>']);
    const echoed = await register(new FakeConnection(), ['<sip:a@phone.invalid>'], [...path, ['Supported', 'path']]);
    expect(echoed.headers.getAll('Path')).toEqual(['<sip:edge1.offhook.test;lr>', '<sip:edge2.offhook.test;lr>']);
    const direct = await register(new FakeConnection(), ['<sip:a@phone.invalid>']);
    expect(direct.status).toBe(200);
    expect(registrar.lookup(AOR)[0]?.path).toEqual([]);
  });

  it('lets bindings expire, and refuses too brief an interval', async () => {
    const brief = await register(new FakeConnection(), ['<sip:a@phone.invalid>;expires=30']);
    expect([brief.status, brief.headers.get('Min-Expires')]).toEqual([423, '60']);
    await register(new FakeConnection(), ['<sip:a@phone.invalid>;expires=120']);
    expect(registrar.lookup(AOR)).toHaveLength(1);
    now += 120_000;
    expect(registrar.lookup(AOR)).toEqual([]);
  });

  it('keeps a TCP desk phone reachable after its connection closes by connecting to its Contact (RFC 3261 §18.1.1)', async () => {
    const tcp = new FakeConnection('192.0.2.30', 'TCP');
    await register(tcp, ['<sip:101@192.0.2.30:5070;transport=tcp>']);
    tcp.drop();
    const [binding] = registrar.lookup(AOR);
    expect(binding).toBeDefined();

    const opened: Array<[string, string, number]> = [];
    const fresh = new FakeConnection('192.0.2.30', 'TCP');
    registrar.setStreamConnector(async (transport, host, port) => {
      opened.push([transport, host, port]);
      return fresh;
    });
    expect(await registrar.connectionFor(binding!)).toBe(fresh);
    expect(opened).toEqual([['TCP', '192.0.2.30', 5070]]);
  });

  it('lets a TCP binding go with its connection when the Contact is a private address behind a NAT (RFC 5626 §3)', async () => {
    const natted = new FakeConnection('203.0.113.5', 'TCP');
    await register(natted, ['<sip:101@192.168.1.20:5060;transport=tcp>'], [], 'behind-nat');
    expect(registrar.lookup(AOR)).toHaveLength(1);
    natted.drop();
    expect(registrar.lookup(AOR)).toEqual([]);
    // A Contact by host name can still be reached afresh.
    const named = new FakeConnection('203.0.113.6', 'TCP');
    await register(named, ['<sip:101@desk.example.test:5060;transport=tcp>'], [], 'named');
    named.drop();
    expect(registrar.lookup(AOR)).toHaveLength(1);
  });

  it('watches a flow once however many registrations it carries, and still drops its bindings when it closes', async () => {
    const ws = new FakeConnection('192.0.2.33', 'WS');
    const once = vi.spyOn(ws, 'once');
    for (let i = 0; i < 5; i++) await register(ws, ['<sip:a@x.invalid;transport=ws>'], [], 'ws-refresh');
    expect(registrar.lookup(AOR)).toHaveLength(1);
    expect(once.mock.calls.filter(([event]) => event === 'closed')).toHaveLength(1);
    ws.drop();
    expect(registrar.lookup(AOR)).toEqual([]);
  });

  it("drops, when a flow closes, the bindings of every user registered over it and no other flow's", async () => {
    const userOf = (extension: string): AuthenticatedUser => ({ ...ALICE, userId: Number(extension), extension });
    const byFrom = new Registrar({ authenticate: (tx) => Promise.resolve(userOf(/sip:(\d+)@/.exec(tx.request.headers.get('From') ?? '')?.[1] ?? '')) }, () => now);
    try {
      const registerAs = (connection: FakeConnection, extension: string, host: string) =>
        byFrom.handleRegister(serverTransaction(sipRequest({
          method: 'REGISTER', uri: `sip:${DOMAIN}`, from: `<sip:${extension}@${DOMAIN}>;tag=a`, to: `<sip:${extension}@${DOMAIN}>`,
          callId: `${extension}-${host}`, headers: [['Contact', `<sip:${extension}@${host};transport=ws>`]],
        }), connection));
      const shared = new FakeConnection('192.0.2.40', 'WS');
      const other = new FakeConnection('192.0.2.41', 'WS');
      await registerAs(shared, '101', 'a.invalid');
      await registerAs(shared, '102', 'b.invalid');
      await registerAs(other, '101', 'c.invalid');
      shared.drop();
      expect(byFrom.lookup(aorKey(7, '102'))).toEqual([]);
      expect(byFrom.lookup(aorKey(7, '101')).map((b) => b.connection)).toEqual([other]);
    } finally {
      byFrom.close();
    }
  });

  it('drops WebSocket and outbound bindings with their flow: nothing else reaches them', async () => {
    const ws = new FakeConnection('192.0.2.31', 'WS');
    await register(ws, ['<sip:a@x.invalid;transport=ws>']);
    ws.drop();
    expect(registrar.lookup(AOR)).toEqual([]);

    const tcp = new FakeConnection('192.0.2.32', 'TCP');
    await register(tcp, [`<sip:a@192.0.2.32;transport=tcp>;+sip.instance=${INSTANCE};reg-id=1`], [['Supported', 'outbound']], 'ob-1');
    tcp.drop();
    expect(registrar.lookup(AOR)).toEqual([]);
  });

  it('grants no registration longer than the transports keep the flow of a registered device', async () => {
    // The transports' bound (sip/transport/flow-table.ts) is written there, not read from here: this holds them together.
    expect(MAX_EXPIRES_S * 1000).toBeLessThan(DEFAULT_HELD_IDLE_MS);
    const response = await register(new FakeConnection(), ['<sip:101@192.0.2.1:5060>;expires=86400']);
    expect(response.status).toBe(200);
    expect(response.headers.get('Contact')).toMatch(new RegExp(`expires=${MAX_EXPIRES_S}$`));
  });
});
