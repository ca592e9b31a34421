/**
 * The bridge object the preload exposes: the functions of the contract, each forwarding its own arguments,
 * and nothing else. Taking `invoke` as a parameter keeps this free of Electron so it is tested under Node.
 */
import { BRIDGE_CHANNELS, BRIDGE_EVENT_CHANNELS } from '../shared/bridge';
import type { CallHistoryEntry } from '../shared/api';
import type { AppInfo, AppSettings, KeptSession, OffhookBridge } from '../shared/bridge';
import { CALL_SHORTCUT_ACTIONS } from '../shared/call-shortcuts';
import type { CallShortcutAction } from '../shared/call-shortcuts';
import type { DialLink } from '../shared/dial-links';

/** `ipcRenderer.invoke`, and only that. */
export type Invoke = (channel: string, ...args: unknown[]) => Promise<unknown>;
/** Listens on one channel for main's messages, passing on the payload only (never the IPC event); returns the remover. */
export type Subscribe = (channel: string, listener: (payload: unknown) => void) => () => void;

export function createPreloadBridge(invoke: Invoke, subscribe: Subscribe): OffhookBridge {
  // Written out function by function: the object literal must match OffhookBridge exactly, so a function
  // added to or removed from the contract is a compile error here, and no caller can pass extra arguments.
  const bridge: OffhookBridge = {
    getAppInfo: () => invoke(BRIDGE_CHANNELS.getAppInfo) as Promise<AppInfo>,
    getSettings: () => invoke(BRIDGE_CHANNELS.getSettings) as Promise<AppSettings>,
    saveSettings: (patch) => invoke(BRIDGE_CHANNELS.saveSettings, patch) as Promise<AppSettings>,
    setRegistrationState: (state) => invoke(BRIDGE_CHANNELS.setRegistrationState, state) as Promise<void>,
    notify: (request) => invoke(BRIDGE_CHANNELS.notify, request) as Promise<void>,
    setBadgeCount: (count) => invoke(BRIDGE_CHANNELS.setBadgeCount, count) as Promise<void>,
    setRingingCall: (call) => invoke(BRIDGE_CHANNELS.setRingingCall, call) as Promise<void>,
    getCachedCallHistory: (query) => invoke(BRIDGE_CHANNELS.getCachedCallHistory, query) as Promise<CallHistoryEntry[]>,
    cacheCallHistory: (request) => invoke(BRIDGE_CHANNELS.cacheCallHistory, request) as Promise<void>,
    setCallShortcuts: (actions) => invoke(BRIDGE_CHANNELS.setCallShortcuts, actions) as Promise<void>,
    getKeptSession: () => invoke(BRIDGE_CHANNELS.getKeptSession) as Promise<KeptSession | null>,
    keepSession: (kept) => invoke(BRIDGE_CHANNELS.keepSession, kept) as Promise<void>,
    forgetSession: () => invoke(BRIDGE_CHANNELS.forgetSession) as Promise<void>,
    onDidRequestDial: (listener) => subscribe(BRIDGE_EVENT_CHANNELS.onDidRequestDial, (payload) => listener(payload as DialLink)),
    onDidRequestAnswer: (listener) => subscribe(BRIDGE_EVENT_CHANNELS.onDidRequestAnswer, (payload) => listener(String(payload))),
    onDidRequestDecline: (listener) => subscribe(BRIDGE_EVENT_CHANNELS.onDidRequestDecline, (payload) => listener(String(payload))),
    // Only a known action is passed on, whatever arrived on the channel.
    onDidPressCallShortcut: (listener) =>
      subscribe(BRIDGE_EVENT_CHANNELS.onDidPressCallShortcut, (payload) => {
        if (isCallShortcutAction(payload)) listener(payload);
      }),
    // The event carries nothing; whatever main sent is not passed on.
    onDidResume: (listener) => subscribe(BRIDGE_EVENT_CHANNELS.onDidResume, () => listener()),
  };
  return Object.freeze(bridge);
}

function isCallShortcutAction(value: unknown): value is CallShortcutAction {
  return (CALL_SHORTCUT_ACTIONS as readonly unknown[]).includes(value);
}
