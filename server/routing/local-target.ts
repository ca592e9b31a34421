/**
 * Which user of the PBX a request is for. Requests between users stay within one organization: a
 * Request-URI in another organization's domain is refused; one whose host is not an organization's
 * domain at all (a desk phone configured with the PBX's address as its domain) is read in the caller's
 * own organization, as the call engine reads a dialled number.
 */
import type { Kysely } from 'kysely';
import { findOrganizationByDomain } from '../store/organizations';
import type { Database, User } from '../store/schema';
import { findUserByExtension } from '../store/users';
import type { AuthenticatedUser, SipAuthenticator } from '../sip/edge/authenticator';
import { parseUri } from '../sip/syntax/message';
import type { ServerTransaction } from '../sip/transaction/transactions';
import { isExtension } from '../../shared/extensions';

export type LocalTarget = { kind: 'user'; user: User } | { kind: 'other-organization' } | { kind: 'not-found' };

export async function resolveLocalTarget(db: Kysely<Database>, caller: AuthenticatedUser, requestUri: string): Promise<LocalTarget> {
  let user: string | undefined;
  let host: string;
  try {
    const uri = parseUri(requestUri);
    user = uri.user;
    host = uri.host.toLowerCase();
  } catch {
    return { kind: 'not-found' };
  }
  if (host !== caller.domain) {
    const organization = await findOrganizationByDomain(db, host);
    if (organization && organization.id !== caller.organizationId) return { kind: 'other-organization' };
  }
  if (!user || !isExtension(user)) return { kind: 'not-found' };
  const found = await findUserByExtension(db, caller.organizationId, user);
  return found ? { kind: 'user', user: found } : { kind: 'not-found' };
}

/**
 * Authenticates a request between users (MESSAGE, SUBSCRIBE) and finds whom it is for. Returns undefined
 * after answering the transaction itself: the challenge, 403 for another organization, 404 for nobody.
 */
export async function authenticateLocalRequest(
  tx: ServerTransaction,
  authenticator: Pick<SipAuthenticator, 'authenticate'>,
  db: Kysely<Database>,
): Promise<{ caller: AuthenticatedUser; user: User } | undefined> {
  const caller = await authenticator.authenticate(tx, 'From');
  if (!caller || !tx.pending) return undefined;
  const target = await resolveLocalTarget(db, caller, tx.request.uri);
  if (!tx.pending) return undefined;
  if (target.kind === 'other-organization') {
    tx.reply(403, 'Forbidden - Another organization');
    return undefined;
  }
  if (target.kind === 'not-found') {
    tx.reply(404, 'Not Found');
    return undefined;
  }
  return { caller, user: target.user };
}
