import { describe, expect, it, vi } from 'vitest';
import { Notifier } from './notifications';

function fakeNotificationClass(supported: boolean) {
  return class FakeNotification {
    static shown: FakeNotification[] = [];
    static isSupported() {
      return supported;
    }
    readonly listeners = new Map<string, () => void>();
    constructor(readonly options: { title: string; body: string }) {}
    show() {
      FakeNotification.shown.push(this);
    }
    on(event: 'click' | 'close', listener: () => void) {
      this.listeners.set(event, listener);
    }
  };
}

describe('Notifier', () => {
  it('shows an OS notification with the title and body', () => {
    const Notification = fakeNotificationClass(true);
    expect(new Notifier(Notification).show({ title: 'New voicemail', body: 'From 201, 0:42' })).toBe(true);
    expect(Notification.shown.map((n) => n.options)).toEqual([{ title: 'New voicemail', body: 'From 201, 0:42' }]);
  });

  it('calls back when the notification is clicked, and lets it go once clicked or closed', () => {
    const Notification = fakeNotificationClass(true);
    const onClick = vi.fn();
    const notifier = new Notifier(Notification, onClick);
    notifier.show({ title: 'Missed call', body: '201' });
    notifier.show({ title: 'Missed call', body: '202' });
    expect(notifier.showingCount).toBe(2);
    Notification.shown[0]?.listeners.get('click')?.();
    Notification.shown[1]?.listeners.get('close')?.();
    expect(onClick).toHaveBeenCalledTimes(1);
    expect(notifier.showingCount).toBe(0);
  });

  it('does nothing where notifications are not supported', () => {
    const Notification = fakeNotificationClass(false);
    expect(new Notifier(Notification).show({ title: 'Missed call', body: '201' })).toBe(false);
    expect(Notification.shown).toHaveLength(0);
  });
});
