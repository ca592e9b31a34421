/**
 * The dialplan: what a dialled string reaches, for a caller, decided here alone (the call engine asks it for
 * every new call, the transfer feature for every target, answering rules for every diversion). An extension of
 * the caller's organization is a user and *97 the caller's own mailbox menu, after the dial policy has had its
 * say; any other feature code or an outside number has nowhere to go yet (404: no carrier).
 * Park spots, queues and other feature codes are routed here as they come.
 */
import type { Kysely } from 'kysely';
import { isExtension } from '../../shared/extensions';
import type { Destination, Dialplan, DialPolicy } from '../calls';
import { createLogger } from '../log';
import type { AuthenticatedUser } from '../sip/edge/authenticator';
import type { Database } from '../store/schema';
import { findUserByExtension } from '../store/users';

const log = createLogger('dialplan');

/** The feature code for the caller's own mailbox menu. */
export const MAILBOX_MENU_CODE = '*97';

export class OrganizationDialplan implements Dialplan {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly policy?: DialPolicy,
  ) {}

  async route(caller: AuthenticatedUser, dialled: string): Promise<Destination> {
    const target = dialled.trim();
    const decision = (await this.policy?.check(caller, target)) ?? 'allow';
    if (decision !== 'allow') {
      log.debug('refused by the dial policy', { caller: caller.extension, status: decision.deny });
      return { kind: 'refused', status: decision.deny, reason: decision.reason };
    }
    if (target === MAILBOX_MENU_CODE) {
      return { kind: 'mailbox-menu', user: { organizationId: caller.organizationId, userId: caller.userId, extension: caller.extension, displayName: caller.displayName } };
    }
    const user = isExtension(target) ? await findUserByExtension(this.db, caller.organizationId, target) : undefined;
    if (!user) return { kind: 'refused', status: 404, reason: 'Not Found' };
    return { kind: 'user', userId: user.id, extension: user.extension, displayName: user.display_name };
  }
}
