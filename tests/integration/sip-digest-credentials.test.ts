/**
 * The SIP authenticator over the store's credentials, wired as the composition root wires them
 * (sip-service.ts: `new SipAuthenticator(digestIdentities(db))`), on a real SQLite database: what the SIP edge
 * knows only as an interface (sip/edge/authenticator.ts, `CredentialSource`) is here the store's two reads.
 */
import type SqliteDatabase from 'better-sqlite3';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { SipAuthenticator } from '../../server/sip/edge/authenticator';
import { answerChallenge, FakeConnection, serverTransaction, sipRequest } from '../../server/sip/test-support';
import { sqliteHandle } from '../../server/store/db';
import { DEMO_ORGANIZATION, DEMO_USERS, seedDemo } from '../../server/store/demo';
import { digestIdentities } from '../../server/store/digest-identity';
import type { Database } from '../../server/store/schema';
import { createSession } from '../../server/store/sessions';
import { openTestDatabase } from '../../server/store/test-support';
import type { TestDatabase } from '../../server/store/test-support';

const DOMAIN = DEMO_ORGANIZATION.domain;
const alice = DEMO_USERS.find((user) => user.extension === '101')!;

describe('SIP digest authentication over the stored credentials', () => {
  let store: TestDatabase;
  let db: Kysely<Database>;

  beforeAll(async () => {
    store = await openTestDatabase('memory');
    db = store.db;
    await seedDemo(db);
  });
  afterAll(async () => {
    await store.close();
  });

  function request(method: 'REGISTER' | 'INVITE', user: string, callId: string, cseq: number, authorization?: string) {
    const register = method === 'REGISTER';
    return sipRequest({
      method,
      uri: register ? `sip:${DOMAIN}` : `sip:102@${DOMAIN}`,
      from: `<sip:${user}@${DOMAIN}>;tag=f${cseq}`,
      to: register ? `<sip:${user}@${DOMAIN}>` : `<sip:102@${DOMAIN}>`,
      callId,
      cseq,
      headers: authorization ? [[register ? 'Authorization' : 'Proxy-Authorization', authorization]] : [],
    });
  }

  /** A challenge of `algorithm` answered with `password`: what the authenticator decided, and its last response. */
  async function attempt(
    authenticator: SipAuthenticator,
    user: string,
    password: string,
    options: { method?: 'REGISTER' | 'INVITE'; algorithm?: 'MD5' | 'SHA-256'; connection?: FakeConnection } = {},
  ) {
    const method = options.method ?? 'REGISTER';
    const connection = options.connection ?? new FakeConnection('203.0.113.20', 'WS');
    const callId = `stored-${Math.random()}`;
    const identity = method === 'REGISTER' ? 'To' : 'From';
    await authenticator.authenticate(serverTransaction(request(method, user, callId, 1), connection), identity);
    const offered = connection.lastResponse()!.headers.getAll(method === 'REGISTER' ? 'WWW-Authenticate' : 'Proxy-Authenticate');
    const challenge = offered.find((c) => c.includes(`algorithm=${options.algorithm ?? 'MD5'}`))!;
    const uri = method === 'REGISTER' ? `sip:${DOMAIN}` : `sip:102@${DOMAIN}`;
    const authorization = answerChallenge(challenge, { method, uri, username: user, password });
    const found = await authenticator.authenticate(serverTransaction(request(method, user, callId, 2, authorization), connection), identity);
    return { found, response: connection.lastResponse()! };
  }

  it("accepts a desk phone's password and a signed-in app's session password, with either algorithm", async () => {
    const authenticator = new SipAuthenticator(digestIdentities(db));
    for (const algorithm of ['MD5', 'SHA-256'] as const) {
      expect((await attempt(authenticator, '101', alice.sipPassword, { algorithm })).found).toMatchObject({ extension: '101', displayName: 'Alice Adams', domain: DOMAIN });
    }
    const userId = (await db.selectFrom('users').select('id').where('extension', '=', '102').executeTakeFirstOrThrow()).id;
    const session = await createSession(db, { userId, realm: DOMAIN, username: '102', ttlMs: 60_000 });
    expect((await attempt(authenticator, '102', session.sipPassword, { algorithm: 'SHA-256' })).found).toMatchObject({ extension: '102', userId });
    expect((await attempt(authenticator, '102', 'bob-102-sip')).found).toMatchObject({ extension: '102' });
    // Each password belongs to its user alone.
    expect((await attempt(authenticator, '101', session.sipPassword)).response.status).toBe(403);
  });

  it('runs the same queries for an unknown extension as for a real one: REGISTER reads afresh, the rest from the cache', async () => {
    const authenticator = new SipAuthenticator(digestIdentities(db));
    // Every query run, through Kysely or straight on the SQLite handle (direct-statements.ts); not the read
    // cache's own check that the database is unchanged (PRAGMA data_version).
    const ran: string[] = [];
    const statements = Object.getPrototypeOf(sqliteHandle(db)!.prepare('select 1')) as SqliteDatabase.Statement;
    const runs = (['get', 'all', 'run', 'iterate'] as const).map((name) => {
      const original = statements[name] as (...args: unknown[]) => unknown;
      return vi.spyOn(statements, name).mockImplementation(function (this: SqliteDatabase.Statement, ...args: unknown[]) {
        if (!/^\s*pragma/i.test(this.source)) ran.push(this.source);
        return original.apply(this, args);
      } as never);
    });
    try {
      const queriesOf = async (method: 'REGISTER' | 'INVITE', user: string) => {
        // The first attempt fills whatever cache there is; the second is what a guesser measures.
        await attempt(authenticator, user, 'not-the-password', { method, connection: new FakeConnection('203.0.113.21', 'UDP') });
        ran.length = 0;
        const { response } = await attempt(authenticator, user, 'not-the-password', { method, connection: new FakeConnection('203.0.113.21', 'UDP') });
        expect(response.status).toBe(403);
        return [...ran];
      };
      for (const method of ['REGISTER', 'INVITE'] as const) {
        expect(await queriesOf(method, '199')).toEqual(await queriesOf(method, '101'));
      }
      expect(await queriesOf('REGISTER', '198')).toHaveLength(2);
      expect(await queriesOf('INVITE', '198')).toHaveLength(0);
    } finally {
      for (const spy of runs) spy.mockRestore();
    }
  });
});
