/**
 * Desk-phone credentials: a long-lived SIP password per user and label, for devices that can't sign in
 * through the REST API (desk phones, softphones configured by hand). As with sign-in sessions, only the
 * digest HA1s (RFC 7616 §3.4.2) are stored: digest username = the extension, realm = the organization's
 * domain, which is what the authenticator challenges with.
 */
import type { Kysely } from 'kysely';
import { computeHa1 } from '../auth/digest';
import type { DigestAlgorithm } from '../auth/digest';
import { createLogger } from '../log';
import type { Database } from './schema';

const log = createLogger('store');

export const DEFAULT_DEVICE_LABEL = 'desk phone';

/** A device password is typed on a keypad at times, but must still resist guessing over the network. */
export const MIN_DEVICE_PASSWORD_LENGTH = 8;

/**
 * Sets the SIP device password of a user for `label` (replacing that label's previous one). Other
 * labels, and the user's sign-in sessions, are untouched.
 */
export async function setDevicePassword(
  db: Kysely<Database>,
  userId: number,
  password: string,
  label: string = DEFAULT_DEVICE_LABEL,
): Promise<void> {
  log.debug('setting device password', { userId, label });
  if (password.length < MIN_DEVICE_PASSWORD_LENGTH) {
    throw new Error(`a SIP device password needs at least ${MIN_DEVICE_PASSWORD_LENGTH} characters`);
  }
  if (label.trim() === '') throw new Error('a SIP device password needs a label');
  const owner = await db
    .selectFrom('users')
    .innerJoin('organizations', 'organizations.id', 'users.organization_id')
    .select(['users.extension as extension', 'organizations.domain as domain'])
    .where('users.id', '=', userId)
    .executeTakeFirst();
  if (!owner) throw new Error(`user ${userId} does not exist`);
  const row = {
    user_id: userId,
    label: label.trim(),
    ha1_md5: computeHa1('MD5', owner.extension, owner.domain, password),
    ha1_sha256: computeHa1('SHA-256', owner.extension, owner.domain, password),
    created_at: new Date().toISOString(),
  };
  await db
    .insertInto('device_credentials')
    .values(row)
    .onConflict((conflict) =>
      conflict.columns(['user_id', 'label']).doUpdateSet({ ha1_md5: row.ha1_md5, ha1_sha256: row.ha1_sha256, created_at: row.created_at }),
    )
    .execute();
}

/** HA1 of each of the user's device passwords, for one digest algorithm. */
export async function listDeviceHa1(db: Kysely<Database>, userId: number, algorithm: DigestAlgorithm): Promise<string[]> {
  const column = algorithm === 'MD5' ? 'ha1_md5' : 'ha1_sha256';
  const rows = await db.selectFrom('device_credentials').select(`${column} as ha1`).where('user_id', '=', userId).orderBy('id').execute();
  return rows.map((row) => row.ha1);
}

/** The labels a user has device passwords for, in the order they were set. */
export async function listDeviceLabels(db: Kysely<Database>, userId: number): Promise<string[]> {
  const rows = await db.selectFrom('device_credentials').select('label').where('user_id', '=', userId).orderBy('id').execute();
  return rows.map((row) => row.label);
}

/** Removes one device password (or all of the user's when no label is given); returns how many went. */
export async function deleteDevicePasswords(db: Kysely<Database>, userId: number, label?: string): Promise<number> {
  log.debug('deleting device passwords', { userId, label });
  let query = db.deleteFrom('device_credentials').where('user_id', '=', userId);
  if (label !== undefined) query = query.where('label', '=', label.trim());
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}
