/**
 * SIP over TCP and TLS (RFC 3261 §18.3): messages framed on the byte stream by Content-Length, one flow per
 * connection. Requests to a device go back over the connection it registered on (connection reuse, as
 * RFC 5626 does for every stream), since a device behind NAT cannot be connected to.
 *
 * Each connection is bounded: the framer holds at most one message (`maxMessageBytes`), the output buffer
 * is capped, a message that breaks the framing is answered (400 or 513) and the connection closed, and idle
 * connections are closed (sooner when nothing learned from them needs them).
 */
import { connect as connectTcp, createServer as createTcpServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { connect as connectTls, createServer as createTlsServer } from 'node:tls';
import { createLogger } from '../log';
import { isPing, SipConnection } from './connection';
import { ownBytes } from '../util/unshared';
import type { PreparedMessage } from './connection';
import type { SipEndpoint } from './endpoint';
import { FlowTable, DEFAULT_HELD_IDLE_MS } from './flow-table';
import type { FlowLimits } from './flow-table';
import { serializeMessage, SipStreamParser } from './message';
import type { SipMessage } from './message';

const log = createLogger('sip-stream');

export const MAX_STREAM_MESSAGE_BYTES = 65_535;
/** A peer that stops reading gets its connection closed before our output for it grows past this. */
export const MAX_PENDING_OUTPUT_BYTES = 1024 * 1024;
/** How long a closing connection may take to flush its last response before it is cut. */
const CLOSE_GRACE_MS = 2_000;
const EMPTY = Buffer.alloc(0);
const CRLF = Buffer.from('\r\n');

export interface StreamTransportOptions {
  transport: 'TCP' | 'TLS';
  host: string;
  /** 0 picks a free port. */
  port: number;
  endpoint: SipEndpoint;
  /** PEM certificate chain and key; required for TLS. */
  tls?: { cert: string | Buffer; key: string | Buffer };
  maxMessageBytes?: number;
  limits?: Partial<FlowLimits>;
}

const DEFAULT_LIMITS: FlowLimits = {
  maxFlows: 10_000,
  maxFlowsPerAddress: 256,
  // RFC 5626 keep-alives come every 2 minutes or so; an idle connection nobody depends on goes sooner.
  idleMs: 120_000,
  heldIdleMs: DEFAULT_HELD_IDLE_MS,
};

let nextId = 1;

export class StreamConnection extends SipConnection {
  private readonly parser: SipStreamParser;

  constructor(
    private readonly socket: Socket,
    transport: 'TCP' | 'TLS',
    private readonly endpoint: SipEndpoint,
    maxMessageBytes: number,
    private readonly onGone: (connection: StreamConnection) => void,
  ) {
    super(`${transport.toLowerCase()}-${nextId++}`, transport, normalizeAddress(socket.remoteAddress ?? ''), socket.remotePort ?? 0);
    this.parser = new SipStreamParser({ maxMessageBytes });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('close', () => this.markClosed());
    socket.on('error', (error) => {
      log.debug('socket error', { connection: this.id, error });
      socket.destroy();
    });
  }

  protected write(message: SipMessage): void {
    this.writeBytes(serializeMessage(message));
  }

  override prepare(message: SipMessage): PreparedMessage {
    return { data: ownBytes(serializeMessage(message)) };
  }

  protected override writePrepared(prepared: PreparedMessage): void {
    if (prepared.data) this.writeBytes(prepared.data);
  }

  private writeBytes(data: Buffer): void {
    if (this.socket.writableLength > MAX_PENDING_OUTPUT_BYTES) {
      log.warn('peer is not reading, closing', { connection: this.id, pending: this.socket.writableLength });
      this.socket.destroy();
      return;
    }
    this.socket.write(data);
  }

  override close(): void {
    if (this.isOpen) {
      this.socket.end();
      setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
    }
    super.close();
  }

  protected override markClosed(): void {
    super.markClosed();
    this.onGone(this);
  }

  private onData(chunk: Buffer): void {
    if (!this.isOpen) return;
    if (!this.endpoint.admits(this)) {
      // A banned source gets nothing read, and keeps no connection of ours.
      this.close();
      return;
    }
    this.touch();
    // RFC 5626 §4.4.1: a CRLFCRLF ping is answered with a CRLF pong. The framer skips the CRLFs itself;
    // should a message happen to split right there, the extra CRLF we send is ignored by the peer (§7.5).
    if (isPing(chunk)) this.socket.write(CRLF);
    let input = chunk;
    let lastError: unknown;
    for (;;) {
      let messages: SipMessage[];
      try {
        messages = this.parser.push(input);
      } catch (error) {
        input = EMPTY;
        if (error === lastError) {
          // The framer keeps failing with the same error: the stream cannot be resynchronised.
          log.info('framing lost, closing', { connection: this.id, reason: (error as Error).message });
          this.close();
          return;
        }
        lastError = error;
        this.endpoint.rejectMalformed(error, this);
        continue;
      }
      for (const message of messages) {
        if (!this.isOpen) return;
        this.endpoint.receiveMessage(message, this);
      }
      // A malformed message after good ones in the same chunk is reported on the next push.
      if (messages.length === 0) return;
      input = EMPTY;
    }
  }
}

export class StreamTransport {
  private readonly connections: FlowTable<StreamConnection>;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly transport: 'TCP' | 'TLS',
    private readonly endpoint: SipEndpoint,
    private readonly maxMessageBytes: number,
    limits: FlowLimits,
  ) {
    this.connections = new FlowTable(transport, limits);
    server.on(transport === 'TLS' ? 'secureConnection' : 'connection', (socket: Socket) => this.accept(socket));
    server.on('tlsClientError', (error) => log.debug('TLS handshake failed', { error }));
    server.on('error', (error) => log.warn('server error', { transport, error }));
  }

  static async listen(options: StreamTransportOptions): Promise<StreamTransport> {
    if (options.transport === 'TLS' && !options.tls) throw new Error('SIP over TLS needs a certificate and a key');
    const server = options.transport === 'TLS'
      ? createTlsServer({ cert: options.tls?.cert, key: options.tls?.key, minVersion: 'TLSv1.2' })
      : createTcpServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const transport = new StreamTransport(server, options.transport, options.endpoint, options.maxMessageBytes ?? MAX_STREAM_MESSAGE_BYTES, {
      ...DEFAULT_LIMITS,
      ...options.limits,
    });
    log.info('listening', { transport: options.transport, address: options.host, port: transport.port });
    return transport;
  }

  get port(): number {
    const address = this.server.address();
    return typeof address === 'object' && address ? address.port : 0;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  async close(): Promise<void> {
    this.connections.closeAll();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /**
   * Opens a connection to a device (RFC 3261 §18.1.1: a request over a stream transport needs a connection,
   * and one is opened when none is left). Used for a device that registered over TCP/TLS without outbound
   * (RFC 5626) whose connection has since closed; its Contact names where it listens.
   */
  async connect(host: string, port: number, timeoutMs = 5_000): Promise<StreamConnection> {
    const socket: Socket = await new Promise((resolve, reject) => {
      // A device's certificate is rarely one a CA signed; the device was authenticated by digest when it
      // registered, and this connection goes to the address it registered.
      const next: Socket = this.transport === 'TLS' ? connectTls({ host, port, rejectUnauthorized: false, minVersion: 'TLSv1.2' }) : connectTcp({ host, port });
      const timer = setTimeout(() => {
        next.destroy();
        reject(new Error(`no ${this.transport} connection to ${host}:${port} within ${timeoutMs} ms`));
      }, timeoutMs);
      next.once(this.transport === 'TLS' ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        next.off('error', reject);
        resolve(next);
      });
      next.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const connection = new StreamConnection(socket, this.transport, this.endpoint, this.maxMessageBytes, (gone) => this.connections.remove(gone.id, gone));
    this.connections.add(connection.id, connection);
    log.debug('connection opened to a device', { connection: connection.id, remote: `${host}:${port}` });
    return connection;
  }

  private accept(socket: Socket): void {
    const address = normalizeAddress(socket.remoteAddress ?? '');
    if (!this.connections.admits(address)) {
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    const connection = new StreamConnection(socket, this.transport, this.endpoint, this.maxMessageBytes, (gone) => this.connections.remove(gone.id, gone));
    this.connections.add(connection.id, connection);
    log.debug('connection opened', { connection: connection.id, remote: `${connection.remoteAddress}:${connection.remotePort}` });
  }
}

function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
