/**
 * The mixer's one 20 ms clock. A timer fires when the next frame is due; each firing mixes every frame
 * whose time has come, so a late timer (a busy event loop) costs delay, not frames: the participants keep
 * sending 50 packets a second, and a mixer that fell behind would otherwise fill their jitter buffers until
 * they drop. Past `maxCatchUp` frames behind (the process was stopped, the machine slept) it gives up the
 * missed frames and carries on from now. The time source and timers are injected, so tests run on a fake
 * clock.
 */

export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number;
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

export interface TickerStats {
  ticks: number;
  /** Frames given up because the timer came more than maxCatchUp frames late. */
  skipped: number;
  /** How late the last timer fired, in ms after the frame it was set for. */
  lastLateMs: number;
}

export class Ticker {
  private timer: unknown;
  private due = 0;
  private running = false;
  readonly stats: TickerStats = { ticks: 0, skipped: 0, lastLateMs: 0 };

  constructor(
    private readonly clock: Clock,
    private readonly periodMs: number,
    private readonly onTick: () => void,
    private readonly maxCatchUp = 5,
  ) {}

  get isRunning(): boolean {
    return this.running;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.due = this.clock.now() + this.periodMs;
    this.schedule();
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    this.timer = this.clock.setTimeout(() => this.fire(), Math.max(0, this.due - this.clock.now()));
  }

  private fire(): void {
    if (!this.running) return;
    const now = this.clock.now();
    this.stats.lastLateMs = Math.max(0, now - this.due);
    let behind = Math.floor((now - this.due) / this.periodMs) + 1;
    if (behind > this.maxCatchUp) {
      this.stats.skipped += behind - 1;
      this.due += (behind - 1) * this.periodMs;
      behind = 1;
    }
    for (let i = 0; i < behind && this.running; i++) {
      this.stats.ticks++;
      this.due += this.periodMs;
      this.onTick();
    }
    if (this.running) this.schedule();
  }
}
