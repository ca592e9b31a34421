import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import type { FlowLimits } from './flow-table';
import { createResponse, parseMessage } from '../syntax/message';
import type { SipRequest } from '../syntax/message';
import { WebSocketFlows } from './ws-transport';
import type { WsConnection } from './ws-transport';

describe('SIP WebSocket flows', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A WebSocket server whose sockets become flows of a WebSocketFlows with `limits`. */
  async function serve(limits: Partial<FlowLimits>): Promise<{ flows: WebSocketFlows; accepted: WsConnection[]; url: string }> {
    const flows = new WebSocketFlows(limits);
    const accepted: WsConnection[] = [];
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    server.on('connection', (socket, request) => {
      const connection = flows.accept(socket, 'WS', request.socket.remoteAddress ?? '', request.socket.remotePort ?? 0, () => undefined);
      if (connection) accepted.push(connection);
    });
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())), () => flows.closeAll());
    const address = server.address();
    return { flows, accepted, url: `ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}` };
  }

  async function open(url: string): Promise<{ socket: WebSocket; closed: Promise<number> }> {
    const socket = new WebSocket(url, 'sip');
    const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    cleanups.push(() => socket.terminate());
    return { socket, closed };
  }

  it('takes at most maxFlowsPerAddress sockets from one address, closing the next with 1013', async () => {
    const { flows, url } = await serve({ maxFlowsPerAddress: 2 });
    await open(url);
    const second = await open(url);
    const third = await open(url);
    expect(await third.closed).toBe(1013);
    expect(flows.size).toBe(2);
    // A flow that closes makes room again.
    second.socket.close();
    await second.closed;
    await expect.poll(() => flows.size).toBe(1);
    const fourth = await open(url);
    expect(fourth.socket.readyState).toBe(WebSocket.OPEN);
    expect(flows.size).toBe(2);
  });

  it('closes a socket left idle that nothing depends on', async () => {
    const { flows, url } = await serve({ idleMs: 100 });
    const idle = await open(url);
    expect(await idle.closed).toBe(1000);
    await expect.poll(() => flows.size).toBe(0);
  });

  it('cuts a peer that stops reading before our output for it passes 1 MB', async () => {
    const { accepted, url } = await serve({});
    const reader = await open(url);
    await expect.poll(() => accepted.length).toBe(1);
    // The peer reads nothing more: its socket stays paused while we keep writing.
    (reader.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const flow = accepted[0]!;
    const options = parseMessage(['OPTIONS sip:x SIP/2.0', 'Via: SIP/2.0/WS a.invalid;branch=z9hG4bKw1', 'To: <sip:x@y>', 'From: <sip:a@b>;tag=1', 'Call-ID: w1', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n')) as SipRequest;
    const large = createResponse(options, 200, 'OK');
    large.headers.set('X-Padding', 'x'.repeat(60_000));
    for (let i = 0; i < 400 && flow.isOpen; i++) {
      flow.send(large);
      await new Promise((resolve) => setImmediate(resolve));
    }
    expect(flow.isOpen).toBe(false);
  });
});
