/**
 * Sends on a connection whose socket is gone before its flow has heard so (the 'close' event comes a tick
 * later): over TCP and over WebSocket, the message is dropped, counted with the endpoint's faults, and nothing
 * throws. Real sockets on 127.0.0.1.
 */
import { connect, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { SipEndpoint } from '../endpoint';
import { createResponse, parseMessage } from '../syntax/message';
import type { SipRequest } from '../syntax/message';
import { StreamConnection } from './stream-transport';
import { WebSocketFlows } from './ws-transport';
import type { WsConnection } from './ws-transport';

const options = parseMessage(['OPTIONS sip:x SIP/2.0', 'Via: SIP/2.0/TCP a.invalid;branch=z9hG4bKc1', 'To: <sip:x@y>', 'From: <sip:a@b>;tag=1', 'Call-ID: c1', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n')) as SipRequest;

describe('sending on a flow whose socket is already gone', () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('over TCP: dropped and counted, never thrown', async () => {
    const server: Server = createServer((peer) => peer.on('error', () => undefined));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const address = server.address();
    const socket: Socket = await new Promise((resolve) => {
      const next = connect(typeof address === 'object' && address ? address.port : 0, '127.0.0.1', () => resolve(next));
    });
    const endpoint = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'test' });
    const connection = new StreamConnection(socket, 'TCP', endpoint, 65_535, () => undefined);
    socket.destroy();
    expect(() => connection.send(createResponse(options, 200, 'OK'))).not.toThrow();
    expect(() => connection.sendPrepared(connection.prepare(createResponse(options, 200, 'OK')))).not.toThrow();
    expect(endpoint.faults.count('sendFailed')).toBe(2);
  });

  it('over WebSocket: dropped and counted, never thrown', async () => {
    const endpoint = new SipEndpoint({ viaHost: '127.0.0.1', userAgent: 'test' });
    const flows = new WebSocketFlows();
    const thrown: unknown[] = [];
    let sent = false;
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    server.on('connection', (socket, request) => {
      const flow: WsConnection | undefined = flows.accept(socket, 'WS', request.socket.remoteAddress ?? '', request.socket.remotePort ?? 0, () => undefined);
      flow?.reportFaultsTo(endpoint.faults);
      // The socket goes, as a network error would take it; the flow hears of it only a tick later.
      socket.terminate();
      try {
        flow?.send(createResponse(options, 200, 'OK'));
        flow?.pong();
      } catch (error) {
        thrown.push(error);
      }
      sent = true;
    });
    cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())), () => flows.closeAll());
    const address = server.address();
    const client = new WebSocket(`ws://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, 'sip');
    client.on('error', () => undefined);
    cleanups.push(() => client.terminate());
    await expect.poll(() => sent).toBe(true);
    expect(thrown).toEqual([]);
    expect(endpoint.faults.count('sendFailed')).toBe(2);
  });
});
