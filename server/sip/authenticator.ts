/**
 * Digest authentication of SIP requests (RFC 3261 §22, RFC 8760) against the stored users.
 *
 * A device authenticates with the per-session SIP password the app received when the user signed in, so
 * any live session's credentials are accepted. Nonces are single use and bound to the request's Call-ID.
 * A request for an unknown user or domain is challenged exactly like one for a real user and then refused
 * with the same 403, so extensions can't be enumerated.
 */
import type { Kysely } from 'kysely';
import { buildChallenge, NonceStore, verifyDigestResponse } from '../auth/digest';
import type { DigestAlgorithm } from '../auth/digest';
import { createLogger } from '../log';
import { findOrganizationByDomain } from '../store/organizations';
import { listSipHa1 } from '../store/sessions';
import type { Database } from '../store/schema';
import { findUserByExtension } from '../store/users';
import { parseAuthorization, parseNameAddr } from './message';
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
 * RFC 8760 §2.4: challenges in order of preference, strongest first. MD5 must come last as well as be
 * there: JsSIP, like many WebRTC clients, knows only MD5 and reads the last challenge of the response.
 */
const CHALLENGE_ALGORITHMS: readonly DigestAlgorithm[] = ['SHA-256', 'MD5'];

export class SipAuthenticator {
  private readonly nonces = new NonceStore();

  constructor(private readonly db: Kysely<Database>) {}

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
    const nonceState = this.nonces.consume(params.nonce ?? '', callId);
    if (nonceState !== 'ok') {
      this.challenge(tx, domain, callId, nonceState === 'stale');
      return undefined;
    }
    const algorithm: DigestAlgorithm = params.algorithm?.toUpperCase() === 'SHA-256' ? 'SHA-256' : 'MD5';
    const organization = await findOrganizationByDomain(this.db, domain);
    const user = organization && params.username === extension ? await findUserByExtension(this.db, organization.id, extension) : undefined;
    const candidates = user ? await listSipHa1(this.db, user.id, algorithm) : [];
    const valid = verifyDigestResponse({ params, method: request.method, ha1Candidates: candidates });
    if (!organization || !user || !valid) {
      log.info('authentication failed', { method: request.method, source: tx.connection.remoteAddress });
      tx.reply(403, 'Forbidden');
      return undefined;
    }
    return { userId: user.id, organizationId: organization.id, extension: user.extension, displayName: user.display_name, domain };
  }

  private challenge(tx: ServerTransaction, realm: string, callId: string, stale: boolean): void {
    const proxy = tx.request.method !== 'REGISTER';
    const header = proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate';
    const headers: Array<[string, string]> = CHALLENGE_ALGORITHMS.map((algorithm) => [
      header,
      buildChallenge({ realm, nonce: this.nonces.issue(callId), algorithm, stale }),
    ]);
    tx.reply(proxy ? 407 : 401, undefined, { headers });
  }
}
