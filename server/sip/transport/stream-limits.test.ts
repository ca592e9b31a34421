/**
 * What SIP over TCP and TLS holds for a peer, on real connections on 127.0.0.1: a TLS connection counts from
 * its TCP accept and must finish its handshake in time; TCP and TLS can share one quota; what a connection
 * holds of a message still coming counts in the byte budget, and it stops reading while its source is over.
 */
import { connect as connectTcp } from 'node:net';
import type { Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { readResponse, sipRequest, splitStream } from '../../../tests/support/sip-text';
import type { ResponseText } from '../../../tests/support/sip-text';
import { ConnectionQuota } from '../../util/connection-quota';
import { SipEndpoint } from '../endpoint';
import type { TransactionLimits } from '../endpoint';
import { StreamTransport } from './stream-transport';
import { createSelfSigned } from '../../util/tls-credentials';
import type { ServerTransaction } from '../transaction/transactions';

/** Waits for `check` to hold, looking every 20 ms for at most `timeoutMs`. */
async function until(check: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  for (let waited = 0; !check(); waited += 20) {
    if (waited >= timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** One client connection, with what it has received and whether the server closed it. */
class Peer {
  received = '';
  closed = false;

  constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (this.received += chunk));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }

  async next(): Promise<ResponseText> {
    await until(() => splitStream(this.received).messages.length > 0, 'a response');
    const { messages, rest } = splitStream(this.received);
    this.received = [...messages.slice(1), rest].join('');
    return readResponse(messages[0] ?? '');
  }

  options(transport: 'TCP' | 'TLS'): void {
    this.socket.write(sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${this.socket.localPort ?? 0}`, viaTransport: transport }));
  }
}

describe('stream transport limits', () => {
  const transports: StreamTransport[] = [];
  const sockets: Socket[] = [];
  let held: ServerTransaction[] = [];

  function endpoint(limits: Partial<TransactionLimits> = {}, answer = true): SipEndpoint {
    const sip = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'test', limits });
    sip.setApplication({ onRequest: (tx) => (answer ? tx.reply(200, 'OK') : held.push(tx)), onAck: () => undefined });
    return sip;
  }

  async function listen(transport: 'TCP' | 'TLS', options: { sip?: SipEndpoint; quota?: ConnectionQuota; maxFlowsPerAddress?: number; handshakeTimeoutMs?: number } = {}) {
    const tls = transport === 'TLS' ? await createSelfSigned('127.0.0.1') : undefined;
    const listening = await StreamTransport.listen({
      transport,
      host: '127.0.0.1',
      port: 0,
      endpoint: options.sip ?? endpoint(),
      tls,
      quota: options.quota,
      handshakeTimeoutMs: options.handshakeTimeoutMs,
      limits: options.maxFlowsPerAddress ? { maxFlowsPerAddress: options.maxFlowsPerAddress } : undefined,
    });
    transports.push(listening);
    return listening;
  }

  /** A TCP connection that says nothing: to a TLS port, one that never sends its ClientHello. */
  async function silent(port: number): Promise<Peer> {
    const socket = connectTcp(port, '127.0.0.1');
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new Peer(socket);
  }

  async function tlsPeer(port: number): Promise<Peer> {
    const socket = connectTls({ port, host: '127.0.0.1', rejectUnauthorized: false });
    sockets.push(socket);
    const peer = new Peer(socket);
    await new Promise<void>((resolve) => {
      socket.once('secureConnect', resolve);
      socket.once('close', resolve);
    });
    return peer;
  }

  afterEach(async () => {
    for (const socket of sockets.splice(0)) socket.destroy();
    await Promise.all(transports.splice(0).map((t) => t.close()));
    held = [];
  });

  it('closes a TLS connection that never sends its ClientHello once the handshake timeout passes', async () => {
    const tls = await listen('TLS', { handshakeTimeoutMs: 200 });
    const peer = await silent(tls.port);
    await until(() => peer.closed, 'the server to close the silent connection');
  });

  it('counts TLS connections from the TCP accept, so silent ones fill the address share until they time out', async () => {
    const tls = await listen('TLS', { maxFlowsPerAddress: 2, handshakeTimeoutMs: 500 });
    const first = await silent(tls.port);
    const second = await silent(tls.port);
    const refused = await tlsPeer(tls.port);
    await until(() => refused.closed, 'the third connection to be refused');
    expect(first.closed || second.closed).toBe(false);

    await until(() => first.closed && second.closed, 'the handshake timeout');
    const admitted = await tlsPeer(tls.port);
    admitted.options('TLS');
    expect((await admitted.next()).status).toBe(200);
  });

  it('shares one quota between TCP and TLS, which draw on the same file descriptors', async () => {
    const quota = new ConnectionQuota('SIP streams', { max: 2, maxPerAddress: 2 });
    const tcp = await listen('TCP', { quota });
    const tls = await listen('TLS', { quota });
    await silent(tcp.port);
    await silent(tls.port);
    await until(() => quota.size === 2, 'both connections counted');
    const refused = await silent(tcp.port);
    await until(() => refused.closed, 'the connection beyond the quota to be closed');
  });

  it('counts a message still coming in the byte budget, stops reading beyond it, and reads on once there is room', async () => {
    const sip = endpoint({ maxBytesPerSource: 8_000, maxBytes: 1_000_000 }, false);
    const tcp = await listen('TCP', { sip });
    const holder = await silent(tcp.port);
    holder.socket.write(sipRequest({ method: 'MESSAGE', via: `127.0.0.1:${holder.socket.localPort ?? 0}`, viaTransport: 'TCP', body: 'm'.repeat(3_000) }));
    await until(() => held.length === 1, 'the first request to be held');

    // Part of a 6 KB message, with the request held already, is more than the source's share.
    const sender = await silent(tcp.port);
    const large = sipRequest({ method: 'MESSAGE', via: `127.0.0.1:${sender.socket.localPort ?? 0}`, viaTransport: 'TCP', body: 'x'.repeat(6_000) });
    sender.socket.write(large.slice(0, 5_000));
    await until(() => sip.heldBytes.of('127.0.0.1') > 8_000, 'the partial message to be counted');
    const counted = sip.heldBytes.of('127.0.0.1');

    // The rest stays with TCP, not with us, while the source is over its share; a new request is refused.
    sender.socket.write(large.slice(5_000));
    holder.options('TCP');
    expect((await holder.next()).status).toBe(503);
    expect(sip.heldBytes.of('127.0.0.1')).toBe(counted);
    expect(held).toHaveLength(1);

    // The held request answered, the connection reads on and its message arrives whole.
    held[0]?.reply(200, 'OK');
    await until(() => held.length === 2, 'the large request once reading resumed');
    expect(held[1]?.request.body.length).toBe(6_000);
    held[1]?.reply(200, 'OK');
    await until(() => sip.heldBytes.total === 0, 'everything to be released');
  });

  it('closes a connection that cannot read on within the stall time, and forgets what it held', async () => {
    const sip = endpoint({ maxBytesPerSource: 8_000, maxBytes: 1_000_000 }, false);
    const tcp = await StreamTransport.listen({ transport: 'TCP', host: '127.0.0.1', port: 0, endpoint: sip, inputStallMs: 300 });
    transports.push(tcp);
    const sender = await silent(tcp.port);
    const large = sipRequest({ method: 'MESSAGE', via: `127.0.0.1:${sender.socket.localPort ?? 0}`, viaTransport: 'TCP', body: 'x'.repeat(20_000) });
    sender.socket.write(large.slice(0, 12_000));
    await until(() => sender.closed, 'the stalled connection to be closed');
    expect(sip.heldBytes.total).toBe(0);
    expect(held).toHaveLength(0);
  });
});
