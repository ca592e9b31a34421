/**
 * Staying signed in across a reload: the app keeps only its bearer token and renews the session, which gives the
 * session's SIP password back. Checked on the wire against the PBX in-process: the password registers before and
 * after a renewal (so a second tab of the session stays registered), and a session signed out cannot be renewed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionResponse } from '../../shared/api';
import { startPbx } from '../../server/pbx';
import type { RunningPbx } from '../../server/pbx';
import { digestAuthorization, SipWsClient } from '../support/sip-ws-client';

const DOMAIN = 'demo.offhook.test';

describe('renewing a session after a reload', () => {
  let pbx: RunningPbx;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-int-renew-'));
    pbx = await startPbx({ httpPort: 0, bind: '127.0.0.1', dataDir, mediaAddress: '127.0.0.1', sipHost: '127.0.0.1', demo: true, webRoot: join(dataDir, 'no-web-phone') });
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

  const renew = (token: string) => fetch(`${pbx.httpUrl}/api/v1/session/renew`, { method: 'POST', headers: { authorization: `Bearer ${token}` } });

  /** The final status of a REGISTER answering the PBX's digest challenge with `password`, on a socket of its own. */
  async function registerWith(extension: string, password: string, callId: string): Promise<number> {
    const client = await SipWsClient.connect(pbx.sipWebSocketUrl);
    try {
      client.register({ user: extension, domain: DOMAIN, callId, cseq: 1 });
      const challenge = await client.next();
      expect(challenge.status).toBe(401);
      const authorization = digestAuthorization({ challenge: challenge.header('WWW-Authenticate') ?? '', method: 'REGISTER', uri: `sip:${DOMAIN}`, username: extension, password });
      client.register({ user: extension, domain: DOMAIN, callId, cseq: 2, authorization });
      return (await client.next()).status;
    } finally {
      client.close();
    }
  }

  it('gives back the SIP password, which registers before and after, so another tab stays registered', async () => {
    const signedIn = await signIn('103', 'carol-103');
    expect(await registerWith('103', signedIn.sip.password, 'renew-before')).toBe(200);

    const response = await renew(signedIn.token);
    expect(response.status).toBe(200);
    const renewed = (await response.json()) as SessionResponse;
    expect(renewed.token).toBe(signedIn.token);
    expect(renewed.sip.wsUrl).toBe(signedIn.sip.wsUrl);

    expect(renewed.sip.password).toBe(signedIn.sip.password);
    expect(await registerWith('103', signedIn.sip.password, 'renew-after')).toBe(200);
    // Another session's password is not this one's.
    const other = await signIn('103', 'carol-103');
    expect(other.sip.password).not.toBe(signedIn.sip.password);
  });

  it('refuses to renew a session signed out, whose SIP password then no longer registers', async () => {
    const signedIn = await signIn('103', 'carol-103');
    const out = await fetch(`${pbx.httpUrl}/api/v1/session`, { method: 'DELETE', headers: { authorization: `Bearer ${signedIn.token}` } });
    expect(out.status).toBe(204);
    expect((await renew(signedIn.token)).status).toBe(401);
    expect(await registerWith('103', signedIn.sip.password, 'renew-signed-out')).toBe(403);
  });
});
