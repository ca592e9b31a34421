/**
 * HTTP digest authentication as SIP uses it (RFC 3261 §22.4, RFC 7616, RFC 8760 for SHA-256), qop=auth only.
 *
 * The server never holds a password: it keeps HA1 = H(username:realm:password) per live credential and
 * checks a response against each. Nonces are random, kept in memory, single use and bound to a Call-ID,
 * which is stricter than the RFCs require and removes replay without tracking nonce counts.
 */
import { hash as hashOnce, timingSafeEqual } from 'node:crypto';
import { createLogger } from '../log';
import { randomBase64url } from '../util/random-pool';

const log = createLogger('auth');

export type DigestAlgorithm = 'MD5' | 'SHA-256';

export const DIGEST_ALGORITHMS: readonly DigestAlgorithm[] = ['MD5', 'SHA-256'];

const NODE_HASH: Record<DigestAlgorithm, string> = { MD5: 'md5', 'SHA-256': 'sha256' };
const HEX_LENGTH: Record<DigestAlgorithm, number> = { MD5: 32, 'SHA-256': 64 };

function hash(algorithm: DigestAlgorithm, text: string): string {
  return hashOnce(NODE_HASH[algorithm], text, 'hex');
}

/** Maps an `algorithm` parameter to one we support; RFC 7616 §3.3: absent means MD5. The -sess variants are refused. */
export function parseDigestAlgorithm(value: string | undefined): DigestAlgorithm | undefined {
  if (value === undefined) return 'MD5';
  const upper = value.toUpperCase();
  return upper === 'MD5' || upper === 'SHA-256' ? upper : undefined;
}

/** RFC 7616 §3.4.2: A1 = username:realm:password. */
export function computeHa1(algorithm: DigestAlgorithm, username: string, realm: string, password: string): string {
  return hash(algorithm, `${username}:${realm}:${password}`);
}

export type NonceState = 'ok' | 'stale' | 'unknown';

export interface NonceStoreOptions {
  /** How long a nonce is accepted after it is issued. */
  ttlMs?: number;
  /** Most nonces held at once; the oldest are dropped beyond it, so a flood of unanswered challenges is bounded. */
  maxEntries?: number;
  now?: () => number;
}

interface NonceEntry {
  /** A digest of the Call-ID and source address the nonce is bound to (bindingKey). */
  binding: string;
  issuedAt: number;
  /** Answered once already: kept as a marker until it is dropped, so that a second answer is stale, not unknown. */
  used: boolean;
}

/**
 * What a nonce keeps of what it is bound to: a fixed-size digest of the Call-ID and of the address it was
 * sent to. The Call-ID itself is a slice of the whole request's text (V8 keeps substrings as views), and a
 * hostile request can be 64 KB: kept for two ttls per challenge, that would hold every challenged request's
 * text, a memory cost no byte budget counts. The address binds the nonce to whoever received the challenge,
 * so that a nonce fetched from one address cannot be answered in packets forged from another (whose failures
 * would then be counted against, and could get banned, an address the attacker does not own).
 */
function bindingKey(callId: string, source: string): string {
  // One-shot hashing: a third of the cost of a Hash object, and it runs twice for every challenged request.
  return hashOnce('sha256', `${source}\n${callId}`, 'base64');
}

const NONCE_BYTES = 18;

export class NonceStore {
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  /** Insertion order is issue order, so the oldest entries are always at the front. */
  private readonly entries = new Map<string, NonceEntry>();

  constructor({ ttlMs = 30_000, maxEntries = 100_000, now = Date.now }: NonceStoreOptions = {}) {
    if (!(ttlMs > 0)) throw new Error(`nonce ttlMs must be positive, got ${ttlMs}`);
    if (!(maxEntries >= 1)) throw new Error(`nonce maxEntries must be at least 1, got ${maxEntries}`);
    this.ttlMs = ttlMs;
    this.maxEntries = maxEntries;
    this.now = now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** A new nonce for a challenge sent to `source` (the flow's remote address) in the call `callId`. */
  issue(callId: string, source = ''): string {
    this.dropOld();
    const nonce = randomBase64url(NONCE_BYTES);
    this.entries.set(nonce, { binding: bindingKey(callId, source), issuedAt: this.now(), used: false });
    for (const oldest of this.entries.keys()) {
      if (this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
    }
    return nonce;
  }

  /**
   * 'ok' once per nonce; 'stale' for one of ours that expired or was answered already (a phone refreshing with
   * nc=2), and 'unknown' for one never issued, long forgotten, or issued for another Call-ID or address. The
   * caller challenges again after 'stale' (stale=true if the response was right, RFC 7616 §3.3) and after
   * 'unknown' without checking the response at all: a response over a nonce we never issued must not tell
   * whether a password is right. A nonce presented by another Call-ID or address is left in place: a third
   * party who saw it can't burn it for its rightful client.
   */
  consume(nonce: string, callId: string, source = ''): NonceState {
    this.dropOld();
    const entry = this.entries.get(nonce);
    if (!entry || entry.binding !== bindingKey(callId, source)) {
      log.debug('unknown nonce', { known: entry !== undefined });
      return 'unknown';
    }
    if (entry.used) return 'stale';
    entry.used = true;
    return this.now() - entry.issuedAt > this.ttlMs ? 'stale' : 'ok';
  }

  /** An expired nonce is kept for one more ttl so that it is still recognised as stale rather than unknown. */
  private dropOld(): void {
    const cutoff = this.now() - 2 * this.ttlMs;
    for (const [nonce, entry] of this.entries) {
      if (entry.issuedAt >= cutoff) break;
      this.entries.delete(nonce);
    }
  }
}

export interface ChallengeOptions {
  realm: string;
  nonce: string;
  algorithm: DigestAlgorithm;
  stale?: boolean;
  opaque?: string;
}

function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

/** The value of a WWW-Authenticate (401) or Proxy-Authenticate (407) header, RFC 3261 §22.1 / RFC 7616 §3.3. */
export function buildChallenge({ realm, nonce, algorithm, stale, opaque }: ChallengeOptions): string {
  const parts = [`realm=${quote(realm)}`, `nonce=${quote(nonce)}`];
  if (opaque !== undefined) parts.push(`opaque=${quote(opaque)}`);
  parts.push(`algorithm=${algorithm}`, 'qop="auth"');
  if (stale) parts.push('stale=true');
  return `Digest ${parts.join(', ')}`;
}

export interface DigestResponseCheck {
  /** Parameters of the Authorization / Proxy-Authorization header, keys in lower case. */
  params: Record<string, string>;
  method: string;
  /** HA1 of every credential the claimed user may be using, for the algorithm in params. */
  ha1Candidates: readonly string[];
}

const NONCE_COUNT = /^[0-9a-fA-F]{8}$/;

/**
 * True when `response` matches one of the candidates. Every candidate is checked, each in constant time,
 * so the time taken does not tell which one matched. It checks neither the nonce (NonceStore does, first)
 * nor that username and realm name the user whose HA1s are given: the caller picks the candidates by them.
 */
export function verifyDigestResponse({ params, method, ha1Candidates }: DigestResponseCheck): boolean {
  const algorithm = parseDigestAlgorithm(params.algorithm);
  const { nonce, uri, qop, nc, cnonce } = params;
  const response = params.response?.toLowerCase();
  if (!algorithm || nonce === undefined || uri === undefined || response === undefined) return false;
  if (!new RegExp(`^[0-9a-f]{${HEX_LENGTH[algorithm]}}$`).test(response)) return false;

  // RFC 7616 §3.4.3: A2 = method:digest-uri for qop=auth.
  const ha2 = hash(algorithm, `${method}:${uri}`);
  let tail: string;
  if (qop === undefined) {
    // RFC 3261 §22.4 keeps RFC 2069 clients working: no qop, no nc, no cnonce.
    tail = `${nonce}:${ha2}`;
  } else {
    if (qop.toLowerCase() !== 'auth' || nc === undefined || !NONCE_COUNT.test(nc) || cnonce === undefined) return false;
    tail = `${nonce}:${nc}:${cnonce}:${qop}:${ha2}`;
  }

  const given = Buffer.from(response, 'hex');
  let matched = false;
  for (const ha1 of ha1Candidates) {
    const expected = Buffer.from(hash(algorithm, `${ha1.toLowerCase()}:${tail}`), 'hex');
    if (timingSafeEqual(expected, given)) matched = true;
  }
  return matched;
}
