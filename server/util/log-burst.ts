/**
 * A budget of log lines per kind and window, for failures a peer can cause at will: the first `burst` of a
 * kind in each window are written, the rest only counted, and the first line of the next window is preceded
 * by how many were left out. A flood then costs a few lines a minute, and the log still says it happened.
 */

export interface LogBurstLimits {
  /** Lines per kind within one window. */
  burst: number;
  windowMs: number;
}

export const DEFAULT_LOG_BURST_LIMITS: LogBurstLimits = { burst: 20, windowMs: 60_000 };

interface Window {
  startedAt: number;
  written: number;
  dropped: number;
}

export class LogBurst {
  private readonly windows = new Map<string, Window>();

  constructor(
    private readonly limits: LogBurstLimits = DEFAULT_LOG_BURST_LIMITS,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Whether a line of `kind` may be written now. When a new window begins after one that left lines out,
   * `dropped` is told how many first.
   */
  admit(kind: string, dropped: (count: number) => void): boolean {
    const now = this.now();
    let window = this.windows.get(kind);
    if (!window || now - window.startedAt >= this.limits.windowMs) {
      if (window && window.dropped > 0) dropped(window.dropped);
      window = { startedAt: now, written: 0, dropped: 0 };
      this.windows.set(kind, window);
    }
    if (window.written >= this.limits.burst) {
      window.dropped += 1;
      return false;
    }
    window.written += 1;
    return true;
  }
}
