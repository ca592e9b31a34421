import type { FastifyInstance } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SessionResponse } from '../../../shared/api';
import { computeHa1 } from '../../auth/digest';
import { seedDemo } from '../../store/demo';
import { ensureOrganization } from '../../store/organizations';
import { createSession, listSipHa1 } from '../../store/sessions';
import { openTestDatabase } from '../../store/test-support';
import type { TestDatabase } from '../../store/test-support';
import { createUser } from '../../store/users';
import { buildApp } from '../app';

const DEMO = 'demo.offhook.test';
const SECOND = 'second.offhook.test';
const NOT_SIGNED_IN = { error: { code: 'not_signed_in', message: 'Sign in to continue.' } };

describe('POST /api/v1/session/renew', () => {
  let store: TestDatabase;
  let app: FastifyInstance;

  beforeEach(async () => {
    store = await openTestDatabase('memory');
    await seedDemo(store.db);
    app = await buildApp({ db: store.db, version: 'test' });
  });
  afterEach(async () => {
    await app.close();
    await store.close();
  });

  const signIn = async (extension: string, password: string) => {
    const response = await app.inject({ method: 'POST', url: '/api/v1/session', payload: { extension, password } });
    expect(response.statusCode).toBe(201);
    return response.json() as SessionResponse;
  };
  const renew = (token?: string) =>
    app.inject({ method: 'POST', url: '/api/v1/session/renew', headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });

  it('answers what sign-in answered, with the same token and SIP password and a later end', async () => {
    const signedIn = await signIn('101', 'alice-101');
    const response = await renew(signedIn.token);
    expect(response.statusCode).toBe(200);
    const renewed = response.json() as SessionResponse;
    expect(renewed.token).toBe(signedIn.token);
    expect(renewed.user).toEqual(signedIn.user);
    expect(renewed.sip).toEqual(signedIn.sip);
    expect(Date.parse(renewed.expiresAt)).toBeGreaterThanOrEqual(Date.parse(signedIn.expiresAt));
    expect(await listSipHa1(store.db, signedIn.user.id, 'MD5')).toEqual([computeHa1('MD5', '101', DEMO, renewed.sip.password)]);
    // The token goes on working for the rest of the API.
    const me = await app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${signedIn.token}` } });
    expect(me.statusCode).toBe(200);
  });

  it('refuses a missing or unknown token with 401', async () => {
    expect([(await renew()).statusCode, (await renew()).json()]).toEqual([401, NOT_SIGNED_IN]);
    expect([(await renew('made-up')).statusCode, (await renew('made-up')).json()]).toEqual([401, NOT_SIGNED_IN]);
  });

  it('refuses a token signed out with 401', async () => {
    const signedIn = await signIn('101', 'alice-101');
    const out = await app.inject({ method: 'DELETE', url: '/api/v1/session', headers: { authorization: `Bearer ${signedIn.token}` } });
    expect(out.statusCode).toBe(204);
    const response = await renew(signedIn.token);
    expect([response.statusCode, response.json()]).toEqual([401, NOT_SIGNED_IN]);
  });

  it('refuses an expired token with 401 and leaves its row as it was', async () => {
    const alice = await store.db.selectFrom('users').select('id').where('extension', '=', '101').executeTakeFirstOrThrow();
    const old = await createSession(store.db, { userId: alice.id, realm: DEMO, username: '101', ttlMs: 60_000, now: new Date(Date.now() - 120_000) });
    const response = await renew(old.token);
    expect([response.statusCode, response.json()]).toEqual([401, NOT_SIGNED_IN]);
    const row = await store.db.selectFrom('sessions').select(['expires_at', 'sip_ha1_md5']).where('id', '=', old.sessionId).executeTakeFirstOrThrow();
    expect(row).toEqual({ expires_at: old.expiresAt, sip_ha1_md5: computeHa1('MD5', '101', DEMO, old.sipPassword) });
  });

  it("renews only the token's own session: another organization's Alice and her session stay as they were", async () => {
    const second = await ensureOrganization(store.db, { name: 'Second Company', domain: SECOND });
    await createUser(store.db, { organizationId: second.id, extension: '101', displayName: 'Alice Second', password: 'second-101' });
    const demoAlice = await signIn(`101@${DEMO}`, 'alice-101');
    const secondAlice = await signIn(`101@${SECOND}`, 'second-101');

    const renewed = (await renew(secondAlice.token)).json() as SessionResponse;
    expect(renewed.user).toMatchObject({ displayName: 'Alice Second', organization: { domain: SECOND } });
    expect(renewed.sip).toMatchObject({ uri: `sip:101@${SECOND}`, realm: SECOND });
    // The demo Alice's SIP password still stands; the second Alice's new one is hers alone.
    expect(await listSipHa1(store.db, demoAlice.user.id, 'MD5')).toEqual([computeHa1('MD5', '101', DEMO, demoAlice.sip.password)]);
    expect(await listSipHa1(store.db, secondAlice.user.id, 'MD5')).toEqual([computeHa1('MD5', '101', SECOND, renewed.sip.password)]);
  });
});
