/**
 * The one way the renderer reaches the platform: the bridge that the desktop app's preload exposes as
 * `window.offhook`, or the web implementation when the renderer runs as the web phone.
 */
import { BRIDGE_GLOBAL } from '../../shared/bridge';
import type { OffhookBridge } from '../../shared/bridge';
import { createWebBridge } from './web-bridge';

declare global {
  interface Window {
    /** Exposed by the desktop app's preload through contextBridge; absent in a browser. */
    [BRIDGE_GLOBAL]?: OffhookBridge;
  }
}

let bridge: OffhookBridge | undefined;

export function getBridge(): OffhookBridge {
  bridge ??= window[BRIDGE_GLOBAL] ?? createWebBridge();
  return bridge;
}
