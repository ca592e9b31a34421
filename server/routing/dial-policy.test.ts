/** The default dial policy against a real store: what a caller of one organization may dial. */
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuthenticatedUser } from '../sip/edge/authenticator';
import { setCanCallExternal } from '../store/dial-permissions';
import { ensureOrganization } from '../store/organizations';
import type { Database } from '../store/schema';
import { openTestDatabase } from '../store/test-support';
import type { TestDatabase } from '../store/test-support';
import { createUser } from '../store/users';
import { OrganizationDialPolicy } from './dial-policy';

describe('OrganizationDialPolicy', () => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let alice: AuthenticatedUser;
  let bobId: number;

  beforeEach(async () => {
    store = await openTestDatabase('memory');
    db = store.db;
    const organization = await ensureOrganization(db, { name: 'Demo Company', domain: 'demo.offhook.test' });
    const other = await ensureOrganization(db, { name: 'Other', domain: 'other.offhook.test' });
    const user = await createUser(db, { organizationId: organization.id, extension: '101', displayName: 'Alice Adams', password: 'alice-101' });
    bobId = (await createUser(db, { organizationId: organization.id, extension: '102', displayName: 'Bob Brown', password: 'bob-102' })).id;
    await createUser(db, { organizationId: other.id, extension: '201', displayName: 'Olga Other', password: 'olga-201' });
    alice = { userId: user.id, organizationId: organization.id, extension: '101', displayName: 'Alice Adams', domain: organization.domain };
  });
  afterEach(async () => {
    await store.close();
  });

  it('allows extensions of the organization and feature codes', async () => {
    const policy = new OrganizationDialPolicy(db);
    expect(await policy.check(alice, '102')).toBe('allow');
    expect(await policy.check(alice, '*97')).toBe('allow');
  });

  it('refuses outside numbers, including extensions of other organizations, unless the user may call out', async () => {
    const policy = new OrganizationDialPolicy(db);
    const refused = { deny: 403, reason: 'Forbidden - Outside calls are not allowed for this extension' };
    expect(await policy.check(alice, '+15551234567')).toEqual(refused);
    expect(await policy.check(alice, '201')).toEqual(refused);
    expect(await policy.check(alice, '')).toEqual({ deny: 484, reason: 'Address Incomplete' });
    await setCanCallExternal(db, bobId, true);
    expect(await policy.check(alice, '+15551234567')).toEqual(refused);
    await setCanCallExternal(db, alice.userId, true);
    expect(await policy.check(alice, '+15551234567')).toBe('allow');
  });
});
