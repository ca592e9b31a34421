/// <reference lib="dom" />
/**
 * axe-core over what a person sees at one moment of a test, in both themes: the scheme the page shows now and
 * the other one (the app follows the system's colour scheme unless Settings say otherwise). A serious or
 * critical violation of WCAG 2.0 or 2.1, level A or AA, fails the test; the failure names each rule, its
 * impact, the elements it found and what to fix, so the message alone says where to look.
 *
 * The check is soft (expect.soft): the test goes on to its next state and reports every pane's violations at
 * its end, rather than only the first pane's.
 */
import { AxeBuilder } from '@axe-core/playwright';
import type { AxeResults, Result } from 'axe-core';
import type { Page } from 'playwright-core';
import { expect } from 'vitest';

const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const FAILING_IMPACTS = new Set(['serious', 'critical']);
/** Elements listed per rule before "and N more". */
const TARGETS_SHOWN = 8;

export type ColorScheme = 'light' | 'dark';

export interface AxeOptions {
  /** Which schemes to check: both (the default), or only the one the page shows now. */
  themes?: 'both' | 'current';
}

/** Checks the page as it is now in both colour schemes (see the file's comment); `state` names the pane in the report. */
export async function expectAccessible(page: Page, state: string, options: AxeOptions = {}): Promise<void> {
  const current = await colorScheme(page);
  const schemes: ColorScheme[] = options.themes === 'current' ? [current] : [current, current === 'dark' ? 'light' : 'dark'];
  const found = new Map<string, { violation: Result; themes: string[] }>();
  const checked: string[] = [];
  try {
    for (const scheme of schemes) {
      if (scheme !== current) await showScheme(page, scheme);
      // A theme chosen in Settings stays whatever the system says: each theme shown is checked once.
      const theme = await shownTheme(page, scheme);
      if (checked.includes(theme)) continue;
      checked.push(theme);
      const results = await analyze(page);
      // A page that axe found nothing on (blank, or still loading) is not a page that passed.
      expect(results.passes.length, `axe checked nothing in "${state}" (${theme} theme)`).toBeGreaterThan(0);
      for (const violation of results.violations.filter((v) => FAILING_IMPACTS.has(v.impact ?? ''))) {
        // The same rule failing on the same elements in both themes is reported once.
        const key = `${violation.id} ${violation.nodes.map((node) => node.target.join(' ')).join(',')}`;
        const seen = found.get(key);
        if (seen) seen.themes.push(theme);
        else found.set(key, { violation, themes: [theme] });
      }
    }
  } finally {
    if (schemes.length > 1) await showScheme(page, current);
  }
  expect.soft(found.size, report(state, [...found.values()])).toBe(0);
}

/** The theme the app marks on <html> (data-theme), or the system's scheme where it marks none. */
async function shownTheme(page: Page, scheme: ColorScheme): Promise<string> {
  return (await page.evaluate(() => document.documentElement.dataset.theme)) ?? scheme;
}

/** The colour scheme the page's media queries see. */
export async function colorScheme(page: Page): Promise<ColorScheme> {
  const dark = await page.evaluate(() => window.matchMedia('(prefers-color-scheme: dark)').matches);
  return dark ? 'dark' : 'light';
}

/** Sets the system colour scheme the page sees and waits until its colours have finished changing. */
export async function showScheme(page: Page, scheme: ColorScheme): Promise<void> {
  await page.emulateMedia({ colorScheme: scheme });
  await settled(page);
}

/**
 * Waits for the page's CSS transitions to end (a colour read halfway through one would be neither theme's) and
 * for two frames to be drawn. Endless animations (a ringing pulse) are left running.
 */
export async function settled(page: Page): Promise<void> {
  await page.evaluate(async () => {
    const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
    await frame();
    const transitions = document.getAnimations().filter((animation) => animation instanceof CSSTransition);
    await Promise.all(transitions.map((transition) => transition.finished.catch(() => undefined)));
    await frame();
    await frame();
  });
}

async function analyze(page: Page): Promise<AxeResults> {
  // Legacy mode runs axe in the page itself: the default opens a blank page in the same context to combine
  // frames' results, which would take the window's focus from the phone under test (the app has no frames).
  return new AxeBuilder({ page }).withTags(WCAG_TAGS).setLegacyMode().analyze();
}

function report(state: string, found: Array<{ violation: Result; themes: string[] }>): string {
  const lines = [`axe: ${found.length} serious or critical violation(s) in "${state}":`];
  for (const { violation, themes } of found) {
    lines.push(`- ${violation.id} (${violation.impact}, ${themes.join(' and ')} theme): ${violation.help} [${violation.helpUrl}]`);
    for (const node of violation.nodes.slice(0, TARGETS_SHOWN)) {
      const summary = (node.failureSummary ?? '').split('\n').map((line) => line.trim()).filter(Boolean).join(' ');
      lines.push(`    at ${node.target.join(' ')}: ${summary}`);
    }
    if (violation.nodes.length > TARGETS_SHOWN) lines.push(`    and ${violation.nodes.length - TARGETS_SHOWN} more`);
  }
  return lines.join('\n');
}
