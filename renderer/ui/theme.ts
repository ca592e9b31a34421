/**
 * Light and dark. The colours live in styles/theme.css as custom properties under `:root[data-theme=…]`; this module
 * decides which of the two is on <html>. Before the first paint `public/theme-boot.js` sets it from the choice
 * kept in localStorage (so the page never flashes the other theme); once the app runs, `watchTheme` keeps it in
 * step with the setting and with the system's light/dark switch, and keeps that localStorage copy current (the
 * desktop app's settings live in main, which the boot script cannot wait for).
 */
import type { ThemeChoice } from '../../shared/bridge';

export type Theme = 'light' | 'dark';

/** Read by theme-boot.js: keep the two in step. */
export const THEME_STORAGE_KEY = 'offhook.theme';
export const DARK_QUERY = '(prefers-color-scheme: dark)';

export function resolveTheme(choice: ThemeChoice | undefined, systemDark: boolean): Theme {
  if (choice === 'light' || choice === 'dark') return choice;
  return systemDark ? 'dark' : 'light';
}

/** The parts of the page the theme touches, handed in so that tests can give their own. */
export interface ThemeEnvironment {
  root: { setAttribute(name: string, value: string): void };
  media: Pick<MediaQueryList, 'matches' | 'addEventListener' | 'removeEventListener'> | undefined;
  storage: Pick<Storage, 'setItem'> | undefined;
}

/**
 * Applies the choice now and whenever the system switches; `update` applies a new choice. Returns the function
 * that stops following the system.
 */
export function watchTheme(environment: ThemeEnvironment, initial: ThemeChoice | undefined) {
  let choice = initial;
  const apply = () => environment.root.setAttribute('data-theme', resolveTheme(choice, environment.media?.matches ?? false));
  const remember = () => {
    try {
      environment.storage?.setItem(THEME_STORAGE_KEY, choice ?? 'system');
    } catch {
      // Storage may be disabled; the theme still applies for this page's lifetime.
    }
  };
  const onSystemChange = () => apply();
  environment.media?.addEventListener('change', onSystemChange);
  apply();
  remember();
  return {
    update(next: ThemeChoice | undefined): void {
      choice = next;
      remember();
      apply();
    },
    stop(): void {
      environment.media?.removeEventListener('change', onSystemChange);
    },
  };
}

export function browserThemeEnvironment(): ThemeEnvironment {
  let storage: Storage | undefined;
  try {
    storage = globalThis.localStorage;
  } catch {
    storage = undefined;
  }
  return { root: document.documentElement, media: globalThis.matchMedia?.(DARK_QUERY), storage };
}
