/**
 * Time as the transaction layer sees it: a clock that can be replaced in tests, and the RFC 3261 §17 timer
 * values derived from T1, T2 and T4 (Table 4 of RFC 3261 §A).
 */

export interface TimerHandle {
  cancel(): void;
}

export interface Clock {
  now(): number;
  /** Runs `fire` once after `ms`; the handle cancels it. */
  schedule(ms: number, fire: () => void): TimerHandle;
}

/** A Node timer as a handle (the timer itself, rather than a closure over it, for each of thousands). */
class NodeTimer implements TimerHandle {
  constructor(private readonly timer: NodeJS.Timeout) {}

  cancel(): void {
    clearTimeout(this.timer);
  }
}

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(ms, fire) {
    const timer = setTimeout(fire, ms);
    // Pending retransmissions never keep the process alive on their own.
    timer.unref();
    return new NodeTimer(timer);
  },
};

export interface TimerValues {
  /** RTT estimate (RFC 3261 §17.1.1.1). */
  t1: number;
  /** Longest retransmit interval for non-INVITE requests and INVITE responses. */
  t2: number;
  /** Longest time a message stays in the network. */
  t4: number;
}

export const DEFAULT_TIMERS: TimerValues = { t1: 500, t2: 4_000, t4: 5_000 };

/** 64·T1: Timers B, F, H, J (unreliable) and the RFC 6026 Timers L and M. */
export function transactionTimeout(timers: TimerValues): number {
  return 64 * timers.t1;
}

/** RFC 3261 §17.1.1.2: Timer D is at least 32 s over unreliable transports. */
export function timerD(timers: TimerValues): number {
  return Math.max(32_000, transactionTimeout(timers));
}
