/**
 * SIP over WebSocket (RFC 7118): one SIP message per text frame, the `sip` subprotocol, one flow per socket.
 */
import type { WebSocket } from 'ws';
import { createLogger } from '../../log';
import { SipConnection } from './connection';
import { ownBytes } from '../../util/unshared';
import type { PreparedMessage, SipTransportName } from './connection';
import { DEFAULT_HELD_IDLE_MS, FlowTable } from './flow-table';
import type { FlowLimits } from './flow-table';
import { serializeMessage } from '../syntax/message';
import type { SipMessage } from '../syntax/message';
import { MAX_PENDING_OUTPUT_BYTES } from './stream-transport';

const log = createLogger('sip-ws');

/** RFC 3261 §18.1.1 leaves the size to the transport; a frame larger than this is not a SIP message we accept. */
export const MAX_WS_MESSAGE_BYTES = 64 * 1024;

/** As for TCP: the app sends OPTIONS every 15 s, and a socket nothing depends on goes after two minutes idle. */
export const DEFAULT_WS_LIMITS: FlowLimits = {
  maxFlows: 10_000,
  maxFlowsPerAddress: 256,
  idleMs: 120_000,
  heldIdleMs: DEFAULT_HELD_IDLE_MS,
};

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
    this.sendText(serializeMessage(message).toString('utf8'));
  }

  /** A peer that stops reading gets its socket cut before our output for it grows past the limit. */
  private sendText(text: string): void {
    // ws throws for a socket still connecting and drops silently for one closing: either way, counted here.
    if (this.socket.readyState !== this.socket.OPEN) {
      this.sendFailed(new Error('the WebSocket is not open'));
      return;
    }
    if (this.socket.bufferedAmount > MAX_PENDING_OUTPUT_BYTES) {
      log.warn('peer is not reading, closing', { connection: this.id, pending: this.socket.bufferedAmount });
      this.socket.terminate();
      this.markClosed();
      return;
    }
    this.socket.send(text);
  }

  /** RFC 5626 §4.4.1 over WebSocket: a client that registers with outbound pings with CRLFCRLF, and waits for the CRLF. */
  override pong(): void {
    if (!this.isOpen) return;
    try {
      this.sendText('\r\n');
    } catch (error) {
      this.sendFailed(error);
    }
  }

  override prepare(message: SipMessage): PreparedMessage {
    return { data: ownBytes(serializeMessage(message)) };
  }

  // A SIP message over WebSocket is a text frame (RFC 7118 §5).
  protected override writePrepared(prepared: PreparedMessage): void {
    if (prepared.data) this.sendText(prepared.data.toString('utf8'));
  }

  override close(): void {
    if (this.isOpen) this.socket.close(1000);
    super.close();
  }
}

/**
 * The SIP WebSocket flows of one HTTP server, bounded like the TCP and TLS flows (flow-table.ts): how many in
 * all and per source address, and how long each may stay idle.
 */
export class WebSocketFlows {
  private readonly table: FlowTable<WsConnection>;

  constructor(limits: Partial<FlowLimits> = {}) {
    this.table = new FlowTable('WS', { ...DEFAULT_WS_LIMITS, ...limits });
  }

  get size(): number {
    return this.table.size;
  }

  /**
   * Takes an upgraded socket as a flow, or closes it (1013, try again later) when the limits are reached.
   * Returns the flow when taken.
   */
  accept(
    socket: WebSocket,
    transport: Extract<SipTransportName, 'WS' | 'WSS'>,
    remoteAddress: string,
    remotePort: number,
    onMessage: (data: Buffer, connection: WsConnection) => void,
  ): WsConnection | undefined {
    if (!this.table.admits(remoteAddress)) {
      socket.close(1013, 'too many connections');
      return undefined;
    }
    const connection = new WsConnection(socket, transport, remoteAddress, remotePort, onMessage);
    this.table.add(connection.id, connection);
    // Watched on the socket: a 'closed' listener on the flow would count as something depending on it.
    socket.once('close', () => this.table.remove(connection.id, connection));
    return connection;
  }

  closeAll(): void {
    this.table.closeAll();
  }
}
