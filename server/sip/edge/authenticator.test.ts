/**
 * The authenticator over its credentials interface, here a source kept in memory. The store's source, wired as
 * the composition root wires it, is tested on a real database in tests/integration/sip-digest-credentials.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { computeHa1, verifyDigestResponse } from '../../auth/digest';
import type { DigestAlgorithm } from '../../auth/digest';
import { digestUriMatches, SipAuthenticator } from './authenticator';
import type { AuthenticationFailure, AuthenticatedUser, CredentialSource, DigestCredentials } from './authenticator';
import { SipSecurity } from './security';
import { answerChallenge, FakeConnection, serverTransaction, sipRequest } from '../test-support';

const DOMAIN = 'demo.offhook.test';
const USERS = [
  { extension: '101', displayName: 'Alice Adams', passwords: ['alice-101-sip'] },
  // A desk phone's password and a signed-in app's session password, side by side.
  { extension: '102', displayName: 'Bob Brown', passwords: ['bob-102-session', 'bob-102-sip'] },
  { extension: '103', displayName: 'Carol Chen', passwords: ['carol-103-sip'] },
  { extension: '104', displayName: 'Dan Nopass', passwords: [] },
];
const alice = { sipPassword: 'alice-101-sip' };

/** The users above, as a store would serve them: each one's HA1s for the algorithm asked for. */
function credentialsInMemory(): CredentialSource {
  const read = async (domain: string, extension: string, algorithm: DigestAlgorithm): Promise<DigestCredentials | undefined> => {
    const index = USERS.findIndex((user) => user.extension === extension);
    const user = USERS[index];
    if (domain.toLowerCase() !== DOMAIN || !user) return undefined;
    const ha1 = user.passwords.map((password) => computeHa1(algorithm, extension, DOMAIN, password));
    return { organizationId: 1, userId: index + 1, extension, displayName: user.displayName, ha1 };
  };
  return { find: read, recall: read };
}

describe('SipAuthenticator', () => {
  let authenticator: SipAuthenticator;
  const failures: AuthenticationFailure[] = [];

  beforeAll(() => {
    authenticator = new SipAuthenticator(credentialsInMemory());
    authenticator.on('authenticationFailed', (failure) => failures.push(failure));
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

  it('answers credentials it cannot read with 400, not a failure of the server', async () => {
    const connection = new FakeConnection();
    const request = register('101', `call-${Math.random()}`, 1, 'Digest x');
    expect(await authenticator.authenticate(serverTransaction(request, connection), 'To')).toBeUndefined();
    expect([connection.lastResponse()?.status, connection.lastResponse()?.reason]).toEqual([400, 'Bad Request - Malformed Authorization']);
  });

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

  it('accepts any of the credentials the source gives a user (a session password beside a desk phone\'s)', async () => {
    expect((await attempt({ user: '102', password: 'bob-102-session' })).user).toMatchObject({ extension: '102', userId: 2, organizationId: 1 });
    expect((await attempt({ user: '102', password: 'bob-102-sip' })).user).toMatchObject({ extension: '102' });
    // A user the source knows without credentials is refused like an unknown one, whatever is tried.
    expect((await attempt({ user: '104', password: '' })).response.status).toBe(403);
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
    // The same reuse with a wrong password is challenged without stale, and counts as the failure it is.
    const wrong = answerChallenge(challenge, { method: 'REGISTER', uri: `sip:${DOMAIN}`, username: '101', password: 'not-the-password', nc: 3 });
    expect(await authenticator.authenticate(serverTransaction(register('101', callId, 4, wrong), connection), 'To')).toBeUndefined();
    expect(connection.lastResponse()!.headers.getAll('WWW-Authenticate').some((c) => c.includes('stale'))).toBe(false);
    expect(failures).toEqual([{ source: '198.51.100.4', method: 'REGISTER' }]);
  });

  it('does not check a response over a nonce it never gave: a made-up nonce tells nothing of the password', async () => {
    failures.length = 0;
    const connection = new FakeConnection('198.51.100.5');
    const madeUp = 'Digest realm="x", nonce="made-up", algorithm=MD5, qop="auth"'.replace('realm="x"', `realm="${DOMAIN}"`);
    for (const password of [alice.sipPassword, 'not-the-password']) {
      const credentials = answerChallenge(madeUp, { method: 'REGISTER', uri: `sip:${DOMAIN}`, username: '101', password });
      expect(await authenticator.authenticate(serverTransaction(register('101', `made-up-${password}`, 2, credentials), connection), 'To')).toBeUndefined();
      const answer = connection.lastResponse()!;
      expect(answer.status).toBe(401);
      // The same answer whether the password was right or not.
      expect(answer.headers.getAll('WWW-Authenticate').some((c) => c.includes('stale'))).toBe(false);
    }
    expect(failures).toEqual([]);
  });

  it('does not take a nonce answered from another address than the one it was sent to', async () => {
    const asked = new FakeConnection('198.51.100.6');
    const callId = 'moved-1';
    await authenticator.authenticate(serverTransaction(register('101', callId, 1), asked), 'To');
    const challenge = asked.lastResponse()!.headers.getAll('WWW-Authenticate').find((c) => c.includes('algorithm=MD5'))!;
    const right = answerChallenge(challenge, { method: 'REGISTER', uri: `sip:${DOMAIN}`, username: '101', password: alice.sipPassword });
    const forged = new FakeConnection('203.0.113.77');
    expect(await authenticator.authenticate(serverTransaction(register('101', callId, 2, right), forged), 'To')).toBeUndefined();
    expect(forged.lastResponse()!.status).toBe(401);
    expect(await authenticator.authenticate(serverTransaction(register('101', callId, 3, right), asked), 'To')).toMatchObject({ extension: '101' });
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

describe('SipAuthenticator against guessing', () => {

  function request(method: 'REGISTER' | 'INVITE', user: string, callId: string, cseq: number, authorization?: string) {
    const register = method === 'REGISTER';
    const to = register ? `<sip:${user}@${DOMAIN}>` : `<sip:102@${DOMAIN}>`;
    return sipRequest({
      method,
      uri: register ? `sip:${DOMAIN}` : `sip:102@${DOMAIN}`,
      from: `<sip:${user}@${DOMAIN}>;tag=f${cseq}`,
      to,
      callId,
      cseq,
      headers: authorization ? [[register ? 'Authorization' : 'Proxy-Authorization', authorization]] : [],
    });
  }

  /** A challenge answered with `password` from `connection`: what the authenticator decided, and its last response. */
  async function attempt(authenticator: SipAuthenticator, connection: FakeConnection, user: string, password: string, method: 'REGISTER' | 'INVITE' = 'REGISTER') {
    const callId = `guess-${Math.random()}`;
    const identity = method === 'REGISTER' ? 'To' : 'From';
    await authenticator.authenticate(serverTransaction(request(method, user, callId, 1), connection), identity);
    const challenge = connection.lastResponse()!.headers.getAll(method === 'REGISTER' ? 'WWW-Authenticate' : 'Proxy-Authenticate')[0]!;
    const uri = method === 'REGISTER' ? `sip:${DOMAIN}` : `sip:102@${DOMAIN}`;
    const authorization = answerChallenge(challenge, { method, uri, username: user, password });
    const found = await authenticator.authenticate(serverTransaction(request(method, user, callId, 2, authorization), connection), identity);
    return { found, response: connection.lastResponse()! };
  }

  it('does the same lookups and hash computations for an unknown extension as for a real one', async () => {
    const work: string[] = [];
    const source = credentialsInMemory();
    const authenticator = new SipAuthenticator(
      {
        find: (domain, extension, algorithm) => (work.push(`find ${algorithm}`), source.find(domain, extension, algorithm)),
        recall: (domain, extension, algorithm) => (work.push(`recall ${algorithm}`), source.recall(domain, extension, algorithm)),
      },
      { verify: (check) => (work.push(`verify ${check.params.algorithm} over ${check.ha1Candidates.length}`), verifyDigestResponse(check)) },
    );
    const workOf = async (method: 'REGISTER' | 'INVITE', user: string) => {
      work.length = 0;
      const { response } = await attempt(authenticator, new FakeConnection('203.0.113.20', 'UDP'), user, 'not-the-password', method);
      expect(response.status).toBe(403);
      return [...work];
    };
    for (const method of ['REGISTER', 'INVITE'] as const) {
      const real = await workOf(method, '101');
      expect(real).toEqual([`${method === 'REGISTER' ? 'find' : 'recall'} MD5`, 'verify MD5 over 1']);
      expect(await workOf(method, '199')).toEqual(real);
      // A user without credentials is checked against the stand-in too.
      expect(await workOf(method, '104')).toEqual(real);
    }
  });

  it('asks the security layer first: while an account waits, 503 with Retry-After unchecked, for a real or an unknown extension', async () => {
    // A clock that stands still: the account's wait never ends within the test, however slow the machine.
    const security = new SipSecurity({ now: () => 5_000_000 });
    let checks = 0;
    const authenticator = new SipAuthenticator(credentialsInMemory(), { gate: security, verify: (check) => (checks++, verifyDigestResponse(check)) });
    const failures: AuthenticationFailure[] = [];
    authenticator.on('authenticationFailed', (failure) => failures.push(failure));
    // Alice's desk phone registers first, on its own flow.
    const desk = new FakeConnection('192.0.2.50', 'UDP');
    expect((await attempt(authenticator, desk, '101', alice.sipPassword)).found).toMatchObject({ extension: '101' });
    for (const user of ['101', '199']) {
      for (let i = 1; i <= 5; i++) expect((await attempt(authenticator, new FakeConnection(`198.51.100.${i}`, 'UDP'), user, `guess-${i}`)).response.status).toBe(403);
      checks = 0;
      const held = (await attempt(authenticator, new FakeConnection('198.51.100.6', 'UDP'), user, 'guess-6')).response;
      expect([held.status, held.reason, held.headers.get('Retry-After')]).toEqual([503, 'Service Unavailable', '1']);
      expect(checks).toBe(0);
    }
    expect(failures).toHaveLength(10);
    expect(failures.filter((f) => f.source === '198.51.100.1')).toHaveLength(2);
    // The desk phone that proved its password on its flow is not held: its refresh and its calls go through.
    expect((await attempt(authenticator, desk, '101', alice.sipPassword)).found).toMatchObject({ extension: '101' });
    expect((await attempt(authenticator, desk, '101', alice.sipPassword, 'INVITE')).found).toMatchObject({ extension: '101' });
    // A pair banned for its failures gets 403 unchecked.
    for (let i = 0; i < 10; i++) security.recordAuthFailure('198.51.100.99', 'demo.offhook.test 103');
    checks = 0;
    const banned = (await attempt(authenticator, new FakeConnection('198.51.100.99', 'UDP'), '103', 'carol-103-sip')).response;
    expect([banned.status, banned.reason, checks]).toEqual([403, 'Forbidden', 0]);
  });
});
