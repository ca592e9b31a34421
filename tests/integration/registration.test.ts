/**
 * The PBX in-process on an ephemeral port with a temporary SQLite file: sign in over REST, then register
 * over a real WebSocket with digest authentication, as a device does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionResponse } from '../../shared/api';
import { startPbx } from '../../server/pbx';
import type { RunningPbx } from '../../server/pbx';
import { digestAuthorization, digestParams, SipWsClient } from '../support/sip-ws-client';

const DOMAIN = 'demo.offhook.test';

describe('signing in and registering', () => {
  let pbx: RunningPbx;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-int-'));
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

  async function signIn(extension: string, password: string): Promise<Response> {
    return fetch(`${pbx.httpUrl}/api/v1/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ extension, password }),
    });
  }

  it('signs a demo user in and returns SIP credentials for this server', async () => {
    const response = await signIn('101', 'alice-101');
    expect(response.status).toBe(201);
    const body = (await response.json()) as SessionResponse;
    expect(body.user).toMatchObject({ extension: '101', displayName: 'Alice Adams', organization: { domain: DOMAIN } });
    expect(body.sip).toMatchObject({ uri: `sip:101@${DOMAIN}`, authorizationUser: '101', realm: DOMAIN, wsUrl: `${pbx.sipWebSocketUrl}` });
    expect(body.sip.password).not.toBe('alice-101');

    const me = await fetch(`${pbx.httpUrl}/api/v1/me`, { headers: { authorization: `Bearer ${body.token}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({ extension: '101' });
  });

  it('refuses a wrong password with 401 and a sentence, and a bad request with 400 naming the field', async () => {
    const wrong = await signIn('101', 'nope');
    expect(wrong.status).toBe(401);
    expect(await wrong.json()).toEqual({ error: { code: 'invalid_credentials', message: 'The extension or password is incorrect.' } });

    const unknown = await signIn('999', 'whatever');
    expect(unknown.status).toBe(401);

    const bad = await signIn('1x', 'pw');
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { field: string } }).error.field).toBe('extension');

    const noToken = await fetch(`${pbx.httpUrl}/api/v1/me`);
    expect(noToken.status).toBe(401);
  });

  it('registers over WebSocket with digest authentication and single-use nonces', async () => {
    const session = (await (await signIn('102', 'bob-102')).json()) as SessionResponse;
    const client = await SipWsClient.connect(pbx.sipWebSocketUrl);
    try {
      expect(client.protocol).toBe('sip');
      client.register({ user: '102', domain: DOMAIN, callId: 'reg-1', cseq: 1 });
      const challenge = await client.next();
      expect(challenge.status).toBe(401);
      const offered = challenge.headerAll('WWW-Authenticate').map((c) => digestParams(c).algorithm);
      expect(offered).toEqual(['SHA-256', 'MD5']);

      const sha = challenge.headerAll('WWW-Authenticate')[0]!;
      const authorization = digestAuthorization({ challenge: sha, method: 'REGISTER', uri: `sip:${DOMAIN}`, username: '102', password: session.sip.password });
      client.register({ user: '102', domain: DOMAIN, callId: 'reg-1', cseq: 2, authorization });
      const ok = await client.next();
      expect(ok.status).toBe(200);
      expect(ok.header('Contact')).toMatch(/expires=(59\d|600)/);

      // The same nonce a second time is refused with a fresh challenge.
      client.register({ user: '102', domain: DOMAIN, callId: 'reg-1', cseq: 3, authorization });
      expect((await client.next()).status).toBe(401);
    } finally {
      client.close();
    }
  });

  it('gives a wrong password and an unknown extension the same answer', async () => {
    const client = await SipWsClient.connect(pbx.sipWebSocketUrl);
    try {
      const answers: number[] = [];
      for (const [user, callId] of [['101', 'wrong-1'], ['555', 'unknown-1']] as const) {
        client.register({ user, domain: DOMAIN, callId, cseq: 1 });
        const challenge = await client.next();
        expect(challenge.status).toBe(401);
        const authorization = digestAuthorization({ challenge: challenge.header('WWW-Authenticate')!, method: 'REGISTER', uri: `sip:${DOMAIN}`, username: user, password: 'guess' });
        client.register({ user, domain: DOMAIN, callId, cseq: 2, authorization });
        answers.push((await client.next()).status);
      }
      expect(answers).toEqual([403, 403]);
    } finally {
      client.close();
    }
  });

  it('answers a malformed request with 400 and keeps serving', async () => {
    const client = await SipWsClient.connect(pbx.sipWebSocketUrl);
    try {
      client.sendRaw(
        ['OPTIONS sip:x SIP/2.0', 'Via: SIP/2.0/WSS a.invalid;branch=z9hG4bKbad1', 'To: <sip:x@y>', 'From: <sip:a@b>;tag=1', 'Call-ID: bad-1', 'CSeq: 1 INVITE', 'Content-Length: 0', '', ''].join('\r\n'),
      );
      expect((await client.next()).status).toBe(400);
      client.sendRaw(
        ['OPTIONS sip:x SIP/2.0', 'Via: SIP/2.0/WSS a.invalid;branch=z9hG4bKok1', 'Max-Forwards: 70', 'To: <sip:x@y>', 'From: <sip:a@b>;tag=1', 'Call-ID: ok-1', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'),
      );
      expect((await client.next()).status).toBe(200);
    } finally {
      client.close();
    }
  });

  it('answers a Require it cannot meet with 420 and Unsupported, an unknown Request-URI scheme with 416, and a message with no hops left with 483 (RFC 3261 §8.2.2)', async () => {
    const client = await SipWsClient.connect(pbx.sipWebSocketUrl);
    const options = (uri: string, callId: string, extra: string[] = []) =>
      [`OPTIONS ${uri} SIP/2.0`, `Via: SIP/2.0/WSS a.invalid;branch=z9hG4bK${callId}`, 'Max-Forwards: 70', 'To: <sip:x@y>', 'From: <sip:a@b>;tag=1', `Call-ID: ${callId}`, 'CSeq: 1 OPTIONS', ...extra, 'Content-Length: 0', '', ''].join('\r\n');
    try {
      client.sendRaw(options('sip:x', 'req-1', ['Require: timer, nothingSupportedHere', 'Require: 100rel']));
      const refused = await client.next();
      expect([refused.status, refused.header('Unsupported')]).toEqual([420, 'nothingSupportedHere, 100rel']);
      client.sendRaw(options('nobodyKnowsThisScheme:totallyopaquecontent', 'req-2'));
      expect((await client.next()).status).toBe(416);
      // What we do support may be required.
      client.sendRaw(options('sip:x', 'req-3', ['Require: timer, replaces']));
      expect((await client.next()).status).toBe(200);
      // A new message with no hops left ends here (RFC 7332 §3), before anything else is asked of it.
      client.sendRaw(options('sip:102@demo.offhook.test', 'req-4', ['Max-Forwards: 0']).replace(/OPTIONS/g, 'MESSAGE').replace('Max-Forwards: 70\r\n', ''));
      const looped = await client.next();
      expect([looped.status, looped.reason]).toEqual([483, 'Too Many Hops']);
    } finally {
      client.close();
    }
  });

  it('answers a CRLFCRLF keep-alive ping over WebSocket with a CRLF pong (RFC 5626 §4.4.1), and ignores a lone CRLF', async () => {
    const client = await SipWsClient.connect(pbx.sipWebSocketUrl);
    try {
      client.sendRaw('\r\n');
      client.sendRaw('\r\n\r\n');
      expect((await client.next()).raw).toBe('\r\n');
      client.sendRaw(
        ['OPTIONS sip:x SIP/2.0', 'Via: SIP/2.0/WSS a.invalid;branch=z9hG4bKok2', 'Max-Forwards: 70', 'To: <sip:x@y>', 'From: <sip:a@b>;tag=1', 'Call-ID: ok-2', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'),
      );
      // One pong for one ping: the next message is the answer to the OPTIONS.
      expect((await client.next()).header('Call-ID')).toBe('ok-2');
    } finally {
      client.close();
    }
  });

  it('signing out revokes the session and its SIP password', async () => {
    const session = (await (await signIn('103', 'carol-103')).json()) as SessionResponse;
    const out = await fetch(`${pbx.httpUrl}/api/v1/session`, { method: 'DELETE', headers: { authorization: `Bearer ${session.token}` } });
    expect(out.status).toBe(204);
    expect((await fetch(`${pbx.httpUrl}/api/v1/me`, { headers: { authorization: `Bearer ${session.token}` } })).status).toBe(401);

    const client = await SipWsClient.connect(pbx.sipWebSocketUrl);
    try {
      client.register({ user: '103', domain: DOMAIN, callId: 'revoked-1', cseq: 1 });
      const challenge = await client.next();
      const authorization = digestAuthorization({ challenge: challenge.header('WWW-Authenticate')!, method: 'REGISTER', uri: `sip:${DOMAIN}`, username: '103', password: session.sip.password });
      client.register({ user: '103', domain: DOMAIN, callId: 'revoked-1', cseq: 2, authorization });
      expect((await client.next()).status).toBe(403);
    } finally {
      client.close();
    }
  });
});
