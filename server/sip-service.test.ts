/**
 * The SIP service's dispatch when a handler fails: the failure is the request's alone, answered with 500,
 * counted with the endpoint's faults, and no rejection is left for the process. A real store; a handler made
 * to fail, as a store that went away would make it.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { closeDatabase, openDatabase } from './store/db';
import { migrateToLatest } from './store/migrate';
import { SipService } from './sip-service';
import { FakeConnection } from './sip/test-support';

const register = (callId: string) =>
  Buffer.from(['REGISTER sip:pbx.test SIP/2.0', `Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK-${callId}`, 'From: <sip:101@pbx.test>;tag=a', 'To: <sip:101@pbx.test>', `Call-ID: ${callId}`, 'CSeq: 1 REGISTER', 'Content-Length: 0', '', ''].join('\r\n'));

describe('SipService dispatch', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('answers 500 for a handler that rejects, counts it, and serves the next request', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'offhook-dispatch-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const db = openDatabase(join(dir, 'offhook.db'));
    cleanups.push(() => closeDatabase(db));
    await migrateToLatest(db);
    const service = new SipService({ db, media: { address: '127.0.0.1' }, host: '127.0.0.1', userAgent: 'test' });
    cleanups.push(() => service.shutdown());
    const handleRegister = service.registrar.handleRegister.bind(service.registrar);
    let failures = 1;
    service.registrar.handleRegister = async (tx) => {
      if (failures-- > 0) throw new Error('the store went away');
      return handleRegister(tx);
    };
    const flow = new FakeConnection('192.0.2.10', 'UDP');
    service.endpoint.receive(register('fails'), flow);
    await expect.poll(() => flow.responses.length).toBe(1);
    service.endpoint.receive(register('works'), flow);
    await expect.poll(() => flow.responses.length).toBe(2);
    expect(flow.responses.map((r) => `${r.status} ${r.headers.get('Call-ID')}`)).toEqual(['500 fails', '401 works']);
    expect(service.endpoint.faults.snapshot).toMatchObject({ handlerFailed: 1, messageFailed: 0 });
  });
});
