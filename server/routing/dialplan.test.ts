/** The dialplan against a real store and the real dial policy: what a dialled string reaches for a caller. */
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
import { OrganizationDialplan } from './dialplan';

describe('OrganizationDialplan', () => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let alice: AuthenticatedUser;
  let dialplan: OrganizationDialplan;

  beforeEach(async () => {
    store = await openTestDatabase('memory');
    db = store.db;
    const organization = await ensureOrganization(db, { name: 'Demo Company', domain: 'demo.offhook.test' });
    const other = await ensureOrganization(db, { name: 'Other', domain: 'other.offhook.test' });
    const user = await createUser(db, { organizationId: organization.id, extension: '101', displayName: 'Alice Adams', password: 'alice-101' });
    await createUser(db, { organizationId: organization.id, extension: '102', displayName: 'Bob Brown', password: 'bob-102' });
    await createUser(db, { organizationId: other.id, extension: '201', displayName: 'Olga Other', password: 'olga-201' });
    alice = { userId: user.id, organizationId: organization.id, extension: '101', displayName: 'Alice Adams', domain: organization.domain };
    dialplan = new OrganizationDialplan(db, new OrganizationDialPolicy(db));
  });
  afterEach(async () => {
    await store.close();
  });

  it('routes an extension of the caller\'s organization to its user', async () => {
    expect(await dialplan.route(alice, ' 102 ')).toMatchObject({ kind: 'user', extension: '102', displayName: 'Bob Brown' });
  });

  it('lets the dial policy refuse first: an outside number, or another organization\'s extension', async () => {
    expect(await dialplan.route(alice, '201')).toMatchObject({ kind: 'refused', status: 403 });
    expect(await dialplan.route(alice, '+15551234567')).toMatchObject({ kind: 'refused', status: 403 });
    expect(await dialplan.route(alice, '')).toMatchObject({ kind: 'refused', status: 484 });
  });

  it('routes *97 to the caller\'s own mailbox menu', async () => {
    expect(await dialplan.route(alice, '*97')).toEqual({
      kind: 'mailbox-menu',
      user: { organizationId: alice.organizationId, userId: alice.userId, extension: alice.extension, displayName: alice.displayName },
    });
  });

  it('has nowhere yet for another feature code or an allowed outside number: 404', async () => {
    expect(await dialplan.route(alice, '*98')).toEqual({ kind: 'refused', status: 404, reason: 'Not Found' });
    await setCanCallExternal(db, alice.userId, true);
    expect(await dialplan.route(alice, '+15551234567')).toEqual({ kind: 'refused', status: 404, reason: 'Not Found' });
  });
});
