/**
 * When the web phone asks for permission to notify. Never at load: the browser's question would come before the
 * person knows why. Once the phone is registered (so after sign-in) it offers "Turn on notifications" in a small
 * note that says what for; the browser asks only when the person chooses it, and "Not now" is remembered. The desktop
 * app notifies through the OS and needs none of this.
 */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import { createLogger } from '../../log';

const log = createLogger('notification-offer');

export const OFFER_DISMISSED_KEY = 'offhook.notification-offer';

export type PermissionState = NotificationPermission | 'unsupported';

/** The browser's notification permission, and where "Not now" is remembered; tests hand in their own. */
export interface NotificationPermissionPort {
  current(): PermissionState;
  request(): Promise<PermissionState>;
  storage: Pick<Storage, 'getItem' | 'setItem'> | undefined;
}

export function browserPermissionPort(): NotificationPermissionPort {
  let storage: Storage | undefined;
  try {
    storage = window.localStorage;
  } catch {
    // Storage blocked for this site: "Not now" then holds for this page only.
    storage = undefined;
  }
  const supported = typeof Notification !== 'undefined';
  return {
    current: () => (supported ? Notification.permission : 'unsupported'),
    request: async () => (supported ? Notification.requestPermission() : 'unsupported'),
    storage,
  };
}

export const useNotificationOfferStore = defineStore('notification-offer', () => {
  let port: NotificationPermissionPort | undefined;
  const permission = ref<PermissionState>('unsupported');
  const dismissed = ref(false);
  const asking = ref(false);

  /** The offer is shown: the browser can notify, has not been asked, and the person has not said "Not now". */
  const offered = computed(() => permission.value === 'default' && !dismissed.value);

  /** Reads the permission as it is now; called when the offer could first be shown. */
  function prepare(next: NotificationPermissionPort = port ?? browserPermissionPort()): void {
    port = next;
    permission.value = next.current();
    dismissed.value = readDismissed(next);
  }

  /** The person chose "Turn on notifications": now, in their click, the browser asks. */
  async function turnOn(): Promise<void> {
    const current = port ?? browserPermissionPort();
    port = current;
    asking.value = true;
    try {
      permission.value = await current.request();
    } catch (error) {
      log.warn('the browser did not ask for notification permission', { error: String(error) });
      permission.value = current.current();
    } finally {
      asking.value = false;
    }
  }

  function notNow(): void {
    dismissed.value = true;
    try {
      port?.storage?.setItem(OFFER_DISMISSED_KEY, 'dismissed');
    } catch {
      // Not remembered past this page: the offer comes back once after a reload, no more.
    }
  }

  return { permission, dismissed, asking, offered, prepare, turnOn, notNow };
});

function readDismissed(port: NotificationPermissionPort): boolean {
  try {
    return port.storage?.getItem(OFFER_DISMISSED_KEY) === 'dismissed';
  } catch {
    return false;
  }
}
