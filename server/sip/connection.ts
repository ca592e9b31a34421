/**
 * A SIP flow: one connection (or, later, one UDP 5-tuple) over which messages arrive and responses and
 * in-dialog requests go back. Everything learned from a flow (registrations, dialogs) is owned by it and
 * dropped when it closes (RFC 5626 §5.2: a binding reached through a dead flow is unusable).
 */
import type { SipMessage } from './message';
import { TypedEmitter } from '../util/typed-emitter';

export type SipTransportName = 'UDP' | 'TCP' | 'TLS' | 'WS' | 'WSS';

interface ConnectionEvents {
  closed: [];
}

export abstract class SipConnection extends TypedEmitter<ConnectionEvents> {
  private open = true;

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
