/**
 * The bridge between the renderer and the platform it runs on, written once.
 *
 * In the desktop app `preload/` exposes exactly these functions over IPC and `main/` implements them; in the
 * browser `renderer/bridge/web-bridge.ts` implements the same interface with web APIs. Arguments that cross
 * the process boundary are validated in main with the schemas below.
 */
import { z } from 'zod';
import { CallDirection, CallHistoryEntry } from './api';
import { CALL_SHORTCUT_ACTIONS } from './call-shortcuts';
import type { CallShortcutAction } from './call-shortcuts';
import type { DialLink } from './dial-links';
import { REGISTRATION_STATES } from './registration';
import type { RegistrationState } from './registration';

/** The ringtones the app generates (no audio files ship with it). */
export const RINGTONES = ['classic', 'chirp', 'soft'] as const;
export type Ringtone = (typeof RINGTONES)[number];

export const DTMF_METHODS = ['rfc4733', 'info'] as const;
export type DtmfMethod = (typeof DTMF_METHODS)[number];

/** The look: as the operating system's light or dark setting (default), or always light or dark. */
export const THEME_CHOICES = ['system', 'light', 'dark'] as const;
export type ThemeChoice = (typeof THEME_CHOICES)[number];

export const AppSettings = z.object({
  /** Base URL of the PBX the user signs in to, e.g. `http://127.0.0.1:8088`. */
  serverUrl: z.string().max(2048).optional(),
  lastExtension: z.string().max(32).optional(),
  /** Incoming calls are refused with 486 Busy Here without ringing. */
  doNotDisturb: z.boolean().optional(),
  /** Incoming calls are answered after a short ring, for headset and intercom use. */
  autoAnswer: z.boolean().optional(),
  /** Device ids as `MediaDeviceInfo.deviceId` gives them; absent means the system default. */
  microphoneId: z.string().max(256).optional(),
  speakerId: z.string().max(256).optional(),
  ringerId: z.string().max(256).optional(),
  ringtone: z.enum(RINGTONES).optional(),
  /** 0 (silent) to 1 (full). */
  ringVolume: z.number().min(0).max(1).optional(),
  /** How key presses during a call are sent: RFC 4733 telephone-events in the media (default) or SIP INFO. */
  dtmfMethod: z.enum(DTMF_METHODS).optional(),
  /** ISO 3166-1 region whose numbering plan national numbers are read in ("US", "GB"); absent: the browser locale's. */
  region: z.string().regex(/^[A-Z]{2}$/).optional(),
  /** What a tel:/sip:/callto: link does: put the number in the dial field (default) or call it at once. */
  linkAction: z.enum(['prefill', 'call']).optional(),
  /** Desktop: start Offhook when the user logs in to the computer. */
  startAtLogin: z.boolean().optional(),
  /**
   * Desktop: the call shortcuts also work while another program has the focus (held OS-wide during a call). Off by
   * default: Control+Shift+E, H, X and Space are other programs' keys too (editors, word processors).
   */
  callShortcutsEverywhere: z.boolean().optional(),
  /** Desktop: closing the window keeps the phone running in the tray (default) rather than quitting. */
  closeToTray: z.boolean().optional(),
  /** Light or dark look; absent means 'system'. */
  theme: z.enum(THEME_CHOICES).optional(),
});
export type AppSettings = z.infer<typeof AppSettings>;

export const NotificationRequest = z.object({
  title: z.string().min(1).max(200),
  body: z.string().max(1000),
  /** An incoming call: the notification offers Answer and Decline where the OS has notification buttons. */
  callId: z.string().min(1).max(200).optional(),
});
export type NotificationRequest = z.infer<typeof NotificationRequest>;

export const RegistrationStateSchema = z.enum(REGISTRATION_STATES);
export const BadgeCount = z.number().int().min(0).max(9_999);

/** The call ringing now, for the tray (null: none). */
export const RingingCallSchema = z.object({ id: z.string().min(1).max(200), caller: z.string().max(200) }).nullable();
export type RingingCall = z.infer<typeof RingingCallSchema>;

/** The call shortcuts that apply now (a call rings, a call is on the line), each at most once. */
export const CallShortcutActions = z
  .array(z.enum(CALL_SHORTCUT_ACTIONS))
  .max(CALL_SHORTCUT_ACTIONS.length)
  .refine((actions) => new Set(actions).size === actions.length, 'each shortcut at most once');

/** Whose history: the server and extension it belongs to, so two accounts never mix. */
const HistoryAccount = z.string().min(1).max(2100);

export const CachedHistoryQuery = z.object({
  account: HistoryAccount,
  limit: z.number().int().min(1).max(100_000),
  before: z.number().int().positive().optional(),
  direction: CallDirection.optional(),
  search: z.string().max(200).optional(),
});
export type CachedHistoryQuery = z.infer<typeof CachedHistoryQuery>;

export const CacheHistoryRequest = z.object({
  account: HistoryAccount,
  entries: z.array(CallHistoryEntry).max(5_000),
});
export type CacheHistoryRequest = z.infer<typeof CacheHistoryRequest>;

/**
 * What the app keeps between runs to stay signed in: the server and the session's bearer token, nothing more (no
 * password: the SIP password comes anew from each renewal). Desktop: encrypted with the OS's secret store; web
 * phone: localStorage.
 */
export const KeptSession = z.object({
  serverUrl: z.string().min(1).max(2048),
  token: z.string().min(1).max(512),
});
export type KeptSession = z.infer<typeof KeptSession>;

export interface AppInfo {
  name: string;
  version: string;
  /** `desktop` inside Electron, `web` in a browser. */
  shell: 'desktop' | 'web';
  platform: string;
}

/** Requests from the renderer to the platform: each returns a promise. */
export interface BridgeCalls {
  getAppInfo(): Promise<AppInfo>;
  getSettings(): Promise<AppSettings>;
  saveSettings(patch: AppSettings): Promise<AppSettings>;
  /** Shown by the tray icon in the desktop app; the web phone shows it in the page title. */
  setRegistrationState(state: RegistrationState): Promise<void>;
  notify(request: NotificationRequest): Promise<void>;
  /** Unseen missed calls and new voicemail on the app icon (dock/taskbar); 0 clears it. The web phone puts it in the page title. */
  setBadgeCount(count: number): Promise<void>;
  /** The tray shows the ringing call, and a click on it answers (desktop; nothing in the web phone). */
  setRingingCall(call: RingingCall): Promise<void>;
  /** The cached call history (desktop: SQLite owned by main; web: nothing is cached, so always empty). */
  getCachedCallHistory(query: CachedHistoryQuery): Promise<CallHistoryEntry[]>;
  cacheCallHistory(request: CacheHistoryRequest): Promise<void>;
  /**
   * The call shortcuts that apply now; the desktop app holds exactly these OS-wide (so it takes Control+Shift+X from
   * other programs only while a call rings), and none unless the person turned on `callShortcutsEverywhere`. The web
   * phone has no OS-wide shortcuts: it ignores this.
   */
  setCallShortcuts(actions: CallShortcutAction[]): Promise<void>;
  /** The session kept from the last run, to renew at start; null when there is none (or it cannot be read). */
  getKeptSession(): Promise<KeptSession | null>;
  /** Keeps the session for the next run (desktop: only where the OS can encrypt it; otherwise it is not kept). */
  keepSession(kept: KeptSession): Promise<void>;
  /** Forgets the kept session: on sign-out, and when the server says it has ended. */
  forgetSession(): Promise<void>;
}

/** What the platform tells the renderer: each takes a listener and returns the function that removes it. */
export interface BridgeEvents {
  /** A tel:, sip: or callto: link was opened (OS link handler or the command line). */
  onDidRequestDial(listener: (link: DialLink) => void): () => void;
  /** The person answered or declined the ringing call from the tray. */
  onDidRequestAnswer(listener: (callId: string) => void): () => void;
  onDidRequestDecline(listener: (callId: string) => void): () => void;
  /** A call shortcut was pressed while another program had the focus (desktop only). */
  onDidPressCallShortcut(listener: (action: CallShortcutAction) => void): () => void;
  /**
   * The computer woke from sleep or its screen was unlocked (desktop only): the network under the phone may have
   * changed, so it checks its connection and registers again.
   */
  onDidResume(listener: () => void): () => void;
}

export type OffhookBridge = BridgeCalls & BridgeEvents;

/** IPC channel per bridge function; preload and main use these names and no others. */
export const BRIDGE_CHANNELS = {
  getAppInfo: 'offhook:get-app-info',
  getSettings: 'offhook:get-settings',
  saveSettings: 'offhook:save-settings',
  setRegistrationState: 'offhook:set-registration-state',
  notify: 'offhook:notify',
  setBadgeCount: 'offhook:set-badge-count',
  setRingingCall: 'offhook:set-ringing-call',
  getCachedCallHistory: 'offhook:get-cached-call-history',
  cacheCallHistory: 'offhook:cache-call-history',
  setCallShortcuts: 'offhook:set-call-shortcuts',
  getKeptSession: 'offhook:get-kept-session',
  keepSession: 'offhook:keep-session',
  forgetSession: 'offhook:forget-session',
} as const satisfies Record<keyof BridgeCalls, string>;

/** IPC channel per bridge event, sent by main and received only by preload. */
export const BRIDGE_EVENT_CHANNELS = {
  onDidRequestDial: 'offhook:did-request-dial',
  onDidRequestAnswer: 'offhook:did-request-answer',
  onDidRequestDecline: 'offhook:did-request-decline',
  onDidPressCallShortcut: 'offhook:did-press-call-shortcut',
  onDidResume: 'offhook:did-resume',
} as const satisfies Record<keyof BridgeEvents, string>;

/** The global name under which preload exposes the bridge (`window.offhook`). */
export const BRIDGE_GLOBAL = 'offhook';
