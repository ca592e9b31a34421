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
import { baresipMissing, levelDbfs, startBaresip, toneShare } from './support/baresip';
import type { Baresip } from './support/baresip';
import { DOMAIN, plainRtpMissing, startInteropPbx, transportMissing } from './support/pbx';
import type { InteropPbx } from './support/pbx';

const WEB_ROOT = resolve(import.meta.dirname, '../../dist/renderer');
const alice = DEMO_USERS.find((u) => u.extension === '101')!;
const bob = DEMO_USERS.find((u) => u.extension === '102')!;

const missing = baresipMissing() ?? transportMissing('udp') ?? plainRtpMissing();
if (missing) console.log(`interop: baresip and the web phone skipped: ${missing}`);

describe.skipIf(missing !== undefined)('baresip and the web phone through the PBX', () => {
  let pbx: InteropPbx;
  let dir: string;
  let browser: Browser;
  let baresip: Baresip;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'offhook-baresip-'));
    writeToneWav(join(dir, 'web-440.wav'), 440);
    // aufile reports the end of its file as an audio error, which ends baresip's call: the file outlasts every call.
    writeToneWav(join(dir, 'baresip-660.wav'), 660, 60, 8_000);
    pbx = await startInteropPbx(WEB_ROOT);
    baresip = await startBaresip({
      dir,
      extension: bob.extension,
      domain: DOMAIN,
      password: bob.sipPassword,
      registrar: { host: '127.0.0.1', port: udpPort() },
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

  function udpPort(): number {
    if (!pbx.ports.udp) throw new Error('the PBX started without a UDP port in RunningPbx.sipPorts');
    return pbx.ports.udp;
  }

  /** In the one call recorded after `before`, what baresip heard was mostly the web phone's 440 Hz, and none of its own 660 Hz. */
  function expectBaresipHeardWebPhone(before: string[]): void {
    const heard = baresip.heardSince(before);
    expect(heard, `baresip recorded no call (one new recording expected, had ${baresip.recordings().join(', ')}):\n${baresip.output()}`).toBeDefined();
    const { samples, sampleRate } = heard!;
    expect(samples.length).toBeGreaterThan(sampleRate); // more than a second of call audio
    const recent = samples.subarray(Math.max(0, samples.length - 2 * sampleRate));
    const level = levelDbfs(recent);
    const [at440, at660] = [440, 660].map((hz) => toneShare(recent, sampleRate, hz));
    const figures = `${level.toFixed(1)} dBFS, ${(at440! * 100).toFixed(1)}% at 440 Hz, ${(at660! * 100).toFixed(1)}% at 660 Hz`;
    expect(level, `baresip heard the call above silence (${figures})`).toBeGreaterThan(-40);
    expect(at440, `most of what baresip heard is the web phone's 440 Hz (${figures})`).toBeGreaterThan(0.5);
    expect(at660, `baresip does not hear its own 660 Hz back (${figures})`).toBeLessThan(0.05);
  }

  it('the web phone calls baresip, which answers by itself; each hears the other', async () => {
    const before = baresip.recordings();
    const phone = await WebPhone.open(browser, pbx.pbx.httpUrl);
    try {
      await phone.signIn(alice.extension, alice.password);
      await phone.waitUntilRegistered();
      await phone.call(bob.extension);
      await phone.activeCall().waitFor({ timeout: 15_000 });
      await expectToHear(phone, 660);
      await phone.hangUp();
      await expect.poll(() => phone.callCards().count(), { timeout: 10_000 }).toBe(0);
      expectBaresipHeardWebPhone(before);
    } finally {
      await phone.close();
    }
  });

  it('baresip calls the web phone, the person answers; each hears the other', async () => {
    const before = baresip.recordings();
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
      expectBaresipHeardWebPhone(before);
    } finally {
      await phone.close();
    }
  });
});
