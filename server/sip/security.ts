/**
 * Protection of the SIP edge against hostile traffic, and the dial policy.
 *
 * Every new request passes `SipSecurity.guard` before it is dispatched:
 *
 * - a source (the flow's remote IP address) that is banned is ignored: no response at all. The endpoint
 *   asks `isBanned` before it parses anything, and `mayAnswer` before it answers a malformed request,
 *   which never becomes a transaction;
 * - a request whose User-Agent names a known scanner (friendly-scanner, sipvicious, sipcli, sip-scan,
 *   VaxSIPUserAgent, ...) is dropped silently. Scanners look for servers that answer; silence tells them
 *   nothing, a 403 would confirm a live PBX. The source is not banned for it: a User-Agent is trivially
 *   forged, and a ban would let anyone lock out a shared address by sending one such request;
 * - each source has a token bucket for requests; beyond it requests are dropped silently, since answering
 *   a flood costs us as much as the flood;
 * - failed authentications (403 after a digest check) have a much smaller allowance: a source with 10 of
 *   them within a minute (by default) is banned, by default for 10 minutes.
 *
 * Memory is bounded: per-source state lives in LRU maps with a cap, so a spoofed-address flood evicts the
 * least recently seen sources (possibly ending a ban early) rather than growing without limit.
 *
 * The dial policy decides whether a caller may reach what they dialled; the call engine asks it before
 * routing (see `DialPolicy`).
 */
import type { Kysely } from 'kysely';
import { createLogger } from '../log';
import { canCallExternal } from '../store/dial-permissions';
import type { Database } from '../store/schema';
import { findUserByExtension } from '../store/users';
import type { AuthenticatedUser } from './authenticator';
import type { SourcePolicy } from './endpoint';
import type { ServerTransaction } from './transactions';

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

export interface SecurityOptions {
  /** Requests a source may sustain per second. */
  requestsPerSecond: number;
  /** Requests a source may send at once before the rate applies. */
  requestBurst: number;
  /** Failed authentications a source may have within `authFailureWindowMs` before it is banned. */
  authFailuresBeforeBan: number;
  authFailureWindowMs: number;
  /** How long a banned source is ignored. */
  banMs: number;
  /** Most sources tracked at once (each of the request, failure and ban maps). */
  maxTrackedSources: number;
  scannerUserAgents: readonly string[];
  /** Addresses never limited nor banned, e.g. an edge proxy or a benchmark client. */
  trustedSources: readonly string[];
  now: () => number;
}

export const DEFAULT_SECURITY_OPTIONS: SecurityOptions = {
  requestsPerSecond: 50,
  requestBurst: 200,
  authFailuresBeforeBan: 10,
  authFailureWindowMs: 60_000,
  banMs: 10 * 60_000,
  maxTrackedSources: 50_000,
  scannerUserAgents: SCANNER_USER_AGENTS,
  trustedSources: [],
  now: Date.now,
};

/** A Map with a size cap that forgets the least recently used entry first. */
export class LruMap<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(private readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error(`LRU capacity must be at least 1, got ${capacity}`);
  }

  get size(): number {
    return this.entries.size;
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    // Map keeps insertion order: re-inserting makes this the most recently used entry.
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    this.entries.set(key, value);
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.capacity) break;
      this.entries.delete(oldest);
    }
  }

  delete(key: K): void {
    this.entries.delete(key);
  }
}

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

export class SipSecurity implements SourcePolicy {
  private readonly options: SecurityOptions;
  private readonly requests: LruMap<string, TokenBucket>;
  /** Source → times of its recent failed authentications, at most `authFailuresBeforeBan` of them. */
  private readonly failures: LruMap<string, number[]>;
  /** Source → time the ban ends. */
  private readonly bans: LruMap<string, number>;
  private readonly scanners: readonly string[];
  private readonly trusted: ReadonlySet<string>;

  constructor(options: Partial<SecurityOptions> = {}) {
    this.options = { ...DEFAULT_SECURITY_OPTIONS, ...options };
    const { requestsPerSecond, requestBurst, authFailuresBeforeBan, authFailureWindowMs, banMs, maxTrackedSources } = this.options;
    for (const [name, value] of Object.entries({ requestsPerSecond, requestBurst, authFailuresBeforeBan, authFailureWindowMs, banMs })) {
      if (!(value > 0)) throw new Error(`security option ${name} must be positive, got ${value}`);
    }
    this.requests = new LruMap(maxTrackedSources);
    this.failures = new LruMap(maxTrackedSources);
    this.bans = new LruMap(maxTrackedSources);
    this.scanners = this.options.scannerUserAgents.map((agent) => agent.toLowerCase());
    this.trusted = new Set(this.options.trustedSources);
  }

  /**
   * Decides whether a new request may be dispatched. Anything but 'pass' has been dealt with here: the
   * transaction is ended without a response.
   */
  guard(tx: ServerTransaction): GuardVerdict {
    const verdict = this.judge(tx.connection.remoteAddress, tx.request.headers.get('User-Agent'));
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

  /** The decision of `guard`, for a source and a User-Agent value, without a transaction. */
  judge(source: string, userAgent: string | undefined): GuardVerdict {
    if (this.isTrusted(source)) return 'pass';
    if (this.isBanned(source)) return 'banned';
    if (userAgent && this.isScanner(userAgent)) return 'scanner';
    const now = this.options.now();
    let bucket = this.requests.get(source);
    if (!bucket) {
      bucket = new TokenBucket(this.options.requestBurst, this.options.requestsPerSecond / 1000, now);
      this.requests.set(source, bucket);
    }
    return bucket.take(now) ? 'pass' : 'rate-limited';
  }

  /** Whether a source is banned now; cheap enough to ask before parsing what it sent. */
  isBanned(source: string): boolean {
    const until = this.bans.get(source);
    if (until === undefined) return false;
    if (until > this.options.now()) return true;
    this.bans.delete(source);
    return false;
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

  /** Counts a failed authentication against a source; bans it when its allowance runs out. */
  recordAuthFailure(source: string): void {
    if (this.trusted.has(source)) return;
    const now = this.options.now();
    const { authFailuresBeforeBan, authFailureWindowMs, banMs } = this.options;
    const recent = (this.failures.get(source) ?? []).filter((at) => now - at < authFailureWindowMs);
    recent.push(now);
    this.failures.set(source, recent);
    if (recent.length >= authFailuresBeforeBan) {
      this.bans.set(source, now + banMs);
      this.failures.delete(source);
      log.warn('source banned after repeated authentication failures', { source, banMs });
    }
  }

  /** Lifts a ban early (an administrator's decision). */
  unban(source: string): void {
    this.bans.delete(source);
    this.failures.delete(source);
  }

  get trackedSources(): number {
    return this.requests.size;
  }
}

/** A dial policy's answer: go ahead, or the status and reason phrase to refuse the call with. */
export type DialDecision = 'allow' | { deny: number; reason: string };

/** Whether `caller` may call `dialled` (the user part of the Request-URI: an extension, a feature code, a number). */
export interface DialPolicy {
  check(caller: AuthenticatedUser, dialled: string): Promise<DialDecision>;
}

/**
 * The default policy: extensions of the caller's own organization and feature codes (`*…`, `#…`, which
 * the PBX itself serves) are allowed; anything else is an outside number, allowed only to users whose
 * `can_call_external` flag is set.
 */
export class OrganizationDialPolicy implements DialPolicy {
  constructor(private readonly db: Kysely<Database>) {}

  async check(caller: AuthenticatedUser, dialled: string): Promise<DialDecision> {
    log.debug('checking dial policy', { caller: caller.extension });
    const target = dialled.trim();
    if (target === '') return { deny: 484, reason: 'Address Incomplete' };
    if (target.startsWith('*') || target.startsWith('#')) return 'allow';
    if (await findUserByExtension(this.db, caller.organizationId, target)) return 'allow';
    if (await canCallExternal(this.db, caller.userId)) return 'allow';
    return { deny: 403, reason: 'Forbidden - Outside calls are not allowed for this extension' };
  }
}
