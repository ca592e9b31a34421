/**
 * The RFC 3261 §17 state machines, every timer path, on a manual clock: what each transaction puts on the
 * wire and when, over an unreliable flow (UDP) and a reliable one (TCP).
 */
import { describe, expect, it } from 'vitest';
import { SipConnection } from '../transport/connection';
import type { SipTransportName } from '../transport/connection';
import { parseMessage, serializeMessage } from '../syntax/message';
import type { SipMessage, SipRequest, SipResponse } from '../syntax/message';
import { DEFAULT_TIMERS } from './timers';
import { ClientTransaction, ServerTransaction, serverTransactionKey } from './transactions';
import type { TransactionContext } from './transactions';
import { ManualClock } from '../test-support';

/** Records what goes out, with the clock's time, as the wire text would read. */
class RecordingFlow extends SipConnection {
  readonly sent: Array<{ at: number; text: string }> = [];

  constructor(transport: SipTransportName, private readonly clock: ManualClock) {
    super(`test-${transport}`, transport, '192.0.2.10', 5062);
  }

  protected write(message: SipMessage): void {
    this.sent.push({ at: this.clock.now(), text: serializeMessage(message).toString('utf8') });
  }

  firstLines(): string[] {
    return this.sent.map((s) => s.text.split('\r\n')[0] ?? '');
  }

  times(): number[] {
    return this.sent.map((s) => s.at);
  }

  drop(): void {
    this.markClosed();
  }
}

function request(method: string, branch = 'z9hG4bKtest1'): SipRequest {
  const text = [
    `${method} sip:101@pbx.test SIP/2.0`,
    `Via: SIP/2.0/UDP 192.0.2.10:5062;branch=${branch}`,
    'From: <sip:102@pbx.test>;tag=caller',
    'To: <sip:101@pbx.test>',
    'Call-ID: tx-test@192.0.2.10',
    `CSeq: 1 ${method}`,
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  return parseMessage(text) as SipRequest;
}

function response(req: SipRequest, status: number, toTag = 'callee'): SipResponse {
  const lines = [
    `SIP/2.0 ${status} Whatever`,
    `Via: ${req.headers.get('Via')}`,
    `From: ${req.headers.get('From')}`,
    `To: ${req.headers.get('To')};tag=${toTag}`,
    `Call-ID: ${req.headers.get('Call-ID')}`,
    `CSeq: ${req.headers.get('CSeq')}`,
    'Content-Length: 0',
    '',
    '',
  ];
  return parseMessage(lines.join('\r\n')) as SipResponse;
}

function setup(transport: SipTransportName = 'UDP') {
  const clock = new ManualClock();
  const context: TransactionContext = { clock, timers: DEFAULT_TIMERS };
  const flow = new RecordingFlow(transport, clock);
  return { clock, context, flow };
}

function serverTx(method: string, transport: SipTransportName = 'UDP') {
  const { clock, context, flow } = setup(transport);
  const req = request(method);
  const terminated: number[] = [];
  const tx = new ServerTransaction(serverTransactionKey(req) ?? '', req, flow, { terminated: () => terminated.push(clock.now()) }, context);
  return { clock, flow, tx, terminated };
}

function clientTx(method: string, transport: SipTransportName = 'UDP') {
  const { clock, context, flow } = setup(transport);
  const req = request(method, 'z9hG4bKclient1');
  const seen: number[] = [];
  const terminated: number[] = [];
  const otherForks: string[] = [];
  const tx = new ClientTransaction(req, flow, (res) => seen.push(res.status), {
    terminated: () => terminated.push(clock.now()),
    anotherFork: (res) => otherForks.push(res.headers.get('To') ?? ''),
  }, context);
  tx.start();
  return { clock, flow, tx, seen, terminated, otherForks, req };
}

describe('INVITE server transaction', () => {
  it('sends 100 Trying by itself when the TU says nothing within 200 ms', () => {
    const { clock, flow } = serverTx('INVITE');
    clock.advance(199);
    expect(flow.sent).toHaveLength(0);
    clock.advance(1);
    expect(flow.firstLines()).toEqual(['SIP/2.0 100 Trying']);
  });

  it('tags the To of every response but 100, with one tag for the whole transaction (RFC 3261 §8.2.6.2)', () => {
    const toOf = (tx: ServerTransaction, status: number, options?: { toTag?: string }) => tx.reply(status, undefined, options).headers.get('To');
    const invite = serverTx('INVITE').tx;
    expect(toOf(invite, 100)).toBe('<sip:101@pbx.test>');
    const ringing = toOf(invite, 180);
    expect(ringing).toMatch(/^<sip:101@pbx\.test>;tag=[0-9a-f]{16}$/);
    expect(toOf(invite, 486)).toBe(ringing);
    // The TU's own tag (its dialog's) is the one used throughout.
    const answered = serverTx('INVITE').tx;
    expect(toOf(answered, 180, { toTag: 'dialog1' })).toBe('<sip:101@pbx.test>;tag=dialog1');
    expect(toOf(answered, 487)).toBe('<sip:101@pbx.test>;tag=dialog1');
    expect(toOf(serverTx('OPTIONS').tx, 200)).toMatch(/;tag=[0-9a-f]{16}$/);
  });

  it('resends the last provisional response for a retransmitted INVITE', () => {
    const { flow, tx } = serverTx('INVITE');
    tx.reply(180, 'Ringing', { toTag: 'pbx' });
    tx.absorbRetransmission();
    expect(flow.firstLines()).toEqual(['SIP/2.0 180 Ringing', 'SIP/2.0 180 Ringing']);
  });

  it('over UDP resends a failure on Timer G (T1 doubling to T2) until Timer H ends it at 64·T1', () => {
    const { clock, flow, tx, terminated } = serverTx('INVITE');
    tx.reply(486, 'Busy Here', { toTag: 'pbx' });
    expect(tx.state).toBe('completed');
    clock.advance(32_000);
    expect(flow.times()).toEqual([0, 500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]);
    expect(terminated).toEqual([32_000]);
    expect(tx.state).toBe('terminated');
    expect(() => tx.reply(500)).toThrow(/already sent a final response/);
  });

  it('stops resending at the ACK, absorbs ACKs for Timer I (T4), then terminates', () => {
    const { clock, flow, tx, terminated } = serverTx('INVITE');
    tx.reply(404, 'Not Found', { toTag: 'pbx' });
    clock.advance(600);
    tx.absorbRetransmission();
    expect(flow.sent).toHaveLength(3);
    tx.acknowledge();
    expect(tx.state).toBe('confirmed');
    tx.acknowledge();
    clock.advance(4_999);
    expect(flow.sent).toHaveLength(3);
    expect(terminated).toEqual([]);
    clock.advance(1);
    expect(terminated).toEqual([5_600]);
  });

  it('over UDP resends a 2xx until acknowledge2xx, and lingers to Timer L to absorb INVITE copies', () => {
    const { clock, flow, tx, terminated } = serverTx('INVITE');
    tx.reply(200, 'OK', { toTag: 'pbx' });
    expect(tx.state).toBe('accepted');
    clock.advance(1_600);
    expect(flow.times()).toEqual([0, 500, 1500]);
    tx.on('ackTimedOut', () => expect.unreachable('the 2xx was acknowledged'));
    tx.acknowledge2xx();
    // Acknowledged, it holds no listener (whatever a TU hung on it) while it lingers.
    expect((tx as unknown as { listenerCount(event: string): number }).listenerCount('ackTimedOut')).toBe(0);
    clock.advance(10_000);
    expect(flow.sent).toHaveLength(3);
    tx.absorbRetransmission();
    expect(flow.sent).toHaveLength(4);
    clock.advance(20_400);
    expect(terminated).toEqual([32_000]);
  });

  it('hands its lingering over to a linger hook and keeps no timer of its own', () => {
    const { clock, context, flow } = setup();
    const handed: Array<[string, number, number]> = [];
    for (const method of ['OPTIONS', 'INVITE']) {
      const req = request(method, `z9hG4bK-hand-${method}`);
      const tx = new ServerTransaction(serverTransactionKey(req) ?? '', req, flow, {
        terminated: () => expect.unreachable('a handed-over transaction is not terminated by itself'),
        linger: (done, ms) => handed.push([done.request.method, ms, done.echo.response ? 1 : 0]),
      }, context);
      tx.reply(200, 'OK', { toTag: 'pbx' });
      if (method === 'INVITE') tx.acknowledge2xx();
    }
    expect(handed.map(([method, ms]) => [method, ms])).toEqual([['OPTIONS', 32_000], ['INVITE', 32_000]]);
    expect(handed.every(([, , kept]) => kept === 1)).toBe(true);
    expect(clock.pending).toBe(0);
    clock.advance(60_000);
    expect(flow.sent).toHaveLength(2);
  });

  it('reports a 2xx that was never acknowledged when Timer L fires', () => {
    const { clock, flow, tx } = serverTx('INVITE');
    const timedOut: number[] = [];
    tx.on('ackTimedOut', () => timedOut.push(clock.now()));
    tx.reply(200, 'OK', { toTag: 'pbx' });
    clock.advance(32_000);
    expect(timedOut).toEqual([32_000]);
    expect(flow.times().slice(0, 6)).toEqual([0, 500, 1500, 3500, 7500, 11_500]);
    expect(tx.state).toBe('terminated');
  });

  it('over TCP never retransmits and ends at the ACK (Timer I is zero)', () => {
    const { clock, flow, tx, terminated } = serverTx('INVITE', 'TCP');
    tx.reply(603, 'Decline', { toTag: 'pbx' });
    clock.advance(10_000);
    expect(flow.sent).toHaveLength(1);
    tx.acknowledge();
    expect(terminated).toEqual([10_000]);
  });
});

describe('non-INVITE server transaction', () => {
  it('discards retransmissions while trying, then answers them with the final response until Timer J', () => {
    const { clock, flow, tx, terminated } = serverTx('OPTIONS');
    tx.absorbRetransmission();
    expect(flow.sent).toHaveLength(0);
    clock.advance(300);
    expect(flow.sent).toHaveLength(0);
    tx.reply(200, 'OK');
    expect(tx.state).toBe('completed');
    clock.advance(10_000);
    tx.absorbRetransmission();
    expect(flow.firstLines()).toEqual(['SIP/2.0 200 OK', 'SIP/2.0 200 OK']);
    clock.advance(21_999);
    expect(terminated).toEqual([]);
    clock.advance(1);
    expect(terminated).toEqual([32_300]);
  });

  it('resends the provisional response while proceeding', () => {
    const { flow, tx } = serverTx('REGISTER');
    tx.reply(100, 'Trying');
    tx.absorbRetransmission();
    expect(flow.firstLines()).toEqual(['SIP/2.0 100 Trying', 'SIP/2.0 100 Trying']);
  });

  it('on a reliable flow lingers only briefly after the final response', () => {
    const { clock, tx, terminated } = serverTx('OPTIONS', 'TCP');
    tx.reply(200, 'OK');
    clock.advance(500);
    expect(terminated).toEqual([500]);
  });
});

describe('INVITE client transaction', () => {
  it('resends on Timer A (doubling) and gives up with 408 on Timer B', () => {
    const { clock, flow, seen, terminated } = clientTx('INVITE');
    clock.advance(32_000);
    expect(flow.times()).toEqual([0, 500, 1500, 3500, 7500, 15_500, 31_500]);
    expect(seen).toEqual([408]);
    expect(terminated).toEqual([32_000]);
  });

  it('stops Timers A and B at a provisional response', () => {
    const { clock, flow, tx, seen } = clientTx('INVITE');
    clock.advance(700);
    tx.receive(response(tx.request, 180));
    clock.advance(60_000);
    expect(flow.sent).toHaveLength(2);
    expect(seen).toEqual([180]);
    expect(tx.state).toBe('proceeding');
  });

  it('acknowledges a failure itself, again for each retransmission, until Timer D', () => {
    const { clock, flow, tx, seen, terminated } = clientTx('INVITE');
    tx.receive(response(tx.request, 486));
    expect(flow.firstLines()).toEqual(['INVITE sip:101@pbx.test SIP/2.0', 'ACK sip:101@pbx.test SIP/2.0']);
    expect(flow.sent[1]?.text).toContain('Via: SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKclient1');
    expect(flow.sent[1]?.text).toContain('To: <sip:101@pbx.test>;tag=callee');
    tx.receive(response(tx.request, 486));
    expect(flow.sent).toHaveLength(3);
    expect(seen).toEqual([486]);
    clock.advance(31_999);
    expect(terminated).toEqual([]);
    clock.advance(1);
    expect(terminated).toEqual([32_000]);
  });

  it('lets go of the handler once the final response has reached it', () => {
    for (const status of [200, 486]) {
      const { tx, seen } = clientTx('INVITE');
      tx.receive(response(tx.request, 180));
      tx.receive(response(tx.request, status));
      // A lingering transaction keeps no reference to what the TU's handler closes over (a whole call).
      expect((tx as unknown as { handler: unknown }).handler).toBeUndefined();
      expect(seen).toEqual([180, status]);
    }
  });

  it('over TCP sends once and ends at the failure (Timer D is zero)', () => {
    const { clock, flow, tx, terminated } = clientTx('INVITE', 'TCP');
    clock.advance(10_000);
    expect(flow.sent).toHaveLength(1);
    tx.receive(response(tx.request, 480));
    expect(terminated).toEqual([10_000]);
  });

  it('passes the first 2xx up, answers its retransmissions with the same ACK, and ends on Timer M', () => {
    const { clock, flow, tx, seen, terminated, otherForks } = clientTx('INVITE');
    tx.receive(response(tx.request, 200));
    expect(tx.state).toBe('accepted');
    const ack = request('ACK', 'z9hG4bKack1');
    ack.headers.set('To', '<sip:101@pbx.test>;tag=callee');
    tx.rememberAck(ack);
    tx.receive(response(tx.request, 200));
    tx.receive(response(tx.request, 200));
    expect(seen).toEqual([200]);
    expect(flow.firstLines().filter((l) => l.startsWith('ACK'))).toHaveLength(2);
    // A 2xx from another fork goes to the hook that hangs it up, not to the TU, and only once.
    tx.receive(response(tx.request, 200, 'other-fork'));
    tx.receive(response(tx.request, 200, 'other-fork'));
    expect(seen).toEqual([200]);
    expect(otherForks).toEqual(['<sip:101@pbx.test>;tag=other-fork']);
    clock.advance(32_000);
    expect(terminated).toEqual([32_000]);
  });

  it('holds a CANCEL until a provisional response has come (RFC 3261 §9.1), then sends it at once', () => {
    const { clock, tx, seen } = clientTx('INVITE');
    const cancels: string[] = [];
    tx.cancel((cancel) => cancels.push(`${cancel.method} ${cancel.headers.get('CSeq')} ${cancel.headers.get('Via')}`));
    clock.advance(1_000);
    expect(cancels).toEqual([]);
    tx.receive(response(tx.request, 100));
    expect(cancels).toEqual(['CANCEL 1 CANCEL SIP/2.0/UDP 192.0.2.10:5062;branch=z9hG4bKclient1']);
    // Asking again, or another provisional response, sends no second CANCEL.
    tx.cancel((cancel) => cancels.push(cancel.method));
    tx.receive(response(tx.request, 180));
    expect(cancels).toHaveLength(1);
    tx.receive(response(tx.request, 487));
    expect(seen).toEqual([100, 180, 487]);
  });

  it('sends no CANCEL when a final response comes before any provisional one', () => {
    const { clock, tx, seen } = clientTx('INVITE');
    const cancels: string[] = [];
    tx.cancel((cancel) => cancels.push(cancel.method));
    tx.receive(response(tx.request, 486));
    tx.receive(response(tx.request, 180));
    clock.advance(64_000);
    expect(cancels).toEqual([]);
    expect(seen).toEqual([486]);
  });

  it('gives up 64·T1 after its CANCEL when no final response comes, even though the device was ringing', () => {
    const { clock, tx, seen, terminated } = clientTx('INVITE');
    tx.receive(response(tx.request, 180));
    clock.advance(10_000);
    const cancels: string[] = [];
    tx.cancel((cancel) => cancels.push(cancel.method));
    expect(cancels).toEqual(['CANCEL']);
    // A late 180 does not stop the clock that the CANCEL started.
    clock.advance(20_000);
    tx.receive(response(tx.request, 180));
    clock.advance(11_999);
    expect(terminated).toEqual([]);
    clock.advance(1);
    expect(seen).toEqual([180, 180, 408]);
    expect(terminated).toEqual([42_000]);
    expect(tx.state).toBe('terminated');
  });

  it('ends with 503 when its flow closes before a final response', () => {
    const { flow, seen, tx } = clientTx('INVITE', 'TCP');
    flow.drop();
    expect(seen).toEqual([503]);
    expect(tx.state).toBe('terminated');
  });
});

describe('non-INVITE client transaction', () => {
  it('resends on Timer E (doubling to T2) and gives up with 408 on Timer F', () => {
    const { clock, flow, seen, terminated } = clientTx('OPTIONS');
    clock.advance(32_000);
    expect(flow.times()).toEqual([0, 500, 1500, 3500, 7500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500]);
    expect(seen).toEqual([408]);
    expect(terminated).toEqual([32_000]);
  });

  it('resends every T2 once a provisional response has arrived', () => {
    const { clock, flow, tx, seen } = clientTx('BYE');
    clock.advance(600);
    tx.receive(response(tx.request, 100));
    clock.advance(10_000);
    expect(flow.times()).toEqual([0, 500, 1500, 5500, 9500]);
    expect(seen).toEqual([100]);
  });

  it('absorbs retransmitted final responses until Timer K (T4)', () => {
    const { clock, flow, tx, seen, terminated } = clientTx('BYE');
    tx.receive(response(tx.request, 200));
    tx.receive(response(tx.request, 200));
    expect(seen).toEqual([200]);
    clock.advance(4_999);
    expect(terminated).toEqual([]);
    clock.advance(1);
    expect(terminated).toEqual([5_000]);
    expect(flow.sent).toHaveLength(1);
  });

  it('over TCP never retransmits, still times out with 408, and ends at once on a final response', () => {
    const timedOut = clientTx('OPTIONS', 'TCP');
    timedOut.clock.advance(32_000);
    expect(timedOut.flow.sent).toHaveLength(1);
    expect(timedOut.seen).toEqual([408]);

    const answered = clientTx('OPTIONS', 'TCP');
    answered.tx.receive(response(answered.req, 200));
    expect(answered.terminated).toEqual([0]);
    expect(answered.clock.pending).toBe(0);
  });
});

describe('serverTransactionKey', () => {
  const rfc2543 = (uri: string, cseq = 1) =>
    parseMessage(`OPTIONS ${uri} SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.50:5060\r\nFrom: <sip:a@old.example>\r\nTo: <sip:101@pbx.test>\r\nCall-ID: k@old.example\r\nCSeq: ${cseq} OPTIONS\r\nContent-Length: 0\r\n\r\n`) as SipRequest;

  it('keeps an RFC 2543 key small however long the Request-URI, which the byte budget does not count (§17.2.3)', () => {
    const long = `sip:101@pbx.test;x=${'y'.repeat(60_000)}`;
    const key = serverTransactionKey(rfc2543(long)) ?? '';
    expect(key.length).toBeLessThan(64);
    expect(serverTransactionKey(rfc2543(long))).toBe(key);
    expect(serverTransactionKey(rfc2543(long, 2))).not.toBe(key);
    expect(serverTransactionKey(rfc2543('sip:101@pbx.test'))).not.toBe(key);
  });
});
