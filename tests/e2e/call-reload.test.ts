/**
 * A call survives a reload of the web phone: Alice (5 kHz, above the hold music's band) talks to Bob (880 Hz) and reloads her page. Browsers
 * cannot keep a WebRTC session over a page load, so the page keeps the dialog in sessionStorage without hanging
 * up, the PBX plays Bob music on hold meanwhile, and the reloaded page (signed in again by the kept session)
 * rejoins with INVITE and Replaces: her card is back with Bob, and both hear each other. A call she had on hold
 * comes back held: the held party is never bridged back to her room. Real PBX process.
 */
import { describe, expect, it } from 'vitest';
import { alice, bob, carol, useStage } from './support/setup';
import { expectToHear, WebPhone } from './support/web-phone';


/**
 * Alice's tone: above 4 kHz, where the hold music (8 kHz audio) has nothing, so what Bob hears at this frequency
 * is Alice alone and never a note of the music.
 */
const ALICE_HZ = 5_000;

describe('a call and a reload of the web phone', () => {
  const stage = useStage('call-reload', [ALICE_HZ, 880, 660]);

  it('Alice reloads during a call: the call continues on her reloaded page, with audio both ways', async () => {
    const [browserA, browserB] = stage.browsers;
    const [a, b] = await Promise.all([WebPhone.signedIn(browserA!, stage.pbx.url, alice), WebPhone.signedIn(browserB!, stage.pbx.url, bob)]);
    try {
      await a.call(bob.extension);
      await b.answer();
      await a.activeCall().waitFor();
      await expectToHear(b, ALICE_HZ);
      await expectToHear(a, 880);

      await a.page.reload();
      // Signed in again by the kept session, no password typed.
      await a.waitUntilRegistered();
      await a.activeCall().waitFor({ timeout: 15_000 });
      await expect(a.activeCall().textContent()).resolves.toMatch(/Bob Brown|102/);
      await expectToHear(a, 880);
      await expectToHear(b, ALICE_HZ);
      // Bob's call never ended: one card, on call.
      await expect(b.callCards().count()).resolves.toBe(1);
      await b.activeCall().getByText('On call', { exact: true }).waitFor({ timeout: 10_000 });
      await a.hangUp();
      await b.activeCall().waitFor({ state: 'detached', timeout: 10_000 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('Alice reloads twice in quick succession, the second time before her call was rejoined: the call continues', async () => {
    const [browserA, browserB] = stage.browsers;
    const [a, b] = await Promise.all([WebPhone.signedIn(browserA!, stage.pbx.url, alice), WebPhone.signedIn(browserB!, stage.pbx.url, bob)]);
    try {
      await a.call(bob.extension);
      await b.answer();
      await a.activeCall().waitFor();

      await a.page.reload();
      // As soon as the page has loaded: the phone has not registered again yet, so the call waits to be rejoined.
      await a.page.reload();
      await a.waitUntilRegistered();
      await a.activeCall().waitFor({ timeout: 15_000 });
      await expect(a.activeCall().textContent()).resolves.toMatch(/Bob Brown|102/);
      await expectToHear(a, 880);
      await expectToHear(b, ALICE_HZ);
      await expect(b.callCards().count()).resolves.toBe(1);
      await a.hangUp();
      await b.activeCall().waitFor({ state: 'detached', timeout: 10_000 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('Alice reloads while she talks to Carol with Bob held (call waiting): Bob stays held and never hears her, Carol is back on the line', async () => {
    const [browserA, browserB, browserC] = stage.browsers;
    const [a, b, c] = await Promise.all([
      WebPhone.signedIn(browserA!, stage.pbx.url, alice),
      WebPhone.signedIn(browserB!, stage.pbx.url, bob),
      WebPhone.signedIn(browserC!, stage.pbx.url, carol),
    ]);
    try {
      await a.call(bob.extension);
      await b.answer();
      await a.activeCall().waitFor();
      await expectToHear(b, ALICE_HZ);
      const [aliceLive] = await b.levelsAt([ALICE_HZ]);
      // Carol calls; answering her puts Bob on hold.
      await c.call(alice.extension);
      await a.answer();
      await a.card('Held call').waitFor({ timeout: 10_000 });
      await b.activeCall().getByText('On hold by Alice Adams', { exact: true }).waitFor({ timeout: 10_000 });
      await expectToHear(c, ALICE_HZ);

      await a.page.reload();
      await a.waitUntilRegistered();
      await a.activeCall().waitFor({ timeout: 15_000 });
      await a.card('Held call').waitFor({ timeout: 15_000 });
      await expect(a.activeCall().textContent()).resolves.toMatch(/Carol|103/);
      await expect(a.card('Held call').textContent()).resolves.toMatch(/Bob Brown|102/);
      await expectToHear(c, ALICE_HZ);
      await expectToHear(a, 660, a.activeCall());
      // Bob was kept on hold across the reload: still told so, and Alice's voice does not reach him.
      await b.activeCall().getByText('On hold by Alice Adams', { exact: true }).waitFor({ timeout: 10_000 });
      const [aliceWhileHeld] = await b.levelsAt([ALICE_HZ]);
      expect(aliceLive! - aliceWhileHeld!, 'Alice’s tone is far quieter for Bob than while he was on the line').toBeGreaterThan(20);
    } finally {
      await a.close();
      await b.close();
      await c.close();
    }
  });
});
