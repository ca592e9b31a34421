import { beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { OFFER_DISMISSED_KEY, useNotificationOfferStore } from './notification-offer-store';
import type { NotificationPermissionPort, PermissionState } from './notification-offer-store';

/** The browser's permission as it would behave: the question is asked only when `request` is called. */
function fakePermission(initial: PermissionState, answer: PermissionState = 'granted') {
  const items = new Map<string, string>();
  let permission = initial;
  const port: NotificationPermissionPort = {
    current: () => permission,
    request: vi.fn(async () => {
      permission = answer;
      return permission;
    }),
    storage: { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value) },
  };
  return { port, items };
}

describe('the offer to turn on notifications', () => {
  beforeEach(() => setActivePinia(createPinia()));

  it('does not ask the browser when it is shown, only when the person chooses to turn them on', async () => {
    const { port } = fakePermission('default');
    const offer = useNotificationOfferStore();
    offer.prepare(port);
    expect(offer.offered).toBe(true);
    expect(port.request).not.toHaveBeenCalled();
    await offer.turnOn();
    expect(port.request).toHaveBeenCalledTimes(1);
    expect(offer.permission).toBe('granted');
    expect(offer.offered).toBe(false);
  });

  it('goes away when the person says no to the browser too', async () => {
    const { port } = fakePermission('default', 'denied');
    const offer = useNotificationOfferStore();
    offer.prepare(port);
    await offer.turnOn();
    expect(offer.offered).toBe(false);
  });

  it('is not shown once the browser has an answer, or where it cannot notify', () => {
    for (const state of ['granted', 'denied', 'unsupported'] as const) {
      const offer = useNotificationOfferStore();
      offer.prepare(fakePermission(state).port);
      expect(offer.offered).toBe(false);
    }
  });

  it('remembers "Not now" across reloads', () => {
    const { port, items } = fakePermission('default');
    const offer = useNotificationOfferStore();
    offer.prepare(port);
    offer.notNow();
    expect(offer.offered).toBe(false);
    expect(items.get(OFFER_DISMISSED_KEY)).toBe('dismissed');

    setActivePinia(createPinia());
    const afterReload = useNotificationOfferStore();
    afterReload.prepare(port);
    expect(afterReload.offered).toBe(false);
  });
});
