/// <reference lib="dom" />
/**
 * A phone kept open all day beside other work (issue #16's "Done when"): in a window 360, 768 and 1280 px wide, in
 * the light and the dark theme, Alice signs in, takes a call from Bob's phone, answers it with the keyboard
 * shortcut the Answer button announces, is asked before signing out during it, holds with the Hold shortcut (Bob's
 * card says so), resumes and hangs up; after a reload she is still signed in and registered, and the skip link
 * comes first. At every step the page has no sideways scrolling and axe finds nothing serious or critical.
 *
 * One PBX and two browsers serve the six runs, and Bob stays signed in throughout; each run gives Alice a new
 * browser context with its window size and system theme.
 */
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { colorScheme, expectAccessible } from './support/axe';
import type { ColorScheme } from './support/axe';
import { alice, bob, useStage } from './support/setup';
import { WebPhone } from './support/web-phone';

const WIDTHS = [360, 768, 1280] as const;
const THEMES: ColorScheme[] = ['light', 'dark'];
/** A desktop window's height: short enough that a card below the fold would be out of view. */
const HEIGHT = 720;
/**
 * Each run's theme comes from the system (the default, "System" in Settings), except the dark one at 768 px,
 * where the system stays light and Alice chooses Dark in Settings. At 768 px the call rings while Alice searches
 * her Call History; elsewhere while she types in the Phone pane's number field.
 */
const RUNS = WIDTHS.flatMap((width) =>
  THEMES.map((theme) => ({ width, theme, fromSettings: width === 768 && theme === 'dark', ringsOver: width === 768 ? 'Call History' : 'Phone' })),
);
/** Below this width the sections are behind a Menu button (renderer/shell/nav-form.ts). */
const MENU_BELOW = 600;

/** The theme the page shows (the app marks it on <html>). */
async function shownTheme(phone: WebPhone): Promise<string | undefined> {
  return phone.page.evaluate(() => document.documentElement.dataset.theme);
}

/** The page fits the window's width: nothing is reached by scrolling sideways. */
async function expectNoSidewaysScroll(phone: WebPhone, step: string): Promise<void> {
  const overflow = await phone.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow, `${step}: the page scrolls sideways by ${overflow} px`).toBeLessThanOrEqual(0);
}

/** The element is wholly inside the window, without scrolling. */
async function expectInView(control: Locator, what: string): Promise<void> {
  const box = await control.evaluate((element) => {
    const rect = element.getBoundingClientRect();
    return { top: rect.top, left: rect.left, bottom: rect.bottom, right: rect.right, width: window.innerWidth, height: window.innerHeight };
  });
  const inView = box.top >= 0 && box.left >= 0 && box.bottom <= box.height && box.right <= box.width;
  expect(inView, `${what} is in view (${JSON.stringify(box)})`).toBe(true);
}

/** Both the page's layout and its accessibility at one step of a run. */
async function check(phone: WebPhone, step: string): Promise<void> {
  await expectNoSidewaysScroll(phone, step);
  // Each run is in one theme; the other is its sibling run's.
  await expectAccessible(phone.page, step, { themes: 'current' });
}

describe('a phone kept open all day', () => {
  const stage = useStage('all-day', [440, 880]);
  let b: WebPhone;

  beforeAll(async () => {
    b = await WebPhone.open(stage.browsers[1]!, stage.pbx.url);
    await b.signIn(bob.extension, bob.password);
    await b.waitUntilRegistered();
  });

  afterAll(async () => {
    await b?.close();
  });

  for (const { width, theme, fromSettings, ringsOver } of RUNS) {
    it(`at ${width} px in the ${theme} theme${fromSettings ? ' (chosen in Settings)' : ''}: sign in, answer by shortcut, hold, resume, hang up, reload`, async () => {
      const system: ColorScheme = fromSettings ? 'light' : theme;
      const a = await WebPhone.open(stage.browsers[0]!, stage.pbx.url, { viewport: { width, height: HEIGHT }, colorScheme: system });
      const at = (step: string) => `${step} at ${width} px`;
      // Bob's phone (1280 px wide, Playwright's default) follows the same system theme.
      await b.page.emulateMedia({ colorScheme: theme });
      try {
        expect(await colorScheme(a.page)).toBe(system);
        await a.page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
        expect(await shownTheme(a)).toBe(system);
        await check(a, at('sign-in form'));

        await a.signIn(alice.extension, alice.password);
        await a.waitUntilRegistered();
        if (fromSettings) {
          await a.openSection('Settings');
          await a.page.getByLabel('Theme', { exact: true }).selectOption({ label: 'Dark' });
          await expect.poll(() => shownTheme(a)).toBe('dark');
          await check(a, at('Settings'));
          await a.openSection('Phone');
        }
        expect(await shownTheme(a)).toBe(theme);
        await check(a, at('signed in'));
        const idleTitle = await a.page.title();

        if (width < MENU_BELOW) {
          // The sections open over the page from the Menu button; Escape closes them and gives Menu the focus back.
          const menu = a.page.getByRole('banner').getByRole('button', { name: 'Menu', exact: true });
          await menu.click();
          await a.page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Settings', exact: true }).waitFor();
          await check(a, at('section menu open'));
          await a.page.keyboard.press('Escape');
          await expect.poll(() => menu.getAttribute('aria-expanded')).toBe('false');
          expect(await menu.evaluate((element) => element === document.activeElement)).toBe(true);
        }

        // Bob calls while Alice is typing in a field of the pane she has open: the call is in her view over that
        // pane, and the tab's title says so.
        let typingIn = a.numberField();
        if (ringsOver !== 'Phone') {
          await a.openSection(ringsOver);
          typingIn = a.page.getByRole('searchbox', { name: 'Search history' });
        }
        await typingIn.focus();
        await b.call(alice.extension);
        await a.incomingCall().waitFor({ timeout: 10_000 });
        const answer = a.incomingCall().getByRole('button', { name: 'Answer', exact: true });
        // The shortcut is what answers here, not Enter on a focused Answer button.
        expect(await answer.evaluate((element) => element === document.activeElement)).toBe(false);
        await expectInView(answer, at('the incoming call\'s Answer button'));
        await expect.poll(() => a.page.title(), { timeout: 5_000 }).not.toBe(idleTitle);
        await check(a, at('incoming call'));

        await a.pressShortcutOf(answer);
        await a.activeCall().waitFor({ timeout: 10_000 });
        await b.activeCall().waitFor({ timeout: 10_000 });
        await check(a, at('in call'));

        // Signing out during the call asks first; Escape keeps the call.
        await a.page.getByRole('banner').getByRole('button', { name: 'Sign out', exact: true }).click();
        const confirm = a.page.getByRole('dialog', { name: 'Sign out during a call?' });
        await confirm.waitFor();
        await check(a, at('sign-out confirmation'));
        await a.page.keyboard.press('Escape');
        await expect.poll(() => confirm.isVisible()).toBe(false);
        expect(await a.activeCall().count()).toBe(1);

        // Alice holds with the Hold button's shortcut: her card and Bob's both say so; Resume brings the call back.
        await a.pressShortcutOf(a.activeCall().getByRole('button', { name: 'Hold', exact: true }));
        const held = a.card('Held call');
        await held.waitFor({ timeout: 10_000 });
        await expect.poll(() => b.callCards().first().textContent(), { timeout: 10_000 }).toMatch(/on hold/i);
        await check(a, at('call on hold'));
        await expectAccessible(b.page, 'held by the other side', { themes: 'current' });
        await a.press('Resume', held);
        await a.activeCall().waitFor({ timeout: 10_000 });
        await expect.poll(() => b.activeCall().textContent(), { timeout: 10_000 }).not.toMatch(/on hold/i);

        await a.hangUp();
        await expect.poll(() => a.callCards().count(), { timeout: 10_000 }).toBe(0);
        await expect.poll(() => b.callCards().count(), { timeout: 10_000 }).toBe(0);
        await expect.poll(() => a.page.title()).toBe(idleTitle);

        // A reload keeps Alice signed in: she is registered again without typing her password.
        await a.page.reload();
        await a.waitUntilRegistered();
        expect(await a.page.getByRole('button', { name: 'Sign in', exact: true }).count()).toBe(0);
        await expect.poll(() => a.page.getByRole('banner').textContent()).toContain(alice.displayName);
        expect(await shownTheme(a)).toBe(theme);
        await check(a, at('after a reload'));

        // The skip link comes first in the tab order and shows while it has the focus; Enter moves the focus to the
        // content. (The Phone pane puts the focus in the number field, so the link is focused here directly.)
        const skip = a.page.getByRole('link', { name: 'Skip to main content', exact: true });
        const firstTabStop = await a.page.evaluate(() => {
          const focusable = document.querySelectorAll<HTMLElement>('a[href], button:not([disabled]), input:not([disabled]), select, textarea, [tabindex]');
          return Array.from(focusable).find((element) => element.tabIndex >= 0)?.textContent?.trim();
        });
        expect(firstTabStop).toBe('Skip to main content');
        await skip.focus();
        await expectInView(skip, at('the focused skip link'));
        await check(a, at('skip link focused'));
        await a.page.keyboard.press('Enter');
        expect(await a.page.getByRole('main').evaluate((element) => element === document.activeElement)).toBe(true);
      } finally {
        await a.close();
      }
    });
  }
});
