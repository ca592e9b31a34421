/**
 * What went wrong at the SIP edge, counted, and logged sparingly. Every failure there is contained to the
 * one message or datagram it concerns (the PBX goes on serving everyone else), so a failure must leave a
 * trace someone can read: a count per kind, which a soak or an operator can print (`SipEndpoint.faults`),
 * and one log line per failure, with its source, up to a burst per kind and window. Whoever can make the
 * PBX fail at will (a hostile Via, say) must not be able to fill its log as well: beyond the burst, lines are
 * only counted, and the next line says how many were left out.
 */
import { createLogger } from '../../log';
import type { LogLevel } from '../../log';
import { DEFAULT_LOG_BURST_LIMITS, LogBurst } from '../../util/log-burst';
import type { LogBurstLimits } from '../../util/log-burst';

const log = createLogger('sip-faults');

/**
 * - unusableDestination: a datagram for an address or port nothing can be sent to (port 0, a name, a
 *   multicast or broadcast address, the other address family), dropped.
 * - sendFailed: a write or datagram the system refused, or a flow already closed under it.
 * - malformed: a message that did not parse (answered with 400 where it can be addressed).
 * - messageFailed: handling one message threw; nothing else was affected.
 * - handlerFailed: the application's work on a request failed (a rejected promise); answered with 500.
 */
export const SIP_FAULT_KINDS = ['unusableDestination', 'sendFailed', 'malformed', 'messageFailed', 'handlerFailed'] as const;
export type SipFaultKind = (typeof SIP_FAULT_KINDS)[number];

/** How loudly each kind is logged: what a hostile or careless peer causes is routine, what our code does is not. */
const LEVELS: Record<SipFaultKind, Exclude<LogLevel, 'silent'>> = {
  unusableDestination: 'info',
  sendFailed: 'debug',
  malformed: 'debug',
  messageFailed: 'error',
  handlerFailed: 'error',
};

const MESSAGES: Record<SipFaultKind, string> = {
  unusableDestination: 'dropped a datagram for an unusable destination',
  sendFailed: 'could not send',
  malformed: 'malformed message',
  messageFailed: 'handling a message failed; it alone is dropped',
  handlerFailed: 'a request handler failed; answered 500',
};

export class SipFaults {
  private readonly counts: Record<SipFaultKind, number> = { unusableDestination: 0, sendFailed: 0, malformed: 0, messageFailed: 0, handlerFailed: 0 };
  private readonly lines: LogBurst;

  /** `limits`: log lines per kind and window (beyond them faults are only counted). */
  constructor(limits: LogBurstLimits = DEFAULT_LOG_BURST_LIMITS, now: () => number = Date.now) {
    this.lines = new LogBurst(limits, now);
  }

  /** Counts one fault and logs it, unless this kind has had its burst of lines in this window. Never throws. */
  record(kind: SipFaultKind, fields: Record<string, unknown>): void {
    this.counts[kind] += 1;
    try {
      if (this.lines.admit(kind, (dropped) => log.info(`${dropped} more faults of this kind were counted but not logged`, { kind, dropped }))) {
        log[LEVELS[kind]](MESSAGES[kind], { kind, ...fields });
      }
    } catch {
      // A field that cannot be written must not turn a contained failure into an uncontained one.
    }
  }

  /** The counts so far, by kind: a copy. */
  get snapshot(): Record<SipFaultKind, number> {
    return { ...this.counts };
  }

  count(kind: SipFaultKind): number {
    return this.counts[kind];
  }

  /** Logs the counts so far (at shutdown): what an operator, or the soak benchmark, reads of a run. */
  report(): void {
    log.info('counts', this.snapshot);
  }
}
