import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionResponse } from '../../../shared/api';
import { seedDemo } from '../../store/demo';
import { ensureOrganization } from '../../store/organizations';
import { openTestDatabase } from '../../store/test-support';
import type { TestDatabase } from '../../store/test-support';
import { createUser, setPassword } from '../../store/users';
import { buildApp } from '../app';
import { MAX_LISTED_ORGANIZATIONS } from '../sign-in-organization';

const DEMO = 'demo.offhook.test';
const SECOND = 'second.offhook.test';
const WRONG_PASSWORD = { error: { code: 'invalid_credentials', message: 'The extension or password is incorrect.' } };

describe('POST /api/v1/session', () => {
  let store: TestDatabase;
  const apps: FastifyInstance[] = [];

  beforeEach(async () => {
    store = await openTestDatabase('memory');
    await seedDemo(store.db);
  });
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
    await store.close();
  });

  async function openApp(listOrganizationsAtSignIn?: boolean): Promise<FastifyInstance> {
    const app = await buildApp({ db: store.db, version: 'test', listOrganizationsAtSignIn });
    apps.push(app);
    return app;
  }

  const signIn = (app: FastifyInstance, payload: Record<string, string>) => app.inject({ method: 'POST', url: '/api/v1/session', payload });

  /** A second company on the PBX whose Alice also has extension 101, with a password of her own. */
  async function addSecondOrganization() {
    const second = await ensureOrganization(store.db, { name: 'Second Company', domain: SECOND });
    await createUser(store.db, { organizationId: second.id, extension: '101', displayName: 'Alice Second', password: 'second-101' });
    return second;
  }

  describe('on a PBX with one organization', () => {
    it('signs in with the extension alone, as before', async () => {
      const app = await openApp();
      const response = await signIn(app, { extension: '101', password: 'alice-101' });
      expect(response.statusCode).toBe(201);
      expect((response.json() as SessionResponse).user.organization.domain).toBe(DEMO);
    });

    it('signs in with the SIP address, in any case and with or without sip:', async () => {
      const app = await openApp();
      for (const extension of [`101@${DEMO}`, '101@Demo.Offhook.TEST', `sip:101@${DEMO}`]) {
        const response = await signIn(app, { extension, password: 'alice-101' });
        expect(response.statusCode, extension).toBe(201);
        const body = response.json() as SessionResponse;
        expect(body.user).toMatchObject({ extension: '101', organization: { domain: DEMO } });
        expect(body.sip).toMatchObject({ uri: `sip:101@${DEMO}`, authorizationUser: '101', realm: DEMO });
      }
    });

    it('answers a SIP address of a domain that is not here exactly as a wrong password', async () => {
      const app = await openApp();
      const unknown = await signIn(app, { extension: '101@nowhere.test', password: 'alice-101' });
      const wrong = await signIn(app, { extension: `101@${DEMO}`, password: 'not-alices' });
      expect([unknown.statusCode, unknown.json()]).toEqual([401, WRONG_PASSWORD]);
      expect([wrong.statusCode, wrong.json()]).toEqual([401, WRONG_PASSWORD]);
      const unknownField = await signIn(app, { extension: '101', organization: 'nowhere.test', password: 'alice-101' });
      expect([unknownField.statusCode, unknownField.json()]).toEqual([401, WRONG_PASSWORD]);
    });

    it('refuses a name that is neither an extension nor a SIP address, naming the field', async () => {
      const app = await openApp();
      for (const extension of ['101@', 'alice@demo.offhook.test', '1@demo.offhook.test', '101@a@b', '101 @demo.offhook.test']) {
        const response = await signIn(app, { extension, password: 'alice-101' });
        expect(response.statusCode, extension).toBe(400);
        expect(response.json(), extension).toMatchObject({ error: { code: 'invalid_request', field: 'extension' } });
      }
    });
  });

  describe('on a PBX with several organizations', () => {
    it('signs each Alice in by her SIP address, to her own organization', async () => {
      await addSecondOrganization();
      const app = await openApp();
      const second = await signIn(app, { extension: `101@${SECOND}`, password: 'second-101' });
      expect(second.statusCode).toBe(201);
      expect((second.json() as SessionResponse).user).toMatchObject({ displayName: 'Alice Second', organization: { name: 'Second Company', domain: SECOND } });
      const demo = await signIn(app, { extension: `101@${DEMO}`, password: 'alice-101' });
      expect((demo.json() as SessionResponse).user).toMatchObject({ displayName: 'Alice Adams', organization: { domain: DEMO } });
      // One Alice's password is not the other's.
      const crossed = await signIn(app, { extension: `101@${SECOND}`, password: 'alice-101' });
      expect([crossed.statusCode, crossed.json()]).toEqual([401, WRONG_PASSWORD]);
    });

    it('still takes the organization field beside a bare extension', async () => {
      await addSecondOrganization();
      const app = await openApp();
      const response = await signIn(app, { extension: '101', organization: SECOND, password: 'second-101' });
      expect(response.statusCode).toBe(201);
      expect((response.json() as SessionResponse).user.organization.domain).toBe(SECOND);
      const same = await signIn(app, { extension: `101@${SECOND}`, organization: 'SECOND.offhook.test', password: 'second-101' });
      expect(same.statusCode).toBe(201);
    });

    it('refuses a SIP address and an organization field that disagree', async () => {
      await addSecondOrganization();
      const app = await openApp();
      const response = await signIn(app, { extension: `101@${SECOND}`, organization: DEMO, password: 'second-101' });
      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: { code: 'invalid_request', field: 'organization' } });
    });

    it('asks for the SIP address when given a bare extension, the same way whether the extension is shared, single or unknown', async () => {
      await addSecondOrganization();
      const app = await openApp();
      const shared = await signIn(app, { extension: '101', password: 'alice-101' });
      expect(shared.statusCode).toBe(400);
      expect(shared.json()).toEqual({
        error: {
          code: 'organization_required',
          message: "This server hosts several organizations: sign in with your SIP address, your extension followed by @ and your organization's domain (such as 101@example.com).",
          field: 'extension',
        },
      });
      // Bob is only in the demo company, and 555 is nowhere: the answer tells neither.
      for (const extension of ['102', '555']) {
        const other = await signIn(app, { extension, password: 'whatever-it-is' });
        expect([other.statusCode, other.json()], extension).toEqual([400, shared.json()]);
      }
    });

    it('lists every organization to choose from when the PBX is set to, whatever the extension', async () => {
      await addSecondOrganization();
      await ensureOrganization(store.db, { name: 'Acme', domain: 'acme.test' });
      const app = await openApp(true);
      const shared = await signIn(app, { extension: '101', password: 'alice-101' });
      expect(shared.statusCode).toBe(400);
      expect(shared.json()).toEqual({
        error: {
          code: 'organization_required',
          message: 'This server hosts several organizations: choose yours.',
          field: 'organization',
          organizations: [
            { name: 'Acme', domain: 'acme.test' },
            { name: 'Demo Company', domain: DEMO },
            { name: 'Second Company', domain: SECOND },
          ],
        },
      });
      const unknown = await signIn(app, { extension: '555', password: 'whatever-it-is' });
      expect(unknown.json()).toEqual(shared.json());
      // Choosing one signs in.
      const chosen = await signIn(app, { extension: '101', organization: SECOND, password: 'second-101' });
      expect(chosen.statusCode).toBe(201);
    });

    it(`asks for the SIP address instead of listing more than ${MAX_LISTED_ORGANIZATIONS} organizations`, async () => {
      for (let i = 1; i < MAX_LISTED_ORGANIZATIONS; i++) await ensureOrganization(store.db, { name: `Company ${i}`, domain: `c${i}.test` });
      const app = await openApp(true);
      const listed = await signIn(app, { extension: '101', password: 'alice-101' });
      expect((listed.json() as { error: { organizations?: unknown[] } }).error.organizations).toHaveLength(MAX_LISTED_ORGANIZATIONS);
      await ensureOrganization(store.db, { name: 'One Too Many', domain: 'many.test' });
      const unlisted = await signIn(app, { extension: '101', password: 'alice-101' });
      expect(unlisted.statusCode).toBe(400);
      expect(unlisted.json()).toMatchObject({ error: { code: 'organization_required', field: 'extension' } });
      expect(unlisted.json()).not.toHaveProperty('error.organizations');
    });
  });

  it('ends every session of a user whose password changes: their bearer tokens get 401, others stay signed in', async () => {
    const app = await openApp();
    const token = async (extension: string, password: string) => ((await signIn(app, { extension, password })).json() as SessionResponse).token;
    const me = async (bearer: string) => (await app.inject({ url: '/api/v1/me', headers: { authorization: `Bearer ${bearer}` } })).statusCode;
    const alice = [await token('101', 'alice-101'), await token('101', 'alice-101')];
    const bob = await token('102', 'bob-102');
    expect([await me(alice[0]!), await me(alice[1]!), await me(bob)]).toEqual([200, 200, 200]);

    const aliceId = ((await signIn(app, { extension: '101', password: 'alice-101' })).json() as SessionResponse).user.id;
    expect(await setPassword(store.db, aliceId, 'alice-new-password')).toBe(3);

    expect([await me(alice[0]!), await me(alice[1]!), await me(bob)]).toEqual([401, 401, 200]);
    expect((await signIn(app, { extension: '101', password: 'alice-101' })).statusCode).toBe(401);
    expect((await signIn(app, { extension: '101', password: 'alice-new-password' })).statusCode).toBe(201);
  });
});
