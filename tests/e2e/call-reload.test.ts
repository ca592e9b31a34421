/**
 * A call survives a reload of the web phone: Alice (440 Hz) talks to Bob (880 Hz) and reloads her page. Browsers
 * cannot keep a WebRTC session over a page load, so the page keeps the dialog in sessionStorage without hanging
 * up, the PBX plays Bob music on hold meanwhile, and the reloaded page (signed in again by the kept session)
 * rejoins with INVITE and Replaces: her card is back with Bob, and both hear each other. Real PBX process.
 */
import { describe, expect, it } from 'vitest';
import { alice, bob, useStage } from './support/setup';
import { expectToHear, WebPhone } from './support/web-phone';

describe('a call and a reload of the web phone', () => {
  const stage = useStage('call-reload', [440, 880]);

  it('Alice reloads during a call: the call continues on her reloaded page, with audio both ways', async () => {
    const [browserA, browserB] = stage.browsers;
    const a = await WebPhone.open(browserA!, stage.pbx.url);
    const b = await WebPhone.open(browserB!, stage.pbx.url);
    try {
      await a.signIn(alice.extension, alice.password);
      await b.signIn(bob.extension, bob.password);
      await a.waitUntilRegistered();
      await b.waitUntilRegistered();
      await a.call(bob.extension);
      await b.answer();
      await a.activeCall().waitFor();
      await expectToHear(b, 440);
      await expectToHear(a, 880);

      await a.page.reload();
      // Signed in again by the kept session, no password typed.
      await a.waitUntilRegistered();
      await a.activeCall().waitFor({ timeout: 15_000 });
      await expect(a.activeCall().textContent()).resolves.toMatch(/Bob Brown|102/);
      await expectToHear(a, 880);
      await expectToHear(b, 440);
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
});
