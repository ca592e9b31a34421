/**
 * Dialling by name through a real PBX: A types the start of B's name, the directory suggests B, A picks the
 * suggestion with the keyboard and calls; later A calls B again with Redial.
 */
import { describe, expect, it } from 'vitest';
import { SECTIONS } from '../../renderer/sections';
import { expectAccessible } from './support/axe';
import { alice, bob, useStage } from './support/setup';
import { WebPhone } from './support/web-phone';

describe('dialling by name', () => {
  const stage = useStage('dialing', [440]);

  it('every section of the navigation passes axe in both themes', async () => {
    const a = await WebPhone.open(stage.browsers[0]!, stage.pbx.url);
    try {
      await a.signIn(alice.extension, alice.password);
      await a.waitUntilRegistered();
      for (const section of SECTIONS) {
        await a.openSection(section.title);
        await a.page.getByRole('heading', { level: 1, name: section.title, exact: true }).waitFor();
        await expectAccessible(a.page, `${section.title} section`);
      }
    } finally {
      await a.close();
    }
  });

  it('A finds B by name, picks B with the keyboard and calls; after hanging up, Redial calls B again', async () => {
    const a = await WebPhone.open(stage.browsers[0]!, stage.pbx.url);
    const b = await WebPhone.open(stage.browsers[0]!, stage.pbx.url);
    try {
      await a.signIn(alice.extension, alice.password);
      await a.waitUntilRegistered();
      await b.signIn(bob.extension, bob.password);
      await b.waitUntilRegistered();

      const number = a.numberField();
      await number.pressSequentially('bo');
      const bobSuggestion = a.suggestion(`${bob.displayName} ${bob.extension}`);
      await bobSuggestion.waitFor();
      await expect.poll(() => number.getAttribute('aria-expanded')).toBe('true');
      await expectAccessible(a.page, 'dialer with suggestions open');
      // The open suggestions never cover Call: a click there reaches the button itself.
      const covered = await a.page.getByRole('button', { name: 'Call', exact: true }).evaluate((button) => {
        const box = button.getBoundingClientRect();
        const atCentre = document.elementFromPoint(box.left + box.width / 2, box.top + box.height / 2);
        return !(atCentre && button.contains(atCentre));
      });
      expect(covered, 'Call is covered by the suggestions').toBe(false);

      await number.press('ArrowDown');
      await expect.poll(() => bobSuggestion.getAttribute('aria-selected')).toBe('true');
      await number.press('Enter');
      await expect.poll(() => number.inputValue()).toBe(bob.extension);
      await expect.poll(() => number.getAttribute('aria-expanded')).toBe('false');

      await number.press('Enter');
      await b.incomingCall().waitFor();
      await expect.poll(() => b.incomingCall().textContent()).toContain(alice.displayName);
      await expectAccessible(b.page, 'incoming call ringing');
      await expectAccessible(a.page, 'outgoing call ringing');

      await a.hangUp();
      await expect.poll(() => a.callCards().count(), { timeout: 10_000 }).toBe(0);
      await expect.poll(() => b.callCards().count(), { timeout: 10_000 }).toBe(0);

      expect(await number.inputValue()).toBe('');
      await a.redial();
      await b.incomingCall().waitFor();
      await expect.poll(() => b.incomingCall().textContent()).toContain(alice.displayName);
      await a.hangUp();
      await expect.poll(() => b.callCards().count(), { timeout: 10_000 }).toBe(0);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
