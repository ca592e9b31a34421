/**
 * The bridge contract of `shared/bridge.ts` for the web phone, where there is no main process: settings live in
 * localStorage, notifications use the Web Notifications API when the person has allowed them, and the
 * registration state goes in the page title (the desktop app shows it on the tray icon instead).
 *
 * The kept session (the server and the bearer token, never a password) is in localStorage too, so a reload
 * finds the person signed in. The token stays revocable: signing out anywhere, or its expiry, ends it on the PBX.
 */
import { AppSettings, KeptSession } from '../../shared/bridge';
import type { AppInfo, NotificationRequest, OffhookBridge } from '../../shared/bridge';
import { REGISTRATION_LABELS } from '../../shared/registration';
import type { RegistrationState } from '../../shared/registration';
import { version } from '../../package.json';
import { createLogger } from '../log';

const log = createLogger('web-bridge');

export const SETTINGS_KEY = 'offhook.settings';
export const KEPT_SESSION_KEY = 'offhook.session';
export const APP_NAME = 'Offhook';

/** The parts of the browser the web bridge uses, handed in so that tests can give their own. */
export interface WebBridgeEnvironment {
  /** `removeItem` may be left out, as by tests that never forget a session: an empty item reads as none. */
  storage: (Pick<Storage, 'getItem' | 'setItem'> & Partial<Pick<Storage, 'removeItem'>>) | undefined;
  setTitle(title: string): void;
  /**
   * Shows a notification if the person has allowed them; otherwise does nothing. A click on it brings the page to
   * the front. May return the function that takes it away again.
   */
  showNotification(title: string, body: string): (() => void) | void;
  /** Shows the ringing variant of the page's icon, or the usual one (left out by tests that do not look). */
  setFavicon?(variant: 'usual' | 'ringing'): void;
  /** The page is in a background tab or a minimised window (left out: it counts as hidden). */
  isHidden?(): boolean;
  platform: string;
}

export function createWebBridge(environment: WebBridgeEnvironment = browserEnvironment()): OffhookBridge {
  const { storage } = environment;

  const readSettings = (): AppSettings => {
    const raw = storage?.getItem(SETTINGS_KEY);
    if (!raw) return {};
    try {
      const parsed = AppSettings.safeParse(JSON.parse(raw));
      if (parsed.success) return parsed.data;
    } catch {
      // Fall through: unreadable settings are replaced rather than stopping the app.
    }
    log.warn('stored settings are not readable; starting from defaults');
    return {};
  };

  const writeItem = (key: string, value: string | undefined): void => {
    try {
      if (value !== undefined) storage?.setItem(key, value);
      else if (storage?.removeItem) storage.removeItem(key);
      else storage?.setItem(key, '');
    } catch (error) {
      // Storage may be full or disabled; what was to be written holds for this page's lifetime only.
      log.warn('could not write to storage', { key, error: error instanceof Error ? error.message : String(error) });
    }
  };

  const readKeptSession = (): KeptSession | null => {
    const raw = storage?.getItem(KEPT_SESSION_KEY);
    if (!raw) return null;
    try {
      const kept = KeptSession.safeParse(JSON.parse(raw));
      if (kept.success) return kept.data;
    } catch {
      // Fall through: an unreadable item is of no use.
    }
    log.warn('the kept session is not readable; forgetting it');
    writeItem(KEPT_SESSION_KEY, undefined);
    return null;
  };

  // The page title carries what the desktop app shows on its tray and icon: "(2) Offhook — Registered", and while a
  // call rings "Ringing: Alice Adams", so that a background tab shows it (with the ringing icon).
  let registration: RegistrationState = 'unregistered';
  let badge = 0;
  let ringingCaller: string | undefined;
  const showTitle = () =>
    environment.setTitle(
      ringingCaller !== undefined
        ? `Ringing: ${ringingCaller || 'Unknown caller'}`
        : `${badge > 0 ? `(${badge}) ` : ''}${APP_NAME} — ${REGISTRATION_LABELS[registration]}`,
    );
  /** The notification of the call ringing now, taken away when it stops ringing. */
  let ringingNotification: { callId: string; close: () => void } | undefined;

  return {
    async getAppInfo(): Promise<AppInfo> {
      return { name: APP_NAME, version, shell: 'web', platform: environment.platform };
    },
    async getSettings() {
      return readSettings();
    },
    async saveSettings(patch) {
      const next = AppSettings.parse({ ...readSettings(), ...AppSettings.parse(patch) });
      try {
        storage?.setItem(SETTINGS_KEY, JSON.stringify(next));
      } catch (error) {
        // Storage may be full or disabled; the settings still hold for this page's lifetime.
        log.warn('could not store settings', { error: error instanceof Error ? error.message : String(error) });
      }
      return next;
    },
    async setRegistrationState(state: RegistrationState) {
      registration = state;
      showTitle();
    },
    async setBadgeCount(count: number) {
      badge = count;
      showTitle();
    },
    async notify(request: NotificationRequest) {
      // An incoming call is on the page already; a notification is for when the page is out of sight.
      if (request.callId !== undefined && environment.isHidden?.() === false) return;
      const close = environment.showNotification(request.title, request.body);
      if (request.callId !== undefined && close) {
        ringingNotification?.close();
        ringingNotification = { callId: request.callId, close };
      }
    },
    // The web phone keeps no local copy of the call history; it reads the PBX each time.
    async getCachedCallHistory() {
      return [];
    },
    async cacheCallHistory() {},
    async getKeptSession() {
      return readKeptSession();
    },
    async keepSession(kept) {
      writeItem(KEPT_SESSION_KEY, JSON.stringify(KeptSession.parse(kept)));
    },
    async forgetSession() {
      writeItem(KEPT_SESSION_KEY, undefined);
    },
    // A browser has no tray: the ringing call shows in the tab's title and icon, and on the page.
    async setRingingCall(call) {
      const caller = call ? call.caller : undefined;
      if (ringingNotification && ringingNotification.callId !== call?.id) {
        ringingNotification.close();
        ringingNotification = undefined;
      }
      if (caller === ringingCaller) return;
      ringingCaller = caller;
      environment.setFavicon?.(caller === undefined ? 'usual' : 'ringing');
      showTitle();
    },
    // The web phone has no OS-wide shortcuts: its shortcuts work while the page has the focus.
    async setCallShortcuts() {},
    // A browser has no OS link handler or tray to hear from.
    onDidRequestDial() {
      return () => undefined;
    },
    onDidRequestAnswer() {
      return () => undefined;
    },
    onDidRequestDecline() {
      return () => undefined;
    },
    onDidPressCallShortcut() {
      return () => undefined;
    },
    // A page hears of sleep and network changes itself (online, visibilitychange); there is no shell to ask.
    onDidResume() {
      return () => undefined;
    },
  };
}

function browserEnvironment(): WebBridgeEnvironment {
  let storage: Storage | undefined;
  try {
    storage = window.localStorage;
  } catch {
    // Reading localStorage throws when the browser blocks storage for this site.
    storage = undefined;
  }
  return {
    storage,
    setTitle: (title) => {
      document.title = title;
    },
    showNotification: (title, body) => {
      if (typeof Notification === 'undefined' || Notification.permission !== 'granted') return;
      try {
        const notification = new Notification(title, { body, icon: faviconHref('ringing') });
        notification.onclick = () => {
          window.focus();
          notification.close();
        };
        return () => notification.close();
      } catch (error) {
        // Some browsers allow notifications only from a service worker.
        log.warn('could not show a notification', { error: error instanceof Error ? error.message : String(error) });
      }
    },
    setFavicon: (variant) => {
      const link = document.querySelector<HTMLLinkElement>('link[rel="icon"]');
      if (link) link.href = faviconHref(variant);
    },
    isHidden: () => document.visibilityState === 'hidden',
    platform: navigator.platform || 'web',
  };
}

/** The page's icon files (renderer/public/), beside the page whatever route is open. */
function faviconHref(variant: 'usual' | 'ringing'): string {
  // Resolved against the page's address: the hash the router keeps the route in plays no part.
  return new URL(variant === 'ringing' ? './favicon-ringing.svg' : './favicon.svg', document.baseURI).href;
}
