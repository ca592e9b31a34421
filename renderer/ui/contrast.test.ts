/// <reference types="node" />
// The test reads the stylesheet from disk, as written: Vite's `?raw` import of a .css file comes out empty under
// Vitest, which leaves stylesheets unprocessed. Only this test touches Node; the code under test does not.
// eslint-disable-next-line no-restricted-imports -- reading a file of the repository in a test
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { THEME_PAIRS, contrastRatio, readTokens } from './contrast';

const css = readFileSync(new URL('../styles/theme.css', import.meta.url), 'utf8');
const THEMES = {
  light: readTokens(css, ":root[data-theme='light']"),
  dark: readTokens(css, ":root[data-theme='dark']"),
};

describe('contrast arithmetic', () => {
  it('gives the WCAG figures for known pairs', () => {
    expect(contrastRatio('#000000', '#ffffff')).toBeCloseTo(21, 5);
    expect(contrastRatio('#ffffff', '#ffffff')).toBeCloseTo(1, 5);
    // #767676 on white is the well-known 4.54:1 grey.
    expect(contrastRatio('#767676', '#ffffff')).toBeCloseTo(4.54, 2);
  });

  it('refuses what is not a #rrggbb colour', () => {
    expect(() => contrastRatio('red', '#ffffff')).toThrow(/not a #rrggbb colour/);
  });
});

describe.each(Object.entries(THEMES))('the %s theme', (_name, tokens) => {
  it('declares every colour a pair uses', () => {
    for (const { fg, bg } of THEME_PAIRS) {
      expect(tokens[fg], `--${fg}`).toMatch(/^#[0-9a-f]{6}$/i);
      expect(tokens[bg], `--${bg}`).toMatch(/^#[0-9a-f]{6}$/i);
    }
  });

  it.each(THEME_PAIRS.map((pair) => [`--${pair.fg} on --${pair.bg} (${pair.where})`, pair] as const))('%s passes WCAG AA', (_label, pair) => {
    const ratio = contrastRatio(tokens[pair.fg]!, tokens[pair.bg]!);
    expect(ratio, `${tokens[pair.fg]} on ${tokens[pair.bg]}`).toBeGreaterThanOrEqual(pair.min);
  });
});

describe('the two themes', () => {
  it('declare the same colours, so neither falls back to the other', () => {
    expect(Object.keys(THEMES.dark).sort()).toEqual(Object.keys(THEMES.light).sort());
  });
});
