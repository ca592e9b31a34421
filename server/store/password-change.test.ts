/**
 * A password change signs the user out everywhere: their bearer tokens and session SIP passwords end with it,
 * in the same transaction, and a PBX running on the same database file stops honouring them at once, even the
 * digest identities it keeps in memory (read-cache.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { computeHa1 } from '../auth/digest';
import { closeDatabase, openDatabase } from './db';
import { listDeviceHa1, setDevicePassword } from './device-credentials';
import { findDigestIdentity, recallDigestIdentity } from './digest-identity';
import { migrateToLatest } from './migrate';
import { ensureOrganization } from './organizations';
import type { Database, User } from './schema';
import { createSession, findSessionByToken, listSipHa1 } from './sessions';
import { authenticateUser, createUser, setPassword } from './users';

const DOMAIN = 'demo.offhook.test';
const HOUR = 60 * 60 * 1000;

describe('changing a password', () => {
  let dir: string;
  /** The running PBX's connection. */
  let pbx: Kysely<Database>;
  /** Another process's, as `offhook-pbx user passwd` opens beside the server. */
  let cli: Kysely<Database> | undefined;
  let alice: User;
  let bob: User;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-password-change-'));
    pbx = openDatabase(join(dir, 'offhook.db'));
    await migrateToLatest(pbx);
    const organization = await ensureOrganization(pbx, { name: 'Demo Company', domain: DOMAIN });
    alice = await createUser(pbx, { organizationId: organization.id, extension: '101', displayName: 'Alice Adams', password: 'alice-101' });
    bob = await createUser(pbx, { organizationId: organization.id, extension: '102', displayName: 'Bob Brown', password: 'bob-102' });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    if (cli) await closeDatabase(cli);
    cli = undefined;
    await closeDatabase(pbx);
    rmSync(dir, { recursive: true, force: true });
  });

  const signIn = (user: User) => createSession(pbx, { userId: user.id, realm: DOMAIN, username: user.extension, ttlMs: HOUR });
  const ha1 = (password: string) => computeHa1('MD5', '101', DOMAIN, password);

  it("ends all of the user's sessions and their SIP passwords, keeps other users' and the device passwords, and says how many ended", async () => {
    const first = await signIn(alice);
    const second = await signIn(alice);
    const bobs = await signIn(bob);
    await setDevicePassword(pbx, alice.id, 'alice-desk-phone');

    expect(await setPassword(pbx, alice.id, 'alice-new-password')).toBe(2);

    expect(await findSessionByToken(pbx, first.token)).toBeUndefined();
    expect(await findSessionByToken(pbx, second.token)).toBeUndefined();
    expect(await listSipHa1(pbx, alice.id, 'MD5')).toEqual([]);
    expect((await findSessionByToken(pbx, bobs.token))?.user.id).toBe(bob.id);
    expect(await listDeviceHa1(pbx, alice.id, 'MD5')).toEqual([ha1('alice-desk-phone')]);
    expect((await authenticateUser(pbx, alice.organization_id, '101', 'alice-new-password'))?.id).toBe(alice.id);
    expect(await setPassword(pbx, alice.id, 'alice-third-password')).toBe(0);
  });

  it('changes nothing, and ends no session, for a user that does not exist', async () => {
    const session = await signIn(alice);
    await expect(setPassword(pbx, alice.id + 100, 'whatever-password')).rejects.toThrow(`user ${alice.id + 100} does not exist`);
    expect((await findSessionByToken(pbx, session.token))?.user.id).toBe(alice.id);
  });

  it("stops the PBX's remembered digest identity from naming the session's SIP password once the password changes through it", async () => {
    const session = await signIn(alice);
    expect((await recallDigestIdentity(pbx, DOMAIN, '101', 'MD5'))?.ha1).toEqual([ha1(session.sipPassword)]);
    await setPassword(pbx, alice.id, 'alice-new-password');
    expect((await recallDigestIdentity(pbx, DOMAIN, '101', 'MD5'))?.ha1).toEqual([]);
  });

  it('makes a running PBX stop honouring the old token and SIP password at once when another process changes it', async () => {
    const session = await signIn(alice);
    await setDevicePassword(pbx, alice.id, 'alice-desk-phone');
    // The PBX has the identity in memory: asked again, it answers without a query.
    const remembered = await recallDigestIdentity(pbx, DOMAIN, '101', 'MD5');
    expect(remembered?.ha1).toEqual([ha1(session.sipPassword), ha1('alice-desk-phone')]);
    const queries = vi.spyOn(pbx.getExecutor(), 'executeQuery');
    expect(await recallDigestIdentity(pbx, DOMAIN, '101', 'MD5')).toBe(remembered);
    expect(queries).not.toHaveBeenCalled();
    queries.mockRestore();

    cli = openDatabase(join(dir, 'offhook.db'));
    expect(await setPassword(cli, alice.id, 'alice-new-password')).toBe(1);

    expect((await recallDigestIdentity(pbx, DOMAIN, '101', 'MD5'))?.ha1).toEqual([ha1('alice-desk-phone')]);
    expect((await findDigestIdentity(pbx, DOMAIN, '101', 'SHA-256'))?.ha1).toEqual([computeHa1('SHA-256', '101', DOMAIN, 'alice-desk-phone')]);
    expect(await findSessionByToken(pbx, session.token)).toBeUndefined();
  });
});
