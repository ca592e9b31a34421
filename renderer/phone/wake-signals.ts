/**
 * The moments a phone's connection is most likely to have died under it, gathered in one place: the browser
 * going offline or coming back online (a Wi-Fi change, a cable pulled), the page becoming visible again (a
 * laptop lid opened, a tab returned to; browsers also freeze timers in hidden tabs, so the keep-alive may have
 * been asleep), and in the desktop app the computer resuming from sleep or being unlocked (`onDidResume`).
 */
import type { BridgeEvents } from '../../shared/bridge';
import type { WakeReason } from './connection-keeper';

/** The parts of `window` and `document` listened to, handed in so that tests can give their own. */
export interface WakeSources {
  window: Pick<EventTarget, 'addEventListener' | 'removeEventListener'>;
  document: Pick<EventTarget, 'addEventListener' | 'removeEventListener'> & { readonly visibilityState: DocumentVisibilityState };
  bridge: Pick<BridgeEvents, 'onDidResume'>;
}

/** Calls `onWake` with each signal; returns the function that stops listening. */
export function watchWakeSignals(sources: WakeSources, onWake: (reason: WakeReason) => void): () => void {
  const online = () => onWake('online');
  const offline = () => onWake('offline');
  const visibility = () => {
    if (sources.document.visibilityState === 'visible') onWake('visible');
  };
  sources.window.addEventListener('online', online);
  sources.window.addEventListener('offline', offline);
  sources.document.addEventListener('visibilitychange', visibility);
  const stopResume = sources.bridge.onDidResume(() => onWake('resume'));
  return () => {
    sources.window.removeEventListener('online', online);
    sources.window.removeEventListener('offline', offline);
    sources.document.removeEventListener('visibilitychange', visibility);
    stopResume();
  };
}
