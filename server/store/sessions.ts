/**
 * Sign-in sessions. Signing in gives the app a bearer token for the API and a SIP password for its
 * device registration; both are random, shown once, and stored only as hashes: sha256 of the token, and
 * the digest HA1s of the SIP password (RFC 7616 §3.4.2), which is all the registrar needs to check it.
 * The SIP password is derived from the token (sipPasswordOf), so an app that kept only the token (across a
 * reload or a restart) gets the same SIP password back when it renews the session: the token is the one secret
 * an app ever stores, and renewing in one tab never breaks the registration of another tab of the same session.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import { computeHa1 } from '../auth/digest';
import type { DigestAlgorithm } from '../auth/digest';
import { createLogger } from '../log';
import { perDatabase } from './read-cache';
import type { Database, Organization, Session, User } from './schema';

const log = createLogger('store');

const SECRET_BYTES = 32;

function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/**
 * The session's SIP password: an HMAC keyed by the token, so whoever holds the token (and only they) can have it
 * again, while the database keeps neither (only the token's hash and the password's HA1s).
 */
function sipPasswordOf(token: string): string {
  return createHmac('sha256', token).update('offhook sip password', 'utf8').digest('base64url');
}

export interface NewSession {
  userId: number;
  /** Digest realm, the organization's domain. */
  realm: string;
  /** Digest username, the user's extension. */
  username: string;
  ttlMs: number;
  now?: Date;
}

export interface CreatedSession {
  sessionId: number;
  token: string;
  sipPassword: string;
  expiresAt: string;
}

export async function createSession(db: Kysely<Database>, { userId, realm, username, ttlMs, now = new Date() }: NewSession): Promise<CreatedSession> {
  log.debug('creating session', { userId });
  if (!(ttlMs > 0)) throw new Error(`session ttlMs must be positive, got ${ttlMs}`);
  const token = randomBytes(SECRET_BYTES).toString('base64url');
  const sipPassword = sipPasswordOf(token);
  const expiresAt = new Date(now.getTime() + ttlMs).toISOString();
  const { id } = await db
    .insertInto('sessions')
    .values({
      user_id: userId,
      token_hash: hashToken(token),
      sip_ha1_md5: computeHa1('MD5', username, realm, sipPassword),
      sip_ha1_sha256: computeHa1('SHA-256', username, realm, sipPassword),
      created_at: now.toISOString(),
      expires_at: expiresAt,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return { sessionId: id, token, sipPassword, expiresAt };
}

export interface RenewSession {
  sessionId: number;
  /** The session's bearer token, which the SIP password is derived from. */
  token: string;
  /** Digest realm and username, as at createSession. */
  realm: string;
  username: string;
  /** How long the session lasts from now on. */
  ttlMs: number;
  /** When the session was created: it never lasts past `maxLifetimeMs` after that, however often renewed. */
  createdAt: string;
  maxLifetimeMs: number;
  now?: Date;
}

export interface RenewedSession {
  sipPassword: string;
  expiresAt: string;
}

/**
 * Gives a live session a new end and its SIP password again, for an app that kept only the token across a reload
 * (or one that stays open for days). The end slides to `ttlMs` from now but never past the session's maximum
 * lifetime. The HA1s are written again from the token-derived password, which leaves them as they were (and
 * brings a session opened before passwords were derived into line). Undefined when the session has ended
 * meanwhile (signed out, expired) or has reached its maximum lifetime: then only a sign-in with the password
 * opens a new one.
 */
export async function renewSession(db: Kysely<Database>, renewal: RenewSession): Promise<RenewedSession | undefined> {
  const { sessionId, token, realm, username, ttlMs, createdAt, maxLifetimeMs, now = new Date() } = renewal;
  log.debug('renewing session', { sessionId });
  if (!(ttlMs > 0)) throw new Error(`session ttlMs must be positive, got ${ttlMs}`);
  const lastEnd = Date.parse(createdAt) + maxLifetimeMs;
  const end = Math.min(now.getTime() + ttlMs, lastEnd);
  if (!(end > now.getTime())) return undefined;
  const sipPassword = sipPasswordOf(token);
  const expiresAt = new Date(end).toISOString();
  const result = await db
    .updateTable('sessions')
    .set({
      sip_ha1_md5: computeHa1('MD5', username, realm, sipPassword),
      sip_ha1_sha256: computeHa1('SHA-256', username, realm, sipPassword),
      expires_at: expiresAt,
    })
    .where('id', '=', sessionId)
    .where('token_hash', '=', hashToken(token))
    // A sign-out or the expiry between the token's check and this update leaves the session ended.
    .where('expires_at', '>', now.toISOString())
    .executeTakeFirst();
  if (result.numUpdatedRows === 0n) return undefined;
  return { sipPassword, expiresAt };
}

export interface SessionContext {
  session: Session;
  user: User;
  organization: Organization;
}

/** The session a bearer token names, with its user and organization; undefined when unknown or expired. */
export async function findSessionByToken(db: Kysely<Database>, token: string, now = new Date()): Promise<SessionContext | undefined> {
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .innerJoin('organizations', 'organizations.id', 'users.organization_id')
    .select([
      'sessions.id as session_id',
      'sessions.user_id as session_user_id',
      'sessions.token_hash as session_token_hash',
      'sessions.sip_ha1_md5 as session_sip_ha1_md5',
      'sessions.sip_ha1_sha256 as session_sip_ha1_sha256',
      'sessions.created_at as session_created_at',
      'sessions.expires_at as session_expires_at',
      'users.id as user_id',
      'users.organization_id as user_organization_id',
      'users.extension as user_extension',
      'users.display_name as user_display_name',
      'users.role as user_role',
      'users.created_at as user_created_at',
      'users.updated_at as user_updated_at',
      'organizations.id as organization_id',
      'organizations.name as organization_name',
      'organizations.domain as organization_domain',
      'organizations.created_at as organization_created_at',
      'organizations.time_zone as organization_time_zone',
    ])
    .where('sessions.token_hash', '=', hashToken(token))
    .where('sessions.expires_at', '>', now.toISOString())
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    session: {
      id: row.session_id,
      user_id: row.session_user_id,
      token_hash: row.session_token_hash,
      sip_ha1_md5: row.session_sip_ha1_md5,
      sip_ha1_sha256: row.session_sip_ha1_sha256,
      created_at: row.session_created_at,
      expires_at: row.session_expires_at,
    },
    user: {
      id: row.user_id,
      organization_id: row.user_organization_id,
      extension: row.user_extension,
      display_name: row.user_display_name,
      role: row.user_role,
      created_at: row.user_created_at,
      updated_at: row.user_updated_at,
    },
    organization: {
      id: row.organization_id,
      name: row.organization_name,
      domain: row.organization_domain,
      created_at: row.organization_created_at,
      time_zone: row.organization_time_zone,
    },
  };
}

/** Signs a session out; true when there was one. */
export async function deleteSession(db: Kysely<Database>, token: string): Promise<boolean> {
  log.debug('deleting session');
  const result = await db.deleteFrom('sessions').where('token_hash', '=', hashToken(token)).executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/** Signs a user out everywhere, for instance after their password changes; returns how many sessions ended. */
export async function deleteSessionsForUser(db: Kysely<Database>, userId: number): Promise<number> {
  log.debug('deleting sessions of user', { userId });
  const result = await db.deleteFrom('sessions').where('user_id', '=', userId).executeTakeFirst();
  return Number(result.numDeletedRows);
}

/** HA1 of the SIP password of each of the user's live sessions, for one digest algorithm. */
export async function listSipHa1(db: Kysely<Database>, userId: number, algorithm: DigestAlgorithm, now = new Date()): Promise<string[]> {
  const column = algorithm === 'MD5' ? 'sip_ha1_md5' : 'sip_ha1_sha256';
  const rows = await db
    .selectFrom('sessions')
    .select(`${column} as ha1`)
    .where('user_id', '=', userId)
    .where('expires_at', '>', now.toISOString())
    .execute();
  return rows.map((row) => row.ha1);
}

/** Deletes expired sessions; returns how many. */
export async function purgeExpiredSessions(db: Kysely<Database>, now = new Date()): Promise<number> {
  const result = await db.deleteFrom('sessions').where('expires_at', '<=', now.toISOString()).executeTakeFirst();
  const purged = Number(result.numDeletedRows);
  if (purged > 0) log.debug('purged expired sessions', { purged });
  return purged;
}

/** A user an app could be told of a call: they exist, and have a signed-in session still valid. */
interface AppUser {
  userId: number | undefined;
  /** When the earliest of their sessions ends (ms since the epoch): the answer holds until then or a write. */
  until: number | undefined;
}

const appUsers = perDatabase<AppUser>();

/**
 * The id of the user an extension names, if that user has an app signed in (a session still valid at `now`);
 * undefined otherwise. Asked for every change of every call's lines, so the answer is kept (read-cache.ts)
 * until the database changes or the session it relied on ends: a desk-phone-only user costs no query per call.
 */
export async function findAppUser(db: Kysely<Database>, organizationId: number, extension: string, now = new Date()): Promise<number | undefined> {
  const load = async (): Promise<AppUser> => {
    const row = await db
      .selectFrom('users')
      .leftJoin('sessions', (join) => join.onRef('sessions.user_id', '=', 'users.id').on('sessions.expires_at', '>', now.toISOString()))
      .select(['users.id as id', (eb) => eb.fn.min('sessions.expires_at').as('until')])
      .where('users.organization_id', '=', organizationId)
      .where('users.extension', '=', extension)
      .groupBy('users.id')
      .executeTakeFirst();
    const until = row?.until ? Date.parse(row.until) : undefined;
    return { userId: until === undefined ? undefined : row?.id, until };
  };
  const known = await appUsers(db).get(db, `${organizationId} ${extension}`, load, (answer) => answer.until);
  return known?.userId;
}

/**
 * What memory already knows of findAppUser's answer, without a query or a wait: the user's id, `none` when they
 * have no app signed in, or `unknown` when it must be asked. The call feed skips desk-phone users with it.
 */
export function recallAppUser(db: Kysely<Database>, organizationId: number, extension: string): number | 'none' | 'unknown' {
  const known = appUsers(db).peek(db, `${organizationId} ${extension}`);
  if (!known) return 'unknown';
  return known.userId ?? 'none';
}
