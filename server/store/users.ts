/**
 * Users: a person in an organization, reached at an extension, who signs in with a password.
 * Nothing here returns the password hash.
 */
import type { Kysely } from 'kysely';
import { hashPassword, verifyPassword } from '../auth/password';
import type { PasswordVerifier } from '../auth/password';
import { createLogger } from '../log';
import { getOrganizationById } from './organizations';
import { perDatabase } from './read-cache';
import type { Database, User, UserRole } from './schema';
import { deleteSessionsForUser } from './sessions';
import { isExtension } from '../../shared/extensions';

const log = createLogger('store');

const USER_COLUMNS = ['id', 'organization_id', 'extension', 'display_name', 'role', 'created_at', 'updated_at'] as const;

/** Digits only: an extension is dialled from a keypad and is the user part of a SIP URI. The call engine routes 2 to 10. */

export interface NewUser {
  organizationId: number;
  extension: string;
  displayName: string;
  password: string;
  role?: UserRole;
}

function isUniqueViolation(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  // better-sqlite3's code for SQLite, and SQLSTATE unique_violation for PostgreSQL.
  return code === 'SQLITE_CONSTRAINT_UNIQUE' || code === '23505';
}

export async function createUser(
  db: Kysely<Database>,
  { organizationId, extension, displayName, password, role = 'user' }: NewUser,
): Promise<User> {
  log.debug('creating user', { organizationId, extension });
  if (!isExtension(extension)) throw new Error(`extension must be 2 to 10 digits, got ${JSON.stringify(extension)}`);
  if (displayName.trim() === '') throw new Error(`extension ${extension} needs a display name`);
  if (password === '') throw new Error(`extension ${extension} needs a password`);
  const organization = await getOrganizationById(db, organizationId);
  if (!organization) throw new Error(`organization ${organizationId} does not exist`);
  const duplicate = () => new Error(`extension ${extension} already exists in ${organization.domain}`);
  // Checked before hashing so a duplicate costs no scrypt; the unique constraint still settles a race.
  if (await findUserByExtension(db, organizationId, extension)) throw duplicate();

  const now = new Date().toISOString();
  const passwordHash = await hashPassword(password);
  try {
    return await db
      .insertInto('users')
      .values({
        organization_id: organizationId,
        extension,
        display_name: displayName.trim(),
        role,
        password_hash: passwordHash,
        created_at: now,
        updated_at: now,
      })
      .returning(USER_COLUMNS)
      .executeTakeFirstOrThrow();
  } catch (error) {
    if (isUniqueViolation(error)) throw duplicate();
    throw error;
  }
}

const usersByExtension = perDatabase<User>();

/** Asked for every call (and every dial-policy check), so kept in memory until the database changes (read-cache.ts). */
export async function findUserByExtension(db: Kysely<Database>, organizationId: number, extension: string): Promise<User | undefined> {
  const read = () => db.selectFrom('users').select(USER_COLUMNS).where('organization_id', '=', organizationId).where('extension', '=', extension).executeTakeFirst();
  return usersByExtension(db).get(db, `${organizationId} ${extension}`, read);
}

export async function getUserById(db: Kysely<Database>, id: number): Promise<User | undefined> {
  return db.selectFrom('users').select(USER_COLUMNS).where('id', '=', id).executeTakeFirst();
}

/** The organization's users in extension order (shorter extensions first, as a keypad user expects). */
export async function listUsers(db: Kysely<Database>, organizationId: number): Promise<User[]> {
  const users = await db.selectFrom('users').select(USER_COLUMNS).where('organization_id', '=', organizationId).execute();
  return users.sort((a, b) => a.extension.length - b.extension.length || a.extension.localeCompare(b.extension));
}

/**
 * Changes (or resets) a user's password and signs them out everywhere: every bearer token and every session SIP
 * password they were given ends in the same transaction as the change, so no one holding the old password's
 * fruits keeps them past it, and nothing sees the new password beside the old sessions. Device passwords
 * (device-credentials.ts) are separate secrets and stay. Returns how many sessions ended.
 */
export async function setPassword(db: Kysely<Database>, userId: number, password: string): Promise<number> {
  log.debug('setting password', { userId });
  if (password === '') throw new Error(`user ${userId} needs a password`);
  // Hashed before the transaction: scrypt takes a while, and the write lock should not be held that long.
  const passwordHash = await hashPassword(password);
  return db.transaction().execute(async (trx) => {
    const result = await trx
      .updateTable('users')
      .set({ password_hash: passwordHash, updated_at: new Date().toISOString() })
      .where('id', '=', userId)
      .executeTakeFirst();
    if (result.numUpdatedRows === 0n) throw new Error(`user ${userId} does not exist`);
    return deleteSessionsForUser(trx, userId);
  });
}

let dummyHash: Promise<string> | undefined;

/**
 * The user when the password is right, otherwise undefined. An unknown extension costs the same scrypt
 * as a wrong password, so the time taken does not tell which extensions exist. `verify` runs the scrypt; sign-in
 * hands in one that queues it in the password pool (auth/password-pool.ts), so guesses cannot starve sign-in.
 */
export async function authenticateUser(
  db: Kysely<Database>,
  organizationId: number,
  extension: string,
  password: string,
  verify: PasswordVerifier = verifyPassword,
): Promise<User | undefined> {
  log.debug('authenticating user', { organizationId, extension });
  const row = await db
    .selectFrom('users')
    .select([...USER_COLUMNS, 'password_hash'])
    .where('organization_id', '=', organizationId)
    .where('extension', '=', extension)
    .executeTakeFirst();
  if (!row) {
    dummyHash ??= hashPassword('offhook-no-such-user');
    await verify(password, await dummyHash);
    return undefined;
  }
  const { password_hash: passwordHash, ...user } = row;
  return (await verify(password, passwordHash)) ? user : undefined;
}
