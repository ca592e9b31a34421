/**
 * baresip, a real SIP app on plain RTP/G.711, and the web phone in Chromium on WebRTC, calling each other
 * through the PBX, which bridges SRTP and RTP; and two baresips calling each other, whose plain RTP the PBX
 * relays from socket to socket (its native relay, where built). Each side plays its own tone (web phone and
 * the second baresip, Carol's, 440 Hz, baresip 660 Hz); each must hear the other's.
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
const carol = DEMO_USERS.find((u) => u.extension === '103')!;

const missing = baresipMissing() ?? transportMissing('udp') ?? plainRtpMissing();
if (missing) console.log(`interop: baresip and the web phone skipped: ${missing}`);

describe.skipIf(missing !== undefined)('baresip and the web phone through the PBX', () => {
  let pbx: InteropPbx;
  let dir: string;
  let browser: Browser;
  let baresip: Baresip;
  let carolDesk: Baresip;

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
    writeToneWav(join(dir, 'desk-440.wav'), 440, 60, 8_000);
    carolDesk = await startBaresip({
      dir: join(dir, 'carol'),
      extension: carol.extension,
      domain: DOMAIN,
      password: carol.sipPassword,
      registrar: { host: '127.0.0.1', port: udpPort() },
      sourceWav: join(dir, 'desk-440.wav'),
    });
  });

  afterAll(async () => {
    await browser?.close();
    await carolDesk?.stop();
    await baresip?.stop();
    await pbx?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function udpPort(): number {
    if (!pbx.ports.udp) throw new Error('the PBX started without a UDP port in RunningPbx.sipPorts');
    return pbx.ports.udp;
  }

  /** In the one call `phone` recorded after `before`, what it heard was mostly the other side's tone, and none of its own. */
  function expectHeard(phone: Baresip, before: string[], theirs: number, own: number): void {
    const heard = phone.heardSince(before);
    expect(heard, `baresip recorded no call (one new recording expected, had ${phone.recordings().join(', ')}):\n${phone.output()}`).toBeDefined();
    const { samples, sampleRate } = heard!;
    expect(samples.length).toBeGreaterThan(sampleRate); // more than a second of call audio
    const recent = samples.subarray(Math.max(0, samples.length - 2 * sampleRate));
    const level = levelDbfs(recent);
    const [atTheirs, atOwn] = [theirs, own].map((hz) => toneShare(recent, sampleRate, hz));
    const figures = `${level.toFixed(1)} dBFS, ${(atTheirs! * 100).toFixed(1)}% at ${theirs} Hz, ${(atOwn! * 100).toFixed(1)}% at ${own} Hz`;
    expect(level, `baresip heard the call above silence (${figures})`).toBeGreaterThan(-40);
    expect(atTheirs, `most of what baresip heard is the other side's ${theirs} Hz (${figures})`).toBeGreaterThan(0.5);
    expect(atOwn, `baresip does not hear its own ${own} Hz back (${figures})`).toBeLessThan(0.05);
  }

  const expectBaresipHeardWebPhone = (before: string[]) => expectHeard(baresip, before, 440, 660);

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

  it('baresip (Carol) calls baresip (Bob), which answers by itself; the PBX relays plain RTP both ways and each hears the other', async () => {
    const [bobBefore, carolBefore] = [baresip.recordings(), carolDesk.recordings()];
    await carolDesk.dial(`sip:${bob.extension}@${DOMAIN}`);
    await expect.poll(() => pbx.pbx.sip.calls.activeCallCount, { timeout: 10_000 }).toBe(1);
    // Three seconds of conversation, then Carol hangs up.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    await carolDesk.hangUp();
    await expect.poll(() => pbx.pbx.sip.calls.activeCallCount, { timeout: 10_000 }).toBe(0);
    expectHeard(baresip, bobBefore, 440, 660);
    expectHeard(carolDesk, carolBefore, 660, 440);
  });
});
