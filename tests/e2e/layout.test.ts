/// <reference lib="dom" />
/**
 * The web phone from a narrow desktop window (360 px) to a wide screen, in the light and the dark theme: no pane
 * scrolls sideways, the navigation takes the form that fits, a ringing call is in view whatever is open, and the
 * keyboard paths (skip link, in-call options before the dial pad, focus kept on Hold and Resume) hold. Alice
 * (440 Hz) and Bob (880 Hz) through a real PBX.
 */
import type { Browser, Page } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { SECTIONS } from '../../renderer/sections';
import { expectAccessible } from './support/axe';
import type { ColorScheme } from './support/axe';
import { alice, bob, useStage } from './support/setup';
import { WebPhone } from './support/web-phone';

const WIDTHS = [360, 768, 1280] as const;
const THEMES: ColorScheme[] = ['light', 'dark'];
type Width = (typeof WIDTHS)[number];

describe('layouts, themes and the keyboard', () => {
  const stage = useStage('layout', [440, 880]);
  const phones: WebPhone[] = [];

  afterEach(async () => {
    for (const phone of phones.splice(0)) await phone.close();
  });

  /** A person's phone in a window `width` px wide with the system in `theme`, signed in and registered. */
  async function signedIn(browser: Browser, user: { extension: string; password: string }, width: Width = 1280, theme: ColorScheme = 'light') {
    const phone = await WebPhone.open(browser, stage.pbx.url);
    phones.push(phone);
    await phone.page.setViewportSize({ width, height: width === 360 ? 640 : 800 });
    await phone.page.emulateMedia({ colorScheme: theme });
    await phone.signIn(user.extension, user.password);
    await phone.waitUntilRegistered();
    return phone;
  }

  const menuButton = (page: Page) => page.getByRole('button', { name: 'Menu', exact: true });
  const sections = (page: Page) => page.getByRole('navigation', { name: 'Sections' });

  /** Opens a section the way a person would at this width: from the list, or through Menu when it is folded. */
  async function openSection(page: Page, name: string): Promise<void> {
    if (await menuButton(page).isVisible()) await menuButton(page).click();
    await sections(page).getByRole('link', { name, exact: true }).click();
    await page.getByRole('heading', { level: 1, name, exact: true }).waitFor();
  }

  /** How far the page and the main pane reach past their width (0 when nothing scrolls sideways). */
  async function sidewaysOverflow(page: Page): Promise<{ page: number; main: number }> {
    return page.evaluate(() => {
      const root = document.scrollingElement!;
      const main = document.getElementById('main-content')!;
      return { page: root.scrollWidth - root.clientWidth, main: main.scrollWidth - main.clientWidth };
    });
  }

  async function focusedName(page: Page): Promise<string> {
    return page.evaluate(() => {
      const element = document.activeElement as HTMLElement | null;
      return (element?.getAttribute('aria-label') ?? element?.innerText ?? '').trim();
    });
  }

  describe.each(THEMES)('in the %s theme', (theme) => {
    it.each(WIDTHS)('at %i px: every pane fits without sideways scrolling, and the navigation takes its form', async (width) => {
      const a = await signedIn(stage.browsers[0]!, alice, width, theme);
      const { page } = a;
      await expect.poll(() => page.evaluate(() => document.documentElement.dataset.theme)).toBe(theme);

      if (width === 360) {
        // Folded into Menu, which opens the list and closes it again with Escape, focus back on Menu.
        await expect(sections(page).isVisible()).resolves.toBe(false);
        await menuButton(page).click();
        await expect(menuButton(page).getAttribute('aria-expanded')).resolves.toBe('true');
        await sections(page).getByRole('link', { name: 'Settings', exact: true }).waitFor();
        // The list takes focus on the section shown.
        await expect.poll(() => focusedName(page)).toBe('Phone');
        await page.keyboard.press('Escape');
        await expect.poll(() => sections(page).isVisible()).toBe(false);
        await expect(focusedName(page)).resolves.toBe('Menu');
      } else {
        await expect(menuButton(page).count()).resolves.toBe(0);
        const link = sections(page).getByRole('link', { name: 'Call History', exact: true });
        const box = (await link.boundingBox())!;
        const icon = (await link.locator('svg').boundingBox())!;
        const word = (await link.getByText('Call History', { exact: true }).boundingBox())!;
        if (width === 768) {
          // A rail: each icon with its word under it.
          expect(box.width).toBeLessThan(110);
          expect(word.y).toBeGreaterThanOrEqual(icon.y + icon.height - 1);
        } else {
          // The full list: icon and word side by side.
          expect(box.width).toBeGreaterThan(150);
          expect(word.x).toBeGreaterThanOrEqual(icon.x + icon.width);
          expect(Math.abs(icon.y + icon.height / 2 - (word.y + word.height / 2))).toBeLessThan(4);
        }
        // The link's name stays the word shown, the icon says nothing.
        await expect(link.innerText()).resolves.toBe('Call History');
      }

      for (const section of SECTIONS) {
        await openSection(page, section.title);
        await expect(sidewaysOverflow(page), `${section.title} at ${width} px`).resolves.toEqual({ page: 0, main: 0 });
      }
      await expectAccessible(page, `Settings at ${width} px, ${theme}`, { themes: 'current' });
    });
  });

  it.each(WIDTHS)('at %i px with Settings open and scrolled, an incoming call shows over it with Answer in view', async (width) => {
    const a = await signedIn(stage.browsers[0]!, alice, width, 'dark');
    const b = await signedIn(stage.browsers[1]!, bob);
    await openSection(a.page, 'Settings');
    await a.page.evaluate(() => document.getElementById('main-content')!.scrollTo(0, 10_000));
    await b.call(alice.extension);
    const answer = a.incomingCall().getByRole('button', { name: 'Answer', exact: true });
    await answer.waitFor();
    const box = (await answer.boundingBox())!;
    expect(box.y).toBeGreaterThanOrEqual(0);
    const viewport = a.page.viewportSize()!;
    expect(box.y + box.height).toBeLessThanOrEqual(viewport.height);
    expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
    // Nothing covers it: the point at its middle is the button.
    const onTop = await answer.evaluate((button) => {
      const rect = button.getBoundingClientRect();
      const hit = document.elementFromPoint(rect.x + rect.width / 2, rect.y + rect.height / 2);
      return hit !== null && button.contains(hit);
    });
    expect(onTop).toBe(true);
    await expect(sidewaysOverflow(a.page)).resolves.toEqual({ page: 0, main: 0 });
    await answer.click();
    await a.activeCall().waitFor();
    await expect(sidewaysOverflow(a.page)).resolves.toEqual({ page: 0, main: 0 });
    await a.hangUp();
  });

  it('the skip link is the first Tab stop and takes focus to the calls, whose options come before the dial pad', async () => {
    const a = await signedIn(stage.browsers[0]!, alice);
    const b = await signedIn(stage.browsers[1]!, bob);
    await a.call(bob.extension);
    await b.answer();
    await a.activeCall().waitFor();

    // From the top of the page, as when it has just opened.
    await a.page.evaluate(() => {
      const top = document.documentElement;
      top.tabIndex = -1;
      top.focus();
      top.removeAttribute('tabindex');
    });
    await a.page.keyboard.press('Tab');
    await expect(focusedName(a.page)).resolves.toBe('Skip to main content');
    await a.page.keyboard.press('Enter');
    await expect(a.page.evaluate(() => document.activeElement?.id)).resolves.toBe('main-content');
    // The call comes first in the main pane: its options are reached before the Phone pane's keypad.
    const reached: string[] = [];
    for (let i = 0; i < 4 && !reached.includes('Mute'); i++) {
      await a.page.keyboard.press('Tab');
      reached.push(await focusedName(a.page));
    }
    expect(reached, 'Tab stops after the skip link').toContain('Mute');
    expect(reached.filter((name) => /^[0-9*#]$/.test(name)), 'no keypad key before the in-call options').toEqual([]);
    const options = a.activeCall().getByRole('group', { name: 'In-call options' }).getByRole('button');
    const tops = await options.evaluateAll((buttons) => buttons.map((button) => Math.round(button.getBoundingClientRect().top)));
    expect(new Set(tops).size, 'the in-call options sit in one row').toBe(1);
    await a.hangUp();
  });

  it('after Hold and after Resume, focus stays on that button and Tab goes on to the next option', async (context) => {
    const a = await signedIn(stage.browsers[0]!, alice);
    const b = await signedIn(stage.browsers[1]!, bob);
    await a.call(bob.extension);
    await b.answer();
    await a.activeCall().waitFor();

    await a.activeCall().getByRole('button', { name: 'Hold', exact: true }).focus();
    await a.page.keyboard.press('Enter');
    const held = a.card('Held call');
    const outcome = await Promise.race([
      held.waitFor({ timeout: 10_000 }).then(() => 'held' as const),
      a.page.getByText("Couldn't put the call on hold").waitFor({ timeout: 10_000 }).then(() => 'refused' as const),
    ]);
    if (outcome === 'refused') {
      context.skip('the PBX refuses hold (re-INVITE answered with an error)');
      return;
    }
    await expect.poll(() => focusedName(a.page)).toBe('Resume');
    await a.page.keyboard.press('Enter');
    await a.activeCall().waitFor();
    await expect.poll(() => focusedName(a.page)).toBe('Hold');
    await a.page.keyboard.press('Tab');
    await expect(focusedName(a.page)).resolves.toBe('Dial pad');
    await a.hangUp();
  });

  it('Settings say what they saved; the theme chosen holds against the system and from the first paint after a reload', async () => {
    const a = await signedIn(stage.browsers[0]!, alice, 768, 'light');
    await openSection(a.page, 'Settings');
    // One "Microphone" on the pane: the field's label.
    await expect(a.page.getByText('Microphone', { exact: true }).count()).resolves.toBe(1);
    await a.page.getByLabel('Microphone', { exact: true }).waitFor();

    await a.page.getByLabel('Theme', { exact: true }).selectOption('dark');
    await expect.poll(() => a.page.getByRole('status').filter({ hasText: 'Saved:' }).textContent()).toBe('Saved: Theme Dark');
    await expect(a.page.evaluate(() => document.documentElement.dataset.theme)).resolves.toBe('dark');

    // Reloaded with the app's own code held back, only the small boot script runs: it alone sets the theme that
    // the first paint uses.
    await a.page.route(/\/assets\/.*\.js$/, (route) => route.abort());
    await a.page.reload();
    await expect(a.page.evaluate(() => document.documentElement.dataset.theme)).resolves.toBe('dark');
    await a.page.unroute(/\/assets\/.*\.js$/);
  });

  it('Sign out during a call asks first: Escape and Cancel keep the call, Sign out ends it', async () => {
    const a = await signedIn(stage.browsers[0]!, alice);
    const b = await signedIn(stage.browsers[1]!, bob);
    await a.call(bob.extension);
    await b.answer();
    await a.activeCall().waitFor();

    const signOut = a.page.getByRole('button', { name: 'Sign out', exact: true });
    await signOut.click();
    const dialog = a.page.getByRole('dialog', { name: 'Sign out during a call?' });
    await dialog.waitFor();
    await expect(dialog.evaluate((element) => element.contains(document.activeElement))).resolves.toBe(true);
    await a.page.keyboard.press('Escape');
    await expect.poll(() => dialog.isVisible()).toBe(false);
    await expect(focusedName(a.page)).resolves.toBe('Sign out');
    await expect(a.activeCall().count()).resolves.toBe(1);

    await signOut.click();
    await dialog.getByRole('button', { name: 'Cancel', exact: true }).click();
    await expect(a.activeCall().count()).resolves.toBe(1);
    await expect(b.activeCall().count()).resolves.toBe(1);

    await signOut.click();
    await dialog.getByRole('button', { name: 'Sign out', exact: true }).click();
    await a.page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
    await expect.poll(() => b.activeCall().count()).toBe(0);
  });

  it('Call History: one current row, each row named by what it shows, the search hint shown whole', async () => {
    const a = await signedIn(stage.browsers[0]!, alice, 360, 'light');
    const b = await signedIn(stage.browsers[1]!, bob);
    // Two calls with the same person: two rows with the same party.
    for (let i = 0; i < 2; i++) {
      await a.call(bob.extension);
      await b.answer();
      await a.activeCall().waitFor();
      await a.hangUp();
      await expect.poll(() => b.activeCall().count()).toBe(0);
    }
    await openSection(a.page, 'Call History');
    const rows = a.page.getByRole('list', { name: 'Calls' }).getByRole('button');
    await expect.poll(() => rows.count()).toBeGreaterThanOrEqual(2);
    await rows.first().click();
    await expect(a.page.locator('[aria-current="true"]').count()).resolves.toBe(1);

    // The spoken name is the visible text, led by the direction in words (the icon's shape shows it too), not a
    // separate label that could drift from it.
    await expect(rows.first().getAttribute('aria-label')).resolves.toBeNull();
    await a.page.getByRole('button', { name: new RegExp(`^Outbound call, ${bob.displayName} `) }).first().waitFor();

    const search = a.page.getByRole('searchbox', { name: 'Search history' });
    const fits = await search.evaluate((input) => {
      const field = input as HTMLInputElement;
      const style = getComputedStyle(field);
      const context = document.createElement('canvas').getContext('2d')!;
      context.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
      const room = field.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      return context.measureText(field.placeholder).width <= room;
    });
    expect(fits, 'the placeholder is shown whole').toBe(true);
    await expect(sidewaysOverflow(a.page)).resolves.toEqual({ page: 0, main: 0 });
  });
});
