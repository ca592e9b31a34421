/**
 * How many connections a listener (or several that share one pool of file descriptors) may hold: in all, and
 * from one source address. Each socket is counted from the moment it is accepted, before any handshake, and
 * until it closes, so a peer that opens connections and never speaks holds its share like any other and no
 * more. The SIP TCP and TLS transports share one quota, the HTTP and HTTPS servers another.
 */
import { createLogger } from '../log';

const log = createLogger('connection-quota');

export interface QuotaLimits {
  /** Connections at once, from every address. */
  max: number;
  /** Connections at once from one source address. */
  maxPerAddress: number;
}

/** A refusal is logged at most this often: a flood of refused connections would otherwise flood the log. */
const REFUSAL_LOG_EVERY_MS = 10_000;

export class ConnectionQuota {
  private readonly perAddress = new Map<string, number>();
  private count = 0;
  private refusedLoggedAt = -Infinity;
  private refusedSince = 0;

  constructor(
    /** Named in log lines: what the connections are for. */
    readonly name: string,
    readonly limits: QuotaLimits,
    private readonly now: () => number = Date.now,
  ) {
    for (const [key, value] of Object.entries(limits)) {
      if (!(value >= 1)) throw new Error(`connection limit ${key} of ${name} must be at least 1, got ${value}`);
    }
  }

  get size(): number {
    return this.count;
  }

  /** Connections counted from `address` now. */
  countOf(address: string): number {
    return this.perAddress.get(address) ?? 0;
  }

  /** Whether one more connection fits in all, whatever its address: what a connection we open ourselves needs. */
  get hasRoom(): boolean {
    return this.count < this.limits.max;
  }

  /** Whether a new connection from `address` fits; a refusal is logged now and then. */
  admits(address: string): boolean {
    if (this.hasRoom && this.countOf(address) < this.limits.maxPerAddress) return true;
    this.refusedSince++;
    const now = this.now();
    if (now - this.refusedLoggedAt >= REFUSAL_LOG_EVERY_MS) {
      log.warn('connection limit reached, refusing new connections', {
        quota: this.name,
        address,
        fromAddress: this.countOf(address),
        connections: this.count,
        ...this.limits,
        refused: this.refusedSince,
      });
      this.refusedLoggedAt = now;
      this.refusedSince = 0;
    }
    return false;
  }

  /** Counts a connection from `address`; the function returned uncounts it, and does nothing the second time. */
  take(address: string): () => void {
    this.count++;
    this.perAddress.set(address, this.countOf(address) + 1);
    let taken = true;
    return () => {
      if (!taken) return;
      taken = false;
      this.count--;
      const left = this.countOf(address) - 1;
      if (left <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, left);
    };
  }
}
