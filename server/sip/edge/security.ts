/**
 * Protection of the SIP edge against hostile traffic.
 *
 * Every new request passes `SipSecurity.guard` before it is dispatched:
 *
 * - a request whose User-Agent names a known scanner (friendly-scanner, sipvicious, sipcli, sip-scan,
 *   VaxSIPUserAgent, ...) is dropped silently. Scanners look for servers that answer; silence tells them
 *   nothing, a 403 would confirm a live PBX. The source is not banned for it: a User-Agent is trivially
 *   forged, and a ban would let anyone lock out a shared address by sending one such request;
 * - each source has a token bucket for requests; beyond it requests are dropped silently, since answering
 *   a flood costs us as much as the flood;
 * - a request from a banned address is dropped silently, unless the ban does not apply to it (below).
 *
 * Password guessing is limited by the attempt limiter (auth/attempt-limiter.ts), which REST sign-in shares.
 * The authenticator asks this class (`admit`, then `settle`: the CredentialGate) before it checks a digest
 * response at all. The rule, with the default numbers:
 *
 * 1. Failures are counted per (address, account), the account being the domain and extension claimed, whether
 *    or not it exists. 10 failures of one pair within a minute ban that pair for 10 minutes: the account's
 *    credentials from that address then get 403 unchecked. A phone with a stale password is stopped alone; the
 *    phones beside it behind the same NAT, with their own accounts, go on registering.
 * 2. Failures at 5 different accounts (existing or not) from one address within a minute ban the address as a
 *    whole for 10 minutes: that is a spray over accounts, or a hunt for extensions, not a confused phone.
 * 3. Whoever guesses, each failure of an account beyond its first 5 makes it wait 1 s, 2 s, 4 s, ... up to 10
 *    minutes before its next attempt is checked (503 with Retry-After until then, RFC 3261 §21.5.4), one check
 *    at a time. Guessing spread over many addresses is held here.
 *
 * What a ban of an address does not touch, so that one stale phone or one sprayer behind an office's NAT does
 * not cut the office off:
 * - responses, always read: a phone's 180 and 200 to our INVITE get through whatever its address did;
 * - every message on a flow that something holds: a registration, a call or subscription dialog, a request of
 *   ours awaiting its response (`SipConnection.isHeld`). Only a device that authenticated can make a flow held;
 * - requests within a dialog the call engine knows (a To tag that matches), on any flow (`passesBan`).
 * And what limits 1 and 3 do not hold:
 * - a device checking its own account on a flow where it has already authenticated as that account (the
 *   registered phone itself: `proven`), though its failures count;
 * - for limits 2 and 3, an address that authenticated as the account within 30 days (a known device).
 * Everything else from a banned address is not answered at all. The endpoint asks `isBanned` before it parses
 * anything, and parses a message from a banned address only to find a response or an in-dialog request. It asks
 * `mayAnswer` before it answers a malformed request, which never becomes a transaction. Trusted sources are
 * neither limited nor banned.
 *
 * Memory is bounded: per-source state lives in LRU maps with a cap, so a spoofed-address flood evicts the
 * least recently seen sources (possibly ending a ban early) rather than growing without limit.
 *
 * Whether a caller may reach what they dialled is the dial policy's to say, in the dialplan
 * (routing/dial-policy.ts): it reads users and permissions, which the SIP stack does not know.
 */
import { accountKey, AttemptLimiter, DEFAULT_ATTEMPT_LIMITS } from '../../auth/attempt-limiter';
import type { Admission, AttemptLimitOptions, AttemptTicket } from '../../auth/attempt-limiter';
import { createLogger } from '../../log';
import { LruMap } from '../../util/lru-map';
import type { AttemptOutcome, CredentialGate } from './authenticator';
import type { SipConnection } from '../transport/connection';
import type { SourcePolicy } from '../endpoint';
import { parseNameAddr } from '../syntax/message';
import type { SipMessage, SipRequest } from '../syntax/message';
import type { ServerTransaction } from '../transaction/transactions';

const log = createLogger('sip-security');

/** Substrings (compared without case) of User-Agent values sent by SIP scanning and cracking tools. */
export const SCANNER_USER_AGENTS: readonly string[] = [
  'friendly-scanner',
  'sipvicious',
  'sipcli',
  'sip-scan',
  'sipscan',
  'vaxsipuseragent',
  'iwar',
  'sundayddr',
  'sivus',
  'smap',
  'pplsip',
];

/**
 * The SIP edge's limits. The password-guessing ones (bans, account delays, known devices, trusted sources) are
 * the attempt limiter's (auth/attempt-limiter.ts), which REST sign-in shares.
 */
export interface SecurityOptions extends AttemptLimitOptions {
  /** Requests a source may sustain per second. */
  requestsPerSecond: number;
  /** Requests a source may send at once before the rate applies. */
  requestBurst: number;
  scannerUserAgents: readonly string[];
}

export const DEFAULT_SECURITY_OPTIONS: SecurityOptions = {
  ...DEFAULT_ATTEMPT_LIMITS,
  requestsPerSecond: 50,
  requestBurst: 200,
  scannerUserAgents: SCANNER_USER_AGENTS,
};

/** What the security layer is told of the rest of the SIP service. */
export interface SecurityLinks {
  /** Whether an in-dialog request belongs to a dialog the PBX has (the call engine's). */
  knowsDialog?: (request: SipRequest) => boolean;
}

/** Accounts remembered per flow as proven there; a flow from an edge proxy is trusted instead, so a few suffice. */
const MAX_PROVEN_PER_FLOW = 16;

/** A token bucket: `capacity` tokens, refilled continuously at `perMs` tokens per millisecond. */
export class TokenBucket {
  private tokens: number;

  constructor(
    private readonly capacity: number,
    private readonly perMs: number,
    private updatedAt: number,
  ) {
    this.tokens = capacity;
  }

  /** Takes a token if there is one. */
  take(now: number): boolean {
    this.tokens = Math.min(this.capacity, this.tokens + Math.max(0, now - this.updatedAt) * this.perMs);
    this.updatedAt = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

export type GuardVerdict = 'pass' | 'banned' | 'scanner' | 'rate-limited';

export class SipSecurity implements SourcePolicy, CredentialGate {
  private readonly options: SecurityOptions;
  /** The password-guessing limits, shared with REST sign-in (api/app.ts). */
  readonly attempts: AttemptLimiter;
  private readonly requests: LruMap<string, TokenBucket>;
  /** The accounts each flow has authenticated as (`proven` in the header). */
  private readonly proven = new WeakMap<SipConnection, Set<string>>();
  private readonly scanners: readonly string[];
  private readonly trusted: ReadonlySet<string>;
  private readonly knowsDialog: (request: SipRequest) => boolean;

  constructor(options: Partial<SecurityOptions> = {}, links: SecurityLinks = {}) {
    this.options = { ...DEFAULT_SECURITY_OPTIONS, ...options };
    const { requestsPerSecond, requestBurst, maxTrackedSources } = this.options;
    for (const [name, value] of Object.entries({ requestsPerSecond, requestBurst })) {
      if (!(value > 0)) throw new Error(`security option ${name} must be positive, got ${value}`);
    }
    this.attempts = new AttemptLimiter(this.options);
    this.requests = new LruMap(maxTrackedSources);
    this.scanners = this.options.scannerUserAgents.map((agent) => agent.toLowerCase());
    this.trusted = new Set(this.options.trustedSources);
    this.knowsDialog = links.knowsDialog ?? (() => false);
  }

  /**
   * Decides whether a new request may be dispatched. Anything but 'pass' has been dealt with here: the
   * transaction is ended without a response.
   */
  guard(tx: ServerTransaction): GuardVerdict {
    const exempt = tx.connection.isHeld || this.passesBan(tx.request, tx.connection);
    const verdict = this.judge(tx.connection.remoteAddress, tx.request.headers.get('User-Agent'), exempt);
    if (verdict !== 'pass') {
      log.debug('request dropped', { verdict, method: tx.request.method, source: tx.connection.remoteAddress });
      tx.terminate();
    }
    return verdict;
  }

  /** A source never rate-limited nor banned (an edge proxy, a load generator). */
  isTrusted(source: string): boolean {
    return this.trusted.has(source);
  }

  /**
   * The decision of `guard`, for a source and a User-Agent value, without a transaction. `exemptFromBan`: the
   * request is one that a ban of its address does not touch (see the header).
   */
  judge(source: string, userAgent: string | undefined, exemptFromBan = false): GuardVerdict {
    if (this.isTrusted(source)) return 'pass';
    if (!exemptFromBan && this.isBanned(source)) return 'banned';
    if (userAgent && this.isScanner(userAgent)) return 'scanner';
    const now = this.options.now();
    let bucket = this.requests.get(source);
    if (!bucket) {
      bucket = new TokenBucket(this.options.requestBurst, this.options.requestsPerSecond / 1000, now);
      this.requests.set(source, bucket);
    }
    return bucket.take(now) ? 'pass' : 'rate-limited';
  }

  /** Whether the address as a whole is banned now; cheap enough to ask before parsing what it sent. */
  isBanned(source: string): boolean {
    return !this.isTrusted(source) && this.attempts.isSourceBanned(source);
  }

  /**
   * Whether a message from a banned address, on a flow that nothing holds, is read all the same: a response,
   * a request within a dialog the PBX knows, or a request for an account whose known device the address is (a
   * phone that rebooted or whose NAT gave it a new port, a browser that reconnected: limit 2 spares them).
   */
  passesBan(message: SipMessage, connection: SipConnection): boolean {
    if (message.kind === 'response') return true;
    if (hasToTag(message) && this.knowsDialog(message)) return true;
    const account = claimedAccount(message);
    return account !== undefined && this.attempts.isKnownDevice(connection.remoteAddress, account);
  }

  /**
   * Whether the endpoint may answer a malformed request from a source, which never reaches `guard`: the
   * answer spends one of the source's request tokens, so garbage cannot draw answers without limit.
   */
  mayAnswer(source: string): boolean {
    return this.judge(source, undefined) === 'pass';
  }

  isScanner(userAgent: string): boolean {
    const lower = userAgent.toLowerCase();
    return this.scanners.some((agent) => lower.includes(agent));
  }

  /** Whether credentials for `account` may be checked now, from this flow (CredentialGate). */
  admit(connection: SipConnection, account: string): Admission {
    const proven = this.proven.get(connection)?.has(account) ?? false;
    return this.attempts.admit({ source: connection.remoteAddress, account, proven });
  }

  /** The outcome of a check that `admit` let through (CredentialGate). */
  settle(connection: SipConnection, ticket: AttemptTicket, outcome: AttemptOutcome): void {
    if (outcome === 'failed') this.attempts.failed(ticket);
    else if (outcome === 'abandoned') this.attempts.abandoned(ticket);
    else {
      this.attempts.succeeded(ticket);
      this.remember(connection, ticket.account);
    }
  }

  /** Counts one failed authentication of `account` from `source`, as a check that said no would. */
  recordAuthFailure(source: string, account: string): void {
    const admission = this.attempts.admit({ source, account, proven: true });
    if (admission.admitted) this.attempts.failed(admission.ticket);
  }

  /** Bans an address as a whole (an administrator's decision). */
  ban(source: string, ms?: number): void {
    this.attempts.ban(source, ms);
  }

  /** Lifts the bans of an address early, as a whole and from each account (an administrator's decision). */
  unban(source: string): void {
    this.attempts.unban(source);
  }

  get trackedSources(): number {
    return this.requests.size;
  }

  /** The flow has authenticated as the account: a set per flow, most recent last, of bounded size. */
  private remember(connection: SipConnection, account: string): void {
    let accounts = this.proven.get(connection);
    if (!accounts) {
      accounts = new Set();
      this.proven.set(connection, accounts);
    }
    accounts.delete(account);
    accounts.add(account);
    for (const oldest of accounts) {
      if (accounts.size <= MAX_PROVEN_PER_FLOW) break;
      accounts.delete(oldest);
    }
  }
}

/** Whether a request's To carries a tag, as every request within a dialog does (RFC 3261 §12.2.1.1). */
function hasToTag(request: SipRequest): boolean {
  return /;\s*tag\s*=/i.test(request.headers.get('To') ?? '');
}

/** The account a request claims, as the authenticator reads it: To for REGISTER (RFC 3261 §10.2), From otherwise. */
function claimedAccount(request: SipRequest): string | undefined {
  try {
    const uri = parseNameAddr(request.headers.get(request.method === 'REGISTER' ? 'To' : 'From') ?? '').uri;
    return uri.user ? accountKey(uri.host, uri.user) : undefined;
  } catch {
    return undefined;
  }
}
