/**
 * The web phone over HTTPS and SIP over secure WebSocket (RFC 7118 WSS), with the demo's self-signed
 * certificate: what phones on other computers need, since browsers give the microphone only to secure pages.
 */
import { request } from 'node:https';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionResponse } from '../../shared/api';
import { startPbx } from '../../server/pbx';
import type { RunningPbx } from '../../server/pbx';

function httpsJson(url: string, method: 'GET' | 'POST', body?: unknown): Promise<{ status: number; json: unknown; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, rejectUnauthorized: false, headers: { 'content-type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : undefined, headers: res.headers }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(JSON.stringify(body));
    req.end();
  });
}

describe('HTTPS and WSS', () => {
  let pbx: RunningPbx;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-https-'));
    pbx = await startPbx({ httpPort: 0, httpsPort: 0, bind: '127.0.0.1', dataDir, mediaAddress: '127.0.0.1', sipHost: '127.0.0.1', demo: true, webRoot: join(dataDir, 'none') });
  });

  afterAll(async () => {
    await pbx?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('signs in over HTTPS and hands out a wss:// address for SIP, where a device registers', async () => {
    expect(pbx.httpsUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const health = await httpsJson(`${pbx.httpsUrl}/api/v1/health`, 'GET');
    expect(health.status).toBe(200);

    const signIn = await httpsJson(`${pbx.httpsUrl}/api/v1/session`, 'POST', { extension: '101', password: 'alice-101' });
    expect(signIn.status).toBe(201);
    const session = signIn.json as SessionResponse;
    expect(session.sip.wsUrl).toBe(pbx.sipSecureWebSocketUrl);

    const socket = new WebSocket(session.sip.wsUrl, 'sip', { rejectUnauthorized: false });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('open', () => resolve());
        socket.once('error', reject);
      });
      expect(socket.protocol).toBe('sip');
      const answer = new Promise<string>((resolve) => socket.once('message', (data) => resolve(data.toString())));
      socket.send(
        ['OPTIONS sip:demo.offhook.test SIP/2.0', 'Via: SIP/2.0/WSS a.invalid;branch=z9hG4bKwss1', 'Max-Forwards: 70', 'To: <sip:demo.offhook.test>', 'From: <sip:101@demo.offhook.test>;tag=1', 'Call-ID: wss-1', 'CSeq: 1 OPTIONS', 'Content-Length: 0', '', ''].join('\r\n'),
      );
      expect((await answer).split('\r\n')[0]).toBe('SIP/2.0 200 OK');
    } finally {
      socket.close();
    }
  });
});
