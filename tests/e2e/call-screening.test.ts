/**
 * Call screening end to end, on the built PBX process with the demo organization: Bob's answering rule rings his
 * devices and asks callers their name first. Alice calls from the web phone (her microphone plays 1.2 kHz): the
 * PBX answers her at once and asks her name, and what her microphone says is recorded as it. Only then does Bob's
 * web phone ring; he answers, hears "I have a caller waiting, who introduces themselves as:" and Alice's name in
 * her own voice (her tone, before they are joined), presses 1 on the in-call dial pad, and the two talk: each
 * hears the other's microphone.
 * Real PBX process, real Chromium on both sides; the clock is the machine's.
 */
import { describe, expect, it } from 'vitest';
import { addAlwaysRule } from '../support/answering-rule';
import { alice, bob, useStage } from './support/setup';
import { waitToHear, WebPhone } from './support/web-phone';

const ALICE_HZ = 1_200;
const BOB_HZ = 600;

describe('call screening end to end', () => {
  const stage = useStage('call-screening', [ALICE_HZ, BOB_HZ]);

  it('asks the caller their name; the user who answers hears it and takes the call with 1', async () => {
    await addAlwaysRule(stage.pbx.url, bob, 'Screen callers', { type: 'ring', ringSeconds: 30, screen: true, whenNotAnswered: { type: 'voicemail' } });
    const [a, b] = await Promise.all([WebPhone.signedIn(stage.browsers[0]!, stage.pbx.url, alice), WebPhone.signedIn(stage.browsers[1]!, stage.pbx.url, bob)]);
    try {
      await a.call(bob.extension);
      // The PBX answers Alice itself and asks her name; Bob's phone does not ring yet.
      await a.activeCall().waitFor({ timeout: 20_000 });
      await expect.poll(() => a.level(), { timeout: 10_000 }).toBeGreaterThan(-50);
      expect(await b.incomingCall().count()).toBe(0);

      // Her name recorded (her microphone never pauses, so the 4 s at most), Bob's phone rings.
      await b.incomingCall().waitFor({ timeout: 20_000 });
      await b.answer();
      await b.activeCall().waitFor({ timeout: 10_000 });
      // He hears who calls: the PBX's words, then her name in her own voice, before they are joined.
      await waitToHear(b, ALICE_HZ, 20_000);
      await b.press('Dial pad');
      await b.pressKeys('1');

      // Joined: each hears the other's microphone.
      await waitToHear(a, BOB_HZ, 15_000);
      await waitToHear(b, ALICE_HZ, 10_000);
      await a.hangUp();
      await b.activeCall().waitFor({ state: 'detached', timeout: 10_000 });
    } finally {
      await a.close();
      await b.close();
    }
  });
});
