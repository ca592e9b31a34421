/**
 * The held party is told, and hears music: Alice (5 kHz, above the hold music's band) holds her call with Bob (880 Hz); Bob's card says "On
 * hold by Alice Adams" with no quality badge, and Bob hears the PBX's music on hold, not silence and not Alice;
 * Alice resumes and both cards and both voices are back. Real PBX process, two Chromiums.
 */
import { describe, expect, it } from 'vitest';
import { alice, bob, useStage } from './support/setup';
import { expectToHear, WebPhone } from './support/web-phone';


/**
 * Alice's tone: above 4 kHz, where the hold music (8 kHz audio) has nothing, so what Bob hears at this frequency
 * is Alice alone and never a note of the music.
 */
const ALICE_HZ = 5_000;

describe('music on hold in the web phone', () => {
  const stage = useStage('hold-music', [ALICE_HZ, 880]);

  it('Alice holds: Bob’s card says he is on hold by her and he hears music; Resume brings both back', async () => {
    const [browserA, browserB] = stage.browsers;
    const [a, b] = await Promise.all([WebPhone.signedIn(browserA!, stage.pbx.url, alice), WebPhone.signedIn(browserB!, stage.pbx.url, bob)]);
    try {
      await a.call(bob.extension);
      await b.answer();
      await b.activeCall().waitFor();
      await expectToHear(b, ALICE_HZ);
      await expectToHear(a, 880);
      // The quality badge has had time to show on Bob's card.
      await b.activeCall().getByRole('button', { name: /^Call quality/ }).waitFor({ timeout: 10_000 });

      await a.press('Hold');
      await a.card('Held call').waitFor({ timeout: 10_000 });
      await b.activeCall().getByText('On hold by Alice Adams', { exact: true }).waitFor({ timeout: 10_000 });
      await expect(b.activeCall().getByText('On call', { exact: true }).count()).resolves.toBe(0);
      await expect(b.activeCall().getByRole('button', { name: /^Call quality/ }).count()).resolves.toBe(0);
      // Music, not silence; and not Alice, whom the PBX does not relay while she holds.
      expect(await b.level()).toBeGreaterThan(-45);
      const [aliceTone] = await b.levelsAt([ALICE_HZ]);
      await a.press('Resume', a.card('Held call'));
      await a.activeCall().waitFor();
      await b.activeCall().getByText('On call', { exact: true }).waitFor({ timeout: 10_000 });
      await expectToHear(b, ALICE_HZ);
      await expectToHear(a, 880);
      const [aliceBack] = await b.levelsAt([ALICE_HZ]);
      expect(aliceBack! - aliceTone!, 'Alice’s tone is far louder once she resumes than while she held').toBeGreaterThan(20);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
