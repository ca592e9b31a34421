/**
 * The serve command's last line of defence. Every failure at the SIP edge is contained where it happens
 * (sip/endpoint.ts, sip/edge/faults.ts), but a promise nobody awaits or a throw in a timer callback would still
 * reach the process, and Node's default for either is to exit: every call up ends with no BYE and no call
 * record, which a peer that found such a path could repeat at will. Here such an error is reported (with a
 * budget of log lines, log-burst.ts), counted, and the process goes on serving.
 *
 * Node's documentation warns that state after an uncaught exception may be inconsistent. What such an
 * exception can leave inconsistent is the one call or request it came from; exiting would lose all of them
 * at once. Signals are not touched: SIGTERM and SIGINT keep their clean shutdown (cli.ts).
 */
import { createLogger } from './log';
import { DEFAULT_LOG_BURST_LIMITS, LogBurst } from './util/log-burst';
import type { LogBurstLimits } from './util/log-burst';

const log = createLogger('process');

export interface ProcessGuardCounts {
  unhandledRejections: number;
  uncaughtExceptions: number;
}

export interface ProcessGuard {
  /** What reached the process so far: a copy. */
  readonly counts: ProcessGuardCounts;
  /** Takes the handlers away again (tests, and a process that wants Node's default back). */
  uninstall(): void;
}

/** The events the guard listens to, so a test can hand in an emitter of its own. */
export interface GuardedProcess {
  on(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  on(event: 'uncaughtException', listener: (error: Error) => void): unknown;
  off(event: 'unhandledRejection', listener: (reason: unknown) => void): unknown;
  off(event: 'uncaughtException', listener: (error: Error) => void): unknown;
}

export function installProcessGuard(target: GuardedProcess = process, limits: LogBurstLimits = DEFAULT_LOG_BURST_LIMITS): ProcessGuard {
  const counts: ProcessGuardCounts = { unhandledRejections: 0, uncaughtExceptions: 0 };
  const lines = new LogBurst(limits);
  const report = (kind: keyof ProcessGuardCounts, what: string, error: unknown) => {
    counts[kind] += 1;
    try {
      if (!lines.admit(kind, (dropped) => log.error(`${dropped} more were counted but not logged`, { kind, dropped }))) return;
      log.error(`${what}; the PBX goes on`, { kind, count: counts[kind], ...describe(error) });
    } catch {
      // Reporting must not throw from inside the handler that exists to stop throws.
    }
  };
  const onRejection = (reason: unknown) => report('unhandledRejections', 'a promise was rejected and nobody handled it', reason);
  const onException = (error: Error) => report('uncaughtExceptions', 'an exception reached the process', error);
  target.on('unhandledRejection', onRejection);
  target.on('uncaughtException', onException);
  return {
    get counts() {
      return { ...counts };
    },
    uninstall() {
      target.off('unhandledRejection', onRejection);
      target.off('uncaughtException', onException);
    },
  };
}

function describe(error: unknown): { error: string; stack?: string } {
  if (!(error instanceof Error)) return { error: String(error) };
  return error.stack ? { error: error.message, stack: error.stack } : { error: error.message };
}
