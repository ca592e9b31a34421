/**
 * Call History after a few real calls through the PBX: each call shows up on both sides with the direction
 * its reader sees (outbound for the caller; inbound or missed for the callee), and filters and call-back work.
 */
import { describe, expect, it } from 'vitest';
import { expectAccessible } from './support/axe';
import { alice, bob, useStage } from './support/setup';
import { WebPhone } from './support/web-phone';

describe('call history', () => {
  const stage = useStage('history', [440]);

  it('shows answered, declined and cancelled calls with the right direction on both sides', async () => {
    const a = await WebPhone.open(stage.browsers[0]!, stage.pbx.url);
    const b = await WebPhone.open(stage.browsers[0]!, stage.pbx.url);
    try {
      await a.signIn(alice.extension, alice.password);
      await a.waitUntilRegistered();
      await b.signIn(bob.extension, bob.password);
      await b.waitUntilRegistered();

      // Answered, then hung up by the caller.
      await a.call(bob.extension);
      await b.answer();
      await a.activeCall().waitFor();
      await a.hangUp();
      await expect.poll(() => b.callCards().count(), { timeout: 10_000 }).toBe(0);
      // Declined by the callee.
      await a.call(bob.extension);
      await b.decline();
      await expect.poll(() => a.callCards().count(), { timeout: 10_000 }).toBe(0);
      // Cancelled by the caller before anyone answered: a missed call for the callee.
      await a.call(bob.extension);
      await b.incomingCall().waitFor();
      await a.hangUp();
      await expect.poll(() => b.callCards().count(), { timeout: 10_000 }).toBe(0);

      const rows = (phone: WebPhone) => phone.page.getByRole('list', { name: 'Calls' }).getByRole('button');
      await a.page.getByRole('link', { name: 'Call History' }).click();
      await expect.poll(() => rows(a).count(), { timeout: 10_000 }).toBe(3);
      expect(await rows(a).evaluateAll((els) => els.map((e) => e.textContent?.replace(/\s+/g, ' ').trim().split(',')[0]))).toEqual([
        'Outbound call',
        'Outbound call',
        'Outbound call',
      ]);

      await b.page.getByRole('link', { name: 'Call History' }).click();
      await expect.poll(() => rows(b).count(), { timeout: 10_000 }).toBe(3);
      const labels = await rows(b).evaluateAll((els) => els.map((e) => e.textContent?.replace(/\s+/g, ' ').trim() ?? ''));
      expect(labels.map((l) => l.split(',')[0])).toEqual(['Missed call', 'Inbound call', 'Inbound call']);
      expect(labels[0]).toContain(`${alice.displayName} ${alice.extension}`);
      expect(labels[1]).toContain('Declined');
      await expectAccessible(b.page, 'Call History with rows');

      await b.page.getByRole('button', { name: 'Missed', exact: true }).click();
      await expect.poll(() => rows(b).count()).toBe(1);
      await b.page.getByRole('button', { name: 'All', exact: true }).click();
      await b.page.getByRole('searchbox', { name: 'Search history' }).fill('nobody');
      await expect.poll(() => rows(b).count()).toBe(0);
      await b.page.getByRole('searchbox', { name: 'Search history' }).fill('alice');
      await expect.poll(() => rows(b).count()).toBe(3);

      // All history with the party, and calling back from it.
      await rows(b).first().click();
      const details = b.page.getByRole('complementary', { name: `History with ${alice.displayName}` });
      await expect.poll(() => details.getByRole('listitem').count()).toBe(3);
      await expectAccessible(b.page, 'Call History with a party\'s details open');
      await details.getByRole('button', { name: 'Call back' }).click();
      await a.page.getByRole('link', { name: 'Phone' }).click();
      await a.incomingCall().waitFor();
      await a.decline();
    } finally {
      await a.close();
      await b.close();
    }
  });
});
