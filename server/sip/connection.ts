/**
 * A SIP flow: one connection (TCP, TLS, WebSocket) or one UDP remote address and port, over which messages
 * arrive and responses and in-dialog requests go back. Everything learned from a flow (registrations,
 * dialogs) is owned by it and dropped when it closes (RFC 5626 §5.2: a binding reached through a dead flow
 * is unusable).
 */
import type { SipMessage } from './message';
import { TypedEmitter } from '../util/typed-emitter';

export type SipTransportName = 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS';

interface ConnectionEvents {
  closed: [];
}

export abstract class SipConnection extends TypedEmitter<ConnectionEvents> {
  private open = true;
  private lastActivity = Date.now();

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

  send(message: SipMessage): void {
    if (!this.open) return;
    this.write(message);
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
