/**
 * The event stream from a real browser (Debian's Chromium), which cannot set an Authorization header on a
 * WebSocket: the token goes as a subprotocol, the PBX must agree to `offhook-events.v1` alone, and the
 * browser must accept that answer and receive events. A browser without a token is refused before any frame.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS_PATH, EVENTS_PROTOCOL, EVENTS_TOKEN_PROTOCOL_PREFIX } from '../../shared/events';
import { parseServeConfig } from '../../server/config';
import { startPbx } from '../../server/pbx';
import type { RunningPbx } from '../../server/pbx';
import { findChromium } from '../e2e/support/browser';

interface PageStream {
  protocol: string;
  frames: string[];
  closeCode?: number;
}

describe('event stream in Chromium', () => {
  let dataDir: string;
  let pbx: RunningPbx;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-events-browser-'));
    const argv = ['--demo', '--http-port', '0', '--bind', '127.0.0.1', '--media-address', '127.0.0.1', '--data-dir', dataDir, '--sip-udp-port', 'off', '--sip-tcp-port', 'off', '--sip-tls-port', 'off'];
    pbx = await startPbx(parseServeConfig(argv, {}, { webRoot: join(dataDir, 'no-web-phone') }));
    browser = await chromium.launch({ executablePath: findChromium(), headless: true, args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] });
    page = await browser.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await pbx?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Opens a stream in the page; resolves with what it has once `ready` came, or once it closed. */
  async function openInPage(url: string, protocols: string[]): Promise<void> {
    await page.evaluate(
      ({ url, protocols }) =>
        new Promise<void>((resolve) => {
          const state = { protocol: '', frames: [] as string[], closeCode: undefined as number | undefined };
          (globalThis as unknown as { stream: typeof state }).stream = state;
          const socket = new WebSocket(url, protocols);
          socket.onopen = () => (state.protocol = socket.protocol);
          socket.onmessage = (event) => {
            state.frames.push(String(event.data));
            if (String(event.data).includes('"ready"')) resolve();
          };
          socket.onclose = (event) => {
            state.closeCode = event.code;
            resolve();
          };
        }),
      { url, protocols },
    );
  }
  const pageStream = () => page.evaluate(() => (globalThis as unknown as { stream: PageStream }).stream);

  it('opens with the token as a subprotocol, is answered with the stream’s protocol alone, and receives events', async () => {
    const response = await fetch(`${pbx.httpUrl}/api/v1/session`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ extension: '101', password: 'alice-101' }) });
    const { token, user } = (await response.json()) as { token: string; user: { id: number; organization: { id: number } } };
    const url = `${pbx.httpUrl.replace('http', 'ws')}${EVENTS_PATH}?user=${user.id}`;
    await openInPage(url, [EVENTS_PROTOCOL, `${EVENTS_TOKEN_PROTOCOL_PREFIX}${token}`]);
    expect(await pageStream()).toMatchObject({ protocol: EVENTS_PROTOCOL, frames: ['{"kind":"ready","seq":0}'], closeCode: undefined });

    await pbx.events.publish(user.organization.id, [user.id], { type: 'registration', devices: [] });
    await expect.poll(async () => (await pageStream()).frames.length).toBe(2);
    expect(JSON.parse((await pageStream()).frames[1] ?? '')).toMatchObject({ kind: 'event', seq: 1, event: { type: 'registration', devices: [] } });
  });

  it('is refused without a token: the socket never opens', async () => {
    await openInPage(`${pbx.httpUrl.replace('http', 'ws')}${EVENTS_PATH}`, [EVENTS_PROTOCOL]);
    expect(await pageStream()).toEqual({ protocol: '', frames: [], closeCode: 1006 });
  });
});
