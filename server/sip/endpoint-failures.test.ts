/** The endpoint containing failures: of the application, of a flow's writes, and of its own layers. */
import { describe, expect, it } from 'vitest';
import { SipEndpoint } from './endpoint';
import { FakeConnection, serverTransaction, sipRequest } from './test-support';

describe('SipEndpoint containing failures', () => {
  /** A flow whose socket refuses every write, as one destroyed under us would. */
  class BrokenConnection extends FakeConnection {
    protected override write(): void {
      throw new Error('EPIPE: the socket is gone');
    }
  }

  const options = (n: number) => Buffer.from(['OPTIONS sip:pbx.test SIP/2.0', `Via: SIP/2.0/TCP 192.0.2.9:5060;branch=z9hG4bK-contain-${n}`, 'From: <sip:a@pbx.test>;tag=a', 'To: <sip:pbx.test>', `Call-ID: contain-${n}`, 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'));

  it('answers 500 when the application throws, counts it, and serves the next request', () => {
    const endpoint = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'test' });
    let calls = 0;
    endpoint.setApplication({
      onRequest: (tx) => {
        calls++;
        if (calls === 1) throw new Error('a bug in a handler');
        tx.reply(200, 'OK');
      },
      onAck: () => undefined,
    });
    const flow = new FakeConnection('192.0.2.9', 'TCP');
    endpoint.receive(options(1), flow);
    endpoint.receive(options(2), flow);
    expect(flow.responses.map((r) => r.status)).toEqual([500, 200]);
    expect(endpoint.faults.snapshot).toMatchObject({ handlerFailed: 1, messageFailed: 0 });
  });

  it('contains a flow whose writes throw: nothing escapes the endpoint, and the failed sends are counted', () => {
    const endpoint = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'test' });
    endpoint.setApplication({ onRequest: (tx) => tx.reply(200, 'OK'), onAck: () => undefined });
    expect(() => endpoint.receive(options(3), new BrokenConnection('192.0.2.9', 'TCP'))).not.toThrow();
    expect(endpoint.faults.count('sendFailed')).toBe(1);
    // A handler that fails where its 500 cannot be sent either: counted twice, and nothing throws.
    const failing = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'test' });
    failing.setApplication({ onRequest: () => { throw new Error('a bug'); }, onAck: () => undefined });
    expect(() => failing.receive(options(4), new BrokenConnection('192.0.2.9', 'TCP'))).not.toThrow();
    expect(failing.faults.snapshot).toMatchObject({ handlerFailed: 1, sendFailed: 1 });
  });

  it('contains a failure of its own layers while reading a message: counted with its source, and the next one is read', () => {
    let failing = true;
    const endpoint = new SipEndpoint({
      viaHost: '127.0.0.1',
      userAgent: 'test',
      sources: {
        isTrusted: () => false,
        isBanned: () => {
          if (failing) throw new Error('a bug in the security layer');
          return false;
        },
        mayAnswer: () => true,
      },
    });
    endpoint.setApplication({ onRequest: (tx) => tx.reply(200, 'OK'), onAck: () => undefined });
    const flow = new FakeConnection('192.0.2.9', 'UDP');
    expect(() => endpoint.receive(options(6), flow)).not.toThrow();
    expect(endpoint.faults.count('messageFailed')).toBe(1);
    failing = false;
    endpoint.receive(options(7), flow);
    expect(flow.responses.map((r) => r.status)).toEqual([200]);
  });

  it('contains an async handler failure with requestFailed: 500 once, and never a throw', async () => {
    const endpoint = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'test' });
    const flow = new FakeConnection('192.0.2.9', 'TCP');
    endpoint.setApplication({
      onRequest: (tx) => {
        void Promise.reject(new Error('the store failed')).catch((error: unknown) => endpoint.requestFailed(tx, error));
      },
      onAck: () => undefined,
    });
    endpoint.receive(options(5), flow);
    await expect.poll(() => flow.responses.length).toBe(1);
    const tx = serverTransaction(sipRequest({ method: 'OPTIONS', uri: 'sip:pbx.test', from: '<sip:a@pbx.test>;tag=a', to: '<sip:pbx.test>' }), flow);
    tx.reply(200, 'OK');
    // Answered already: counted, and not answered again.
    expect(() => endpoint.requestFailed(tx, new Error('late'))).not.toThrow();
    expect(flow.responses.map((r) => r.status)).toEqual([500, 200]);
    expect(endpoint.faults.count('handlerFailed')).toBe(2);
  });
});
