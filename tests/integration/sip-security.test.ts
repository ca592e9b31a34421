/**
 * Hostile traffic against the PBX in-process, over a real WebSocket: a scanner is not answered, and a
 * source that fails authentication across many accounts is banned: nothing it sends on a flow that holds
 * nothing is answered, not even with 400. Its own PBX, since the ban covers this test's address.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPbx } from '../../server/pbx';
import type { RunningPbx } from '../../server/pbx';
import { DEMO_ORGANIZATION } from '../../server/store/demo';
import { requestText } from '../support/sip-requests';
import { digestAuthorization, SipWsClient } from '../support/sip-ws-client';

const DOMAIN = DEMO_ORGANIZATION.domain;

describe('SIP edge security', () => {
  let pbx: RunningPbx;
  let dataDir: string;
  let client: SipWsClient;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-int-sec-'));
    pbx = await startPbx({ httpPort: 0, bind: '127.0.0.1', dataDir, mediaAddress: '127.0.0.1', sipHost: '127.0.0.1', demo: true, webRoot: join(dataDir, 'none') });
    client = await SipWsClient.connect(pbx.sipWebSocketUrl);
  });
  afterAll(async () => {
    client?.close();
    await pbx?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const options = (callId: string, userAgent: string) =>
    requestText({
      method: 'OPTIONS', uri: `sip:${DOMAIN}`, from: '<sip:probe@probe.invalid>;tag=p', to: `<sip:${DOMAIN}>`, callId, cseq: 1, host: client.host,
      headers: [['User-Agent', userAgent]],
    });

  it('does not answer a scanner, and goes on answering others from the same address', async () => {
    client.sendRaw(options('scan-1', 'friendly-scanner'));
    client.sendRaw(options('scan-2', 'sipvicious'));
    client.sendRaw(options('honest-1', 'Offhook test desk phone'));
    const first = await client.next();
    expect([first.header('Call-ID'), first.status]).toEqual(['honest-1', 200]);
  });

  it('bans a source that fails at 5 accounts, real or not: then even a correct request gets no answer', async () => {
    for (const [i, user] of ['101', '102', '103', '555', '556'].entries()) {
      const callId = `guess-${i}`;
      client.register({ user, domain: DOMAIN, callId, cseq: 1 });
      const challenge = await client.next();
      expect(challenge.status).toBe(401);
      const authorization = digestAuthorization({ challenge: challenge.header('WWW-Authenticate')!, method: 'REGISTER', uri: `sip:${DOMAIN}`, username: user, password: `guess-${i}` });
      client.register({ user, domain: DOMAIN, callId, cseq: 2, authorization });
      expect((await client.next()).status).toBe(403);
    }
    expect(pbx.sip.security.isBanned('127.0.0.1')).toBe(true);
    client.register({ user: '101', domain: DOMAIN, callId: 'after-ban', cseq: 1 });
    client.sendRaw(options('after-ban', 'Offhook test desk phone'));
    // Malformed requests, which the endpoint itself would answer with 400, get nothing either.
    client.sendRaw(options('after-ban-malformed', 'Offhook test desk phone').replace('Content-Length: 0', 'Content-Length: 0\r\nContent-Length: 7'));
    client.sendRaw(options('after-ban-branchless', 'Offhook test desk phone').replace(/;branch=[^;\r]+/, ''));
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Lifted by hand here (it would last 10 minutes): the first answer is to what came after, nothing before.
    pbx.sip.security.unban('127.0.0.1');
    client.sendRaw(options('after-unban', 'Offhook test desk phone'));
    expect((await client.next()).header('Call-ID')).toBe('after-unban');
  });
});
