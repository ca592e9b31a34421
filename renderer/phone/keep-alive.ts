/**
 * Notices a dead connection to the PBX within seconds. A WebSocket whose network has gone (sleep, Wi-Fi change,
 * a NAT that forgot the flow) often reports nothing until something is sent, so every `intervalMs` the phone
 * sends an OPTIONS to its registrar; no response within `timeoutMs` means the connection is dead, and it is
 * replaced, with exponential backoff and jitter between attempts while the PBX stays out of reach. `nudge()`
 * checks at once (the browser came back online, the computer woke up, the page became visible).
 */
export interface KeepAliveTarget {
  /** Sends a ping; resolves true when any response arrived (even an error status), false when none did. */
  ping(timeoutMs: number): Promise<boolean>;
  /** Drops the connection and opens a new one (which registers again). */
  reconnect(): void;
}

export interface KeepAliveOptions {
  intervalMs?: number;
  timeoutMs?: number;
  /** Longest wait between reconnect attempts. */
  maxBackoffMs?: number;
  random?: () => number;
  setTimer?: (callback: () => void, ms: number) => unknown;
  clearTimer?: (timer: unknown) => void;
}

export class KeepAlive {
  private timer: unknown;
  private running = false;
  private checking = false;
  private failures = 0;
  private readonly intervalMs: number;
  private readonly timeoutMs: number;
  private readonly maxBackoffMs: number;
  private readonly random: () => number;
  private readonly setTimer: (callback: () => void, ms: number) => unknown;
  private readonly clearTimer: (timer: unknown) => void;

  constructor(
    private readonly target: KeepAliveTarget,
    options: KeepAliveOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 15_000;
    this.timeoutMs = options.timeoutMs ?? 5_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 30_000;
    this.random = options.random ?? Math.random;
    this.setTimer = options.setTimer ?? ((callback, ms) => setTimeout(callback, ms));
    this.clearTimer = options.clearTimer ?? ((timer) => clearTimeout(timer as ReturnType<typeof setTimeout>));
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(this.intervalMs);
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = undefined;
  }

  /** Checks the connection now instead of at the next interval. */
  nudge(): void {
    if (!this.running) return;
    this.schedule(0);
  }

  /** How long to wait after `failures` failed checks in a row: 2 s, 4 s, 8 s … up to the cap, ±20 %. */
  backoffMs(failures: number): number {
    const base = Math.min(this.maxBackoffMs, 1_000 * 2 ** Math.min(failures, 16));
    return Math.round(base * (0.8 + 0.4 * this.random()));
  }

  private schedule(ms: number): void {
    if (this.timer !== undefined) this.clearTimer(this.timer);
    this.timer = this.setTimer(() => void this.check(), ms);
  }

  private async check(): Promise<void> {
    this.timer = undefined;
    if (!this.running || this.checking) return;
    this.checking = true;
    let alive = false;
    try {
      alive = await this.target.ping(this.timeoutMs);
    } catch {
      alive = false;
    } finally {
      this.checking = false;
    }
    if (!this.running) return;
    if (alive) {
      this.failures = 0;
      this.schedule(this.intervalMs);
      return;
    }
    this.failures += 1;
    this.target.reconnect();
    this.schedule(this.backoffMs(this.failures));
  }
}
