/**
 * A desk phone's view of the PBX, over a real WebSocket to the PBX in-process: registering with the
 * long-lived SIP password (not a signed-in session), the message-waiting lamp (SUBSCRIBE message-summary),
 * a busy lamp (SUBSCRIBE dialog) and instant messages (MESSAGE) to a colleague's devices.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPbx } from '../../server/pbx';
import type { RunningPbx } from '../../server/pbx';
import { DEMO_ORGANIZATION, DEMO_USERS } from '../../server/store/demo';
import { requestLine, requestText, responseText } from '../support/sip-requests';
import { digestAuthorization, SipWsClient } from '../support/sip-ws-client';
import type { ParsedResponse } from '../support/sip-ws-client';

const DOMAIN = DEMO_ORGANIZATION.domain;
const sipPassword = (extension: string) => DEMO_USERS.find((u) => u.extension === extension)!.sipPassword;

describe('a desk phone with its SIP password', () => {
  let pbx: RunningPbx;
  let dataDir: string;
  const clients: SipWsClient[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-int-desk-'));
    pbx = await startPbx({ httpPort: 0, bind: '127.0.0.1', dataDir, mediaAddress: '127.0.0.1', sipHost: '127.0.0.1', demo: true, webRoot: join(dataDir, 'none') });
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await pbx?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  async function phone(): Promise<SipWsClient> {
    const client = await SipWsClient.connect(pbx.sipWebSocketUrl);
    clients.push(client);
    return client;
  }

  /**
   * Sends a request, answers the 401/407 challenge (the MD5 one, as most desk phones would) with the
   * extension's SIP password, and returns the final answer.
   */
  async function withCredentials(client: SipWsClient, extension: string, request: { method: string; uri: string; to: string; headers?: Array<[string, string]>; body?: string }): Promise<ParsedResponse> {
    const callId = `${request.method.toLowerCase()}-${Math.random().toString(36).slice(2)}`;
    const base = { ...request, from: `<sip:${extension}@${DOMAIN}>;tag=${extension}t`, callId, host: client.host };
    client.sendRaw(requestText({ ...base, cseq: 1 }));
    const challenge = await client.next();
    expect([401, 407]).toContain(challenge.status);
    const proxy = challenge.status === 407;
    const md5 = challenge.headerAll(proxy ? 'Proxy-Authenticate' : 'WWW-Authenticate').find((c) => /algorithm=MD5/.test(c))!;
    const authorization = digestAuthorization({ challenge: md5, method: request.method, uri: request.uri, username: extension, password: sipPassword(extension) });
    client.sendRaw(requestText({ ...base, cseq: 2, headers: [...(request.headers ?? []), [proxy ? 'Proxy-Authorization' : 'Authorization', authorization]] }));
    return client.next();
  }

  async function register(client: SipWsClient, extension: string): Promise<ParsedResponse> {
    return withCredentials(client, extension, {
      method: 'REGISTER',
      uri: `sip:${DOMAIN}`,
      to: `<sip:${extension}@${DOMAIN}>`,
      headers: [['Contact', `<sip:${extension}@${client.host};transport=ws>;expires=600`], ['User-Agent', 'Offhook test desk phone']],
    });
  }

  it('registers with the desk-phone password, with MD5 as with SHA-256', async () => {
    const desk = await phone();
    expect((await register(desk, '101')).status).toBe(200);
    const client = await phone();
    client.register({ user: '103', domain: DOMAIN, callId: 'sha-reg', cseq: 1 });
    const challenge = await client.next();
    const sha = challenge.headerAll('WWW-Authenticate')[0]!;
    expect(sha).toMatch(/algorithm=SHA-256/);
    const authorization = digestAuthorization({ challenge: sha, method: 'REGISTER', uri: `sip:${DOMAIN}`, username: '103', password: sipPassword('103') });
    client.register({ user: '103', domain: DOMAIN, callId: 'sha-reg', cseq: 2, authorization });
    expect((await client.next()).status).toBe(200);
  });

  it('lights no message-waiting lamp: SUBSCRIBE message-summary is answered by a NOTIFY of the empty mailbox', async () => {
    const desk = await phone();
    const ok = await withCredentials(desk, '101', {
      method: 'SUBSCRIBE',
      uri: `sip:101@${DOMAIN}`,
      to: `<sip:101@${DOMAIN}>`,
      headers: [['Event', 'message-summary'], ['Accept', 'application/simple-message-summary'], ['Contact', `<sip:101@${desk.host};transport=ws>`], ['Expires', '600']],
    });
    expect(ok.status).toBe(200);
    expect(ok.header('Expires')).toBe('600');
    const notify = await desk.next();
    const line = requestLine(notify);
    expect(line.method).toBe('NOTIFY');
    expect(line.uri).toBe(`sip:101@${desk.host};transport=ws`);
    expect(notify.header('Call-ID')).toBe(ok.header('Call-ID'));
    expect(notify.header('Event')).toBe('message-summary');
    expect(notify.header('Subscription-State')).toBe('active;expires=600');
    expect(notify.header('Content-Type')).toBe('application/simple-message-summary');
    expect(line.body).toBe(`Messages-Waiting: no\r\nMessage-Account: sip:101@${DOMAIN}\r\nVoice-Message: 0/0\r\n`);
    desk.sendRaw(responseText(notify, 200, 'OK'));
    expect(pbx.sip.subscriptions.size).toBeGreaterThanOrEqual(1);
  });

  it('shows a busy lamp: SUBSCRIBE dialog to a colleague is answered with their (idle) line state', async () => {
    const desk = await phone();
    const ok = await withCredentials(desk, '103', {
      method: 'SUBSCRIBE',
      uri: `sip:102@${DOMAIN}`,
      to: `<sip:102@${DOMAIN}>`,
      headers: [['Event', 'dialog'], ['Contact', `<sip:103@${desk.host};transport=ws>`]],
    });
    expect(ok.status).toBe(200);
    const notify = await desk.next();
    expect(notify.header('Content-Type')).toBe('application/dialog-info+xml');
    expect(requestLine(notify).body).toContain(`<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="0" state="full" entity="sip:102@${DOMAIN}">`);
    desk.sendRaw(responseText(notify, 200, 'OK'));
  });

  it('refuses an unknown event package with 489', async () => {
    const desk = await phone();
    desk.sendRaw(requestText({
      method: 'SUBSCRIBE', uri: `sip:102@${DOMAIN}`, from: `<sip:101@${DOMAIN}>;tag=x`, to: `<sip:102@${DOMAIN}>`, callId: 'presence-1', cseq: 1, host: desk.host,
      headers: [['Event', 'presence'], ['Contact', `<sip:101@${desk.host};transport=ws>`]],
    }));
    const refused = await desk.next();
    expect(refused.status).toBe(489);
  });

  it('delivers a MESSAGE to every registered device of a colleague; the first to accept answers the sender', async () => {
    const bobDesk = await phone();
    const bobSoftphone = await phone();
    expect((await register(bobDesk, '102')).status).toBe(200);
    expect((await register(bobSoftphone, '102')).status).toBe(200);
    const alice = await phone();
    const sending = withCredentials(alice, '101', {
      method: 'MESSAGE',
      uri: `sip:102@${DOMAIN}`,
      to: `<sip:102@${DOMAIN}>`,
      headers: [['Content-Type', 'text/plain;charset=UTF-8']],
      body: 'Coffee at 3?',
    });
    const [atDesk, atSoftphone] = await Promise.all([bobDesk.next(), bobSoftphone.next()]);
    for (const received of [atDesk, atSoftphone]) {
      expect(requestLine(received).method).toBe('MESSAGE');
      expect(received.header('From')).toMatch(new RegExp(`^"Alice Adams" <sip:101@${DOMAIN}>`));
      expect(requestLine(received).body).toBe('Coffee at 3?');
    }
    bobSoftphone.sendRaw(responseText(atSoftphone, 200, 'OK'));
    expect((await sending).status).toBe(200);
    bobDesk.sendRaw(responseText(atDesk, 200, 'OK'));

    const nobody = await withCredentials(alice, '101', { method: 'MESSAGE', uri: `sip:100@${DOMAIN}`, to: `<sip:100@${DOMAIN}>`, headers: [['Content-Type', 'text/plain']], body: 'Hi' });
    expect(nobody.status).toBe(480);
    const unknown = await withCredentials(alice, '101', { method: 'MESSAGE', uri: `sip:199@${DOMAIN}`, to: `<sip:199@${DOMAIN}>`, headers: [['Content-Type', 'text/plain']], body: 'Hi' });
    expect(unknown.status).toBe(404);
  });
});
