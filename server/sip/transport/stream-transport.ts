/**
 * SIP over TCP and TLS (RFC 3261 §18.3): messages framed on the byte stream by Content-Length, one flow per
 * connection. Requests to a device go back over the connection it registered on (connection reuse, as
 * RFC 5626 does for every stream), since a device behind NAT cannot be connected to.
 *
 * Each connection is bounded: the framer holds at most one message (`maxMessageBytes`), the output buffer
 * is capped, a message that breaks the framing is answered (400 or 513) and the connection closed, and idle
 * connections are closed (sooner when nothing learned from them needs them). What the framer holds counts in
 * the source's byte budget (held-bytes.ts); while the source is over it, the connection reads no more.
 *
 * Connections are counted from the TCP accept (a ConnectionQuota, shared by TCP and TLS, which draw on one
 * pool of file descriptors), in all and per source address; a TLS connection so counts during its handshake,
 * which must end within `handshakeTimeoutMs`. A peer that opens connections and never speaks holds no more
 * than its share, and not for long.
 */
import { connect as connectTcp, createServer as createTcpServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { connect as connectTls, createServer as createTlsServer } from 'node:tls';
import type { Server as TlsServer } from 'node:tls';
import { createLogger } from '../../log';
import { isPing, SipConnection } from './connection';
import { ownBytes } from '../../util/unshared';
import { ConnectionQuota } from '../../util/connection-quota';
import type { QuotaLimits } from '../../util/connection-quota';
import type { PreparedMessage } from './connection';
import type { SipEndpoint } from '../endpoint';
import { FlowTable, DEFAULT_HELD_IDLE_MS } from './flow-table';
import type { FlowLimits } from './flow-table';
import { serializeMessage, SipStreamParser } from '../syntax/message';
import type { SipMessage } from '../syntax/message';

const log = createLogger('sip-stream');

export const MAX_STREAM_MESSAGE_BYTES = 65_535;
/** A peer that stops reading gets its connection closed before our output for it grows past this. */
export const MAX_PENDING_OUTPUT_BYTES = 1024 * 1024;
/** How long a closing connection may take to flush its last response before it is cut. */
const CLOSE_GRACE_MS = 2_000;
/** A handshake takes a few round trips; a client that has not finished one in this time is not going to. */
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS = 10_000;
/** SIP TCP and TLS connections at once, in all and from one address, unless told otherwise. */
export const DEFAULT_STREAM_QUOTA: QuotaLimits = { max: 10_000, maxPerAddress: 256 };
/** How often a connection that stopped reading for the byte budget looks whether its source is within it again. */
const INPUT_RETRY_MS = 250;
/**
 * How long a connection may wait to read on before it is closed: what it holds of a message may be more than
 * its source will ever have room for (its other connections' partial messages with it), and waiting longer
 * would hold that memory and the connection for nothing.
 */
export const DEFAULT_INPUT_STALL_MS = 5_000;
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
  /** Idle times; `maxFlows` and `maxFlowsPerAddress` make the quota when none is given. */
  limits?: Partial<FlowLimits>;
  /**
   * Counts every connection from its TCP accept, before any TLS handshake, against a limit in all and per
   * source address; connections we open to devices count in all. One quota may serve the TCP and the TLS
   * transport together.
   */
  quota?: ConnectionQuota;
  /** TLS: how long a connection may take to finish its handshake before it is closed. */
  handshakeTimeoutMs?: number;
  /** How long a connection that stopped reading for the byte budget may wait before it is closed. */
  inputStallMs?: number;
}

const DEFAULT_LIMITS: FlowLimits = {
  maxFlows: DEFAULT_STREAM_QUOTA.max,
  maxFlowsPerAddress: DEFAULT_STREAM_QUOTA.maxPerAddress,
  // RFC 5626 keep-alives come every 2 minutes or so; an idle connection nobody depends on goes sooner.
  idleMs: 120_000,
  heldIdleMs: DEFAULT_HELD_IDLE_MS,
};

let nextId = 1;

export class StreamConnection extends SipConnection {
  private readonly parser: SipStreamParser;
  /** What the framer holds now, as counted in the byte budget. */
  private heldInput = 0;
  private resumeTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    transport: 'TCP' | 'TLS',
    private readonly endpoint: SipEndpoint,
    maxMessageBytes: number,
    private readonly onGone: (connection: StreamConnection) => void,
    private readonly inputStallMs = DEFAULT_INPUT_STALL_MS,
  ) {
    super(`${transport.toLowerCase()}-${nextId++}`, transport, normalizeAddress(socket.remoteAddress ?? ''), socket.remotePort ?? 0);
    this.parser = new SipStreamParser({ maxMessageBytes });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      // Uncounted while it is framed, so that a message completed now is not counted twice: once as input, once
      // as the request the endpoint holds.
      this.endpoint.holdInput(this, -this.heldInput);
      this.heldInput = 0;
      this.onData(chunk);
      this.heldInputChanged();
    });
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
    // A socket the peer or an error destroyed before its 'close' reached us takes no more: dropped, counted.
    if (this.socket.destroyed || !this.socket.writable) {
      this.sendFailed(new Error('the connection is closed'));
      return;
    }
    if (this.socket.writableLength > MAX_PENDING_OUTPUT_BYTES) {
      log.warn('peer is not reading, closing', { connection: this.id, pending: this.socket.writableLength });
      this.socket.destroy();
      return;
    }
    this.socket.write(data);
  }

  protected override sendFailed(error: unknown): void {
    this.endpoint.faults.record('sendFailed', { connection: this.id, remote: `${this.remoteAddress}:${this.remotePort}`, error: error instanceof Error ? error.message : String(error) });
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
    this.heldInputChanged();
    this.onGone(this);
  }

  /**
   * What the framer holds of a message still coming counts in the source's byte budget. While the source is
   * over it, a connection holding such input reads no more (TCP then holds the sender back) and looks again
   * every INPUT_RETRY_MS, and is closed after `inputStallMs`; one holding nothing reads on, as the requests
   * it completes are refused by the endpoint and hold nothing either.
   */
  private heldInputChanged(): void {
    const held = this.isOpen ? this.parser.bufferedBytes : 0;
    if (held !== this.heldInput) this.endpoint.holdInput(this, held - this.heldInput);
    this.heldInput = held;
    if (!this.isOpen) {
      clearTimeout(this.resumeTimer);
      this.resumeTimer = undefined;
      return;
    }
    if (held === 0 || this.resumeTimer || this.endpoint.inputFits(this)) return;
    log.debug('byte budget reached, reading no more for now', { connection: this.id, held });
    this.socket.pause();
    const stallEnds = Date.now() + this.inputStallMs;
    const retry = () => {
      this.resumeTimer = undefined;
      if (!this.isOpen) return;
      if (this.endpoint.inputFits(this)) {
        this.socket.resume();
        return;
      }
      if (Date.now() >= stallEnds) {
        log.info('byte budget still reached, closing a connection that holds part of a message', { connection: this.id, held: this.heldInput });
        this.socket.destroy();
        return;
      }
      this.resumeTimer = setTimeout(retry, INPUT_RETRY_MS).unref();
    };
    this.resumeTimer = setTimeout(retry, INPUT_RETRY_MS).unref();
  }

  private onData(chunk: Buffer): void {
    if (!this.isOpen) return;
    // From a banned address nothing holds this connection for, the endpoint reads a message only to let through
    // what a ban spares (a response, an in-dialog request, a known device's own account), and closes the
    // connection at the first message that is none of these (receiveMessage).
    const screened = !this.endpoint.admits(this);
    if (!screened) this.touch();
    // RFC 5626 §4.4.1: a CRLFCRLF ping is answered with a CRLF pong. The framer skips the CRLFs itself;
    // should a message happen to split right there, the extra CRLF we send is ignored by the peer (§7.5).
    if (!screened && isPing(chunk)) this.socket.write(CRLF);
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
        if (screened) {
          this.close();
          return;
        }
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
  /** The flows, for idle timeouts; how many there may be is the quota's to say. */
  private readonly connections: FlowTable<StreamConnection>;
  private readonly sockets = new Set<Socket>();

  /**
   * `server` accepts every connection, TLS ones included: `tlsServer` (which never listens) is handed the
   * sockets counted and admitted here, and does their handshakes.
   */
  private constructor(
    private readonly server: Server,
    private readonly tlsServer: TlsServer | undefined,
    readonly transport: 'TCP' | 'TLS',
    private readonly endpoint: SipEndpoint,
    private readonly maxMessageBytes: number,
    limits: FlowLimits,
    private readonly quota: ConnectionQuota,
    private readonly inputStallMs: number,
  ) {
    this.connections = new FlowTable(transport, limits);
    server.on('connection', (socket: Socket) => this.accept(socket));
    server.on('error', (error) => log.warn('server error', { transport, error }));
    tlsServer?.on('secureConnection', (socket: Socket) => this.adopt(socket));
    // A tls.Server (unlike https) leaves a socket whose handshake failed or timed out open: it is closed here.
    tlsServer?.on('tlsClientError', (error, socket) => {
      log.debug('TLS handshake failed', { error: error.message, remote: `${socket.remoteAddress}:${socket.remotePort}` });
      socket.destroy();
    });
  }

  static async listen(options: StreamTransportOptions): Promise<StreamTransport> {
    if (options.transport === 'TLS' && !options.tls) throw new Error('SIP over TLS needs a certificate and a key');
    const tlsServer = options.transport === 'TLS'
      ? createTlsServer({
          cert: options.tls?.cert,
          key: options.tls?.key,
          minVersion: 'TLSv1.2',
          handshakeTimeout: options.handshakeTimeoutMs ?? DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS,
        })
      : undefined;
    const server = createTcpServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    const quota = options.quota ?? new ConnectionQuota(`SIP ${options.transport}`, { max: limits.maxFlows, maxPerAddress: limits.maxFlowsPerAddress });
    const maxMessageBytes = options.maxMessageBytes ?? MAX_STREAM_MESSAGE_BYTES;
    const transport = new StreamTransport(server, tlsServer, options.transport, options.endpoint, maxMessageBytes, limits, quota, options.inputStallMs ?? DEFAULT_INPUT_STALL_MS);
    log.info('listening', { transport: options.transport, address: options.host, port: transport.port, ...quota.limits });
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
    // Every descriptor counts, ours too; a device is not refused for its address's share, which its own connections fill.
    if (!this.quota.hasRoom) throw new Error(`no ${this.transport} connection to ${host}:${port}: ${this.quota.size} connections are open, the most allowed`);
    const socket: Socket = await new Promise((resolve, reject) => {
      // A device's certificate is rarely one a CA signed; the device was authenticated by digest when it
      // registered, and this connection goes to the address it registered.
      const next: Socket = this.transport === 'TLS' ? connectTls({ host, port, rejectUnauthorized: false, minVersion: 'TLSv1.2' }) : connectTcp({ host, port });
      next.once('close', this.quota.take(normalizeAddress(host)));
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
    const connection = new StreamConnection(socket, this.transport, this.endpoint, this.maxMessageBytes, (gone) => this.connections.remove(gone.id, gone), this.inputStallMs);
    this.connections.add(connection.id, connection);
    log.debug('connection opened to a device', { connection: connection.id, remote: `${host}:${port}` });
    return connection;
  }

  /** A TCP connection accepted: counted from now until it closes, or refused when the quota is full. */
  private accept(socket: Socket): void {
    const address = normalizeAddress(socket.remoteAddress ?? '');
    if (!this.quota.admits(address)) {
      socket.destroy();
      return;
    }
    const uncount = this.quota.take(address);
    this.sockets.add(socket);
    socket.once('close', () => {
      uncount();
      this.sockets.delete(socket);
    });
    if (this.tlsServer) {
      // Errors surface on the TLS socket wrapped around this one; this one only needs to be heard.
      socket.on('error', (error) => log.debug('socket error before the TLS handshake', { remote: address, error: error.message }));
      this.tlsServer.emit('connection', socket);
      return;
    }
    this.adopt(socket);
  }

  /** A connection ready for SIP (accepted, and for TLS past its handshake) becomes a flow. */
  private adopt(socket: Socket): void {
    const connection = new StreamConnection(socket, this.transport, this.endpoint, this.maxMessageBytes, (gone) => this.connections.remove(gone.id, gone), this.inputStallMs);
    this.connections.add(connection.id, connection);
    log.debug('connection opened', { connection: connection.id, remote: `${connection.remoteAddress}:${connection.remotePort}` });
  }
}

function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
