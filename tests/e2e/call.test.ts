/**
 * Two people, each in their own Chromium with a fake microphone playing their own tone (A 440 Hz, B 880 Hz),
 * sign in to the web phone served by a real PBX and call each other. Media is anchored at the PBX, so a tone
 * heard at the far end has crossed both WebRTC legs and the PBX's bridge.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS } from '../../server/store/demo';
import { expectAccessible } from './support/axe';
import { launchBrowser } from './support/browser';
import { startPbxProcess } from './support/pbx-process';
import type { PbxProcess } from './support/pbx-process';
import { writeToneWav } from './support/tone';
import { expectToHear, WebPhone } from './support/web-phone';

const alice = DEMO_USERS.find((u) => u.extension === '101')!;
const bob = DEMO_USERS.find((u) => u.extension === '102')!;

describe('calling between two people through the PBX', () => {
  let pbx: PbxProcess;
  let workDir: string;
  let browserA: Browser;
  let browserB: Browser;
  const phones: WebPhone[] = [];

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'offhook-tones-'));
    writeToneWav(join(workDir, 'a-440.wav'), 440);
    writeToneWav(join(workDir, 'b-880.wav'), 880);
    pbx = await startPbxProcess();
    [browserA, browserB] = await Promise.all([launchBrowser(join(workDir, 'a-440.wav')), launchBrowser(join(workDir, 'b-880.wav'))]);
  });

  afterEach(async () => {
    for (const phone of phones.splice(0)) await phone.close();
  });

  afterAll(async () => {
    await browserA?.close();
    await browserB?.close();
    await pbx?.dispose();
    rmSync(workDir, { recursive: true, force: true });
  });

  async function signedIn(browser: Browser, user: { extension: string; password: string }): Promise<WebPhone> {
    const phone = await WebPhone.open(browser, pbx.url);
    phones.push(phone);
    await phone.signIn(user.extension, user.password);
    await phone.waitUntilRegistered();
    return phone;
  }

  it('A calls B, B answers, each hears the other, and both return to idle when A hangs up', async () => {
    const a = await signedIn(browserA, alice);
    const b = await signedIn(browserB, bob);

    await a.call(bob.extension);
    await b.incomingCall().waitFor();
    await expect.poll(() => b.incomingCall().textContent()).toContain(alice.displayName);
    await b.answer();
    await a.activeCall().waitFor();
    await b.activeCall().waitFor();

    await expectToHear(b, 440);
    await expectToHear(a, 880);

    await a.hangUp();
    await expect.poll(() => a.callCards().count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => b.callCards().count(), { timeout: 10_000 }).toBe(0);
  });

  it('B declines and A sees the call end', async () => {
    const a = await signedIn(browserA, alice);
    const b = await signedIn(browserB, bob);

    await a.call(bob.extension);
    await b.incomingCall().waitFor();
    await b.decline();
    await a.page.getByText(/declined|busy/i).waitFor({ timeout: 10_000 });
    await expect.poll(() => a.callCards().count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => b.callCards().count(), { timeout: 10_000 }).toBe(0);
  });

  it('A hangs up before B answers and B stops ringing', async () => {
    const a = await signedIn(browserA, alice);
    const b = await signedIn(browserB, bob);

    await a.call(bob.extension);
    await b.incomingCall().waitFor();
    await a.hangUp();
    await expect.poll(() => b.incomingCall().count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => a.callCards().count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => b.callCards().count(), { timeout: 10_000 }).toBe(0);
  });

  it('B hangs up an answered call and A returns to idle', async () => {
    const a = await signedIn(browserA, alice);
    const b = await signedIn(browserB, bob);

    await a.call(bob.extension);
    await b.answer();
    await a.activeCall().waitFor();
    await b.hangUp();
    await expect.poll(() => a.callCards().count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => b.callCards().count(), { timeout: 10_000 }).toBe(0);
  });

  it('a wrong password shows the sign-in error and does not sign in', async () => {
    const phone = await WebPhone.open(browserA, pbx.url);
    phones.push(phone);
    await phone.signIn(alice.extension, 'not-the-password');
    await expect.poll(() => phone.signInError().textContent()).toContain('The extension or password is incorrect.');
    await expectAccessible(phone.page, 'sign-in form with a wrong password');
    await expect(phone.page.getByRole('status', { name: 'Registration' }).count()).resolves.toBe(0);
  });
});
