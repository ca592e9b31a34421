/**
 * Organizations: a company on the PBX, reached at its own SIP domain.
 */
import type { Kysely } from 'kysely';
import { createLogger } from '../log';
import { normalizeDomain } from '../util/domain-name';
import type { Database, Organization } from './schema';

const log = createLogger('store');

export interface OrganizationInput {
  name: string;
  domain: string;
}

/**
 * Returns the organization with this domain, creating it if there is none. An existing organization keeps
 * its name: provisioning run twice must not rename anything.
 */
export async function ensureOrganization(db: Kysely<Database>, { name, domain }: OrganizationInput): Promise<Organization> {
  const normalized = normalizeDomain(domain);
  log.debug('ensuring organization', { domain: normalized });
  if (normalized === '') throw new Error('an organization needs a domain');
  if (name.trim() === '') throw new Error(`organization ${normalized} needs a name`);
  await db
    .insertInto('organizations')
    .values({ name: name.trim(), domain: normalized, created_at: new Date().toISOString() })
    .onConflict((conflict) => conflict.column('domain').doNothing())
    .execute();
  const organization = await findOrganizationByDomain(db, normalized);
  if (!organization) throw new Error(`organization ${normalized} vanished while being created`);
  return organization;
}

export async function findOrganizationByDomain(db: Kysely<Database>, domain: string): Promise<Organization | undefined> {
  return db.selectFrom('organizations').selectAll().where('domain', '=', normalizeDomain(domain)).executeTakeFirst();
}

export async function getOrganizationById(db: Kysely<Database>, id: number): Promise<Organization | undefined> {
  return db.selectFrom('organizations').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Organizations in name order; with `limit`, at most that many (sign-in asks only whether there are several). */
export async function listOrganizations(db: Kysely<Database>, { limit }: { limit?: number } = {}): Promise<Organization[]> {
  const query = db.selectFrom('organizations').selectAll().orderBy('name').orderBy('id');
  return (limit === undefined ? query : query.limit(limit)).execute();
}
