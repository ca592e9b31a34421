/**
 * The Answering Rules pane against a real PBX, as a person uses it: time frames made (one refused first for ending
 * before it starts), two rules, the active one marked, a third refused for sharing a priority with a rule whose
 * frame can match the same moment, the preview for chosen times, and priority changed with Move up and by
 * dragging, each kept by the PBX.
 */
import { describe, expect, it } from 'vitest';
import type { Locator, Page } from 'playwright-core';
import { expectAccessible } from './support/axe';
import { DEMO_USERS } from '../../server/store/demo';
import { alice, bob, useStage } from './support/setup';
import { WebPhone } from './support/web-phone';

/** The rules' names, in the order the list shows them. */
async function ruleNames(page: Page): Promise<string[]> {
  return page
    .getByRole('list', { name: 'Answering rules' })
    .getByRole('heading')
    .evaluateAll((headings) => headings.map((heading) => heading.firstChild?.textContent?.trim() ?? ''));
}

function ruleItem(page: Page, name: string): Locator {
  return page.getByRole('list', { name: 'Answering rules' }).getByRole('listitem').filter({ has: page.getByRole('heading', { name }) });
}

async function newFrame(panel: Locator, name: string, when: 'Always' | 'Days of the week' | 'Dates', fill?: (form: Locator) => Promise<void>): Promise<void> {
  await panel.getByRole('button', { name: 'New time frame' }).click();
  const form = panel.getByRole('form', { name: 'New time frame' });
  await form.getByLabel('Name', { exact: true }).fill(name);
  await form.getByRole('radio', { name: when }).check();
  await fill?.(form);
  await form.getByRole('button', { name: 'Save' }).click();
}

async function newRule(page: Page, rule: { name: string; frame: string; priority: number; action: 'Ring my devices' | 'Do not disturb' }, fill?: (editor: Locator) => Promise<void>) {
  await page.getByRole('button', { name: 'New rule', exact: true }).click();
  const editor = page.getByRole('region', { name: 'New rule' });
  await editor.getByLabel('Name', { exact: true }).fill(rule.name);
  await editor.getByLabel('Time frame').selectOption({ label: rule.frame });
  await editor.getByLabel('Priority').fill(String(rule.priority));
  await editor.getByRole('radio', { name: rule.action }).check();
  await fill?.(editor);
  await editor.getByRole('button', { name: 'Save' }).click();
  return editor;
}

/** Asks the preview about a time and waits for its answer to say `expected`. */
async function expectPreview(page: Page, date: string, time: string, expected: string): Promise<void> {
  const region = page.getByRole('region', { name: 'If someone calls at…' });
  await region.getByLabel('Date').fill(date);
  await region.getByLabel('Time').fill(time);
  await region.getByRole('button', { name: 'Preview' }).click();
  const answer = region.getByRole('status');
  const text = async () => (await answer.innerText()).replace(/\s+/g, ' ').trim();
  await expect.poll(text, { timeout: 10_000 }).toContain(`At ${date} ${time}`);
  await expect.poll(text, { timeout: 10_000 }).toContain(expected);
}

const dana = DEMO_USERS.find((user) => user.role === 'admin')!;

describe('the Answering Rules pane', () => {
  const stage = useStage('answering-rules', [440]);

  it('makes frames and rules, marks the active one, refuses bad input beside its field, previews, and reorders', async () => {
    const a = await WebPhone.signedIn(stage.browsers[0]!, stage.pbx.url, alice);
    const { page } = a;
    try {
      await a.openSection('Answering Rules');
      await page.getByRole('heading', { name: 'Answering Rules', level: 1 }).waitFor();
      await page.getByText('You have no answering rules').waitFor({ timeout: 10_000 });
      await expectAccessible(page, 'Answering Rules with no rules');
      expect(await page.getByLabel('Organization time zone').count(), 'only administrators set the time zone').toBe(0);

      // A weekly range that ends before it starts: the PBX's sentence beside that range's End.
      await page.getByRole('button', { name: 'Time frames' }).click();
      const frames = page.getByRole('region', { name: 'Time frames' });
      await newFrame(frames, 'Office hours', 'Days of the week', async (form) => {
        await form.getByLabel('Start').fill('17:00');
        await form.getByLabel('End').fill('09:00');
      });
      const form = frames.getByRole('form', { name: 'New time frame' });
      const end = form.getByLabel('End');
      await expect.poll(() => end.getAttribute('aria-invalid'), { timeout: 10_000 }).toBe('true');
      const endError = page.locator(`#${await end.getAttribute('aria-describedby')}`);
      expect(await endError.textContent()).toContain('ends (09:00) before it starts (17:00)');
      expect(await end.evaluate((element) => element === document.activeElement), 'the field at fault has the focus').toBe(true);
      await expectAccessible(page, 'a time frame refused for ending before it starts');
      await form.getByLabel('Start').fill('09:00');
      await end.fill('17:00');
      await form.getByRole('button', { name: 'Save' }).click();
      const frameList = frames.getByRole('list', { name: 'Time frames' });
      await frameList.getByText('Mon–Fri 09:00–17:00').waitFor({ timeout: 10_000 });

      await newFrame(frames, 'All the time', 'Always');
      await frameList.getByText('All the time').waitFor({ timeout: 10_000 });
      await frames.getByRole('button', { name: 'Close' }).click();

      // Two rules: the holiday's frame, made from the rule's form, does not match now, so the rule for all the
      // time is the active one.
      await page.getByRole('button', { name: 'New rule', exact: true }).click();
      const holiday = page.getByRole('region', { name: 'New rule' });
      await holiday.getByLabel('Name', { exact: true }).fill('Holiday');
      await holiday.getByRole('button', { name: 'Time frames' }).click();
      await newFrame(frames, 'New Year 2030', 'Dates', async (dates) => {
        await dates.getByLabel('From', { exact: true }).fill('2030-01-01');
        await dates.getByLabel('To', { exact: true }).fill('2030-01-01');
      });
      await frameList.getByText('New Year 2030').waitFor({ timeout: 10_000 });
      await expectAccessible(page, 'Time frames listed beside a new rule');
      await expect.poll(() => holiday.getByLabel('Time frame').evaluate((select) => (select as HTMLSelectElement).selectedOptions[0]?.textContent)).toBe('New Year 2030');
      await frames.getByRole('button', { name: 'Close' }).click();
      await holiday.getByLabel('Priority').fill('1');
      await holiday.getByRole('radio', { name: 'Do not disturb' }).check();
      await holiday.getByRole('button', { name: 'Save' }).click();
      await ruleItem(page, 'Holiday').waitFor({ timeout: 10_000 });
      await newRule(page, { name: 'Every day', frame: 'All the time', priority: 2, action: 'Ring my devices' }, async (editor) => {
        await editor.getByLabel('Ring for (seconds)').fill('20');
        await editor.getByRole('group', { name: 'When busy' }).getByLabel('Send to').selectOption({ label: 'An extension' });
        await editor.getByRole('group', { name: 'When busy' }).getByLabel('Extension').fill('102');
      });
      await ruleItem(page, 'Every day').waitFor({ timeout: 10_000 });
      expect(await ruleNames(page)).toEqual(['Holiday', 'Every day']);
      const active = page.getByRole('list', { name: 'Answering rules' }).getByRole('listitem').filter({ hasText: 'Active now' });
      await expect.poll(() => active.count()).toBe(1);
      expect(await active.getByRole('heading').textContent()).toContain('Every day');
      expect(await ruleItem(page, 'Every day').textContent()).toContain('Rings your devices for 20 s; when not answered, voicemail; when busy, extension 102');
      expect(await ruleItem(page, 'Holiday').textContent()).toContain('Do not disturb: calls go straight to voicemail.');
      const dot = await ruleItem(page, 'Every day').locator('.rule__dot').evaluate((element) => getComputedStyle(element).backgroundColor);
      expect(dot, 'the active rule has a coloured dot').not.toBe('rgba(0, 0, 0, 0)');
      await expectAccessible(page, 'Answering Rules with two rules, one active');

      // A third rule at the same priority as one whose frame can match the same moment: refused beside Priority.
      const clash = await newRule(page, { name: 'Clash', frame: 'All the time', priority: 2, action: 'Do not disturb' });
      const priority = clash.getByLabel('Priority');
      await expect.poll(() => priority.getAttribute('aria-invalid'), { timeout: 10_000 }).toBe('true');
      const priorityError = await page.locator(`#${await priority.getAttribute('aria-describedby')}`).textContent();
      expect(priorityError).toContain('"Every day"');
      expect(priorityError).toContain('"Clash"');
      await expectAccessible(page, 'a rule refused for sharing a priority');
      await clash.getByRole('button', { name: 'Cancel' }).click();
      expect(await ruleNames(page)).toEqual(['Holiday', 'Every day']);

      // The preview, for any time.
      await expectPreview(page, '2030-01-01', '10:00', 'the rule “Holiday” applies. Do not disturb: calls go straight to voicemail.');
      await expectPreview(page, '2030-01-02', '10:00', 'the rule “Every day” applies. Rings your devices for 20 s');
      await expectAccessible(page, 'the preview answered');

      // Move up by keyboard: the focus stays on the moved rule's button and the new place is announced.
      const moveUp = ruleItem(page, 'Every day').getByRole('button', { name: 'Move up' });
      await moveUp.focus();
      await page.keyboard.press('Enter');
      await expect.poll(() => ruleNames(page), { timeout: 10_000 }).toEqual(['Every day', 'Holiday']);
      await page.getByRole('status').filter({ hasText: 'Every day moved to position 1 of 2.' }).waitFor({ timeout: 10_000 });
      await expect
        .poll(() => page.evaluate(() => `${document.activeElement?.textContent?.trim()} in ${document.activeElement?.closest('li')?.querySelector('h2')?.firstChild?.textContent?.trim()}`))
        .toBe('Move up in Every day');
      await expectPreview(page, '2030-01-01', '10:00', 'the rule “Every day” applies.');

      // Dragged back below the holiday rule; the PBX keeps the order.
      await ruleItem(page, 'Every day').dragTo(ruleItem(page, 'Holiday'));
      await expect.poll(() => ruleNames(page), { timeout: 10_000 }).toEqual(['Holiday', 'Every day']);
      await page.reload();
      await a.waitUntilRegistered();
      await a.openSection('Answering Rules');
      await expect.poll(() => ruleNames(page), { timeout: 10_000 }).toEqual(['Holiday', 'Every day']);
      await expectPreview(page, '2030-01-01', '10:00', 'the rule “Holiday” applies.');

      // Delete asks first; Cancel keeps the rule.
      await ruleItem(page, 'Holiday').getByRole('button', { name: 'Delete' }).click();
      const dialog = page.getByRole('dialog', { name: 'Delete the rule “Holiday”?' });
      await dialog.waitFor();
      await expectAccessible(page, 'deleting a rule asks first');
      await dialog.getByRole('button', { name: 'Cancel' }).click();
      expect(await ruleNames(page)).toEqual(['Holiday', 'Every day']);
      await ruleItem(page, 'Holiday').getByRole('button', { name: 'Delete' }).click();
      await dialog.getByRole('button', { name: 'Delete' }).click();
      await expect.poll(() => ruleNames(page), { timeout: 10_000 }).toEqual(['Every day']);
    } finally {
      await a.close();
    }
  });

  it('do not disturb is the PBX setting: turned on in one app, a second app of the same person shows it, and back', async () => {
    const first = await WebPhone.signedIn(stage.browsers[0]!, stage.pbx.url, bob);
    const second = await WebPhone.signedIn(stage.browsers[0]!, stage.pbx.url, bob);
    const chip = (phone: WebPhone, pressed: boolean) =>
      phone.page.getByRole('group', { name: 'Call handling' }).getByRole('button', { name: 'Do not disturb', pressed });
    try {
      await chip(second, false).waitFor();
      await first.toggle('Do not disturb');
      await chip(first, true).waitFor({ timeout: 10_000 });
      await chip(second, true).waitFor({ timeout: 5_000 });
      await second.openSection('Settings');
      const checkbox = second.page.getByRole('checkbox', { name: 'Do not disturb' });
      await expect.poll(() => checkbox.isChecked(), { timeout: 10_000 }).toBe(true);
      await checkbox.uncheck();
      await chip(first, false).waitFor({ timeout: 5_000 });
      // A third app signed in later reads it from the PBX.
      await first.toggle('Do not disturb');
      await chip(second, true).waitFor({ timeout: 5_000 });
      const third = await WebPhone.signedIn(stage.browsers[0]!, stage.pbx.url, bob);
      try {
        await chip(third, true).waitFor({ timeout: 10_000 });
      } finally {
        await third.close();
      }
    } finally {
      await first.close();
      await second.close();
    }
  });

  it("an administrator sets the organization's time zone and makes a frame everyone shares", async () => {
    const admin = await WebPhone.signedIn(stage.browsers[0]!, stage.pbx.url, dana);
    const { page } = admin;
    try {
      await admin.openSection('Answering Rules');
      const zone = page.getByLabel('Organization time zone');
      await zone.waitFor({ timeout: 10_000 });
      await zone.selectOption('Europe/Berlin');
      await page.getByRole('button', { name: 'Save' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved: time zone Europe/Berlin.' }).waitFor({ timeout: 10_000 });
      await page.getByText("Times are in your organization's time zone, Europe/Berlin.").waitFor();
      await expectPreview(page, '2030-07-01', '10:00', 'no rule applies');
      expect(await page.getByRole('region', { name: 'If someone calls at…' }).getByRole('status').innerText()).toContain('(Europe/Berlin)');
      await expectAccessible(page, 'Answering Rules for an administrator');

      // A frame shared with everyone: business hours, which Alice then sees and may use, but not change.
      await page.getByRole('button', { name: 'Time frames' }).click();
      const frames = page.getByRole('region', { name: 'Time frames' });
      await newFrame(frames, 'Business hours', 'Days of the week', async (form) => {
        await form.getByRole('checkbox', { name: 'Share with everyone in the organization' }).check();
      });
      const shared = frames.getByRole('list', { name: 'Time frames' }).getByRole('listitem').filter({ hasText: 'Business hours (organization)' });
      await shared.waitFor({ timeout: 10_000 });
      expect(await shared.getByRole('button', { name: 'Edit' }).count(), 'an administrator changes shared frames').toBe(1);
      const a = await WebPhone.signedIn(stage.browsers[0]!, stage.pbx.url, alice);
      try {
        await a.openSection('Answering Rules');
        await a.page.getByRole('button', { name: 'Time frames' }).click();
        const seen = a.page.getByRole('region', { name: 'Time frames' }).getByRole('listitem').filter({ hasText: 'Business hours (organization)' });
        await seen.waitFor({ timeout: 10_000 });
        expect(await seen.getByRole('button').count(), 'only administrators change shared frames').toBe(0);
      } finally {
        await a.close();
      }
    } finally {
      await admin.close();
    }
  });
});
