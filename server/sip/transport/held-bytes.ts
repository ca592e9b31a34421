/**
 * The bytes of SIP requests the endpoint holds, per source address and in all: requests in server
 * transactions still pending or waiting for their ACK, the responses that lingering transactions keep to
 * send again, and what stream connections hold of a message not yet framed. Counting requests is not
 * enough: a source within its transaction limits that sends 60 KB requests holds a thousand times what one
 * that sends REGISTERs does. Beyond the budget the endpoint refuses new requests (503 with Retry-After) and
 * stream connections stop reading, so memory stops growing there.
 */
import { createLogger } from '../../log';
import type { PreparedMessage } from './connection';
import type { SipMessage } from '../syntax/message';

const log = createLogger('sip-bytes');

/** A refusal for the budget is logged at most this often, with how many there were since. */
const REFUSAL_LOG_EVERY_MS = 10_000;

export interface HeldBytesLimits {
  /** Bytes held for one source address (a trusted source has no limit of its own). */
  maxBytesPerSource: number;
  /** Bytes held for every source together. */
  maxBytes: number;
}

export const DEFAULT_HELD_BYTES_LIMITS: HeldBytesLimits = {
  maxBytesPerSource: 4 * 1024 * 1024,
  maxBytes: 256 * 1024 * 1024,
};

export class HeldBytes {
  private readonly bySource = new Map<string, number>();
  /** What each holder (a server transaction) was counted for, to be released with it. */
  private readonly byHolder = new Map<object, { source: string; bytes: number }>();
  private held = 0;
  private highest = 0;
  private refusalLoggedAt = -Infinity;
  private refusals = 0;

  constructor(
    readonly limits: HeldBytesLimits,
    private readonly now: () => number = Date.now,
  ) {
    for (const [key, value] of Object.entries(limits)) {
      if (!(value >= 0)) throw new Error(`byte budget ${key} must be a number of bytes, got ${value}`);
    }
  }

  /** Bytes held now, for every source. */
  get total(): number {
    return this.held;
  }

  /** The most ever held at once: what a soak or a test reads to see that the budget held. */
  get peak(): number {
    return this.highest;
  }

  /** Sources holding anything. */
  get sources(): number {
    return this.bySource.size;
  }

  of(source: string): number {
    return this.bySource.get(source) ?? 0;
  }

  /** Whether `bytes` more fit in all. */
  fitsTotal(bytes: number): boolean {
    return this.held + bytes <= this.limits.maxBytes;
  }

  /** Whether `bytes` more fit for `source` and in all; `trusted` sources have only the total. */
  fits(source: string, bytes: number, trusted = false): boolean {
    return this.fitsTotal(bytes) && (trusted || this.of(source) + bytes <= this.limits.maxBytesPerSource);
  }

  /** Whether `source` holds more than its share, or everyone together more than the total. */
  over(source: string, trusted = false): boolean {
    return this.held > this.limits.maxBytes || (!trusted && this.of(source) > this.limits.maxBytesPerSource);
  }

  /** Counts bytes held for `source`, whether they fit or not (what is already in memory is counted as such). */
  charge(source: string, bytes: number): void {
    if (bytes <= 0) return;
    this.bySource.set(source, this.of(source) + bytes);
    this.held += bytes;
    if (this.held > this.highest) this.highest = this.held;
  }

  /** Counts what `holder` holds for `source`, until `drop(holder)`. */
  hold(holder: object, source: string, bytes: number): void {
    this.byHolder.set(holder, { source, bytes });
    this.charge(source, bytes);
  }

  /** Uncounts what `holder` was counted for; nothing the second time. */
  drop(holder: object): void {
    const held = this.byHolder.get(holder);
    if (!held) return;
    this.byHolder.delete(holder);
    this.release(held.source, held.bytes);
  }

  /** A request of `bytes` from `source` refused for the budget: logged now and then, with how many since. */
  refused(source: string, bytes: number): void {
    this.refusals++;
    const now = this.now();
    if (now - this.refusalLoggedAt < REFUSAL_LOG_EVERY_MS) return;
    log.warn('byte budget reached, refusing requests', { source, bytes, heldFromSource: this.of(source), held: this.held, ...this.limits, refused: this.refusals });
    this.refusalLoggedAt = now;
    this.refusals = 0;
  }

  /** Uncounts bytes `charge` counted for `source`. */
  release(source: string, bytes: number): void {
    if (bytes <= 0) return;
    const left = this.of(source) - bytes;
    if (left <= 0) this.bySource.delete(source);
    else this.bySource.set(source, left);
    this.held = Math.max(0, this.held - bytes);
  }
}

/**
 * The size of a message as it came on the wire, near enough: start line, each header line and the body. The
 * parsed message holds about as much (header values are strings of the same length), and counting this way
 * costs nothing like serializing it again would.
 */
export function messageBytes(message: SipMessage): number {
  // 'METHOD uri SIP/2.0' or 'SIP/2.0 200 reason', its CRLF, and the empty line before the body.
  let bytes = message.body.length + (message.kind === 'request' ? message.method.length + message.uri.length + 9 : message.reason.length + 12) + 4;
  for (const [name, value] of message.headers.entries()) bytes += name.length + value.length + 4;
  return bytes;
}

/** What a message kept to be sent again counts: its bytes, or its size for a flow that keeps it unserialized. */
export function preparedBytes(prepared: PreparedMessage | undefined): number {
  if (!prepared) return 0;
  return prepared.data?.length ?? (prepared.message ? messageBytes(prepared.message) : 0);
}
