/**
 * A SIP flow: one connection (TCP, TLS, WebSocket) or one UDP remote address and port, over which messages
 * arrive and responses and in-dialog requests go back. Everything learned from a flow (registrations,
 * dialogs) is owned by it and dropped when it closes (RFC 5626 §5.2: a binding reached through a dead flow
 * is unusable).
 */
import { createLogger } from '../../log';
import type { SipFaults } from '../edge/faults';
import type { SipMessage } from '../syntax/message';
import { TypedEmitter } from '../../util/typed-emitter';

const log = createLogger('sip-flow');

export type SipTransportName = 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS';

/**
 * Opens a new stream connection to a device (the PBX's TCP or TLS transport), for whoever must reach a device
 * on a flow it did not open: the endpoint for a request too large for UDP (RFC 3261 §18.1.1), the registrar
 * for a binding whose flow is gone. Handed in by the composition root, which owns the transports.
 */
export type StreamConnector = (transport: 'TCP' | 'TLS', host: string, port: number, timeoutMs?: number) => Promise<SipConnection>;

/**
 * A message as a flow will put it on the wire, kept to be sent again exactly as it was: a server
 * transaction keeps its last response this way while it waits out its timers, a few hundred bytes instead
 * of the parsed message, and resends it without serializing it again. Opaque outside the flow that made it.
 */
export interface PreparedMessage {
  /** The serialized message, for the transports that send bytes. */
  readonly data?: Buffer;
  /** Where a datagram goes (a response: RFC 3261 §18.2.2). */
  readonly address?: string;
  readonly port?: number;
  /** The message itself, for a flow that does not serialize (the tests' recording flows). */
  readonly message?: SipMessage;
}

interface ConnectionEvents {
  closed: [];
}

export abstract class SipConnection extends TypedEmitter<ConnectionEvents> {
  private open = true;
  private lastActivity = Date.now();
  /** Where a failed send is counted (the endpoint's faults), once the transport or the endpoint has said. */
  private faults: SipFaults | undefined;

  constructor(
    readonly id: string,
    readonly transport: SipTransportName,
    readonly remoteAddress: string,
    readonly remotePort: number,
  ) {
    super();
  }

  get isOpen(): boolean {
    return this.open;
  }

  /** RFC 3261 §17: only UDP needs retransmissions from the transaction layer. */
  get reliable(): boolean {
    return this.transport !== 'UDP';
  }

  /**
   * Whether something learned from this flow still depends on it (a registration, a dialog, a pending
   * transaction): each of them watches for the flow closing. Idle flows that nobody holds can be dropped early.
   */
  get isHeld(): boolean {
    return this.listenerCount('closed') > 0;
  }

  /** Time of the last message received, for idle timeouts. */
  get lastActiveAt(): number {
    return this.lastActivity;
  }

  touch(now = Date.now()): void {
    this.lastActivity = now;
  }

  /** Counts this flow's failed sends with `faults`; the first to say wins. */
  reportFaultsTo(faults: SipFaults): void {
    this.faults ??= faults;
  }

  /**
   * Sends, or drops and counts what cannot be sent: never throws. A send is reached from a timer, a handler's
   * promise or another flow's message, none of which could do anything with the error of this one.
   */
  send(message: SipMessage): void {
    if (!this.open) return;
    try {
      this.write(message);
    } catch (error) {
      this.sendFailed(error);
    }
  }

  /** The message made ready to send, now and again later (sendPrepared). */
  prepare(message: SipMessage): PreparedMessage {
    return { message };
  }

  /** As `send`: never throws. */
  sendPrepared(prepared: PreparedMessage): void {
    if (!this.open) return;
    try {
      this.writePrepared(prepared);
    } catch (error) {
      this.sendFailed(error);
    }
  }

  /** Counts and logs a send this flow could not make. */
  protected sendFailed(error: unknown): void {
    const fields = { connection: this.id, remote: `${this.remoteAddress}:${this.remotePort}`, error: error instanceof Error ? error.message : String(error) };
    if (this.faults) this.faults.record('sendFailed', fields);
    else log.debug('could not send', fields);
  }

  /** Flows that override prepare() override this too. */
  protected writePrepared(prepared: PreparedMessage): void {
    if (prepared.message) this.write(prepared.message);
  }

  /** Answers a CRLFCRLF keep-alive ping (RFC 5626 §4.4.1) on flows whose peers expect a CRLF pong. */
  pong(): void {
    // Datagram flows: phones send CRLFs only to keep a NAT binding open, and expect nothing back.
  }

  close(): void {
    this.markClosed();
  }

  /** Called by the transport when the peer or the network closes the flow. */
  protected markClosed(): void {
    if (!this.open) return;
    this.open = false;
    this.emit('closed');
    this.removeAllListeners();
  }

  protected abstract write(message: SipMessage): void;
}

/** RFC 5626 §4.4.1: nothing but CRLFs, with a double CRLF among them, is a keep-alive ping. */
export function isPing(data: Buffer): boolean {
  if (data.length < 4) return false;
  for (const byte of data) if (byte !== 0x0d && byte !== 0x0a) return false;
  return data.includes('\r\n\r\n');
}
