import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_ORGANIZATION, DEMO_USERS, seedDemo } from '../store/demo';
import type { Database } from '../store/schema';
import { createSession } from '../store/sessions';
import { openTestDatabase } from '../store/test-support';
import type { TestDatabase } from '../store/test-support';
import { digestUriMatches, SipAuthenticator } from './authenticator';
import type { AuthenticationFailure, AuthenticatedUser } from './authenticator';
import { answerChallenge, FakeConnection, serverTransaction, sipRequest } from './test-support';

const DOMAIN = DEMO_ORGANIZATION.domain;
const alice = DEMO_USERS.find((user) => user.extension === '101')!;

describe('SipAuthenticator', () => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let authenticator: SipAuthenticator;
  const failures: AuthenticationFailure[] = [];

  beforeAll(async () => {
    store = await openTestDatabase('memory');
    db = store.db;
    await seedDemo(db);
    authenticator = new SipAuthenticator(db);
    authenticator.on('authenticationFailed', (failure) => failures.push(failure));
  });
  afterAll(async () => {
    await store.close();
  });

  function register(user: string, callId: string, cseq: number, authorization?: string) {
    return sipRequest({
      method: 'REGISTER',
      uri: `sip:${DOMAIN}`,
      from: `<sip:${user}@${DOMAIN}>;tag=f${cseq}`,
      to: `<sip:${user}@${DOMAIN}>`,
      callId,
      cseq,
      headers: [['Contact', `<sip:${user}@client.invalid;transport=ws>`], ...(authorization ? [['Authorization', authorization] as [string, string]] : [])],
    });
  }

  /** Sends the request without credentials, answers the challenge of `algorithm`, and returns what the authenticator decided. */
  async function attempt(options: { user: string; password: string; algorithm?: 'MD5' | 'SHA-256'; digestUri?: string; source?: string }) {
    const connection = new FakeConnection(options.source);
    const callId = `call-${Math.random()}`;
    expect(await authenticator.authenticate(serverTransaction(register(options.user, callId, 1), connection), 'To')).toBeUndefined();
    const challenge = connection.lastResponse()!;
    const offered = challenge.headers.getAll('WWW-Authenticate');
    const chosen = offered.find((c) => c.includes(`algorithm=${options.algorithm ?? 'SHA-256'}`))!;
    const authorization = answerChallenge(chosen, { method: 'REGISTER', uri: options.digestUri ?? `sip:${DOMAIN}`, username: options.user, password: options.password });
    const user = await authenticator.authenticate(serverTransaction(register(options.user, callId, 2, authorization), connection), 'To');
    return { user, challenge, response: connection.lastResponse()! };
  }

  it('challenges with SHA-256 first and MD5 last (RFC 8760)', async () => {
    const { challenge } = await attempt({ user: '101', password: alice.sipPassword });
    expect(challenge.status).toBe(401);
    expect(challenge.headers.getAll('WWW-Authenticate').map((c) => /algorithm=([\w-]+)/.exec(c)?.[1])).toEqual(['SHA-256', 'MD5']);
  });

  it('challenges plain SIP devices with MD5 alone, which SIPp and baresip require', async () => {
    for (const transport of ['UDP', 'TCP', 'TLS'] as const) {
      const connection = new FakeConnection('192.0.2.20', transport);
      await authenticator.authenticate(serverTransaction(register('101', `plain-${transport}`, 1), connection), 'To');
      expect(connection.lastResponse()!.headers.getAll('WWW-Authenticate').map((c) => /algorithm=([\w-]+)/.exec(c)?.[1])).toEqual(['MD5']);
    }
  });

  it('accepts a desk-phone password with either algorithm', async () => {
    const expected: Partial<AuthenticatedUser> = { extension: '101', displayName: 'Alice Adams', domain: DOMAIN };
    expect((await attempt({ user: '101', password: alice.sipPassword, algorithm: 'SHA-256' })).user).toMatchObject(expected);
    expect((await attempt({ user: '101', password: alice.sipPassword, algorithm: 'MD5' })).user).toMatchObject(expected);
  });

  it('accepts the per-session password of a signed-in app alongside', async () => {
    const userId = (await db.selectFrom('users').select('id').where('extension', '=', '102').executeTakeFirstOrThrow()).id;
    const session = await createSession(db, { userId, realm: DOMAIN, username: '102', ttlMs: 60_000 });
    expect((await attempt({ user: '102', password: session.sipPassword })).user).toMatchObject({ extension: '102' });
    expect((await attempt({ user: '102', password: 'bob-102-sip' })).user).toMatchObject({ extension: '102' });
  });

  it('gives a wrong password and an unknown user the same 403, and reports both failures with their source', async () => {
    failures.length = 0;
    const wrong = await attempt({ user: '101', password: 'alice-101', source: '203.0.113.9' });
    const unknown = await attempt({ user: '555', password: 'whatever-1', source: '203.0.113.9' });
    expect([wrong.user, unknown.user]).toEqual([undefined, undefined]);
    expect([wrong.response.status, wrong.response.reason]).toEqual([403, 'Forbidden']);
    expect([unknown.response.status, unknown.response.reason]).toEqual([403, 'Forbidden']);
    expect(failures).toEqual([
      { source: '203.0.113.9', method: 'REGISTER' },
      { source: '203.0.113.9', method: 'REGISTER' },
    ]);
  });

  it('challenges a used nonce again, with stale=true only when the response was right for it (RFC 7616 §3.3)', async () => {
    failures.length = 0;
    const connection = new FakeConnection('198.51.100.4');
    const callId = 'stale-1';
    await authenticator.authenticate(serverTransaction(register('101', callId, 1), connection), 'To');
    const challenge = connection.lastResponse()!.headers.getAll('WWW-Authenticate').find((c) => c.includes('algorithm=MD5'))!;
    const right = answerChallenge(challenge, { method: 'REGISTER', uri: `sip:${DOMAIN}`, username: '101', password: alice.sipPassword });
    expect(await authenticator.authenticate(serverTransaction(register('101', callId, 2, right), connection), 'To')).toMatchObject({ extension: '101' });
    // A refresh that reuses the nonce (as phones do, with a higher nc) is challenged afresh, marked stale.
    const refresh = answerChallenge(challenge, { method: 'REGISTER', uri: `sip:${DOMAIN}`, username: '101', password: alice.sipPassword, nc: 2 });
    expect(await authenticator.authenticate(serverTransaction(register('101', callId, 3, refresh), connection), 'To')).toBeUndefined();
    const again = connection.lastResponse()!;
    expect(again.status).toBe(401);
    expect(again.headers.getAll('WWW-Authenticate').every((c) => c.endsWith('stale=true'))).toBe(true);
    // The same reuse with a wrong password is challenged without stale, and is not counted as a failure.
    const wrong = answerChallenge(challenge, { method: 'REGISTER', uri: `sip:${DOMAIN}`, username: '101', password: 'not-the-password', nc: 3 });
    expect(await authenticator.authenticate(serverTransaction(register('101', callId, 4, wrong), connection), 'To')).toBeUndefined();
    expect(connection.lastResponse()!.headers.getAll('WWW-Authenticate').some((c) => c.includes('stale'))).toBe(false);
    expect(failures).toEqual([]);
  });

  it('accepts credentials signed over another uri (as SIPp signs the server address): nonces already stop replay', async () => {
    const { user } = await attempt({ user: '101', password: alice.sipPassword, digestUri: 'sip:127.0.0.1:5060' });
    expect(user).toMatchObject({ extension: '101' });
  });

  it('challenges MESSAGE and SUBSCRIBE as a proxy would, with 407 and Proxy-Authenticate', async () => {
    for (const method of ['MESSAGE', 'SUBSCRIBE']) {
      const connection = new FakeConnection();
      const request = sipRequest({ method, uri: `sip:102@${DOMAIN}`, from: `<sip:101@${DOMAIN}>;tag=a`, to: `<sip:102@${DOMAIN}>`, headers: [['Event', 'dialog']] });
      expect(await authenticator.authenticate(serverTransaction(request, connection), 'From')).toBeUndefined();
      expect(connection.lastResponse()?.status).toBe(407);
      expect(connection.lastResponse()?.headers.getAll('Proxy-Authenticate')).toHaveLength(2);
    }
  });
});

describe('digestUriMatches', () => {
  it('matches the Request-URI however either side escapes it, and nothing else', () => {
    expect(digestUriMatches('sip:demo.offhook.test', 'sip:demo.offhook.test')).toBe(true);
    expect(digestUriMatches('sip:%31%30%32@demo.offhook.test', 'sip:102@demo.offhook.test')).toBe(true);
    expect(digestUriMatches('sip:102@DEMO.offhook.test', 'sip:102@demo.offhook.test')).toBe(true);
    expect(digestUriMatches('sip:103@demo.offhook.test', 'sip:102@demo.offhook.test')).toBe(false);
    expect(digestUriMatches('sip:102@demo.offhook.test:5061', 'sip:102@demo.offhook.test')).toBe(false);
    expect(digestUriMatches('not a uri', 'sip:102@demo.offhook.test')).toBe(false);
    expect(digestUriMatches(undefined, 'sip:102@demo.offhook.test')).toBe(false);
  });
});
