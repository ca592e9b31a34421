/**
 * Keeps the phone's signalling connection to the PBX alive and registered, whatever the network and the
 * computer do to it. It knows nothing of JsSIP: the adapter hands it a `SignallingLink` and reports what the
 * connection does.
 *
 * - A WebSocket can look open long after the path under it died (sleep, a Wi-Fi change, a NAT that forgot us),
 *   so every KEEPALIVE_INTERVAL_MS an OPTIONS goes to the registrar; no answer within KEEPALIVE_TIMEOUT_MS and
 *   the socket is dropped and replaced.
 * - A connection that fails is retried after `reconnectDelayMs`: exponential with jitter, capped, so that every
 *   phone of a PBX that restarts does not come back in the same instant.
 * - A wake signal (the network came back, the computer resumed, the page became visible) checks at once
 *   rather than waiting for the next keep-alive, and registers again.
 */
import { createLogger } from '../log';

const log = createLogger('connection');

export const KEEPALIVE_INTERVAL_MS = 15_000;
export const KEEPALIVE_TIMEOUT_MS = 5_000;
export const RECONNECT_BASE_MS = 1_000;
export const RECONNECT_CAP_MS = 30_000;
/** A socket that neither opens nor fails within this long is given up and retried. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** Wake signals tend to come in bursts (online, then visible, then resume); one check serves them all. */
export const WAKE_SETTLE_MS = 1_000;

/** Why the renderer asks for a check: what the browser or the desktop shell just told it. */
export type WakeReason = 'online' | 'offline' | 'visible' | 'resume';

/**
 * How long to wait before reconnect attempt `attempt` (1 for the first retry): the ceiling doubles from
 * RECONNECT_BASE_MS up to RECONNECT_CAP_MS, and the wait is drawn from the upper half of it ("equal jitter"), so
 * retries spread out without ever coming back at once.
 */
export function reconnectDelayMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(RECONNECT_CAP_MS, RECONNECT_BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** The connection as the keeper drives it. */
export interface SignallingLink {
  isConnected(): boolean;
  /** Sends an OPTIONS to the registrar; `done(true)` when any response arrives, `done(false)` when it cannot. */
  probe(done: (answered: boolean) => void): void;
  /** Opens a new socket; the adapter reports `connected()` or `disconnected()` when it has. */
  connect(): void;
  /** Closes the socket without waiting for it (it may be dead); reported back as nothing. */
  drop(): void;
  register(): void;
}

export interface KeeperClock {
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  random(): number;
}

const realClock: KeeperClock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  random: () => Math.random(),
};

type KeeperState = 'idle' | 'connecting' | 'waiting' | 'up' | 'stopped';

export class ConnectionKeeper {
  private state: KeeperState = 'idle';
  /** Failed connection attempts in a row. */
  private attempts = 0;
  private registerAttempts = 0;
  private timer: unknown;
  private probeTimer: unknown;
  private registerTimer: unknown;
  /** Increases with every probe so that a late answer to an old one counts for nothing. */
  private probeSerial = 0;
  private probing = false;
  /** Set while we close the socket ourselves, so that its closing is not taken for a failure. */
  private dropping = false;
  private lastWake = -Infinity;

  constructor(
    private readonly link: SignallingLink,
    private readonly clock: KeeperClock = realClock,
  ) {}

  /** The phone is starting its first connection. */
  start(): void {
    if (this.state !== 'idle') return;
    this.state = 'connecting';
    this.armConnectTimeout();
  }

  stop(): void {
    this.state = 'stopped';
    this.clearTimers();
  }

  get reconnectAttempts(): number {
    return this.attempts;
  }

  connected(): void {
    if (this.state === 'stopped') return;
    this.state = 'up';
    this.attempts = 0;
    this.clearTimer();
    this.scheduleKeepalive();
  }

  disconnected(): void {
    if (this.dropping || this.state === 'stopped' || this.state === 'waiting') return;
    this.endProbe();
    this.scheduleReconnect();
  }

  registered(): void {
    this.registerAttempts = 0;
    this.clock.clearTimeout(this.registerTimer);
    this.registerTimer = undefined;
  }

  /**
   * The registrar turned us down. Credentials it refused stay refused (`transient` false); anything else (a
   * timeout, a 5xx from a PBX still starting) is tried again with the same backoff as a connection.
   */
  registrationFailed(transient: boolean): void {
    if (this.state !== 'up' || !transient) return;
    this.registerAttempts += 1;
    const delay = reconnectDelayMs(this.registerAttempts, () => this.clock.random());
    log.info('registering again later', { attempt: this.registerAttempts, delayMs: delay });
    this.clock.clearTimeout(this.registerTimer);
    this.registerTimer = this.clock.setTimeout(() => {
      this.registerTimer = undefined;
      if (this.state === 'up') this.link.register();
    }, delay);
  }

  /** Something suggests the connection may have changed under us: check it now and register again. */
  wake(reason: WakeReason): void {
    if (this.state === 'idle' || this.state === 'stopped') return;
    const now = this.clock.now();
    if (now - this.lastWake < WAKE_SETTLE_MS) return;
    this.lastWake = now;
    log.debug('wake', { reason, state: this.state });
    if (this.state === 'up') {
      this.probe(() => this.link.register());
    } else if (this.state === 'waiting' && reason !== 'offline') {
      // No point waiting out the backoff now that the network (or the computer) is back.
      this.clearTimer();
      this.connectNow();
    }
  }

  private scheduleKeepalive(): void {
    this.clearTimer();
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.state !== 'up') return;
      this.probe();
      this.scheduleKeepalive();
    }, KEEPALIVE_INTERVAL_MS);
  }

  private probe(onAnswer?: () => void): void {
    if (this.probing) return;
    this.probing = true;
    const serial = ++this.probeSerial;
    const settle = (answered: boolean) => {
      if (serial !== this.probeSerial || !this.probing) return;
      this.endProbe();
      if (this.state !== 'up') return;
      if (answered) {
        onAnswer?.();
        return;
      }
      log.warn('the PBX did not answer the keep-alive; replacing the connection');
      this.replace();
    };
    this.probeTimer = this.clock.setTimeout(() => settle(false), KEEPALIVE_TIMEOUT_MS);
    this.link.probe(settle);
  }

  private endProbe(): void {
    this.probing = false;
    this.probeSerial += 1;
    this.clock.clearTimeout(this.probeTimer);
    this.probeTimer = undefined;
  }

  /** Drops a socket that stopped answering and opens a new one at once: the network is most likely fine again. */
  private replace(): void {
    this.clearTimer();
    this.drop();
    this.connectNow();
  }

  private drop(): void {
    this.dropping = true;
    try {
      this.link.drop();
    } finally {
      this.dropping = false;
    }
  }

  private scheduleReconnect(): void {
    this.clearTimer();
    this.attempts += 1;
    const delay = reconnectDelayMs(this.attempts, () => this.clock.random());
    log.info('reconnecting', { attempt: this.attempts, delayMs: delay });
    this.state = 'waiting';
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.state === 'waiting') this.connectNow();
    }, delay);
  }

  private connectNow(): void {
    this.state = 'connecting';
    this.link.connect();
    // connect() may have reported back already (a socket refused at once).
    if (this.state === 'connecting') this.armConnectTimeout();
  }

  private armConnectTimeout(): void {
    this.clearTimer();
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      if (this.state !== 'connecting' || this.link.isConnected()) return;
      log.warn('the connection did not open in time');
      this.drop();
      this.scheduleReconnect();
    }, CONNECT_TIMEOUT_MS);
  }

  private clearTimer(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private clearTimers(): void {
    this.clearTimer();
    this.endProbe();
    this.clock.clearTimeout(this.registerTimer);
    this.registerTimer = undefined;
  }
}
