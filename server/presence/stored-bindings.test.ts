/**
 * The registrar with a store: which bindings are stored, when the 200 goes, and how stored rows come back
 * after a restart (stored-bindings.ts, Registrar.setStore/restore).
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { RegistrationKey } from '../store/registrations';
import type { StoredRegistration } from '../store/schema';
import type { AuthenticatedUser } from '../sip/edge/authenticator';
import { aorKey, Registrar } from './registrar';
import type { RegistrationStore } from './registrar';
import { FakeConnection, serverTransaction, sipRequest } from '../sip/test-support';

const DOMAIN = 'demo.offhook.test';
const ALICE: AuthenticatedUser = { userId: 1, organizationId: 7, extension: '101', displayName: 'Alice Adams', domain: DOMAIN };
const AOR = aorKey(7, '101');
const INSTANCE = '"<urn:uuid:00000000-0000-4000-8000-000000000001>"';
const T0 = 1_700_000_000_000;

/** Records what the registrar stores; each write settles when `release` is called, or at once when open. */
class RecordingStore implements RegistrationStore {
  readonly saved: StoredRegistration[] = [];
  readonly removed: RegistrationKey[] = [];
  private held: Array<() => void> | undefined;

  hold(): void {
    this.held = [];
  }

  release(): void {
    for (const resolve of this.held ?? []) resolve();
    this.held = undefined;
  }

  save(row: StoredRegistration): Promise<void> {
    this.saved.push(row);
    return this.settle();
  }

  remove(key: RegistrationKey): Promise<void> {
    this.removed.push(key);
    return this.settle();
  }

  private settle(): Promise<void> {
    const held = this.held;
    return held ? new Promise((resolve) => held.push(resolve)) : Promise.resolve();
  }
}

describe('Registrar with a store', () => {
  let now: number;
  let registrar: Registrar;
  let store: RecordingStore;
  let cseq: number;

  beforeEach(() => {
    now = T0;
    cseq = 0;
    registrar = new Registrar({ authenticate: () => Promise.resolve(ALICE) }, () => now);
    store = new RecordingStore();
    registrar.setStore(store);
  });
  afterEach(() => {
    vi.useRealTimers();
    registrar.close();
  });

  function registering(connection: FakeConnection, contacts: string[], headers: Array<[string, string]> = [], callId = 'reg-call'): Promise<void> {
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
    return registrar.handleRegister(serverTransaction(request, connection));
  }

  it('answers a REGISTER only once its binding is stored', async () => {
    const udp = new FakeConnection('192.0.2.7', 'UDP');
    store.hold();
    const done = registering(udp, ['<sip:101@192.0.2.7:5070>'], [['User-Agent', 'Desk 1.0']]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(store.saved).toHaveLength(1);
    expect(udp.responses).toEqual([]);
    store.release();
    await done;
    expect(udp.lastResponse()?.status).toBe(200);
    expect(store.saved[0]).toEqual({
      organization_id: 7,
      extension: '101',
      binding_key: 'contact sip:101@192.0.2.7:5070',
      contact: '<sip:101@192.0.2.7:5070>',
      path: '[]',
      transport: 'UDP',
      remote_address: '192.0.2.7',
      remote_port: udp.remotePort,
      call_id: 'reg-call',
      cseq: 1,
      expires_at: new Date(T0 + 600_000).toISOString(),
      user_agent: 'Desk 1.0',
    });
  });

  it('stores a refresh over the old row, and deletes the row on unregister, on expiry and when a UDP flow closes', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const timed = new Registrar({ authenticate: () => Promise.resolve(ALICE) }, () => now);
    timed.setStore(store);
    registrar.close();
    registrar = timed;

    const udp = new FakeConnection('192.0.2.7', 'UDP');
    await registering(udp, ['<sip:101@192.0.2.7:5070>']);
    now += 1_000;
    await registering(udp, ['<sip:101@192.0.2.7:5070>']);
    expect(store.saved.map((row) => [row.binding_key, row.cseq, row.expires_at])).toEqual([
      ['contact sip:101@192.0.2.7:5070', 1, new Date(T0 + 600_000).toISOString()],
      ['contact sip:101@192.0.2.7:5070', 2, new Date(T0 + 601_000).toISOString()],
    ]);
    expect(store.removed).toEqual([]);

    await registering(udp, ['<sip:101@192.0.2.7:5070>;expires=0']);
    const key = { organization_id: 7, extension: '101', binding_key: 'contact sip:101@192.0.2.7:5070' };
    expect(store.removed).toEqual([key]);

    await registering(udp, ['<sip:101@192.0.2.7:5080>;expires=60'], [], 'second');
    now += 60_000;
    vi.advanceTimersByTime(5_000);
    expect(store.removed).toEqual([key, { ...key, binding_key: 'contact sip:101@192.0.2.7:5080' }]);

    const other = new FakeConnection('192.0.2.8', 'UDP');
    await registering(other, ['<sip:101@192.0.2.8:5090>'], [], 'third');
    other.drop();
    expect(store.removed.at(-1)).toEqual({ ...key, binding_key: 'contact sip:101@192.0.2.8:5090' });
  });

  it('stores a TCP device that names where it listens, keyed by its instance, but no WebSocket, outbound or NATed binding', async () => {
    await registering(new FakeConnection('192.0.2.31', 'WS'), ['<sip:a@x.invalid;transport=ws>'], [], 'ws');
    await registering(new FakeConnection('192.0.2.32', 'UDP'), [`<sip:a@192.0.2.32>;+sip.instance=${INSTANCE};reg-id=1`], [['Supported', 'outbound']], 'outbound');
    await registering(new FakeConnection('203.0.113.5', 'TCP'), ['<sip:101@192.168.1.20:5060;transport=tcp>'], [], 'natted');
    expect(store.saved).toEqual([]);

    await registering(new FakeConnection('192.0.2.30', 'TCP'), [`<sip:101@192.0.2.30:5070;transport=tcp>;+sip.instance=${INSTANCE}`], [['Path', '<sip:edge.offhook.test;lr>']], 'tcp');
    expect(store.saved.map((row) => [row.transport, row.binding_key, row.path])).toEqual([['TCP', `instance ${INSTANCE}`, '["<sip:edge.offhook.test;lr>"]']]);
  });

  it('answers 200 even when the store fails: the binding works until the PBX restarts', async () => {
    registrar.setStore({ save: () => Promise.reject(new Error('disk full')), remove: () => Promise.reject(new Error('disk full')) });
    const udp = new FakeConnection('192.0.2.7', 'UDP');
    await registering(udp, ['<sip:101@192.0.2.7:5070>']);
    expect(udp.lastResponse()?.status).toBe(200);
    expect(registrar.lookup(AOR)).toHaveLength(1);
  });

  it('forgets on close without deleting anything stored', async () => {
    const udp = new FakeConnection('192.0.2.7', 'UDP');
    await registering(udp, ['<sip:101@192.0.2.7:5070>']);
    registrar.close();
    udp.drop();
    expect(store.removed).toEqual([]);
  });

  describe('restore', () => {
    const row = (extra: Partial<StoredRegistration> = {}): StoredRegistration => ({
      organization_id: 7,
      extension: '101',
      binding_key: 'contact sip:101@192.0.2.7:5070',
      contact: '<sip:101@192.0.2.7:5070>',
      path: '["<sip:edge.offhook.test;lr>"]',
      transport: 'UDP',
      remote_address: '192.0.2.7',
      remote_port: 40_000,
      call_id: 'reg-call',
      cseq: 4,
      expires_at: new Date(T0 + 300_000).toISOString(),
      user_agent: 'Desk 1.0',
      ...extra,
    });

    it('puts a UDP binding back on the flow its REGISTER came from, with what is left of its expiry', () => {
      const flows: Array<[string, number]> = [];
      const flow = new FakeConnection('192.0.2.7', 'UDP');
      expect(registrar.restore([row()], (address, port) => (flows.push([address, port]), flow))).toBe(1);
      expect(flows).toEqual([['192.0.2.7', 40_000]]);
      const [binding] = registrar.lookup(AOR);
      expect(binding).toMatchObject({ connection: flow, expiresAt: T0 + 300_000, callId: 'reg-call', cseq: 4, path: ['<sip:edge.offhook.test;lr>'], userAgent: 'Desk 1.0' });
      expect(binding?.contact.uri.port).toBe(5070);
      // The flow is watched like any other: when it goes, so does the binding.
      flow.drop();
      expect(registrar.lookup(AOR)).toEqual([]);
    });

    it('reaches a TCP binding through a new connection to its Contact', async () => {
      registrar.restore([row({ transport: 'TCP', contact: '<sip:101@192.0.2.30:5070;transport=tcp>', binding_key: 'contact sip:101@192.0.2.30:5070;transport=tcp', remote_address: '192.0.2.30' })], () => undefined);
      const [binding] = registrar.lookup(AOR);
      expect(binding?.connection.isOpen).toBe(false);
      const fresh = new FakeConnection('192.0.2.30', 'TCP');
      const opened: Array<[string, string, number]> = [];
      registrar.setStreamConnector(async (transport, host, port) => {
        opened.push([transport, host, port]);
        return fresh;
      });
      expect(await registrar.connectionFor(binding!)).toBe(fresh);
      expect(opened).toEqual([['TCP', '192.0.2.30', 5070]]);
    });

    it('skips what ran out, what cannot be read, what UDP cannot reach, and what the device registered again meanwhile', async () => {
      const udp = new FakeConnection('192.0.2.7', 'UDP');
      await registering(udp, ['<sip:101@192.0.2.7:5070>']);
      const restored = registrar.restore(
        [
          row(),
          row({ binding_key: 'contact sip:101@192.0.2.7:5071', contact: '<sip:101@192.0.2.7:5071>', expires_at: new Date(T0).toISOString() }),
          row({ binding_key: 'contact sip:101@192.0.2.7:5072', contact: '<sip:101@192.0.2.7:5072>', path: '{"not": "a list"}' }),
          row({ binding_key: 'contact sip:101@192.0.2.7:5073', contact: '<broken' }),
          row({ binding_key: 'contact sip:101@192.0.2.7:5074', contact: '<sip:101@192.0.2.7:5074>', remote_port: 1 }),
        ],
        (_address, port) => (port === 1 ? undefined : new FakeConnection('192.0.2.7', 'UDP')),
      );
      expect(restored).toBe(0);
      expect(registrar.lookup(AOR).map((b) => b.connection)).toEqual([udp]);
    });
  });
});
