/**
 * SIP over WebSocket (RFC 7118): one SIP message per text frame, the `sip` subprotocol, one flow per socket.
 */
import type { WebSocket } from 'ws';
import { createLogger } from '../log';
import { SipConnection } from './connection';
import { ownBytes } from '../util/unshared';
import type { PreparedMessage, SipTransportName } from './connection';
import { serializeMessage } from './message';
import type { SipMessage } from './message';

const log = createLogger('sip-ws');

/** RFC 3261 §18.1.1 leaves the size to the transport; a frame larger than this is not a SIP message we accept. */
export const MAX_WS_MESSAGE_BYTES = 64 * 1024;

let nextId = 1;

export class WsConnection extends SipConnection {
  constructor(
    private readonly socket: WebSocket,
    transport: Extract<SipTransportName, 'WS' | 'WSS'>,
    remoteAddress: string,
    remotePort: number,
    onMessage: (data: Buffer, connection: WsConnection) => void,
  ) {
    super(`ws-${nextId++}`, transport, remoteAddress, remotePort);
    socket.on('message', (data, isBinary) => {
      const buffer = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      if (buffer.length > MAX_WS_MESSAGE_BYTES) {
        log.warn('oversized frame, closing', { connection: this.id, bytes: buffer.length });
        socket.close(1009, 'message too big');
        return;
      }
      if (isBinary && buffer.length === 0) return;
      onMessage(buffer, this);
    });
    socket.on('close', () => this.markClosed());
    socket.on('error', (error) => {
      log.debug('socket error', { connection: this.id, error });
      this.markClosed();
    });
  }

  protected write(message: SipMessage): void {
    this.socket.send(serializeMessage(message).toString('utf8'));
  }

  /** RFC 5626 §4.4.1 over WebSocket: a client that registers with outbound pings with CRLFCRLF, and waits for the CRLF. */
  override pong(): void {
    if (this.isOpen) this.socket.send('\r\n');
  }

  override prepare(message: SipMessage): PreparedMessage {
    return { data: ownBytes(serializeMessage(message)) };
  }

  // A SIP message over WebSocket is a text frame (RFC 7118 §5).
  protected override writePrepared(prepared: PreparedMessage): void {
    if (prepared.data) this.socket.send(prepared.data.toString('utf8'));
  }

  override close(): void {
    if (this.isOpen) this.socket.close(1000);
    super.close();
  }
}
