/**
 * The PBX restarting under signed-in web phones. Their sessions and SIP credentials live in the PBX's database,
 * so they survive the restart; the phones notice the connection is gone, reconnect with backoff and register
 * again without anyone touching them. A PBX that crashes mid-call says nothing to anyone: the phones must still
 * end the call (its dialog is gone, and so is its media) and take its card away.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS } from '../../server/store/demo';
import { launchBrowser } from './support/browser';
import { startPbxProcess } from './support/pbx-process';
import type { PbxProcess, PbxProcessOptions } from './support/pbx-process';
import { writeToneWav } from './support/tone';
import { expectToHear, WebPhone } from './support/web-phone';

const alice = DEMO_USERS.find((u) => u.extension === '101')!;
const bob = DEMO_USERS.find((u) => u.extension === '102')!;

/** Backoff is capped at 30 s; with the PBX back within a second or two, a phone is back well inside this. */
const BACK_WITHIN_MS = 30_000;

describe('the PBX restarting under registered phones', () => {
  let workDir: string;
  let pbx: PbxProcess | undefined;
  let browserA: Browser;
  let browserB: Browser;
  const phones: WebPhone[] = [];

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'offhook-restart-'));
    writeToneWav(join(workDir, 'a-440.wav'), 440);
    writeToneWav(join(workDir, 'b-880.wav'), 880);
    [browserA, browserB] = await Promise.all([launchBrowser(join(workDir, 'a-440.wav')), launchBrowser(join(workDir, 'b-880.wav'))]);
  });

  afterEach(async () => {
    for (const phone of phones.splice(0)) await phone.close();
    await pbx?.dispose();
    pbx = undefined;
  });

  afterAll(async () => {
    await browserA?.close();
    await browserB?.close();
    rmSync(workDir, { recursive: true, force: true });
  });

  async function signedIn(browser: Browser, user: { extension: string; password: string }): Promise<WebPhone> {
    const phone = await WebPhone.open(browser, pbx!.url);
    phones.push(phone);
    await phone.signIn(user.extension, user.password);
    await phone.waitUntilRegistered();
    return phone;
  }

  /** A PBX of its own, both phones signed in, and A in a call with B that B is heard to answer. */
  async function aliceCallsBob(options: PbxProcessOptions = {}): Promise<{ a: WebPhone; b: WebPhone; server: PbxProcess }> {
    const server = await startPbxProcess(options);
    pbx = server;
    const a = await signedIn(browserA, alice);
    const b = await signedIn(browserB, bob);
    await a.call(bob.extension);
    await b.answer();
    await a.activeCall().waitFor();
    await expectToHear(b, 440);
    return { a, b, server };
  }

  const status = (phone: WebPhone) => phone.page.getByRole('status', { name: 'Registration' }).textContent();

  it('both phones register again by themselves, and then A calls B with audio both ways', async () => {
    pbx = await startPbxProcess();
    const a = await signedIn(browserA, alice);
    const b = await signedIn(browserB, bob);

    expect(await pbx.stop()).toBe(0);
    await expect.poll(() => status(a), { timeout: 15_000 }).toMatch(/Registering|Not registered/);
    await expect.poll(() => status(b), { timeout: 15_000 }).toMatch(/Registering|Not registered/);

    pbx = await pbx.restart();
    // No one touches the phones.
    await expect.poll(() => status(a), { timeout: BACK_WITHIN_MS, interval: 250 }).toBe('Registered');
    await expect.poll(() => status(b), { timeout: BACK_WITHIN_MS, interval: 250 }).toBe('Registered');

    await a.call(bob.extension);
    await b.answer();
    await a.activeCall().waitFor();
    await expectToHear(b, 440);
    await expectToHear(a, 880);
    await a.hangUp();
  });

  it('a network stall mid-call: media stops, both phones renegotiate it (an ICE restart), and audio comes back both ways on the same call', async () => {
    const { a, b, server } = await aliceCallsBob({ logLevel: 'info' });
    await expectToHear(a, 880);

    // Nothing gets through for 10 s: long enough for both browsers to see their media down and restart ICE
    // (2 s after), short of the 15 s after which a phone gives the call up.
    server.freeze(true);
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    server.freeze(false);
    const renegotiated = () => [
      ...new Set(
        server
          .output()
          .split('\n')
          .filter((line) => line.includes('call resumed or renegotiated'))
          .map((line) => /"by":"(\d+)"/.exec(line)?.[1]),
      ),
    ].sort();
    await expect.poll(renegotiated, { timeout: 10_000 }).toEqual(['101', '102']);
    await expectToHear(b, 440);
    await expectToHear(a, 880);
    expect(await a.callCards().count()).toBe(1);
    await a.hangUp();
  });

  it('a PBX crash mid-call ends the call on both phones and takes the cards away; both register again', async () => {
    const { a, b, server } = await aliceCallsBob();

    // SIGKILL: no BYE reaches anyone, and the dialogs die with the process.
    pbx = await server.restart('SIGKILL');
    await expect.poll(() => status(a), { timeout: BACK_WITHIN_MS, interval: 250 }).toBe('Registered');
    await expect.poll(() => status(b), { timeout: BACK_WITHIN_MS, interval: 250 }).toBe('Registered');
    await expect.poll(() => a.callCards().count(), { timeout: 20_000 }).toBe(0);
    await expect.poll(() => b.callCards().count(), { timeout: 20_000 }).toBe(0);
  });
});
