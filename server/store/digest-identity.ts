/**
 * Who a digest response may come from, in two queries: the user an extension names in the organization a
 * domain names, and every HA1 that user's response may be checked against, those of the web phone's
 * signed-in sessions (still valid at `now`) and those of the long-lived device passwords. Authentication runs
 * for every INVITE, REGISTER, MESSAGE and SUBSCRIBE, so these are among the PBX's hottest queries; for all
 * but REGISTER the answer is kept (recallDigestIdentity) until the database changes or its first session ends.
 *
 * An extension that does not exist costs the same as one that does, so the time taken does not say which
 * extensions exist: both queries run (the second for a user id no row has), and "no such user" is kept in the
 * cache like any other answer.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { DigestAlgorithm } from '../auth/digest';
import { normalizeDomain } from './organizations';
import { perDatabase } from './read-cache';
import type { Database } from './schema';

export interface DigestIdentity {
  organizationId: number;
  userId: number;
  extension: string;
  displayName: string;
  /** HA1 values for `algorithm`: signed-in sessions first, then device passwords in the order they were set. */
  ha1: readonly string[];
  /** When the first of the sessions among `ha1` expires (ISO 8601), or undefined with no session. */
  validUntil: string | undefined;
}

/** The cached answer, boxed so that "no such user" is an answer the cache keeps too. */
interface Recalled {
  identity: DigestIdentity | undefined;
}

const identities = perDatabase<Recalled>();

/** No user has this id (SQLite and PostgreSQL ids start at 1): the credentials query for an unknown user. */
const NO_USER_ID = -1;

/**
 * The same answer as findDigestIdentity now gives, from memory while it is still true (read-cache.ts). For
 * requests that come in bursts from the users active right now (INVITE, MESSAGE, SUBSCRIBE); a REGISTER
 * comes once per device per expiry interval, so keeping its answer would cost memory for every registered
 * user and save little.
 */
export async function recallDigestIdentity(db: Kysely<Database>, domain: string, extension: string, algorithm: DigestAlgorithm): Promise<DigestIdentity | undefined> {
  const key = `${normalizeDomain(domain)} ${extension} ${algorithm}`;
  const expiresAt = ({ identity }: Recalled) => (identity?.validUntil === undefined ? undefined : Date.parse(identity.validUntil));
  const recalled = await identities(db).get(db, key, async () => ({ identity: await findDigestIdentity(db, domain, extension, algorithm) }), expiresAt);
  return recalled?.identity;
}

export async function findDigestIdentity(
  db: Kysely<Database>,
  domain: string,
  extension: string,
  algorithm: DigestAlgorithm,
  now = new Date(),
): Promise<DigestIdentity | undefined> {
  const user = await db
    .selectFrom('users')
    .innerJoin('organizations', 'organizations.id', 'users.organization_id')
    .select(['users.id', 'users.organization_id', 'users.extension', 'users.display_name'])
    .where('organizations.domain', '=', normalizeDomain(domain))
    .where('users.extension', '=', extension)
    .executeTakeFirst();
  const userId = user?.id ?? NO_USER_ID;
  const sessionColumn = algorithm === 'MD5' ? 'sip_ha1_md5' : 'sip_ha1_sha256';
  const deviceColumn = algorithm === 'MD5' ? 'ha1_md5' : 'ha1_sha256';
  const rows = await db
    .selectFrom('sessions')
    .select([`${sessionColumn} as ha1`, sql<number>`0`.as('source'), 'id', sql<string | null>`expires_at`.as('expires_at')])
    .where('user_id', '=', userId)
    .where('expires_at', '>', now.toISOString())
    .unionAll((eb) => eb.selectFrom('device_credentials').select([`${deviceColumn} as ha1`, sql<number>`1`.as('source'), 'id', sql<string | null>`NULL`.as('expires_at')]).where('user_id', '=', userId))
    .orderBy('source')
    .orderBy('id')
    .execute();
  if (!user) return undefined;
  const expiries = rows.flatMap((row) => (row.expires_at === null ? [] : [row.expires_at])).sort();
  return {
    organizationId: user.organization_id,
    userId: user.id,
    extension: user.extension,
    displayName: user.display_name,
    ha1: rows.map((row) => row.ha1),
    validUntil: expiries[0],
  };
}
