/**
 * The flows of one transport, bounded: how many in all, how many per source address, and how long each may
 * stay idle. A flow that something still depends on (a registration, a dialog, a pending request) is kept
 * much longer than one that carried a single OPTIONS, so scanners and one-off requests cost little memory
 * while registered devices keep their flow between refreshes.
 */
import { createLogger } from '../../log';
import type { SipConnection } from './connection';

const log = createLogger('sip-flows');

export interface FlowLimits {
  maxFlows: number;
  maxFlowsPerAddress: number;
  /** Idle time after which a flow nothing depends on is closed. */
  idleMs: number;
  /** Idle time after which any flow is closed: longer than the longest registration we grant. */
  heldIdleMs: number;
}

/** Longer than 64·T1, so a transaction answered over the flow can still resend its response. */
export const DEFAULT_IDLE_MS = 60_000;
/**
 * Five minutes beyond the longest registration the registrar grants (an hour: presence/registrar.ts
 * MAX_EXPIRES_S, whose test holds the two together), so that a registered device's flow outlives a refresh
 * that comes late. Written here, not imported: the SIP stack knows no registrar.
 */
export const DEFAULT_HELD_IDLE_MS = (60 + 5) * 60 * 1000;

export class FlowTable<C extends SipConnection> {
  private readonly flows = new Map<string, C>();
  private readonly perAddress = new Map<string, number>();
  private readonly sweeper: NodeJS.Timeout;
  private refusedLogged = 0;

  constructor(
    private readonly name: string,
    private readonly limits: FlowLimits,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(5_000, Math.max(50, limits.idleMs / 2)));
    this.sweeper.unref();
  }

  get size(): number {
    return this.flows.size;
  }

  get(key: string): C | undefined {
    return this.flows.get(key);
  }

  /** Whether a new flow from `address` fits within the limits; logs a refusal now and then. */
  admits(address: string): boolean {
    const fits = this.flows.size < this.limits.maxFlows && (this.perAddress.get(address) ?? 0) < this.limits.maxFlowsPerAddress;
    if (!fits && this.now() - this.refusedLogged > 10_000) {
      this.refusedLogged = this.now();
      log.warn('flow limit reached, refusing new flows', { transport: this.name, address, flows: this.flows.size });
    }
    return fits;
  }

  add(key: string, flow: C): void {
    this.flows.set(key, flow);
    this.perAddress.set(flow.remoteAddress, (this.perAddress.get(flow.remoteAddress) ?? 0) + 1);
  }

  /** Called by the transport once a flow has closed. */
  remove(key: string, flow: C): void {
    if (this.flows.get(key) !== flow) return;
    this.flows.delete(key);
    const left = (this.perAddress.get(flow.remoteAddress) ?? 1) - 1;
    if (left <= 0) this.perAddress.delete(flow.remoteAddress);
    else this.perAddress.set(flow.remoteAddress, left);
  }

  sweep(): void {
    const now = this.now();
    for (const flow of [...this.flows.values()]) {
      const idle = now - flow.lastActiveAt;
      if (idle > this.limits.heldIdleMs || (idle > this.limits.idleMs && !flow.isHeld)) {
        log.debug('idle flow closed', { flow: flow.id, idleMs: idle });
        flow.close();
      }
    }
  }

  closeAll(): void {
    clearInterval(this.sweeper);
    for (const flow of [...this.flows.values()]) flow.close();
  }
}
