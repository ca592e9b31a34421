/**
 * Which organization a sign-in is for. A SIP address (`101@example.com`) or the `organization` field names it;
 * on a PBX with a single organization nothing needs to. On a PBX with several, a bare extension is answered
 * with 400 `organization_required` (shared/api.ts), and the app asks which organization.
 *
 * That answer is the same whatever the extension, before any lookup of it: answering "ambiguous" only for an
 * extension that several organizations have (and signing in at once where one has it) would tell an anonymous
 * caller which extensions exist, and where. For the same reason the list it may carry is of every organization,
 * never of those that have the extension, and it is sent only when the PBX is set to (`listOrganizations`): the
 * names of the companies a PBX hosts are its operator's to publish. Without the list, the person is asked for
 * their SIP address instead.
 */
import type { Kysely } from 'kysely';
import { ORGANIZATION_REQUIRED } from '../../shared/api';
import type { OrganizationChoice, OrganizationRequiredError } from '../../shared/api';
import { createLogger } from '../log';
import { findOrganizationByDomain, listOrganizations } from '../store/organizations';
import { normalizeDomain } from '../util/domain-name';
import type { Database, Organization } from '../store/schema';
import { HttpError } from './errors';

const log = createLogger('http');

/**
 * The most organizations an `organization_required` answer lists: more than a person can pick from in a list,
 * and a hosted PBX would send its whole customer list in every answer. Beyond it the SIP address is asked for.
 */
export const MAX_LISTED_ORGANIZATIONS = 50;

/** Off unless the operator turns it on: see the file's comment. */
export const DEFAULT_LIST_ORGANIZATIONS_AT_SIGN_IN = false;

/** 400 `organization_required`, with the organizations to choose from when there is a list. */
export class OrganizationRequired extends HttpError {
  constructor(readonly organizations: readonly OrganizationChoice[] | undefined) {
    super(
      400,
      ORGANIZATION_REQUIRED,
      organizations
        ? 'This server hosts several organizations: choose yours.'
        : "This server hosts several organizations: sign in with your SIP address, your extension followed by @ and your organization's domain (such as 101@example.com).",
      organizations ? 'organization' : 'extension',
    );
  }

  override toBody(): OrganizationRequiredError {
    const body: OrganizationRequiredError = { error: { code: ORGANIZATION_REQUIRED, message: this.message } };
    if (this.field) body.error.field = this.field;
    if (this.organizations) body.error.organizations = this.organizations.map(({ name, domain }) => ({ name, domain }));
    return body;
  }
}

export interface SignInOrganizationQuery {
  /** The domain of the SIP address the person signed in with, if they did. */
  addressDomain?: string;
  /** The request's `organization` field. */
  organization?: string;
  /** Whether an `organization_required` answer lists the organizations. */
  listOrganizations?: boolean;
}

/**
 * The organization a sign-in names, or undefined when the domain it names is not on this PBX (the caller then
 * answers as for a wrong password). Throws OrganizationRequired when the PBX hosts several and none is named.
 */
export async function signInOrganization(
  db: Kysely<Database>,
  { addressDomain, organization, listOrganizations: list = DEFAULT_LIST_ORGANIZATIONS_AT_SIGN_IN }: SignInOrganizationQuery,
): Promise<Organization | undefined> {
  if (addressDomain !== undefined && organization !== undefined && normalizeDomain(addressDomain) !== normalizeDomain(organization)) {
    throw new HttpError(400, 'invalid_request', 'The organization is not the one the SIP address names: give one of them.', 'organization');
  }
  const domain = addressDomain ?? organization;
  if (domain !== undefined) return findOrganizationByDomain(db, domain);

  const some = await listOrganizations(db, { limit: 2 });
  if (some.length <= 1) return some[0];
  if (!list) throw new OrganizationRequired(undefined);
  const all = await listOrganizations(db, { limit: MAX_LISTED_ORGANIZATIONS + 1 });
  if (all.length > MAX_LISTED_ORGANIZATIONS) {
    log.debug('too many organizations to list at sign-in; asking for the SIP address', { max: MAX_LISTED_ORGANIZATIONS });
    throw new OrganizationRequired(undefined);
  }
  throw new OrganizationRequired(all);
}
