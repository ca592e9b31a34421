/**
 * The PBX restarts under two signed-in web phones: they notice, register again by themselves (their session
 * and SIP credentials live in the PBX's database, so they survive the restart), and can call each other.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS } from '../../server/store/demo';
import { launchBrowser } from './support/browser';
import { startPbxProcess } from './support/pbx-process';
import type { PbxProcess } from './support/pbx-process';
import { writeToneWav } from './support/tone';
import { expectToHear, WebPhone } from './support/web-phone';

const alice = DEMO_USERS.find((u) => u.extension === '101')!;
const bob = DEMO_USERS.find((u) => u.extension === '102')!;

describe('the PBX restarting under registered phones', () => {
  let workDir: string;
  let dataDir: string;
  let pbx: PbxProcess | undefined;
  let browserA: Browser;
  let browserB: Browser;

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'offhook-restart-'));
    dataDir = join(workDir, 'data');
    writeToneWav(join(workDir, 'a-440.wav'), 440);
    writeToneWav(join(workDir, 'b-880.wav'), 880);
    [browserA, browserB] = await Promise.all([launchBrowser(join(workDir, 'a-440.wav')), launchBrowser(join(workDir, 'b-880.wav'))]);
  });

  afterAll(async () => {
    await browserA?.close();
    await browserB?.close();
    await pbx?.stop();
    rmSync(workDir, { recursive: true, force: true });
  });

  it('both phones register again by themselves, and then A calls B with audio both ways', async () => {
    pbx = await startPbxProcess({ dataDir });
    const port = Number(new URL(pbx.url).port);
    const a = await WebPhone.open(browserA, pbx.url);
    const b = await WebPhone.open(browserB, pbx.url);
    try {
      await a.signIn(alice.extension, alice.password);
      await b.signIn(bob.extension, bob.password);
      await a.waitUntilRegistered();
      await b.waitUntilRegistered();

      expect(await pbx.stop()).toBe(0);
      const status = (phone: WebPhone) => phone.page.getByRole('status', { name: 'Registration' }).textContent();
      await expect.poll(() => status(a), { timeout: 15_000 }).not.toContain('Registered');

      pbx = await startPbxProcess({ dataDir, port });
      // No one touches the phones: JsSIP's reconnection and the keep-alive bring them back.
      await expect.poll(() => status(a), { timeout: 45_000, interval: 500 }).toBe('Registered');
      await expect.poll(() => status(b), { timeout: 45_000, interval: 500 }).toBe('Registered');

      await a.call(bob.extension);
      await b.answer();
      await a.activeCall().waitFor();
      await expectToHear(b, 440);
      await expectToHear(a, 880);
      await a.hangUp();
    } finally {
      await a.close();
      await b.close();
    }
  });
});
