/**
 * The dial policy: whether a caller may reach what they dialled. Part of the dialplan (routing/), asked before
 * a dialled string is routed; it reads the caller's permissions from the store, which the SIP edge below may not.
 */
import type { Kysely } from 'kysely';
import type { DialDecision, DialPolicy } from '../calls';
import { createLogger } from '../log';
import type { AuthenticatedUser } from '../sip/edge/authenticator';
import { canCallExternal } from '../store/dial-permissions';
import type { Database } from '../store/schema';
import { findUserByExtension } from '../store/users';

const log = createLogger('dial-policy');

export type { DialDecision, DialPolicy } from '../calls';

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
    // RFC 3261 §21.4.22: a Request-URI with nothing to route on is incomplete.
    if (target === '') return { deny: 484, reason: 'Address Incomplete' };
    if (target.startsWith('*') || target.startsWith('#')) return 'allow';
    if (await findUserByExtension(this.db, caller.organizationId, target)) return 'allow';
    if (await canCallExternal(this.db, caller.userId)) return 'allow';
    return { deny: 403, reason: 'Forbidden - Outside calls are not allowed for this extension' };
  }
}
