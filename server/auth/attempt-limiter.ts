/**
 * How many password guesses an address and an account may have. One limiter stands behind both front doors,
 * SIP digest authentication (sip/edge/authenticator.ts, through sip/edge/security.ts) and REST sign-in
 * (api/routes/session.ts, through auth/sign-in-guard.ts), so a guess costs the same wherever it comes in, and
 * failures at one door slow guessing at the other.
 *
 * An attempt is one check of a password or digest response that an address (`source`) makes for an account
 * (`account`, see accountKey: the organization's domain and the extension). An extension that does not exist is
 * keyed, counted and refused exactly like one that does, so the limits tell nobody which extensions exist.
 * Three limits, each for what it protects:
 *
 * 1. The pair (address, account): `authFailuresBeforeBan` failures within `authFailureWindowMs` ban the pair for
 *    `banMs`. A phone with a stale password is stopped alone; its neighbours behind the same NAT are not.
 * 2. The address as a whole: failures at `sprayAccountsBeforeBan` different accounts within `authFailureWindowMs`
 *    ban the address for `banMs`. That is a spray over accounts (or a hunt for extensions), not a confused
 *    device. What the ban means for SIP traffic other than password checks is security.ts's business.
 * 3. The account, whoever guesses: its first `accountFreeFailures` failures cost nothing; from then on each
 *    failure makes the account wait `accountDelayBaseMs`·2^n (n = 0 for the first failure beyond the free ones),
 *    at most `accountDelayMaxMs`, before the next attempt is checked, and only one attempt at a time is checked.
 *    Attempts in progress count against the free failures, so a thousand guesses sent at once are not all let
 *    through before the first of them has failed. The count is forgotten after `accountFailureMemoryMs` without
 *    a failure. This is what holds guessing spread over many addresses.
 *
 * A refused attempt is not checked at all (no hash, no scrypt) and not counted. So as not to lock out the innocent:
 * - an address that authenticated successfully as an account within `knownDeviceMs` (a known device) is held
 *   neither by the account's delay nor by a ban of the address as a whole: both are caused by others. A pair ban
 *   still holds it, since behind a shared address the guesser may be a neighbour;
 * - an attempt its caller vouches for (`proven`: a SIP flow that has already authenticated as this account, that
 *   is the registered phone itself) is never refused, though its failures count;
 * - trusted sources (an edge proxy, a load generator) are neither refused nor counted.
 *
 * Memory is bounded: each map is an LRU of at most `maxTrackedSources` entries. Evicting an account's state ends
 * its delay early, which takes that many fresh failures elsewhere in between, each limited in turn.
 */
import { createLogger } from '../log';
import { normalizeDomain } from '../util/domain-name';
import { LruMap } from '../util/lru-map';

const log = createLogger('attempt-limiter');

export interface AttemptLimitOptions {
  /** Failures one address may have at one account within `authFailureWindowMs` before that pair is banned. */
  authFailuresBeforeBan: number;
  authFailureWindowMs: number;
  /** Different accounts (existing or not) one address may fail at within `authFailureWindowMs` before it is banned. */
  sprayAccountsBeforeBan: number;
  /** How long a ban of a pair or of an address lasts. */
  banMs: number;
  /** Failures an account may have, from anywhere, before its attempts are delayed. */
  accountFreeFailures: number;
  /** The first delay; each further failure doubles it. */
  accountDelayBaseMs: number;
  accountDelayMaxMs: number;
  /** An account's failures are forgotten after this long without one. */
  accountFailureMemoryMs: number;
  /** How long a successful attempt makes its address a known device of the account. */
  knownDeviceMs: number;
  /** Most entries in each map (addresses, pairs, accounts). */
  maxTrackedSources: number;
  /** Addresses never limited nor counted. */
  trustedSources: readonly string[];
  now: () => number;
}

export const DEFAULT_ATTEMPT_LIMITS: AttemptLimitOptions = {
  authFailuresBeforeBan: 10,
  authFailureWindowMs: 60_000,
  sprayAccountsBeforeBan: 5,
  banMs: 10 * 60_000,
  accountFreeFailures: 5,
  accountDelayBaseMs: 1_000,
  accountDelayMaxMs: 10 * 60_000,
  accountFailureMemoryMs: 60 * 60_000,
  knownDeviceMs: 30 * 24 * 60 * 60_000,
  maxTrackedSources: 50_000,
  trustedSources: [],
  now: Date.now,
};

/** The key of an account for the limiter, the same at both front doors: domain (as normalised) and extension. */
export function accountKey(domain: string, extension: string): string {
  return `${normalizeDomain(domain)} ${extension}`;
}

export interface Attempt {
  /** The address the attempt came from. */
  source: string;
  /** accountKey of the account it claims. */
  account: string;
  /** The caller vouches that this very device has already authenticated as the account (see the header). */
  proven?: boolean;
}

/** Which limit refused an attempt: the pair's ban, the address's ban, or the account's delay. */
export type RefusalReason = 'pair' | 'address' | 'account';

/** An admitted attempt, to be settled exactly once with failed, succeeded or abandoned. */
export interface AttemptTicket {
  readonly source: string;
  readonly account: string;
}

export type Admission =
  | { admitted: true; ticket: AttemptTicket }
  | { admitted: false; reason: RefusalReason; retryAfterMs: number };

interface Ticket extends AttemptTicket {
  settled: boolean;
  /** Whether it holds one of the account's places for attempts in progress. */
  counted: boolean;
}

interface AccountState {
  failures: number;
  lastFailureAt: number;
  /** No attempt (but a known device's) is checked before this time. */
  waitUntil: number;
  inFlight: number;
}

/** Above this many doublings the delay is at its cap anyway; keeps 2^n finite. */
const MAX_DOUBLINGS = 40;

export class AttemptLimiter {
  readonly options: AttemptLimitOptions;
  private readonly trusted: ReadonlySet<string>;
  /** `source|account` → times of its recent failures, at most authFailuresBeforeBan of them. */
  private readonly pairFailures: LruMap<string, number[]>;
  /** `source|account` → when its ban ends. */
  private readonly pairBans: LruMap<string, number>;
  /** Source → the accounts it failed at recently, and when last. */
  private readonly sprays: LruMap<string, Map<string, number>>;
  /** Source → when its ban ends. */
  private readonly sourceBans: LruMap<string, number>;
  private readonly accounts: LruMap<string, AccountState>;
  /** `source|account` → when the source last authenticated as the account. */
  private readonly knownDevices: LruMap<string, number>;

  constructor(options: Partial<AttemptLimitOptions> = {}) {
    this.options = { ...DEFAULT_ATTEMPT_LIMITS, ...options };
    const { authFailuresBeforeBan, authFailureWindowMs, sprayAccountsBeforeBan, banMs, accountFreeFailures, accountDelayBaseMs, accountDelayMaxMs, accountFailureMemoryMs, knownDeviceMs, maxTrackedSources } = this.options;
    const positive = { authFailuresBeforeBan, authFailureWindowMs, sprayAccountsBeforeBan, banMs, accountDelayBaseMs, accountDelayMaxMs, accountFailureMemoryMs, maxTrackedSources };
    for (const [name, value] of Object.entries(positive)) {
      if (!(value > 0)) throw new Error(`security option ${name} must be positive, got ${value}`);
    }
    if (!(accountFreeFailures >= 1) || !Number.isInteger(accountFreeFailures)) throw new Error(`security option accountFreeFailures must be a whole number of at least 1, got ${accountFreeFailures}`);
    if (!(knownDeviceMs >= 0)) throw new Error(`security option knownDeviceMs must not be negative, got ${knownDeviceMs}`);
    this.trusted = new Set(this.options.trustedSources);
    this.pairFailures = new LruMap(maxTrackedSources);
    this.pairBans = new LruMap(maxTrackedSources);
    this.sprays = new LruMap(maxTrackedSources);
    this.sourceBans = new LruMap(maxTrackedSources);
    this.accounts = new LruMap(maxTrackedSources);
    this.knownDevices = new LruMap(maxTrackedSources);
  }

  /** Whether the attempt may be checked now; if so, its ticket must be settled once the check is done. */
  admit(attempt: Attempt): Admission {
    const { source, account } = attempt;
    const now = this.options.now();
    if (this.trusted.has(source)) return { admitted: true, ticket: this.ticket(attempt, false) };
    const state = this.account(account, now);
    if (attempt.proven) return { admitted: true, ticket: this.ticket(attempt, true, state) };
    const pairBan = this.until(this.pairBans, pairKey(source, account), now);
    if (pairBan !== undefined) return { admitted: false, reason: 'pair', retryAfterMs: pairBan - now };
    const known = this.isKnownDevice(source, account);
    const sourceBan = known ? undefined : this.until(this.sourceBans, source, now);
    if (sourceBan !== undefined) return { admitted: false, reason: 'address', retryAfterMs: sourceBan - now };
    if (!known && state) {
      if (state.waitUntil > now) return { admitted: false, reason: 'account', retryAfterMs: state.waitUntil - now };
      const free = this.options.accountFreeFailures - state.failures;
      // Beyond the free failures one check at a time; before, no more at once than there are free failures left.
      if (state.inFlight >= Math.max(1, free)) return { admitted: false, reason: 'account', retryAfterMs: this.nextDelay(state.failures + 1) };
    }
    return { admitted: true, ticket: this.ticket(attempt, true, state) };
  }

  /** The check said no: counts against the pair, the address and the account. */
  failed(ticket: AttemptTicket): void {
    const own = this.settle(ticket);
    if (!own || this.trusted.has(own.source)) return;
    const now = this.options.now();
    const { source, account } = own;
    const { authFailuresBeforeBan, authFailureWindowMs, sprayAccountsBeforeBan, banMs, accountFreeFailures } = this.options;

    const key = pairKey(source, account);
    const recent = (this.pairFailures.get(key) ?? []).filter((at) => now - at < authFailureWindowMs);
    recent.push(now);
    if (recent.length >= authFailuresBeforeBan) {
      this.pairFailures.delete(key);
      this.pairBans.set(key, now + banMs);
      log.warn('address banned from one account after repeated authentication failures', { source, account, banMs });
    } else {
      this.pairFailures.set(key, recent);
    }

    const accounts = this.sprays.get(source) ?? new Map<string, number>();
    for (const [each, at] of accounts) if (now - at >= authFailureWindowMs) accounts.delete(each);
    accounts.set(account, now);
    if (accounts.size >= sprayAccountsBeforeBan) {
      this.sprays.delete(source);
      this.sourceBans.set(source, now + banMs);
      log.warn('address banned after authentication failures across many accounts', { source, accounts: accounts.size, banMs });
    } else {
      this.sprays.set(source, accounts);
    }

    const state = this.account(account, now) ?? { failures: 0, lastFailureAt: now, waitUntil: 0, inFlight: 0 };
    state.failures += 1;
    state.lastFailureAt = now;
    if (state.failures >= accountFreeFailures) {
      const delay = this.nextDelay(state.failures);
      state.waitUntil = Math.max(state.waitUntil, now + delay);
      if (state.failures === accountFreeFailures) log.warn('account attempts delayed after repeated authentication failures', { account, delayMs: delay });
      else log.debug('account attempts delayed', { account, failures: state.failures, delayMs: delay });
    }
    this.accounts.set(account, state);
  }

  /** The check said yes: the source becomes a known device of the account. */
  succeeded(ticket: AttemptTicket): void {
    const own = this.settle(ticket);
    if (!own || this.trusted.has(own.source)) return;
    this.knownDevices.set(pairKey(own.source, own.account), this.options.now());
  }

  /** The check did not happen after all (a stale nonce, an error): counts for nothing. */
  abandoned(ticket: AttemptTicket): void {
    this.settle(ticket);
  }

  /** Whether the source authenticated successfully as the account within knownDeviceMs. */
  isKnownDevice(source: string, account: string): boolean {
    const at = this.knownDevices.get(pairKey(source, account));
    return at !== undefined && this.options.now() - at <= this.options.knownDeviceMs;
  }

  /** Whether the address as a whole is banned now. */
  isSourceBanned(source: string): boolean {
    return this.until(this.sourceBans, source, this.options.now()) !== undefined;
  }

  /** Whether this address is banned from this account now. */
  isPairBanned(source: string, account: string): boolean {
    return this.until(this.pairBans, pairKey(source, account), this.options.now()) !== undefined;
  }

  /** Bans an address as a whole (an administrator's decision, or a test's). */
  ban(source: string, ms = this.options.banMs): void {
    this.sourceBans.set(source, this.options.now() + ms);
  }

  /** Lifts the bans of an address, as a whole and from every account, and forgets its failures. */
  unban(source: string): void {
    this.sourceBans.delete(source);
    this.sprays.delete(source);
    const prefix = `${source}|`;
    for (const map of [this.pairBans, this.pairFailures] as Array<LruMap<string, unknown>>) {
      for (const key of [...map.keys()]) if (key.startsWith(prefix)) map.delete(key);
    }
  }

  /** The delay an account's `failures`-th failure starts (the first beyond the free ones waits the base delay). */
  private nextDelay(failures: number): number {
    const { accountFreeFailures, accountDelayBaseMs, accountDelayMaxMs } = this.options;
    const doublings = Math.min(MAX_DOUBLINGS, Math.max(0, failures - accountFreeFailures));
    return Math.min(accountDelayMaxMs, accountDelayBaseMs * 2 ** doublings);
  }

  /** The account's state, with failures forgotten once accountFailureMemoryMs has passed without one. */
  private account(account: string, now: number): AccountState | undefined {
    const state = this.accounts.get(account);
    if (state && state.failures > 0 && now - state.lastFailureAt >= this.options.accountFailureMemoryMs) {
      state.failures = 0;
      state.waitUntil = 0;
    }
    return state;
  }

  private ticket(attempt: Attempt, counted: boolean, state?: AccountState): Ticket {
    if (counted) {
      const tracked = state ?? { failures: 0, lastFailureAt: 0, waitUntil: 0, inFlight: 0 };
      tracked.inFlight += 1;
      this.accounts.set(attempt.account, tracked);
    }
    return { source: attempt.source, account: attempt.account, settled: false, counted };
  }

  /** Marks a ticket settled and gives back its place; undefined when it was settled already or is not ours. */
  private settle(ticket: AttemptTicket): Ticket | undefined {
    const own = ticket as Ticket;
    if (own.settled !== false) return undefined;
    own.settled = true;
    if (own.counted) {
      const state = this.accounts.get(own.account);
      if (state) state.inFlight = Math.max(0, state.inFlight - 1);
    }
    return own;
  }

  private until(map: LruMap<string, number>, key: string, now: number): number | undefined {
    const until = map.get(key);
    if (until === undefined) return undefined;
    if (until > now) return until;
    map.delete(key);
    return undefined;
  }
}

function pairKey(source: string, account: string): string {
  // An address holds no '|', so the key splits one way only.
  return `${source}|${account}`;
}
