/**
 * The bridge contract of `shared/bridge.ts` for the web phone, where there is no main process: settings live in
 * localStorage, notifications use the Web Notifications API when the person has allowed them, and the
 * registration state goes in the page title (the desktop app shows it on the tray icon instead).
 */
import { AppSettings } from '../../shared/bridge';
import type { AppInfo, NotificationRequest, OffhookBridge } from '../../shared/bridge';
import { REGISTRATION_LABELS } from '../../shared/registration';
import type { RegistrationState } from '../../shared/registration';
import { version } from '../../package.json';
import { createLogger } from '../log';

const log = createLogger('web-bridge');

export const SETTINGS_KEY = 'offhook.settings';
export const APP_NAME = 'Offhook';

/** The parts of the browser the web bridge uses, handed in so that tests can give their own. */
export interface WebBridgeEnvironment {
  storage: Pick<Storage, 'getItem' | 'setItem'> | undefined;
  setTitle(title: string): void;
  /** Shows a notification if the person has allowed them; otherwise does nothing. */
  showNotification(title: string, body: string): void;
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

  // The page title carries what the desktop app shows on its tray and icon: "(2) Offhook — Registered".
  let registration: RegistrationState = 'unregistered';
  let badge = 0;
  const showTitle = () => environment.setTitle(`${badge > 0 ? `(${badge}) ` : ''}${APP_NAME} — ${REGISTRATION_LABELS[registration]}`);

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
      environment.showNotification(request.title, request.body);
    },
    // The web phone keeps no local copy of the call history; it reads the PBX each time.
    async getCachedCallHistory() {
      return [];
    },
    async cacheCallHistory() {},
    // A browser has no tray: the ringing call is on the page.
    async setRingingCall() {},
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
        new Notification(title, { body });
      } catch (error) {
        // Some browsers allow notifications only from a service worker.
        log.warn('could not show a notification', { error: error instanceof Error ? error.message : String(error) });
      }
    },
    platform: navigator.platform || 'web',
  };
}
