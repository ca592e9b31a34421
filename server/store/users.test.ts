import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { hashPassword, verifyPassword } from '../auth/password';
import type * as Password from '../auth/password';
import { ensureOrganization } from './organizations';
import type { Database, Organization } from './schema';
import { openTestDatabase, TEST_STORAGES } from './test-support';
import type { TestDatabase } from './test-support';
import { authenticateUser, createUser, findUserByExtension, getUserById, listUsers, setPassword } from './users';

// The real functions, observed: one test checks that an unknown extension still costs a password check.
vi.mock('../auth/password', async (importOriginal) => {
  const actual = await importOriginal<typeof Password>();
  return { ...actual, verifyPassword: vi.fn(actual.verifyPassword) };
});

describe.each(TEST_STORAGES)('users (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let demo: Organization;
  beforeEach(async () => {
    store = await openTestDatabase(storage);
    db = store.db;
    demo = await ensureOrganization(db, { name: 'Demo Company', domain: 'demo.offhook.test' });
  });
  afterEach(async () => {
    await store.close();
  });

  const alice = () => ({ organizationId: demo.id, extension: '101', displayName: 'Alice Adams', password: 'alice-101' });

  it('creates a user with a hashed password and hands it out without the hash', async () => {
    const user = await createUser(db, alice());
    expect(user).toEqual({
      id: expect.any(Number),
      organization_id: demo.id,
      extension: '101',
      display_name: 'Alice Adams',
      role: 'user',
      created_at: expect.any(String),
      updated_at: user.created_at,
    });
    const stored = await db.selectFrom('users').select('password_hash').where('id', '=', user.id).executeTakeFirstOrThrow();
    expect(stored.password_hash).toMatch(/^scrypt\$/);
    expect(stored.password_hash).not.toContain('alice-101');
    expect(await verifyPassword('alice-101', stored.password_hash)).toBe(true);
  });

  it('creates an admin', async () => {
    const dana = await createUser(db, { organizationId: demo.id, extension: '100', displayName: 'Dana Admin', password: 'dana-100', role: 'admin' });
    expect(dana.role).toBe('admin');
  });

  it('refuses a second user at the same extension, naming both', async () => {
    await createUser(db, alice());
    await expect(createUser(db, { ...alice(), displayName: 'Someone Else' })).rejects.toThrow(
      'extension 101 already exists in demo.offhook.test',
    );
  });

  it('settles two simultaneous creations of one extension with the same clear error', async () => {
    const results = await Promise.allSettled([createUser(db, alice()), createUser(db, alice())]);
    expect(results.map((result) => result.status).sort()).toEqual(['fulfilled', 'rejected']);
    const rejected = results.find((result) => result.status === 'rejected');
    expect(String(rejected?.reason)).toContain('extension 101 already exists in demo.offhook.test');
  });

  it('allows the same extension in another organization', async () => {
    const other = await ensureOrganization(db, { name: 'Other', domain: 'other.offhook.test' });
    await createUser(db, alice());
    await expect(createUser(db, { ...alice(), organizationId: other.id })).resolves.toMatchObject({ organization_id: other.id });
  });

  it('refuses bad input', async () => {
    await expect(createUser(db, { ...alice(), extension: '10a' })).rejects.toThrow(/extension must be 2 to 10 digits/);
    await expect(createUser(db, { ...alice(), extension: '1' })).rejects.toThrow(/extension must be 2 to 10 digits/);
    await expect(createUser(db, { ...alice(), displayName: '  ' })).rejects.toThrow('extension 101 needs a display name');
    await expect(createUser(db, { ...alice(), password: '' })).rejects.toThrow('extension 101 needs a password');
    await expect(createUser(db, { ...alice(), organizationId: demo.id + 100 })).rejects.toThrow(`organization ${demo.id + 100} does not exist`);
  });

  it('finds users by extension and by id, never with the hash', async () => {
    const created = await createUser(db, alice());
    expect(await findUserByExtension(db, demo.id, '101')).toEqual(created);
    expect(await findUserByExtension(db, demo.id, '102')).toBeUndefined();
    expect(await findUserByExtension(db, demo.id + 1, '101')).toBeUndefined();
    expect(await getUserById(db, created.id)).toEqual(created);
    expect(await getUserById(db, created.id + 1)).toBeUndefined();
  });

  it("lists an organization's users in extension order, without hashes", async () => {
    const other = await ensureOrganization(db, { name: 'Other', domain: 'other.offhook.test' });
    for (const extension of ['1000', '102', '99', '101']) {
      await createUser(db, { ...alice(), extension });
    }
    await createUser(db, { ...alice(), organizationId: other.id, extension: '200' });
    const users = await listUsers(db, demo.id);
    expect(users.map((user) => user.extension)).toEqual(['99', '101', '102', '1000']);
    for (const user of users) expect(user).not.toHaveProperty('password_hash');
  });

  it('authenticates with the right password only', async () => {
    const created = await createUser(db, alice());
    expect(await authenticateUser(db, demo.id, '101', 'alice-101')).toEqual(created);
    expect(await authenticateUser(db, demo.id, '101', 'alice-102')).toBeUndefined();
    expect(await authenticateUser(db, demo.id, '102', 'alice-101')).toBeUndefined();
    expect(await authenticateUser(db, demo.id + 1, '101', 'alice-101')).toBeUndefined();
  });

  it('spends a full password check on an extension that does not exist', async () => {
    await createUser(db, alice());
    const verify = vi.mocked(verifyPassword);
    verify.mockClear();
    expect(await authenticateUser(db, demo.id, '199', 'alice-101')).toBeUndefined();
    expect(verify).toHaveBeenCalledTimes(1);
    // Against a real hash of the current cost (a new user's), so it takes as long as checking a real user's password.
    const current = (await hashPassword('any')).split('$').slice(0, 4).join('$');
    expect(verify.mock.calls[0]?.[1]?.startsWith(`${current}$`)).toBe(true);
    await expect(verify.mock.results[0]?.value).resolves.toBe(false);
  });

  it('changes a password', async () => {
    const created = await createUser(db, alice());
    await setPassword(db, created.id, 'new-secret');
    expect(await authenticateUser(db, demo.id, '101', 'alice-101')).toBeUndefined();
    const user = await authenticateUser(db, demo.id, '101', 'new-secret');
    expect(user?.id).toBe(created.id);
    expect(user && user.updated_at >= created.updated_at).toBe(true);
    await expect(setPassword(db, created.id + 1, 'x')).rejects.toThrow(`user ${created.id + 1} does not exist`);
    await expect(setPassword(db, created.id, '')).rejects.toThrow(`user ${created.id} needs a password`);
  });
});
