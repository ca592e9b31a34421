/**
 * Transfer in the app, through a real PBX: "Transfer now" (blind), "Consult" then "Complete transfer" (attended),
 * and transfers that fail and give the call back. Three people, each in their own Chromium with their own tone
 * (Alice 440 Hz, Bob 880 Hz, Carol 660 Hz), so a test can tell who hears whom. Alice transfers Bob in each.
 */
import type { Locator } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { expectAccessible } from './support/axe';
import { alice, bob, carol, useStage } from './support/setup';
import { expectToHear, WebPhone } from './support/web-phone';

/** Dana (100) exists but never signs in here, so her extension has no registered device. */
const DANA = { extension: '100', password: 'dana-100', suggestion: 'Dana Admin 100' };
/** Carol as the name search suggests her. */
const CAROL = 'Carol Chen 103';
/** No one in the demo organization has this extension. */
const UNKNOWN_EXTENSION = '109';

describe('transfer through the PBX', () => {
  const stage = useStage('transfer', [440, 880, 660]);
  const phones: WebPhone[] = [];

  afterEach(async () => {
    for (const phone of phones.splice(0)) await phone.close();
  });

  async function signedIn(index: number, user: { extension: string; password: string }): Promise<WebPhone> {
    const phone = await WebPhone.open(stage.browsers[index]!, stage.pbx.url);
    phones.push(phone);
    await phone.signIn(user.extension, user.password);
    await phone.waitUntilRegistered();
    return phone;
  }

  /** Alice calls Bob and Bob answers; both hear each other. */
  async function aliceTalksToBob(): Promise<{ a: WebPhone; b: WebPhone }> {
    const a = await signedIn(0, alice);
    const b = await signedIn(1, bob);
    await a.call(bob.extension);
    await b.answer();
    await a.activeCall().waitFor();
    await b.activeCall().waitFor();
    await expectToHear(b, 440);
    await expectToHear(a, 880);
    return { a, b };
  }

  /**
   * Opens the transfer panel on Alice's call and types `text` into its number field; with `suggestion`, picks that
   * person from the name search's suggestions (as the list covers the buttons until then). Returns the panel.
   */
  async function transferPanel(a: WebPhone, text: string, suggestion?: string): Promise<Locator> {
    await a.press('Transfer');
    const panel = a.activeCall().getByRole('group', { name: 'Transfer' });
    const field = panel.getByRole('combobox', { name: 'Number' });
    // The panel puts the person in its number field.
    await expect.poll(() => field.evaluate((element) => element === document.activeElement)).toBe(true);
    await field.fill(text);
    if (suggestion) {
      await panel.getByRole('listbox', { name: 'Suggestions' }).getByRole('option', { name: suggestion, exact: true }).click();
      await expect.poll(() => panel.getByRole('listbox', { name: 'Suggestions' }).isVisible()).toBe(false);
    }
    return panel;
  }

  it('Transfer now: Carol rings, answers and hears Bob; Alice\'s call ends as transferred', async () => {
    const { a, b } = await aliceTalksToBob();
    const c = await signedIn(2, carol);
    const panel = await transferPanel(a, 'Carol', CAROL);
    await expectAccessible(a.page, 'transfer panel');
    await panel.getByRole('button', { name: 'Transfer now', exact: true }).click();

    await c.incomingCall().waitFor({ timeout: 10_000 });
    // Alice's card says how it ended for the two seconds it stays: watched from before Carol answers.
    const saysTransferred = a.page.getByText('Call transferred').waitFor({ timeout: 15_000 });
    await c.answer();
    await saysTransferred;
    await c.activeCall().waitFor();
    await expectToHear(c, 880);
    await expectToHear(b, 660);
    await expect.poll(() => a.callCards().count(), { timeout: 10_000 }).toBe(0);
    // Bob's call went on: it is the same card, now naming Carol (the PBX's UPDATE with P-Asserted-Identity).
    await expect(b.activeCall().count()).resolves.toBe(1);
    await expect.poll(() => b.activeCall().textContent(), { timeout: 10_000 }).toContain('Carol');
  });

  it('Consult, then Complete transfer: Alice talks to Carol while Bob holds, then Bob and Carol hear each other', async () => {
    const { a, b } = await aliceTalksToBob();
    const c = await signedIn(2, carol);
    const panel = await transferPanel(a, 'Carol', CAROL);
    await panel.getByRole('button', { name: 'Consult', exact: true }).click();

    const held = a.card('Held call');
    await held.waitFor({ timeout: 10_000 });
    await c.incomingCall().waitFor({ timeout: 10_000 });
    await c.answer();
    await a.activeCall().waitFor();
    // The consult call: Alice and Carol hear each other.
    await expectToHear(a, 660, a.activeCall());
    await expectToHear(c, 440);

    const complete = held.getByRole('button', { name: 'Complete transfer', exact: true });
    await expect.poll(() => complete.isEnabled(), { timeout: 10_000 }).toBe(true);
    await expectAccessible(a.page, 'consulting before Complete transfer');
    await complete.click();

    await expect.poll(() => a.callCards().count(), { timeout: 10_000 }).toBe(0);
    await expectToHear(b, 660);
    await expectToHear(c, 880);
    // Each now sees whom they talk to.
    await expect.poll(() => b.activeCall().textContent(), { timeout: 10_000 }).toContain('Carol');
    await expect.poll(() => c.activeCall().textContent(), { timeout: 10_000 }).toContain('Bob');
  });

  it.each([
    [UNKNOWN_EXTENSION, 'no one has the extension', undefined, /^Couldn't transfer the call\. No one has the number 109\.$/],
    [DANA.extension, 'the extension has no phone registered', DANA.suggestion, /^Couldn't transfer the call\. 100 did not answer or is not available\.$/],
  ])('Transfer now to %s (%s) fails: the call stays with Alice, who is told why', async (number, _why, suggestion, sentence) => {
    const { a, b } = await aliceTalksToBob();
    // By keyboard: Escape closes the panel and puts Alice back on the button that opened it.
    const transfer = a.activeCall().getByRole('button', { name: 'Transfer', exact: true });
    await transfer.focus();
    await a.page.keyboard.press('Enter');
    await a.activeCall().getByRole('group', { name: 'Transfer' }).waitFor();
    await a.page.keyboard.press('Escape');
    await expect.poll(() => transfer.evaluate((element) => element === document.activeElement)).toBe(true);
    await expect(a.activeCall().getByRole('group', { name: 'Transfer' }).count()).resolves.toBe(0);
    const panel = await transferPanel(a, number, suggestion);
    await panel.getByRole('button', { name: 'Transfer now', exact: true }).click();

    const failure = a.activeCall().getByRole('status');
    await expect.poll(() => failure.textContent(), { timeout: 10_000 }).toMatch(sentence);
    await expectAccessible(a.page, 'transfer failed');
    await expect(a.activeCall().getByRole('button', { name: 'Transfer', exact: true }).isEnabled()).resolves.toBe(true);
    await expectToHear(b, 440);
    await expectToHear(a, 880);
  });

  it('Consult to someone who turns calls away fails: Bob is taken off hold and Alice is told why', async () => {
    // Dana's answering rule is do not disturb, answering busy (with voicemail, the PBX would take a message instead).
    const api = async (token: string, path: string, body: unknown) => {
      const response = await fetch(`${stage.pbx.url}/api/v1${path}`, { method: 'POST', headers: { 'authorization': `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      expect(response.ok, `${path}: ${response.status}`).toBe(true);
      return (await response.json()) as { id: number; token: string };
    };
    const { token } = await api('', '/session', { extension: DANA.extension, password: DANA.password });
    const frame = await api(token, '/time-frames', { name: 'Any time', spec: { type: 'always' } });
    await api(token, '/answering-rules', { name: 'Busy', timeFrameId: frame.id, priority: 1, action: { type: 'do-not-disturb', then: 'busy' } });

    const { a, b } = await aliceTalksToBob();
    const panel = await transferPanel(a, DANA.extension, DANA.suggestion);
    await panel.getByRole('button', { name: 'Consult', exact: true }).click();

    // The consult call fails, and Bob's call comes back to the line with the reason on its card.
    await a.page.getByText(`Couldn't transfer the call. ${DANA.extension} is busy.`).waitFor({ timeout: 15_000 });
    await a.activeCall().waitFor({ timeout: 10_000 });
    await expect.poll(() => a.activeCall().textContent()).toContain(bob.extension);
    await expectToHear(b, 440);
    await expectToHear(a, 880, a.activeCall());
  });

  it('Cancel transfer hangs up the consult call and gives Alice Bob back', async () => {
    const { a, b } = await aliceTalksToBob();
    const c = await signedIn(2, carol);
    const panel = await transferPanel(a, 'Carol', CAROL);
    await panel.getByRole('button', { name: 'Consult', exact: true }).click();
    const held = a.card('Held call');
    await held.waitFor({ timeout: 10_000 });
    await c.incomingCall().waitFor({ timeout: 10_000 });
    await c.answer();
    await c.activeCall().waitFor();

    await held.getByRole('button', { name: 'Cancel transfer', exact: true }).click();
    await expect.poll(() => c.callCards().count(), { timeout: 10_000 }).toBe(0);
    await expect.poll(() => a.callCards().count(), { timeout: 10_000 }).toBe(1);
    await a.activeCall().waitFor({ timeout: 10_000 });
    await expectToHear(b, 440);
    await expectToHear(a, 880);
  });
});
