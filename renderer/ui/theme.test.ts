import { describe, expect, it } from 'vitest';
// The boot script as it ships, run below against a stand-in window and document.
import bootScript from '../public/theme-boot.js?raw';
import { THEME_CHOICES } from '../../shared/bridge';
import type { ThemeChoice } from '../../shared/bridge';
import { THEME_STORAGE_KEY, resolveTheme, watchTheme } from './theme';
import type { ThemeEnvironment } from './theme';

/** The page's edges the theme touches: <html>'s attribute, the system's dark setting, localStorage. */
function fakePage(systemDark: boolean) {
  const attributes: Record<string, string> = {};
  const stored: Record<string, string> = {};
  const listeners = new Set<() => void>();
  const media = {
    matches: systemDark,
    addEventListener: (_type: string, listener: () => void) => listeners.add(listener),
    removeEventListener: (_type: string, listener: () => void) => listeners.delete(listener),
  };
  const environment: ThemeEnvironment = {
    root: { setAttribute: (name, value) => void (attributes[name] = value) },
    media: media as unknown as ThemeEnvironment['media'],
    storage: { setItem: (key, value) => void (stored[key] = value) },
  };
  return {
    environment,
    attributes,
    stored,
    listeners,
    switchSystem(dark: boolean) {
      media.matches = dark;
      for (const listener of listeners) listener();
    },
  };
}

describe('resolveTheme', () => {
  it('follows the system unless the person chose light or dark', () => {
    expect(resolveTheme(undefined, true)).toBe('dark');
    expect(resolveTheme(undefined, false)).toBe('light');
    expect(resolveTheme('system', true)).toBe('dark');
    expect(resolveTheme('light', true)).toBe('light');
    expect(resolveTheme('dark', false)).toBe('dark');
  });
});

describe('watchTheme', () => {
  it('puts the theme on <html> at once and follows the system switching while the choice is System', () => {
    const page = fakePage(false);
    watchTheme(page.environment, undefined);
    expect(page.attributes['data-theme']).toBe('light');
    expect(page.stored[THEME_STORAGE_KEY]).toBe('system');
    page.switchSystem(true);
    expect(page.attributes['data-theme']).toBe('dark');
  });

  it('copies the saved choice for the boot script at start, so the next start paints it at once', () => {
    const page = fakePage(false);
    watchTheme(page.environment, 'dark');
    expect(page.stored[THEME_STORAGE_KEY]).toBe('dark');
    expect(page.attributes['data-theme']).toBe('dark');
  });

  it('keeps a chosen theme whatever the system does, and remembers the choice for the next start', () => {
    const page = fakePage(true);
    const theme = watchTheme(page.environment, 'system');
    theme.update('light');
    expect(page.attributes['data-theme']).toBe('light');
    expect(page.stored[THEME_STORAGE_KEY]).toBe('light');
    page.switchSystem(false);
    page.switchSystem(true);
    expect(page.attributes['data-theme']).toBe('light');
    theme.update(undefined);
    expect(page.stored[THEME_STORAGE_KEY]).toBe('system');
    expect(page.attributes['data-theme']).toBe('dark');
  });

  it('stops listening to the system when stopped', () => {
    const page = fakePage(false);
    watchTheme(page.environment, undefined).stop();
    expect(page.listeners.size).toBe(0);
  });

  it('still applies the theme when storage refuses to write', () => {
    const page = fakePage(false);
    page.environment.storage = {
      setItem: () => {
        throw new Error('quota');
      },
    };
    watchTheme(page.environment, undefined).update('dark');
    expect(page.attributes['data-theme']).toBe('dark');
  });
});

describe('theme-boot.js, which sets the theme before the first paint', () => {
  function boot(stored: string | null, systemDark: boolean, storageThrows = false): string | undefined {
    const attributes: Record<string, string> = {};
    const window = {
      localStorage: {
        getItem: (key: string) => {
          if (storageThrows) throw new Error('denied');
          return key === THEME_STORAGE_KEY ? stored : null;
        },
      },
      matchMedia: (query: string) => ({ matches: query === '(prefers-color-scheme: dark)' && systemDark }),
    };
    const document = { documentElement: { setAttribute: (name: string, value: string) => void (attributes[name] = value) } };
    new Function('window', 'document', bootScript)(window, document);
    return attributes['data-theme'];
  }

  it.each(
    [null, ...THEME_CHOICES].flatMap((stored) => [true, false].map((systemDark) => [stored, systemDark] as const)),
  )('with %s kept and the system dark: %s, agrees with resolveTheme', (stored, systemDark) => {
    expect(boot(stored, systemDark)).toBe(resolveTheme((stored ?? undefined) as ThemeChoice | undefined, systemDark));
  });

  it('follows the system when storage cannot be read', () => {
    expect(boot('dark', false, true)).toBe('light');
    expect(boot('light', true, true)).toBe('dark');
  });
});
