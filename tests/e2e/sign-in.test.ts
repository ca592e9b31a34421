/**
 * Signing in on a PBX that hosts two organizations, each with an extension 101: by SIP address, or by extension
 * and then the organization the form asks for. The PBX runs in this process (startPbx) so the second
 * organization can be added to its database; the web phone it serves is the built renderer, from
 * OFFHOOK_E2E_WEB_ROOT when set (a renderer built apart, e.g. `npx vite build -c vite.renderer.config.ts
 * --outDir DIR`), else dist/renderer.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPbx } from '../../server/pbx';
import type { RunningPbx } from '../../server/pbx';
import { ensureOrganization } from '../../server/store/organizations';
import { createUser } from '../../server/store/users';
import { expectAccessible } from './support/axe';
import { launchBrowser } from './support/browser';
import { alice } from './support/setup';
import { writeToneWav } from './support/tone';
import { WebPhone } from './support/web-phone';

const WEB_ROOT = process.env.OFFHOOK_E2E_WEB_ROOT ?? resolve(import.meta.dirname, '../../dist/renderer');
const SECOND = { name: 'Second Company', domain: 'second.offhook.test' };
const secondAlice = { extension: '101', displayName: 'Alex Second', password: 'alex-101-second' };

describe.each([
  { listOrganizationsAtSignIn: true, title: 'a PBX that lists its organizations at sign-in' },
  { listOrganizationsAtSignIn: false, title: 'a PBX that keeps its organizations to itself (the default)' },
])('signing in on $title', ({ listOrganizationsAtSignIn }) => {
  let dataDir: string;
  let pbx: RunningPbx;
  let browser: Browser;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-e2e-sign-in-'));
    pbx = await startPbx({ httpPort: 0, bind: '127.0.0.1', dataDir, mediaAddress: '127.0.0.1', sipHost: '127.0.0.1', demo: true, webRoot: WEB_ROOT, listOrganizationsAtSignIn });
    const second = await ensureOrganization(pbx.db, SECOND);
    await createUser(pbx.db, { organizationId: second.id, ...secondAlice });
    const tone = join(dataDir, 'tone.wav');
    writeToneWav(tone, 440);
    browser = await launchBrowser(tone);
  });

  afterAll(async () => {
    await browser?.close();
    await pbx?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Who the header says is signed in. */
  const signedInAs = (phone: WebPhone) => phone.page.getByRole('banner').getByText(/Alice Adams|Alex Second/);

  it('signs Alice in to her organization by her SIP address', async () => {
    const phone = await WebPhone.open(browser, pbx.httpUrl);
    try {
      await expect(phone.page.getByRole('textbox', { name: 'Extension (or SIP address)', exact: true }).count()).resolves.toBe(1);
      await expectAccessible(phone.page, 'sign-in form');
      await phone.signIn(`101@${'demo.offhook.test'}`, alice.password);
      await phone.waitUntilRegistered();
      await expect(signedInAs(phone).textContent()).resolves.toBe('Alice Adams');
    } finally {
      await phone.close();
    }
  });

  if (listOrganizationsAtSignIn) {
    it('asks which organization when given the extension alone, and signs Alex in to the one chosen', async () => {
      const phone = await WebPhone.open(browser, pbx.httpUrl);
      try {
        const organization = phone.page.getByRole('combobox', { name: 'Organization', exact: true });
        expect(await organization.count()).toBe(0);
        await phone.signIn(secondAlice.extension, secondAlice.password);
        await expect.poll(() => phone.signInError().textContent()).toBe('This server hosts several organizations: choose yours.');
        // The question has the focus, and is answered with the keyboard.
        await expect.poll(() => organization.evaluate((element) => element === document.activeElement)).toBe(true);
        await expectAccessible(phone.page, 'sign-in form asking for the organization');
        const options = await organization.getByRole('option').allTextContents();
        expect(options.map((text) => text.trim())).toEqual(['Choose your organization', 'Demo Company (demo.offhook.test)', `${SECOND.name} (${SECOND.domain})`]);
        await phone.page.keyboard.press('End');
        expect(await organization.inputValue()).toBe(SECOND.domain);
        await phone.page.getByRole('button', { name: 'Sign in', exact: true }).click();
        await phone.waitUntilRegistered();
        await expect(signedInAs(phone).textContent()).resolves.toBe('Alex Second');
      } finally {
        await phone.close();
      }
    });
  } else {
    it('asks for the SIP address when given the extension alone, and signs Alex in with it', async () => {
      const phone = await WebPhone.open(browser, pbx.httpUrl);
      try {
        await phone.signIn(secondAlice.extension, secondAlice.password);
        await expect.poll(() => phone.signInError().textContent()).toContain('sign in with your SIP address');
        await expectAccessible(phone.page, 'sign-in form with its error');
        expect(await phone.page.getByRole('combobox', { name: 'Organization' }).count()).toBe(0);
        await phone.signIn(`${secondAlice.extension}@${SECOND.domain}`, secondAlice.password);
        await phone.waitUntilRegistered();
        await expect(signedInAs(phone).textContent()).resolves.toBe('Alex Second');
      } finally {
        await phone.close();
      }
    });
  }
});
