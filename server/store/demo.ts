/**
 * The demo organization that `offhook-pbx --demo` starts with, and that the README and the end-to-end
 * tests sign in to. One list, so they can't drift apart.
 */
import type { Kysely } from 'kysely';
import { createLogger } from '../log';
import { ensureOrganization } from './organizations';
import type { Database, Organization, User, UserRole } from './schema';
import { DEFAULT_DEVICE_LABEL, listDeviceLabels, setDevicePassword } from './device-credentials';
import { createUser, findUserByExtension } from './users';
import { hashPassword } from '../auth/password';
import { getMailboxPinHash, setMailboxPinHash } from './voicemails';

const log = createLogger('store');

export const DEMO_ORGANIZATION = { name: 'Demo Company', domain: 'demo.offhook.test' } as const;

/** Every demo user's voicemail PIN (the *97 menu), until they set their own. */
export const DEMO_VOICEMAIL_PIN = '1234';

export interface DemoUser {
  extension: string;
  displayName: string;
  password: string;
  /** Long-lived SIP device password (digest username = extension), for a desk phone or SIP app. */
  sipPassword: string;
  role: UserRole;
}

export const DEMO_USERS: readonly DemoUser[] = [
  { extension: '100', displayName: 'Dana Admin', password: 'dana-100', sipPassword: 'dana-100-sip', role: 'admin' },
  { extension: '101', displayName: 'Alice Adams', password: 'alice-101', sipPassword: 'alice-101-sip', role: 'user' },
  { extension: '102', displayName: 'Bob Brown', password: 'bob-102', sipPassword: 'bob-102-sip', role: 'user' },
  { extension: '103', displayName: 'Carol Chen', password: 'carol-103', sipPassword: 'carol-103-sip', role: 'user' },
];

/**
 * Creates the demo organization and whichever demo users are missing, and gives each demo user without a
 * desk-phone password the listed one, and each without a voicemail PIN `DEMO_VOICEMAIL_PIN`. Users that exist are left as they are, passwords included, so running
 * it on every start is safe.
 */
export async function seedDemo(db: Kysely<Database>): Promise<{ organization: Organization; users: User[] }> {
  log.debug('seeding demo organization');
  const organization = await ensureOrganization(db, DEMO_ORGANIZATION);
  const users: User[] = [];
  for (const demo of DEMO_USERS) {
    const existing = await findUserByExtension(db, organization.id, demo.extension);
    const user =
      existing ??
      (await createUser(db, {
        organizationId: organization.id,
        extension: demo.extension,
        displayName: demo.displayName,
        password: demo.password,
        role: demo.role,
      }));
    if (!(await listDeviceLabels(db, user.id)).includes(DEFAULT_DEVICE_LABEL)) await setDevicePassword(db, user.id, demo.sipPassword);
    if ((await getMailboxPinHash(db, user.id)) === undefined) await setMailboxPinHash(db, user.id, await hashPassword(DEMO_VOICEMAIL_PIN));
    users.push(user);
  }
  return { organization, users };
}
