/**
 * SIP over real TCP and TLS connections on 127.0.0.1: framing by Content-Length across and within chunks,
 * size limits, malformed input, keep-alive pings and connection limits, checked on the wire.
 */
import { connect as connectTcp } from 'node:net';
import type { Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { readResponse, sipRequest, splitStream } from '../../../tests/support/sip-text';
import type { ResponseText } from '../../../tests/support/sip-text';
import { SipEndpoint } from '../endpoint';
import type { SourcePolicy } from '../endpoint';
import type { FlowLimits } from './flow-table';
import { SipSecurity } from '../edge/security';
import { StreamTransport } from './stream-transport';
import { createSelfSigned } from '../../util/tls-credentials';

class StreamPeer {
  private buffered = '';
  private readonly waiting: Array<() => void> = [];
  closed = false;

  constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffered += chunk;
      for (const wake of this.waiting.splice(0)) wake();
    });
    socket.on('close', () => {
      this.closed = true;
      for (const wake of this.waiting.splice(0)) wake();
    });
    socket.on('error', () => undefined);
  }

  static async tcp(port: number): Promise<StreamPeer> {
    const socket = connectTcp(port, '127.0.0.1');
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new StreamPeer(socket);
  }

  static async tls(port: number): Promise<StreamPeer> {
    const socket = connectTls({ port, host: '127.0.0.1', rejectUnauthorized: false });
    await new Promise<void>((resolve, reject) => socket.once('secureConnect', resolve).once('error', reject));
    return new StreamPeer(socket);
  }

  get port(): number {
    return this.socket.localPort ?? 0;
  }

  write(text: string): void {
    this.socket.write(text);
  }

  /** Raw bytes received so far that are not yet part of a message. */
  get raw(): string {
    return this.buffered;
  }

  async waitFor(check: () => boolean, timeoutMs = 2_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out; received so far: ${JSON.stringify(this.buffered)}`);
      await new Promise<void>((resolve) => {
        this.waiting.push(resolve);
        setTimeout(resolve, 50);
      });
    }
  }

  async next(): Promise<ResponseText> {
    let message: string | undefined;
    await this.waitFor(() => {
      const { messages, rest } = splitStream(this.buffered);
      if (messages.length === 0) return false;
      message = messages[0];
      this.buffered = [...messages.slice(1), rest].join('');
      return true;
    });
    return readResponse(message ?? '');
  }

  async closedByServer(): Promise<boolean> {
    await this.waitFor(() => this.closed);
    return this.closed;
  }

  close(): void {
    this.socket.destroy();
  }
}

describe('SIP over TCP and TLS', () => {
  let transport: StreamTransport | undefined;
  const peers: StreamPeer[] = [];

  async function start(options: { tls?: boolean; maxMessageBytes?: number; limits?: Partial<FlowLimits>; sources?: SourcePolicy } = {}): Promise<StreamTransport> {
    const endpoint = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'test', ...(options.sources ? { sources: options.sources } : {}) });
    endpoint.setApplication({
      onRequest: (tx) => tx.reply(200, 'OK', { headers: [['X-Method', tx.request.method]] }),
      onAck: () => undefined,
    });
    const credentials = options.tls ? await createSelfSigned('127.0.0.1') : undefined;
    transport = await StreamTransport.listen({
      transport: options.tls ? 'TLS' : 'TCP',
      host: '127.0.0.1',
      port: 0,
      endpoint,
      tls: credentials,
      maxMessageBytes: options.maxMessageBytes,
      limits: options.limits,
    });
    return transport;
  }

  async function peer(kind: 'tcp' | 'tls' = 'tcp'): Promise<StreamPeer> {
    const port = transport?.port ?? 0;
    const opened = kind === 'tls' ? await StreamPeer.tls(port) : await StreamPeer.tcp(port);
    peers.push(opened);
    return opened;
  }

  afterEach(async () => {
    for (const p of peers.splice(0)) p.close();
    await transport?.close();
    transport = undefined;
  });

  it('answers OPTIONS over TCP and adds received for a sent-by that is not the source', async () => {
    await start();
    const client = await peer();
    client.write(sipRequest({ method: 'OPTIONS', via: 'phone.invalid:5060', viaTransport: 'TCP' }));
    const response = await client.next();
    expect(response.status).toBe(200);
    expect(response.header('Via')).toMatch(/^SIP\/2\.0\/TCP phone\.invalid:5060;branch=[^;]+;received=127\.0\.0\.1$/);
  });

  it('frames a message split across many chunks', async () => {
    await start();
    const client = await peer();
    const text = sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${client.port}`, viaTransport: 'TCP', body: 'v=0\r\n', headers: ['Content-Type: application/sdp'] });
    for (let i = 0; i < text.length; i += 7) {
      client.write(text.slice(i, i + 7));
      await new Promise((r) => setTimeout(r, 1));
    }
    expect((await client.next()).status).toBe(200);
    expect(await new Promise((r) => setTimeout(() => r(client.raw), 100))).toBe('');
  });

  it('frames two messages that arrive in one chunk', async () => {
    await start();
    const client = await peer();
    const first = sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${client.port}`, viaTransport: 'TCP', callId: 'one@test' });
    const second = sipRequest({ method: 'REGISTER', via: `127.0.0.1:${client.port}`, viaTransport: 'TCP', callId: 'two@test' });
    client.write(first + second);
    const a = await client.next();
    const b = await client.next();
    expect([a.header('Call-ID'), b.header('Call-ID')]).toEqual(['one@test', 'two@test']);
    expect([a.header('X-Method'), b.header('X-Method')]).toEqual(['OPTIONS', 'REGISTER']);
  });

  it('refuses a message larger than the limit with 513 and closes the connection', async () => {
    await start({ maxMessageBytes: 4_096 });
    const client = await peer();
    client.write(sipRequest({ method: 'MESSAGE', via: `127.0.0.1:${client.port}`, viaTransport: 'TCP', body: 'x'.repeat(5_000), headers: ['Content-Type: text/plain'] }));
    const refused = await client.next();
    expect(refused.status).toBe(513);
    expect(await client.closedByServer()).toBe(true);
  });

  it('closes a connection that sends endless headers without answering (nothing to address)', async () => {
    await start({ maxMessageBytes: 4_096 });
    const client = await peer();
    client.write(`OPTIONS sip:pbx.test SIP/2.0\r\n${'X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n'.repeat(200)}`);
    expect(await client.closedByServer()).toBe(true);
    expect(client.raw).toBe('');
  });

  it('answers a request without Content-Length with 400, since the stream cannot be framed, and closes', async () => {
    await start();
    const client = await peer();
    client.write(sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${client.port}`, viaTransport: 'TCP' }).replace(/Content-Length: 0\r\n/, ''));
    const refused = await client.next();
    expect(refused.status).toBe(400);
    expect(refused.reason).toMatch(/Content-Length/);
    expect(await client.closedByServer()).toBe(true);
  });

  it('answers a malformed but framed request with 400 and keeps serving the connection', async () => {
    await start();
    const client = await peer();
    const broken = sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${client.port}`, viaTransport: 'TCP', callId: 'bad@test' }).replace('CSeq: 1 OPTIONS', 'CSeq: 1 INVITE');
    const good = sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${client.port}`, viaTransport: 'TCP', callId: 'good@test' });
    client.write(good + broken + good.replace(/branch=[^\r;]+/, 'branch=z9hG4bK-again'));
    const statuses = [await client.next(), await client.next(), await client.next()].map((r) => `${r.status} ${r.header('Call-ID')}`);
    expect(statuses).toEqual(['200 good@test', '400 bad@test', '200 good@test']);
    expect(client.closed).toBe(false);
  });

  it('answers a CRLFCRLF keep-alive ping with a CRLF pong (RFC 5626 §4.4.1)', async () => {
    await start();
    const client = await peer();
    client.write('\r\n\r\n');
    await client.waitFor(() => client.raw === '\r\n');
    client.write(sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${client.port}`, viaTransport: 'TCP' }));
    expect((await client.next()).status).toBe(200);
  });

  it('reads nothing more from a connection whose source is banned, and closes it', async () => {
    const security = new SipSecurity();
    await start({ sources: security });
    const client = await peer();
    client.write(sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${client.port}`, viaTransport: 'TCP' }));
    expect((await client.next()).status).toBe(200);
    security.ban('127.0.0.1');
    client.write(sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${client.port}`, viaTransport: 'TCP' }));
    expect(await client.closedByServer()).toBe(true);
    expect(client.raw).toBe('');
  });

  it('limits connections per source address', async () => {
    await start({ limits: { maxFlowsPerAddress: 2 } });
    const first = await peer();
    await peer();
    await first.waitFor(() => transport?.connectionCount === 2);
    const third = await peer();
    expect(await third.closedByServer()).toBe(true);
    first.write(sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${first.port}`, viaTransport: 'TCP' }));
    expect((await first.next()).status).toBe(200);
  });

  it('closes idle connections that nothing depends on', async () => {
    await start({ limits: { idleMs: 100 } });
    const client = await peer();
    client.write(sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${client.port}`, viaTransport: 'TCP' }));
    expect((await client.next()).status).toBe(200);
    expect(await client.closedByServer()).toBe(true);
  });

  it('answers OPTIONS over TLS with a self-signed certificate', async () => {
    await start({ tls: true });
    const client = await peer('tls');
    client.write(sipRequest({ method: 'OPTIONS', via: `127.0.0.1:${client.port}`, viaTransport: 'TLS' }));
    const response = await client.next();
    expect(response.status).toBe(200);
    expect(response.header('Via')).toMatch(/^SIP\/2\.0\/TLS /);
  });
});
