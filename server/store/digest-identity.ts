/**
 * Who a digest response may come from, in two statements prepared once on the SQLite handle
 * (direct-statements.ts): the user an extension names in the organization a domain names, and every HA1 that
 * user's response may be checked against, those of the web phone's signed-in sessions (still valid at `now`)
 * and those of the long-lived device passwords. Authentication runs
 * for every INVITE, REGISTER, MESSAGE and SUBSCRIBE, so these are among the PBX's hottest queries; for all
 * but REGISTER the answer is kept (recallDigestIdentity) until the database changes or its first session ends.
 *
 * An extension that does not exist costs the same as one that does, so the time taken does not say which
 * extensions exist: both queries run (the second for a user id no row has), and "no such user" is kept in the
 * cache like any other answer.
 *
 * `digestIdentities(db)` is the SIP authenticator's credentials interface (sip/edge/authenticator.ts,
 * `CredentialSource`) served from here; the composition root hands it over, so the SIP stack never reads the store.
 */
import type { Kysely } from 'kysely';
import type { DigestAlgorithm } from '../auth/digest';
import { readDirect } from './direct-statements';
import { normalizeDomain } from '../util/domain-name';
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

/** The user an extension names in the organization a domain names. */
const USER_SQL = `select users.id, users.organization_id, users.extension, users.display_name
  from users join organizations on organizations.id = users.organization_id
  where organizations.domain = ? and users.extension = ?`;

/** Every HA1 of a user for one algorithm: signed-in sessions still valid, then device passwords. */
const CREDENTIALS_SQL: Record<DigestAlgorithm, string> = {
  MD5: credentialsSql('sip_ha1_md5', 'ha1_md5'),
  'SHA-256': credentialsSql('sip_ha1_sha256', 'ha1_sha256'),
};

function credentialsSql(sessionColumn: string, deviceColumn: string): string {
  return `select ${sessionColumn} as ha1, 0 as source, id, expires_at from sessions where user_id = ? and expires_at > ?
  union all select ${deviceColumn} as ha1, 1 as source, id, null as expires_at from device_credentials where user_id = ?
  order by source, id`;
}

interface UserRow {
  id: number;
  organization_id: number;
  extension: string;
  display_name: string;
}

interface CredentialRow {
  ha1: string;
  expires_at: string | null;
}

export async function findDigestIdentity(
  db: Kysely<Database>,
  domain: string,
  extension: string,
  algorithm: DigestAlgorithm,
  now = new Date(),
): Promise<DigestIdentity | undefined> {
  return readDirect(db, (statement) => {
    const user = statement(USER_SQL).get(normalizeDomain(domain), extension) as UserRow | undefined;
    const userId = user?.id ?? NO_USER_ID;
    const rows = statement(CREDENTIALS_SQL[algorithm]).all(userId, now.toISOString(), userId) as CredentialRow[];
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
  });
}

/** The two reads bound to one database: the SIP authenticator's source of credentials. */
export function digestIdentities(db: Kysely<Database>): {
  find(domain: string, extension: string, algorithm: DigestAlgorithm): Promise<DigestIdentity | undefined>;
  recall(domain: string, extension: string, algorithm: DigestAlgorithm): Promise<DigestIdentity | undefined>;
} {
  return {
    find: (domain, extension, algorithm) => findDigestIdentity(db, domain, extension, algorithm),
    recall: (domain, extension, algorithm) => recallDigestIdentity(db, domain, extension, algorithm),
  };
}
