/**
 * The in-call options, call waiting, do not disturb and devices, through a real PBX. Three people, each in their
 * own Chromium with their own tone (A 440 Hz, B 880 Hz, C 660 Hz), so a test can tell who hears whom.
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
import { expectSilence, expectToHear, WebPhone } from './support/web-phone';

const alice = DEMO_USERS.find((u) => u.extension === '101')!;
const bob = DEMO_USERS.find((u) => u.extension === '102')!;
const carol = DEMO_USERS.find((u) => u.extension === '103')!;

const HOLD_REFUSED = "Couldn't put the call on hold";

describe('in-call options through the PBX', () => {
  let pbx: PbxProcess;
  let workDir: string;
  let browserA: Browser;
  let browserB: Browser;
  let browserC: Browser;
  const phones: WebPhone[] = [];

  beforeAll(async () => {
    workDir = mkdtempSync(join(tmpdir(), 'offhook-tones-'));
    writeToneWav(join(workDir, 'a-440.wav'), 440);
    writeToneWav(join(workDir, 'b-880.wav'), 880);
    writeToneWav(join(workDir, 'c-660.wav'), 660);
    pbx = await startPbxProcess();
    [browserA, browserB, browserC] = await Promise.all([
      launchBrowser(join(workDir, 'a-440.wav')),
      launchBrowser(join(workDir, 'b-880.wav')),
      launchBrowser(join(workDir, 'c-660.wav')),
    ]);
  });

  afterEach(async () => {
    for (const phone of phones.splice(0)) await phone.close();
  });

  afterAll(async () => {
    await browserA?.close();
    await browserB?.close();
    await browserC?.close();
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

  /** A calls B and B answers; both hear each other. */
  async function connected(): Promise<{ a: WebPhone; b: WebPhone }> {
    const a = await signedIn(browserA, alice);
    const b = await signedIn(browserB, bob);
    await a.call(bob.extension);
    await b.answer();
    await a.activeCall().waitFor();
    await b.activeCall().waitFor();
    await expectToHear(b, 440);
    await expectToHear(a, 880);
    return { a, b };
  }

  /** Presses Hold and waits for the PBX's answer: true when held, false when it refused (and says so). */
  async function holdAccepted(phone: WebPhone): Promise<boolean> {
    await phone.press('Hold');
    const held = phone.card('Held call');
    const refused = phone.activeCall().getByText(HOLD_REFUSED);
    await held.or(refused).first().waitFor({ timeout: 10_000 });
    return held.isVisible();
  }

  it('A mutes: B hears silence, and A again after Unmute; the call stays up', async () => {
    const { a, b } = await connected();
    await expectAccessible(a.page, 'in call');
    await a.press('Mute');
    await a.activeCall().getByRole('button', { name: 'Unmute', exact: true }).waitFor();
    await expectAccessible(a.page, 'in call, muted');
    await expectSilence(b);
    // A still hears B while muted.
    await expectToHear(a, 880);
    await a.press('Unmute');
    await expectToHear(b, 440);
    await expect(a.activeCall().count()).resolves.toBe(1);
  });

  it('A holds: B hears music on hold, not A; A resumes and both hear each other again', async (context) => {
    const { a, b } = await connected();
    if (!(await holdAccepted(a))) {
      // The card said so and the call is still up: the UI stayed honest.
      await expect(a.activeCall().count()).resolves.toBe(1);
      console.warn(`skipped: the PBX refused the re-INVITE for hold ("${HOLD_REFUSED}" shown, call kept up)`);
      context.skip('the PBX refuses hold (re-INVITE answered with an error)');
      return;
    }
    // The PBX plays B its music on hold (hold-music.test.ts checks it and B's card); A's tone is not relayed.
    await b.activeCall().getByText('On hold by Alice Adams', { exact: true }).waitFor({ timeout: 10_000 });
    const [heldTone] = await b.levelsAt([440]);
    expect(heldTone, 'B does not hear A while A holds (a tone heard reads near -20 dB)').toBeLessThan(-40);
    await expectAccessible(a.page, 'held call');
    await expectAccessible(b.page, 'in call, held by the other side');
    await a.press('Resume', a.card('Held call'));
    await a.activeCall().waitFor();
    await expectToHear(b, 440);
    await expectToHear(a, 880);
  });

  it('keys pressed on A\'s dial pad arrive at B (sent as SIP INFO, relayed by the PBX)', async () => {
    const a = await signedIn(browserA, alice);
    await a.openSection('Settings');
    await a.page.getByLabel('Send key presses').selectOption('info');
    await expectAccessible(a.page, 'Settings');
    await a.openSection('Phone');
    const b = await signedIn(browserB, bob);
    await a.call(bob.extension);
    await b.answer();
    await a.activeCall().waitFor();
    await b.activeCall().waitFor();

    await a.press('Dial pad');
    await a.pressKeys('12#');
    await expect.poll(() => a.activeCall().getByLabel('Keys sent').textContent()).toBe('12#');
    await expect.poll(() => b.activeCall().textContent(), { timeout: 10_000 }).toContain('Keys received: 12#');
    await expectAccessible(a.page, 'dial pad open, keys sent');
    await expectAccessible(b.page, 'in call, keys received');
    // Back returns to the in-call options; Escape does too.
    await a.press('Back');
    await a.press('Dial pad');
    await a.page.keyboard.press('Escape');
    await a.activeCall().getByRole('button', { name: 'Dial pad', exact: true }).waitFor();
  });

  it('keys in the call audio (RFC 4733) arrive at B', (context) => {
    // A browser has an API to send RFC 4733 events (RTCDTMFSender) but none to receive them, and the PBX relays
    // them to a WebRTC leg as RFC 4733; B's page cannot observe them. The INFO test above covers the path end to
    // end, and the PBX's own tests cover RFC 4733 reception.
    console.warn('skipped: Chromium cannot report RFC 4733 events it receives, so B cannot observe them');
    context.skip('Chromium cannot report received RFC 4733 events');
  });

  it('call waiting: C calls A during A–B; answering C holds B; Resume on B swaps back, with audio checked', async (context) => {
    const { a } = await connected();
    const c = await signedIn(browserC, carol);
    await c.call(alice.extension);
    await a.incomingCall().waitFor();
    await expect.poll(() => a.incomingCall().textContent()).toContain(carol.displayName);
    await expectAccessible(a.page, 'incoming call during a call');
    await a.answer();
    const heldB = a.card('Held call');
    const refused = a.page.getByText(HOLD_REFUSED);
    await heldB.or(refused).first().waitFor({ timeout: 10_000 });
    if (!(await heldB.isVisible())) {
      console.warn('skipped: the PBX refused the re-INVITE for hold, so the first call could not be held');
      context.skip('the PBX refuses hold (re-INVITE answered with an error)');
      return;
    }
    await a.activeCall().waitFor();
    await expect.poll(() => a.activeCall().textContent()).toContain(carol.displayName);
    await expectToHear(a, 660, a.activeCall());
    await expectToHear(c, 440);
    await expectAccessible(a.page, 'call waiting: one call held, one active');

    await a.press('Resume', heldB);
    // A dialled B, so B's card names B by the number dialled.
    await expect.poll(() => a.activeCall().textContent(), { timeout: 10_000 }).toContain(bob.extension);
    await a.card('Held call').waitFor();
    await expect.poll(() => a.card('Held call').textContent()).toContain(carol.displayName);
    await expectToHear(a, 880, a.activeCall());
    // C, held now, hears the PBX's music on hold and not A.
    await c.activeCall().getByText('On hold by Alice Adams', { exact: true }).waitFor({ timeout: 10_000 });
    const [aliceAtC] = await c.levelsAt([440]);
    expect(aliceAtC, 'C does not hear A while A holds C').toBeLessThan(-40);
  });

  it('B has do not disturb on, a PBX setting: B never rings, and A reaches B\'s voicemail (or, without it, "Not available")', async () => {
    const a = await signedIn(browserA, alice);
    const b = await signedIn(browserB, bob);
    await b.toggle('Do not disturb');
    await b.page.getByRole('button', { name: 'Do not disturb', pressed: true }).waitFor();
    try {
      await a.call(bob.extension);
      // Had B rung, A would still hear ringing here: the PBX answers for B's voicemail (or turns the call away) at once.
      await a.activeCall().or(a.callCards().getByText('Not available')).waitFor({ timeout: 10_000 });
      await expectAccessible(a.page, 'a call to a person with do not disturb on');
      await expectAccessible(b.page, 'do not disturb on');
      await expect(b.callCards().count()).resolves.toBe(0);
      if ((await a.page.getByRole('button', { name: 'Hang up' }).count()) > 0) await a.hangUp();
    } finally {
      // The PBX keeps it for B's next sign-in too: off again for the tests that follow.
      await b.toggle('Do not disturb');
      await b.page.getByRole('button', { name: 'Do not disturb', pressed: false }).waitFor();
    }
  });

  it('A changes microphone and speaker mid-call: the call stays up and audio keeps flowing both ways', async () => {
    const { a, b } = await connected();
    await a.openSection('Settings');
    const microphone = a.page.getByLabel('Microphone', { exact: true });
    // The Settings pane loads on first use: its list is filled once it is there.
    await expect.poll(() => microphone.locator('option').count(), { timeout: 10_000 }).toBeGreaterThan(1);
    const microphones = await microphone.locator('option').evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
    const otherMicrophone = microphones.find((id) => id !== '');
    expect(otherMicrophone, 'Chromium lists its fake microphones').toBeTruthy();
    await microphone.selectOption(otherMicrophone!);
    await expectAccessible(a.page, 'Settings during a call');
    const speaker = a.page.getByLabel('Speaker', { exact: true });
    if (await speaker.count()) {
      const speakers = await speaker.locator('option').evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
      const otherSpeaker = speakers.find((id) => id !== '');
      if (otherSpeaker) await speaker.selectOption(otherSpeaker);
    }
    await expect(a.activeCall().count()).resolves.toBe(1);
    await expectToHear(b, 440);
    await expectToHear(a, 880);
  });
});
