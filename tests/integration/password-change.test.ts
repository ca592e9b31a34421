/**
 * Sessions on the running PBX: a password changed beside it (as `offhook-pbx user passwd` does, on its own
 * connection to the database file) ends the user's sessions at once, bearer token and session SIP password
 * alike; and sessions that expired while the PBX was down are purged when it starts.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionResponse } from '../../shared/api';
import { startPbx } from '../../server/pbx';
import type { RunningPbx } from '../../server/pbx';
import { closeDatabase, openDatabase } from '../../server/store/db';
import { seedDemo } from '../../server/store/demo';
import { migrateToLatest } from '../../server/store/migrate';
import type { Database } from '../../server/store/schema';
import { createSession } from '../../server/store/sessions';
import { findUserByExtension, setPassword } from '../../server/store/users';
import { digestAuthorization, SipWsClient } from '../support/sip-ws-client';

const DOMAIN = 'demo.offhook.test';
const HOUR = 60 * 60 * 1000;

describe('sessions on a running PBX', () => {
  let pbx: RunningPbx;
  let dataDir: string;
  let expiredBeforeStart: number;
  let liveBeforeStart: number;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-int-sessions-'));
    // What the PBX finds when it starts: one session that expired while it was down, one still good.
    const db = openDatabase(join(dataDir, 'offhook.db'));
    try {
      await migrateToLatest(db);
      const { users } = await seedDemo(db);
      const bob = users.find((u) => u.extension === '102')!;
      const signIn = (now: Date) => createSession(db, { userId: bob.id, realm: DOMAIN, username: '102', ttlMs: HOUR, now });
      expiredBeforeStart = (await signIn(new Date(Date.now() - 2 * HOUR))).sessionId;
      liveBeforeStart = (await signIn(new Date())).sessionId;
    } finally {
      await closeDatabase(db);
    }
    pbx = await startPbx({
      httpPort: 0,
      bind: '127.0.0.1',
      dataDir,
      mediaAddress: '127.0.0.1',
      sipHost: '127.0.0.1',
      demo: true,
      webRoot: join(dataDir, 'no-web-phone'),
    });
  });

  afterAll(async () => {
    await pbx?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function signIn(extension: string, password: string): Promise<SessionResponse> {
    const response = await fetch(`${pbx.httpUrl}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extension, password }),
    });
    expect(response.status).toBe(201);
    return (await response.json()) as SessionResponse;
  }

  const me = async (token: string) => (await fetch(`${pbx.httpUrl}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })).status;

  /** A REGISTER answered with `password` after the challenge; resolves with the final status. */
  async function register(client: SipWsClient, user: string, password: string): Promise<number> {
    const callId = `reg-${randomBytes(4).toString('hex')}`;
    client.register({ user, domain: DOMAIN, callId, cseq: 1 });
    const challenge = await client.next();
    expect(challenge.status).toBe(401);
    const authorization = digestAuthorization({ challenge: challenge.header('WWW-Authenticate')!, method: 'REGISTER', uri: `sip:${DOMAIN}`, username: user, password });
    client.register({ user, domain: DOMAIN, callId, cseq: 2, authorization });
    return (await client.next()).status;
  }

  /**
   * A MESSAGE from `user` to extension 100 (not registered) answered with `password` after the challenge;
   * resolves with the final status. Unlike REGISTER, a MESSAGE is checked against the identity the PBX keeps
   * in memory (digest-identity.ts).
   */
  async function message(client: SipWsClient, user: string, password: string): Promise<number> {
    const callId = `msg-${randomBytes(4).toString('hex')}`;
    const tag = randomBytes(4).toString('hex');
    const uri = `sip:100@${DOMAIN}`;
    const send = (cseq: number, authorization?: string) =>
      client.sendRaw(
        [
          `MESSAGE ${uri} SIP/2.0`,
          `Via: SIP/2.0/WSS ${client.host};branch=z9hG4bK${randomBytes(6).toString('hex')}`,
          'Max-Forwards: 70',
          `To: <${uri}>`,
          `From: <sip:${user}@${DOMAIN}>;tag=${tag}`,
          `Call-ID: ${callId}`,
          `CSeq: ${cseq} MESSAGE`,
          ...(authorization ? [`Proxy-Authorization: ${authorization}`] : []),
          'Content-Type: text/plain',
          'Content-Length: 2',
          '',
          'Hi',
        ].join('\r\n'),
      );
    send(1);
    const challenge = await client.next();
    expect(challenge.status).toBe(407);
    send(2, digestAuthorization({ challenge: challenge.header('Proxy-Authenticate')!, method: 'MESSAGE', uri, username: user, password }));
    return (await client.next()).status;
  }

  it('purged the sessions that had expired when it started, and kept the others', async () => {
    const ids = (await pbx.db.selectFrom('sessions').select('id').execute()).map((row) => row.id);
    expect(ids).toContain(liveBeforeStart);
    expect(ids).not.toContain(expiredBeforeStart);
  });

  it('stops honouring the bearer token and the session SIP password at once when the password is changed from another process', async () => {
    const session = await signIn('101', 'alice-101');
    const client = await SipWsClient.connect(pbx.sipWebSocketUrl);
    let other: Kysely<Database> | undefined;
    try {
      expect(await me(session.token)).toBe(200);
      expect(await register(client, '101', session.sip.password)).toBe(200);
      // Twice, so that the second is answered from the identity the PBX keeps in memory.
      const delivered = await message(client, '101', session.sip.password);
      expect(delivered).not.toBe(403);
      expect(await message(client, '101', session.sip.password)).toBe(delivered);

      other = openDatabase(join(dataDir, 'offhook.db'));
      const alice = await findUserByExtension(other, 1, '101');
      expect(await setPassword(other, alice!.id, 'alice-changed-password')).toBe(1);

      expect(await me(session.token)).toBe(401);
      expect(await message(client, '101', session.sip.password)).toBe(403);
      expect(await register(client, '101', session.sip.password)).toBe(403);
      // The new password signs in, and the new session's SIP password registers.
      const fresh = await signIn('101', 'alice-changed-password');
      expect(await register(client, '101', fresh.sip.password)).toBe(200);
    } finally {
      client.close();
      if (other) await closeDatabase(other);
    }
  });
});
