/** The desktop implementation of the bridge contract, put together from main's modules. */
import type { AppInfo, AppSettings, BridgeCalls, NotificationRequest } from '../shared/bridge';
import type { CallShortcutAction } from '../shared/call-shortcuts';
import type { RegistrationState } from '../shared/registration';
import type { CallHistoryCache } from './call-history-cache';
import type { KeptSessionStore } from './kept-session';

export interface DesktopBridgeDeps {
  appVersion: string;
  platform: string;
  settings: { get(): AppSettings; save(patch: AppSettings): AppSettings };
  tray: { setRegistrationState(state: RegistrationState): void; setRingingCall(call: { id: string; caller: string } | undefined): void } | undefined;
  notifier: { show(request: NotificationRequest): boolean };
  historyCache: Pick<CallHistoryCache, 'list' | 'put'> | undefined;
  /** The session kept across restarts, encrypted by the OS (kept-session.ts). */
  keptSession: Pick<KeptSessionStore, 'get' | 'keep' | 'forget'>;
  /** The call shortcuts held OS-wide (global-shortcuts.ts); absent where there are none. */
  callShortcuts?: { set(actions: readonly CallShortcutAction[]): void };
  /** `app.setBadgeCount` (macOS dock, Linux launchers that support it). */
  setBadgeCount: (count: number) => void;
  /** `app.setLoginItemSettings({ openAtLogin })`. */
  setOpenAtLogin?: (open: boolean) => void;
}

export function createDesktopBridge(deps: DesktopBridgeDeps): BridgeCalls {
  const info: AppInfo = { name: 'Offhook', version: deps.appVersion, shell: 'desktop', platform: deps.platform };
  return {
    getAppInfo: async () => ({ ...info }),
    getSettings: async () => deps.settings.get(),
    saveSettings: async (patch) => {
      const saved = deps.settings.save(patch);
      if (patch.startAtLogin !== undefined) deps.setOpenAtLogin?.(patch.startAtLogin);
      return saved;
    },
    setRegistrationState: async (state) => {
      deps.tray?.setRegistrationState(state);
    },
    notify: async (request) => {
      deps.notifier.show(request);
    },
    setRingingCall: async (call) => {
      deps.tray?.setRingingCall(call ?? undefined);
    },
    setBadgeCount: async (count) => {
      deps.setBadgeCount(count);
    },
    getCachedCallHistory: async (query) => deps.historyCache?.list(query) ?? [],
    cacheCallHistory: async (request) => {
      deps.historyCache?.put(request.account, request.entries);
    },
    setCallShortcuts: async (actions) => {
      deps.callShortcuts?.set(actions);
    },
    getKeptSession: async () => deps.keptSession.get(),
    keepSession: async (kept) => {
      deps.keptSession.keep(kept);
    },
    forgetSession: async () => {
      deps.keptSession.forget();
    },
  };
}
