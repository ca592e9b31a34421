/**
 * The byte budget: its accounting, and the endpoint counting the requests its server transactions hold (and
 * the responses lingering ones keep), refusing new requests beyond a source's share or the total.
 */
import { describe, expect, it } from 'vitest';
import { SipEndpoint } from '../endpoint';
import type { SourcePolicy } from '../endpoint';
import { HeldBytes, messageBytes } from './held-bytes';
import { serializeMessage } from '../syntax/message';
import { FakeConnection, ManualClock, sipRequest } from '../test-support';
import { DEFAULT_TIMERS } from '../transaction/timers';
import type { ServerTransaction } from '../transaction/transactions';

describe('HeldBytes', () => {
  it('counts bytes per source and in all, and says what fits', () => {
    const held = new HeldBytes({ maxBytesPerSource: 100, maxBytes: 150 });
    held.charge('192.0.2.1', 80);
    expect(held.fits('192.0.2.1', 20)).toBe(true);
    expect(held.fits('192.0.2.1', 21)).toBe(false);
    // A trusted source has only the total.
    expect(held.fits('192.0.2.1', 60, true)).toBe(true);
    held.charge('192.0.2.2', 60);
    expect(held.fits('192.0.2.3', 11)).toBe(false);
    expect(held.total).toBe(140);
    expect(held.over('192.0.2.1')).toBe(false);

    held.charge('192.0.2.1', 30);
    expect(held.over('192.0.2.1')).toBe(true);
    expect(held.over('192.0.2.2')).toBe(true);
    expect(held.peak).toBe(170);

    held.release('192.0.2.1', 110);
    held.release('192.0.2.2', 60);
    expect(held.total).toBe(0);
    expect(held.sources).toBe(0);
    expect(held.peak).toBe(170);
  });

  it('releases what a holder held once, however often it is dropped', () => {
    const held = new HeldBytes({ maxBytesPerSource: 100, maxBytes: 150 });
    const holder = {};
    held.hold(holder, '192.0.2.1', 40);
    held.charge('192.0.2.1', 10);
    held.drop(holder);
    held.drop(holder);
    expect(held.of('192.0.2.1')).toBe(10);
    expect(held.total).toBe(10);
  });

  it('measures a message as it came on the wire, near enough', () => {
    const request = sipRequest({ method: 'MESSAGE', uri: 'sip:101@pbx.test', from: '<sip:100@pbx.test>;tag=a', to: '<sip:101@pbx.test>', body: 'x'.repeat(5_000) });
    const wire = serializeMessage(request).length;
    expect(Math.abs(messageBytes(request) - wire)).toBeLessThan(wire * 0.02);
  });
});

const A = '192.0.2.1';
const B = '192.0.2.2';
const C = '192.0.2.3';

function invite(body = 'v=0\r\n'.padEnd(3_000, 'a')) {
  return sipRequest({ method: 'INVITE', uri: 'sip:101@pbx.test', from: '<sip:100@pbx.test>;tag=a', to: '<sip:101@pbx.test>', body });
}

/** An endpoint whose application answers nothing by itself: the test holds each transaction. */
function endpointWith(limits: { maxBytesPerSource: number; maxBytes: number }, sources?: SourcePolicy) {
  const clock = new ManualClock();
  const endpoint = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'test', transactions: { clock, timers: DEFAULT_TIMERS }, limits, ...(sources ? { sources } : {}) });
  const held: ServerTransaction[] = [];
  endpoint.setApplication({ onRequest: (tx) => held.push(tx), onAck: () => undefined });
  return { clock, endpoint, held };
}

describe('the endpoint within its byte budget', () => {
  it('holds requests up to a source share, refuses the next with 503 and Retry-After, and takes them again once they end', () => {
    const size = messageBytes(invite());
    const { clock, endpoint, held } = endpointWith({ maxBytesPerSource: Math.floor(3.5 * size), maxBytes: 100 * size });
    const flow = new FakeConnection(A, 'UDP');
    for (let i = 0; i < 3; i++) endpoint.receiveMessage(invite(), flow);
    expect(held).toHaveLength(3);
    // Measured after the endpoint stamped the Via, as the transaction holds it.
    const charged = held.reduce((sum, tx) => sum + messageBytes(tx.request), 0);
    expect(endpoint.heldBytes.of(A)).toBe(charged);

    endpoint.receiveMessage(invite(), flow);
    expect(held).toHaveLength(3);
    const refusal = flow.lastResponse();
    expect(refusal?.status).toBe(503);
    expect(refusal?.headers.get('Retry-After')).toBe('5');

    // Another source has a share of its own.
    const other = new FakeConnection(B, 'UDP');
    endpoint.receiveMessage(invite(), other);
    expect(held).toHaveLength(4);

    // A failure holds the INVITE until its ACK (RFC 3261 §17.2.1); once confirmed, nothing of it is counted.
    const first = held[0];
    first?.reply(486, 'Busy Here');
    expect(endpoint.heldBytes.of(A)).toBe(charged);
    const ack = sipRequest({ method: 'ACK', uri: 'sip:101@pbx.test', from: '<sip:100@pbx.test>;tag=a', to: `${first?.request.headers.get('To')}` });
    ack.headers.set('Via', first?.request.headers.get('Via') ?? '');
    ack.headers.set('Call-ID', first?.request.headers.get('Call-ID') ?? '');
    endpoint.receiveMessage(ack, flow);
    expect(endpoint.heldBytes.of(A)).toBe(charged - messageBytes(first?.request ?? invite()));
    endpoint.receiveMessage(invite(), flow);
    expect(held).toHaveLength(5);

    // Timer H ends what is never acknowledged; then nothing is held at all.
    for (const tx of held.slice(1)) tx.reply(486, 'Busy Here');
    clock.advance(64 * DEFAULT_TIMERS.t1 + DEFAULT_TIMERS.t4 + 1_000);
    expect(endpoint.heldBytes.total).toBe(0);
    expect(endpoint.heldBytes.sources).toBe(0);
  });

  it('counts the response a lingering transaction keeps, until the transaction ends', () => {
    const { clock, endpoint, held } = endpointWith({ maxBytesPerSource: 1_000_000, maxBytes: 1_000_000 });
    const flow = new FakeConnection(A, 'UDP');
    // A request whose headers are large draws a response as large: the Via comes back in it.
    const request = sipRequest({ method: 'MESSAGE', uri: 'sip:101@pbx.test', from: '<sip:100@pbx.test>;tag=a', to: '<sip:101@pbx.test>', headers: [['Via', `SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKpadding;x=${'p'.repeat(4_000)}`]] });
    endpoint.receiveMessage(request, flow);
    held[0]?.reply(200, 'OK');
    // Timer J (RFC 3261 §17.2.2) keeps the response over UDP for 64·T1.
    expect(endpoint.heldBytes.of(A)).toBeGreaterThan(4_000);
    clock.advance(64 * DEFAULT_TIMERS.t1 + 1_000);
    expect(endpoint.heldBytes.total).toBe(0);
  });

  it('lets lingering transactions make room when the total is reached, and refuses once nothing is left to end', () => {
    const size = messageBytes(invite());
    const { endpoint, held } = endpointWith({ maxBytesPerSource: 100 * size, maxBytes: Math.floor(2.5 * size) });
    const flow = new FakeConnection(A, 'UDP');
    const message = () => sipRequest({ method: 'MESSAGE', uri: 'sip:101@pbx.test', from: '<sip:100@pbx.test>;tag=a', to: '<sip:101@pbx.test>', headers: [['Via', `SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKpad;x=${'p'.repeat(size)}`]] });
    endpoint.receiveMessage(message(), flow);
    held[0]?.reply(200, 'OK');
    const lingering = endpoint.heldBytes.total;
    expect(lingering).toBeGreaterThan(size);

    endpoint.receiveMessage(invite(), new FakeConnection(B, 'UDP'));
    endpoint.receiveMessage(invite(), new FakeConnection(C, 'UDP'));
    expect(held).toHaveLength(3);
    expect(endpoint.heldBytes.total).toBeLessThanOrEqual(Math.floor(2.5 * size));

    const late = new FakeConnection('192.0.2.4', 'UDP');
    endpoint.receiveMessage(invite(), late);
    expect(held).toHaveLength(3);
    expect(late.lastResponse()?.status).toBe(503);
  });

  it('exempts a trusted source from a share of its own, not from the total, and answers a flood only within its allowance', () => {
    const size = messageBytes(invite());
    const policy: SourcePolicy = { isTrusted: (source) => source === A, isBanned: () => false, mayAnswer: (source) => source !== C };
    const { endpoint, held } = endpointWith({ maxBytesPerSource: size, maxBytes: Math.floor(3.5 * size) }, policy);
    const proxy = new FakeConnection(A, 'UDP');
    for (let i = 0; i < 3; i++) endpoint.receiveMessage(invite(), proxy);
    expect(held).toHaveLength(3);
    endpoint.receiveMessage(invite(), proxy);
    expect(held).toHaveLength(3);
    expect(proxy.lastResponse()?.status).toBe(503);

    const flooding = new FakeConnection(C, 'UDP');
    endpoint.receiveMessage(invite(), flooding);
    expect(flooding.sent).toHaveLength(0);
  });
});
