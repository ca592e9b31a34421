/**
 * Staying signed in: Alice signs in to the web phone once; a reload finds her signed in and registered with no
 * password typed. Signing out, or a session ended on the server, brings back the sign-in form after a reload, the
 * latter with a sentence saying why. The PBX runs in this process (startPbx); the web phone it serves is the built
 * renderer, from OFFHOOK_E2E_WEB_ROOT when set, else dist/renderer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPbx } from '../../server/pbx';
import type { RunningPbx } from '../../server/pbx';
import { launchBrowser } from './support/browser';
import { alice } from './support/setup';
import { writeToneWav } from './support/tone';
import { WebPhone } from './support/web-phone';

const WEB_ROOT = process.env.OFFHOOK_E2E_WEB_ROOT ?? resolve(import.meta.dirname, '../../dist/renderer');
const SESSION_ENDED = 'Your session has ended. Sign in again.';

describe('staying signed in to the web phone', () => {
  let dataDir: string;
  let pbx: RunningPbx;
  let browser: Browser;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-e2e-stay-signed-in-'));
    pbx = await startPbx({ httpPort: 0, bind: '127.0.0.1', dataDir, mediaAddress: '127.0.0.1', sipHost: '127.0.0.1', demo: true, webRoot: WEB_ROOT });
    const tone = join(dataDir, 'tone.wav');
    writeToneWav(tone, 440);
    browser = await launchBrowser(tone);
  });

  afterAll(async () => {
    await browser?.close();
    await pbx?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const signInButton = (phone: WebPhone) => phone.page.getByRole('button', { name: 'Sign in', exact: true });
  const signOutButton = (phone: WebPhone) => phone.page.getByRole('button', { name: 'Sign out', exact: true });
  /** Everything the page keeps in localStorage, as one string. */
  const stored = (phone: WebPhone) => phone.page.evaluate(() => JSON.stringify({ ...localStorage }));
  const keptToken = (phone: WebPhone) =>
    phone.page.evaluate(() => (JSON.parse(localStorage.getItem('offhook.session') ?? 'null') as { token: string } | null)?.token);

  async function signedInPhone(): Promise<WebPhone> {
    const phone = await WebPhone.open(browser, pbx.httpUrl);
    await phone.signIn(alice.extension, alice.password);
    await phone.waitUntilRegistered();
    return phone;
  }

  it('Alice reloads the page and is still signed in and registered, with no password typed', async () => {
    const phone = await signedInPhone();
    try {
      // Only the server and a token are kept: no password of either kind.
      const kept = await stored(phone);
      expect(kept).not.toContain(alice.password);
      expect(kept).not.toMatch(/password/i);
      expect(await keptToken(phone)).toMatch(/^[\w-]{20,}$/);

      const reloaded = Date.now();
      await phone.page.reload();
      await phone.waitUntilRegistered();
      // Printed, not asserted: how long from the reload to "Registered" on this machine.
      process.stdout.write(`reload to Registered: ${Date.now() - reloaded} ms\n`);
      expect(await signInButton(phone).count()).toBe(0);
      expect(await phone.page.getByLabel('Password').count()).toBe(0);
      await expect(phone.page.getByRole('banner').getByText('Alice Adams').count()).resolves.toBe(1);
    } finally {
      await phone.close();
    }
  });

  it('Alice signs out and reloads: the sign-in form, with nothing to say', async () => {
    const phone = await signedInPhone();
    try {
      await signOutButton(phone).click();
      await signInButton(phone).waitFor();
      expect(await keptToken(phone)).toBeUndefined();
      await phone.page.reload();
      await signInButton(phone).waitFor();
      expect(await phone.signInError().count()).toBe(0);
    } finally {
      await phone.close();
    }
  });

  it('a session ended on the server: after a reload the sign-in form says the session ended', async () => {
    const phone = await signedInPhone();
    try {
      const token = await keptToken(phone);
      // Signed out elsewhere: the session is deleted on the PBX, as another tab's Sign out does.
      const out = await fetch(`${pbx.httpUrl}/api/v1/session`, { method: 'DELETE', headers: { authorization: `Bearer ${token}` } });
      expect(out.status).toBe(204);

      await phone.page.reload();
      await signInButton(phone).waitFor();
      await expect.poll(() => phone.signInError().textContent()).toBe(SESSION_ENDED);
      expect(await keptToken(phone)).toBeUndefined();

      // Signing in again works as ever.
      await phone.signIn(alice.extension, alice.password);
      await phone.waitUntilRegistered();
    } finally {
      await phone.close();
    }
  });

  it('the server does not answer at start: the sign-in form says so and tries again, instead of a blank window', async () => {
    const phone = await signedInPhone();
    try {
      // The renewal is sent and never answered, as by a server that hangs.
      const renewals: string[] = [];
      await phone.page.route('**/api/v1/session/renew', (route) => void renewals.push(route.request().url()));
      await phone.page.reload();
      // The first renewal gives up after its short start-up timeout (the client's usual one is 15 s, and says
      // "Can't reach the server"); the form shows with the notice while the kept session is tried again.
      const notice = phone.page.getByRole('status').filter({ hasText: 'Trying again in' });
      await notice.waitFor({ timeout: 10_000 });
      expect(await notice.textContent()).toMatch(/^The server at .+ did not answer in time\. Trying again in \d+ seconds\.$/);
      expect(await signInButton(phone).count()).toBe(1);

      // The server answers again: the next try signs Alice back in, with no password typed.
      await phone.page.unroute('**/api/v1/session/renew');
      await phone.waitUntilRegistered();
      expect(renewals.length).toBeGreaterThanOrEqual(1);
    } finally {
      await phone.close();
    }
  });

  it('Alice signed in in two tabs signs out in one: the other, reloaded, shows the sign-in form', async () => {
    const phone = await signedInPhone();
    const other = await phone.context.newPage();
    try {
      await other.goto(pbx.httpUrl);
      await other.getByRole('status', { name: 'Registration' }).filter({ hasText: 'Registered' }).waitFor({ timeout: 15_000 });
      await other.getByRole('button', { name: 'Sign out', exact: true }).click();
      await other.getByRole('button', { name: 'Sign in', exact: true }).waitFor();

      await phone.page.reload();
      await signInButton(phone).waitFor();
      expect(await signOutButton(phone).count()).toBe(0);
    } finally {
      await other.close();
      await phone.close();
    }
  });
});
