/**
 * Digest authentication of SIP requests (RFC 3261 §22, RFC 8760) against the stored users.
 *
 * A device authenticates either with the per-session SIP password the app received when the user signed
 * in (any live session's) or with one of the user's long-lived desk-phone passwords. Nonces are single use
 * and bound to the request's Call-ID. A request for an unknown user or domain is challenged exactly like
 * one for a real user and then refused with the same 403, so extensions can't be enumerated. Every such
 * refusal is announced (`authenticationFailed`) so the security layer can slow down or ban the source.
 */
import type { Kysely } from 'kysely';
import { buildChallenge, NonceStore, verifyDigestResponse } from '../auth/digest';
import type { DigestAlgorithm } from '../auth/digest';
import { createLogger } from '../log';
import { findDigestIdentity, recallDigestIdentity } from '../store/digest-identity';
import type { Database } from '../store/schema';
import { TypedEmitter } from '../util/typed-emitter';
import { parseAuthorization, parseNameAddr, parseUri, uriEquals } from './message';
import type { ServerTransaction } from './transactions';

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

export class SipAuthenticator extends TypedEmitter<AuthenticatorEvents> {
  private readonly nonces = new NonceStore();

  constructor(
    private readonly db: Kysely<Database>,
    private readonly challengePolicy: ChallengePolicy = DEFAULT_CHALLENGE_POLICY,
  ) {
    super();
  }

  /**
   * Returns the authenticated user, or answers the transaction (401/407 challenge, 403) and returns undefined.
   * `identityHeader` names whose identity is claimed: To for REGISTER (RFC 3261 §10.2), From otherwise.
   */
  async authenticate(tx: ServerTransaction, identityHeader: 'To' | 'From'): Promise<AuthenticatedUser | undefined> {
    const request = tx.request;
    const proxy = request.method !== 'REGISTER';
    const identity = parseNameAddr(request.headers.get(identityHeader) ?? '');
    const domain = identity.uri.host.toLowerCase();
    const extension = identity.uri.user ?? '';
    const callId = request.headers.get('Call-ID') ?? '';
    const credentials = request.headers.getAll(proxy ? 'Proxy-Authorization' : 'Authorization')
      .map((value) => parseAuthorization(value))
      .find((auth) => auth.scheme.toLowerCase() === 'digest' && auth.params.realm === domain);

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
    const nonceState = this.nonces.consume(params.nonce ?? '', callId);
    const algorithm: DigestAlgorithm = params.algorithm?.toUpperCase() === 'SHA-256' ? 'SHA-256' : 'MD5';
    const find = request.method === 'REGISTER' ? findDigestIdentity : recallDigestIdentity;
    const found = params.username === extension ? await find(this.db, domain, extension, algorithm) : undefined;
    const valid = found !== undefined && verifyDigestResponse({ params, method: request.method, ha1Candidates: found.ha1 });
    if (nonceState !== 'ok') {
      // A nonce that expired, was used already (a phone refreshing with nc=2) or is not ours: a new challenge.
      // RFC 7616 §3.3: stale=true only when the response was right for the nonce it came with, so the device
      // retries at once without asking its user for the password, and a wrong password is never called stale.
      this.challenge(tx, domain, callId, valid);
      return undefined;
    }
    if (!found || !valid) {
      log.info('authentication failed', { method: request.method, source: tx.connection.remoteAddress });
      tx.reply(403, 'Forbidden');
      this.emit('authenticationFailed', { source: tx.connection.remoteAddress, method: request.method });
      return undefined;
    }
    return { userId: found.userId, organizationId: found.organizationId, extension: found.extension, displayName: found.displayName, domain };
  }

  private challenge(tx: ServerTransaction, realm: string, callId: string, stale: boolean): void {
    const proxy = tx.request.method !== 'REGISTER';
    const header = proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate';
    const transport = tx.connection.transport;
    const algorithms = transport === 'WS' || transport === 'WSS' ? this.challengePolicy.webSocket : this.challengePolicy.other;
    const headers: Array<[string, string]> = algorithms.map((algorithm) => [
      header,
      buildChallenge({ realm, nonce: this.nonces.issue(callId), algorithm, stale }),
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
