/**
 * baresip, a real SIP app on plain RTP/G.711, and the web phone in Chromium on WebRTC, calling each other
 * through the PBX, which bridges SRTP and RTP. Each side plays its own tone (web phone 440 Hz, baresip
 * 660 Hz); each must hear the other's.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_USERS } from '../../server/store/demo';
import { launchBrowser } from '../e2e/support/browser';
import { writeToneWav } from '../e2e/support/tone';
import { expectToHear, WebPhone } from '../e2e/support/web-phone';
import { startBaresip, tonePower } from './support/baresip';
import type { Baresip } from './support/baresip';
import { DOMAIN, startInteropPbx } from './support/pbx';
import type { InteropPbx } from './support/pbx';

const WEB_ROOT = resolve(import.meta.dirname, '../../dist/renderer');
const alice = DEMO_USERS.find((u) => u.extension === '101')!;
const bob = DEMO_USERS.find((u) => u.extension === '102')!;

describe('baresip and the web phone through the PBX', () => {
  let pbx: InteropPbx;
  let dir: string;
  let browser: Browser;
  let baresip: Baresip;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-baresip-'));
    writeToneWav(join(dir, 'web-440.wav'), 440);
    writeToneWav(join(dir, 'baresip-660.wav'), 660, 5, 8_000);
    pbx = await startInteropPbx(WEB_ROOT);
    baresip = await startBaresip({
      dir,
      extension: bob.extension,
      domain: DOMAIN,
      password: bob.sipPassword,
      registrar: { host: '127.0.0.1', port: pbx.ports.udp ?? 0 },
      sourceWav: join(dir, 'baresip-660.wav'),
    });
    browser = await launchBrowser(join(dir, 'web-440.wav'));
  });

  afterAll(async () => {
    await browser?.close();
    await baresip?.stop();
    await pbx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** baresip heard the web phone's 440 Hz clearly above its own 660 Hz and other tones. */
  function expectBaresipHeardWebPhone(): void {
    const heard = baresip.heard();
    expect(heard, `baresip recorded nothing:\n${baresip.output()}`).toBeDefined();
    const { samples, sampleRate } = heard!;
    expect(samples.length).toBeGreaterThan(sampleRate); // more than a second of call audio
    const recent = samples.subarray(Math.max(0, samples.length - 2 * sampleRate));
    const at440 = tonePower(recent, sampleRate, 440);
    expect(at440).toBeGreaterThan(10 * tonePower(recent, sampleRate, 660));
    expect(at440).toBeGreaterThan(10 * tonePower(recent, sampleRate, 1000));
  }

  it('the web phone calls baresip, which answers by itself; each hears the other', async () => {
    const phone = await WebPhone.open(browser, pbx.pbx.httpUrl);
    try {
      await phone.signIn(alice.extension, alice.password);
      await phone.waitUntilRegistered();
      await phone.call(bob.extension);
      await phone.activeCall().waitFor({ timeout: 15_000 });
      await expectToHear(phone, 660);
      await phone.hangUp();
      await expect.poll(() => phone.callCards().count(), { timeout: 10_000 }).toBe(0);
      expectBaresipHeardWebPhone();
    } finally {
      await phone.close();
    }
  });

  it('baresip calls the web phone, the person answers; each hears the other', async () => {
    const phone = await WebPhone.open(browser, pbx.pbx.httpUrl);
    try {
      await phone.signIn(alice.extension, alice.password);
      await phone.waitUntilRegistered();
      await baresip.dial(`sip:${alice.extension}@${DOMAIN}`);
      await phone.incomingCall().waitFor({ timeout: 15_000 });
      await phone.answer();
      await phone.activeCall().waitFor();
      await expectToHear(phone, 660);
      await baresip.hangUp();
      await expect.poll(() => phone.callCards().count(), { timeout: 10_000 }).toBe(0);
      expectBaresipHeardWebPhone();
    } finally {
      await phone.close();
    }
  });
});
