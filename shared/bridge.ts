/**
 * The bridge between the renderer and the platform it runs on, written once.
 *
 * In the desktop app `preload/` exposes exactly these functions over IPC and `main/` implements them; in the
 * browser `renderer/bridge/web-bridge.ts` implements the same interface with web APIs. Arguments that cross
 * the process boundary are validated in main with the schemas below.
 */
import { z } from 'zod';
import { REGISTRATION_STATES } from './registration';
import type { RegistrationState } from './registration';

export const AppSettings = z.object({
  /** Base URL of the PBX the user signs in to, e.g. `http://127.0.0.1:8088`. */
  serverUrl: z.string().max(2048).optional(),
  lastExtension: z.string().max(32).optional(),
});
export type AppSettings = z.infer<typeof AppSettings>;

export const NotificationRequest = z.object({
  title: z.string().min(1).max(200),
  body: z.string().max(1000),
});
export type NotificationRequest = z.infer<typeof NotificationRequest>;

export const RegistrationStateSchema = z.enum(REGISTRATION_STATES);

export interface AppInfo {
  name: string;
  version: string;
  /** `desktop` inside Electron, `web` in a browser. */
  shell: 'desktop' | 'web';
  platform: string;
}

export interface OffhookBridge {
  getAppInfo(): Promise<AppInfo>;
  getSettings(): Promise<AppSettings>;
  saveSettings(patch: AppSettings): Promise<AppSettings>;
  /** Shown by the tray icon in the desktop app; the web phone shows it in the page title. */
  setRegistrationState(state: RegistrationState): Promise<void>;
  notify(request: NotificationRequest): Promise<void>;
}

/** IPC channel per bridge function; preload and main use these names and no others. */
export const BRIDGE_CHANNELS = {
  getAppInfo: 'offhook:get-app-info',
  getSettings: 'offhook:get-settings',
  saveSettings: 'offhook:save-settings',
  setRegistrationState: 'offhook:set-registration-state',
  notify: 'offhook:notify',
} as const satisfies Record<keyof OffhookBridge, string>;

/** The global name under which preload exposes the bridge (`window.offhook`). */
export const BRIDGE_GLOBAL = 'offhook';
