/**
 * The demo organization that `offhook-pbx --demo` starts with, and that the README and the end-to-end
 * tests sign in to. One list, so they can't drift apart.
 */
import type { Kysely } from 'kysely';
import { createLogger } from '../log';
import { ensureOrganization } from './organizations';
import type { Database, Organization, User, UserRole } from './schema';
import { createUser, findUserByExtension } from './users';

const log = createLogger('store');

export const DEMO_ORGANIZATION = { name: 'Demo Company', domain: 'demo.offhook.test' } as const;

export interface DemoUser {
  extension: string;
  displayName: string;
  password: string;
  role: UserRole;
}

export const DEMO_USERS: readonly DemoUser[] = [
  { extension: '100', displayName: 'Dana Admin', password: 'dana-100', role: 'admin' },
  { extension: '101', displayName: 'Alice Adams', password: 'alice-101', role: 'user' },
  { extension: '102', displayName: 'Bob Brown', password: 'bob-102', role: 'user' },
  { extension: '103', displayName: 'Carol Chen', password: 'carol-103', role: 'user' },
];

/**
 * Creates the demo organization and whichever demo users are missing. Users that exist are left as they
 * are, passwords included, so running it on every start is safe.
 */
export async function seedDemo(db: Kysely<Database>): Promise<{ organization: Organization; users: User[] }> {
  log.debug('seeding demo organization');
  const organization = await ensureOrganization(db, DEMO_ORGANIZATION);
  const users: User[] = [];
  for (const demo of DEMO_USERS) {
    const existing = await findUserByExtension(db, organization.id, demo.extension);
    users.push(
      existing ??
        (await createUser(db, {
          organizationId: organization.id,
          extension: demo.extension,
          displayName: demo.displayName,
          password: demo.password,
          role: demo.role,
        })),
    );
  }
  return { organization, users };
}
