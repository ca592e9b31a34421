/**
 * Digest authentication of SIP requests (RFC 3261 §22, RFC 8760) over a credentials interface
 * (`CredentialSource`): the SIP stack knows no users and no database. The composition root (sip-service.ts)
 * hands it the store's source (store/digest-identity.ts), under which a device authenticates either with the
 * per-session SIP password the app received when the user signed in (any live session's) or with one of the
 * user's long-lived desk-phone passwords. Nonces are single use and bound to the request's Call-ID.
 *
 * A request for an unknown user or domain can't be told from one for a real user by what it gets or by how long
 * it takes: it is challenged alike and refused with the same 403, and the check does the same work. The same
 * lookup (one call to the source, which does the same queries either way), and the same hash computations,
 * against a stand-in HA1 when there is no user (or a user without credentials). Its failures are counted alike too.
 *
 * Before a response is checked at all, the security layer (security.ts, through `CredentialGate`) says whether
 * this address may try this account now; if not, the request is refused unchecked: 403 for a ban, 503 with
 * Retry-After for an account that must wait (RFC 3261 §21.5.4). Every failure is announced
 * (`authenticationFailed`) as well.
 */
import { accountKey } from '../../auth/attempt-limiter';
import type { Admission, AttemptTicket, RefusalReason } from '../../auth/attempt-limiter';
import { buildChallenge, NonceStore, verifyDigestResponse } from '../../auth/digest';
import type { DigestAlgorithm, DigestResponseCheck } from '../../auth/digest';
import { createLogger } from '../../log';
import { randomHex } from '../../util/random-pool';
import { TypedEmitter } from '../../util/typed-emitter';
import type { SipConnection } from '../transport/connection';
import { parseAuthorization, parseNameAddr, parseUri, SipParseError, uriEquals } from '../syntax/message';
import type { ServerTransaction } from '../transaction/transactions';

const log = createLogger('sip-auth');

export interface AuthenticatedUser {
  userId: number;
  organizationId: number;
  extension: string;
  displayName: string;
  domain: string;
}

/**
 * Which digest challenges a client is sent, by the transport it came over. RFC 8760 §2.4 lists challenges
 * strongest first and lets the client pick, but clients in the field are less forgiving:
 * - WebSocket (the web phone, JsSIP): SHA-256 then MD5. JsSIP knows only MD5 and reads the *last* challenge.
 * - UDP, TCP, TLS (desk phones, SIPp, baresip): MD5 alone by default. SIPp 3.6 reads only the first challenge
 *   and baresip 1.0 gives up when any challenge is not MD5. Sites whose devices all do SHA-256 set
 *   `sipDigestAlgorithms` (serve's --sip-digest) to e.g. SHA-256,MD5.
 * Verification accepts either algorithm whatever was offered.
 */
export interface ChallengePolicy {
  webSocket: readonly DigestAlgorithm[];
  other: readonly DigestAlgorithm[];
}

export const DEFAULT_CHALLENGE_POLICY: ChallengePolicy = { webSocket: ['SHA-256', 'MD5'], other: ['MD5'] };

export interface AuthenticationFailure {
  /** The flow's remote address: what rate limits and bans are keyed by. */
  source: string;
  method: string;
}

interface AuthenticatorEvents {
  authenticationFailed: [failure: AuthenticationFailure];
}

/** How a check that was let through ended: 'abandoned' when it decided nothing (a stale nonce, an error). */
export type AttemptOutcome = 'failed' | 'succeeded' | 'abandoned';

/** The security layer's say over each check of credentials (security.ts implements it). */
export interface CredentialGate {
  /** Whether a response for `account` (accountKey) arriving over this flow may be checked now. */
  admit(connection: SipConnection, account: string): Admission;
  /** Called exactly once for every admitted check. */
  settle(connection: SipConnection, ticket: AttemptTicket, outcome: AttemptOutcome): void;
}

/** Lets every check through; for an authenticator without a security layer (tests of other parts). */
const OPEN_GATE: CredentialGate = {
  admit: (connection, account) => ({ admitted: true, ticket: { source: connection.remoteAddress, account } }),
  settle: () => undefined,
};

/** Who an extension of a domain is, and every HA1 a digest response from them may be checked against. */
export interface DigestCredentials {
  organizationId: number;
  userId: number;
  extension: string;
  displayName: string;
  /** HA1 values for the algorithm asked for; empty for a user who has none. */
  ha1: readonly string[];
}

/**
 * The credentials interface: where the identity a response is checked against comes from. Either read must do
 * the same work for an extension that does not exist as for one that does (see the header).
 */
export interface CredentialSource {
  /** For REGISTER: read afresh. */
  find(domain: string, extension: string, algorithm: DigestAlgorithm): Promise<DigestCredentials | undefined>;
  /** For everything else, which comes in bursts: from a cache while it holds. */
  recall(domain: string, extension: string, algorithm: DigestAlgorithm): Promise<DigestCredentials | undefined>;
}

export interface AuthenticatorOptions {
  challengePolicy?: ChallengePolicy;
  /** The security layer's limits on guessing; none when left out. */
  gate?: CredentialGate;
  /** The digest check itself (auth/digest.ts); a seam for tests that count the hashing it does. */
  verify?: (check: DigestResponseCheck) => boolean;
}

/** Hex digits of an HA1 for each algorithm: a stand-in has the length of a real one. */
const HA1_BYTES: Record<DigestAlgorithm, number> = { MD5: 16, 'SHA-256': 32 };

export class SipAuthenticator extends TypedEmitter<AuthenticatorEvents> {
  private readonly nonces = new NonceStore();
  private readonly challengePolicy: ChallengePolicy;
  private readonly gate: CredentialGate;
  private readonly verify: (check: DigestResponseCheck) => boolean;
  /**
   * What a response is checked against when there is no user, or no credential: random, made once, so the
   * check hashes exactly as it would for a user with one credential and can never match.
   */
  private readonly standInHa1: Record<DigestAlgorithm, string> = { MD5: randomHex(HA1_BYTES.MD5), 'SHA-256': randomHex(HA1_BYTES['SHA-256']) };

  constructor(
    private readonly credentials: CredentialSource,
    options: AuthenticatorOptions = {},
  ) {
    super();
    this.challengePolicy = options.challengePolicy ?? DEFAULT_CHALLENGE_POLICY;
    this.gate = options.gate ?? OPEN_GATE;
    this.verify = options.verify ?? verifyDigestResponse;
  }

  /**
   * Returns the authenticated user, or answers the transaction (401/407 challenge, 403) and returns undefined.
   * `identityHeader` names whose identity is claimed: To for REGISTER (RFC 3261 §10.2), From otherwise.
   */
  async authenticate(tx: ServerTransaction, identityHeader: 'To' | 'From'): Promise<AuthenticatedUser | undefined> {
    const request = tx.request;
    const proxy = request.method !== 'REGISTER';
    const identity = parseNameAddr(request.headers.get(identityHeader) ?? '');
    if (identity.uri.scheme !== 'sip' && identity.uri.scheme !== 'sips') {
      // Legal (RFC 3261 §25.1), but no user of ours: an address-of-record is a SIP URI (§10.2; RFC 4475 §3.3.4
      // answers a registration to another with 400), and a caller is named by one to be checked at all.
      tx.reply(proxy ? 403 : 400, `${proxy ? 'Forbidden' : 'Bad Request'} - ${identityHeader} is not a SIP URI`);
      return undefined;
    }
    const domain = identity.uri.host.toLowerCase();
    const extension = identity.uri.user ?? '';
    const callId = request.headers.get('Call-ID') ?? '';
    const credentialsHeader = proxy ? 'Proxy-Authorization' : 'Authorization';
    let credentials;
    try {
      credentials = request.headers.getAll(credentialsHeader)
        .map((value) => parseAuthorization(value))
        .find((auth) => auth.scheme.toLowerCase() === 'digest' && auth.params.realm === domain);
    } catch (error) {
      // RFC 3261 §21.4.1: a header the request cannot be read with is the client's error, answered with 400.
      if (!(error instanceof SipParseError)) throw error;
      tx.reply(400, `Bad Request - Malformed ${credentialsHeader}`);
      return undefined;
    }

    if (!credentials) {
      this.challenge(tx, domain, callId, false);
      return undefined;
    }
    const params = credentials.params;
    if (!digestUriMatches(params.uri, request.uri)) {
      // RFC 3261 §22.4 asks for the Request-URI here, but devices in the field sign other things: SIPp signs
      // the server's address (sip:127.0.0.1:5060), some desk phones the registrar. The check exists to stop a
      // response being replayed for another request; our nonces are single use and bound to the Call-ID, so
      // that replay cannot happen, and refusing these devices would protect nothing. The response itself is
      // still verified over the uri the device signed.
      log.debug('digest uri differs from the Request-URI', { method: request.method });
    }
    const source = tx.connection.remoteAddress;
    const nonceState = this.nonces.consume(params.nonce ?? '', callId, source);
    if (nonceState === 'unknown') {
      // Not a nonce we gave this Call-ID at this address: challenged afresh, the response unchecked, so that
      // made-up nonces cannot be used to test passwords outside every limit (digest.ts, NonceStore.consume).
      this.challenge(tx, domain, callId, false);
      return undefined;
    }
    const account = accountKey(domain, extension);
    const admission = this.gate.admit(tx.connection, account);
    if (!admission.admitted) {
      this.refuse(tx, admission.reason, admission.retryAfterMs);
      return undefined;
    }
    let outcome: AttemptOutcome = 'abandoned';
    try {
      const found = await this.check(request.method, domain, extension, params);
      if (nonceState === 'stale') {
        // A nonce of ours that expired or was answered already (a phone refreshing with nc=2): a new challenge.
        // RFC 7616 §3.3: stale=true only when the response was right for the nonce it came with, so the device
        // retries at once without asking its user for the password, and a wrong password is never called stale;
        // it counts as the failure it is.
        if (!found) {
          outcome = 'failed';
          this.emit('authenticationFailed', { source, method: request.method });
        }
        this.challenge(tx, domain, callId, found !== undefined);
        return undefined;
      }
      if (!found) {
        outcome = 'failed';
        log.info('authentication failed', { method: request.method, source: tx.connection.remoteAddress });
        tx.reply(403, 'Forbidden');
        this.emit('authenticationFailed', { source: tx.connection.remoteAddress, method: request.method });
        return undefined;
      }
      outcome = 'succeeded';
      return { userId: found.userId, organizationId: found.organizationId, extension: found.extension, displayName: found.displayName, domain };
    } finally {
      this.gate.settle(tx.connection, admission.ticket, outcome);
    }
  }

  /**
   * The identity whose credential the response matches, or undefined. The same work whether the user exists or
   * not: one lookup by the claimed extension (even when the digest username differs), and one digest check
   * over the user's HA1s, or over the stand-in when there are none.
   */
  private async check(method: string, domain: string, extension: string, params: Record<string, string>): Promise<DigestCredentials | undefined> {
    const algorithm: DigestAlgorithm = params.algorithm?.toUpperCase() === 'SHA-256' ? 'SHA-256' : 'MD5';
    const found = method === 'REGISTER'
      ? await this.credentials.find(domain, extension, algorithm)
      : await this.credentials.recall(domain, extension, algorithm);
    const candidates = found && found.ha1.length > 0 ? found.ha1 : [this.standInHa1[algorithm]];
    const matched = this.verify({ params, method, ha1Candidates: candidates });
    return matched && found !== undefined && found.ha1.length > 0 && params.username === extension ? found : undefined;
  }

  /** Refused before any check: 403 for a ban, 503 with Retry-After while the account must wait. */
  private refuse(tx: ServerTransaction, reason: RefusalReason, retryAfterMs: number): void {
    log.info('authentication refused unchecked', { method: tx.request.method, source: tx.connection.remoteAddress, reason });
    if (reason === 'account') {
      tx.reply(503, 'Service Unavailable', { headers: [['Retry-After', `${Math.max(1, Math.ceil(retryAfterMs / 1000))}`]] });
    } else {
      tx.reply(403, 'Forbidden');
    }
  }

  private challenge(tx: ServerTransaction, realm: string, callId: string, stale: boolean): void {
    const proxy = tx.request.method !== 'REGISTER';
    const header = proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate';
    const transport = tx.connection.transport;
    const algorithms = transport === 'WS' || transport === 'WSS' ? this.challengePolicy.webSocket : this.challengePolicy.other;
    const headers: Array<[string, string]> = algorithms.map((algorithm) => [
      header,
      buildChallenge({ realm, nonce: this.nonces.issue(callId, tx.connection.remoteAddress), algorithm, stale }),
    ]);
    tx.reply(proxy ? 407 : 401, undefined, { headers });
  }
}

/**
 * Whether the digest `uri` names the Request-URI. RFC 3261 §22.4 asks for the same URI; clients differ in
 * how they escape it, so both are parsed and compared per §19.1.4 (which undoes escapes), and a URI that
 * does not parse must match as text.
 */
export function digestUriMatches(digestUri: string | undefined, requestUri: string): boolean {
  if (digestUri === undefined) return false;
  if (digestUri === requestUri) return true;
  try {
    return uriEquals(parseUri(digestUri), parseUri(requestUri));
  } catch {
    return false;
  }
}
