import { describe, expect, it, vi } from 'vitest';
import { Notifier } from './notifications';

function fakeNotificationClass(supported: boolean) {
  return class FakeNotification {
    static shown: FakeNotification[] = [];
    static isSupported() {
      return supported;
    }
    readonly listeners = new Map<string, (...args: never[]) => void>();
    constructor(readonly options: { title: string; body: string; actions?: Array<{ type: 'button'; text: string }> }) {}
    show() {
      FakeNotification.shown.push(this);
    }
    on(event: 'click' | 'close' | 'action', listener: (...args: never[]) => void) {
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
    (Notification.shown[0]?.listeners.get('click') as (() => void) | undefined)?.();
    (Notification.shown[1]?.listeners.get('close') as (() => void) | undefined)?.();
    expect(onClick).toHaveBeenCalledTimes(1);
    expect(notifier.showingCount).toBe(0);
  });

  it('does nothing where notifications are not supported', () => {
    const Notification = fakeNotificationClass(false);
    expect(new Notifier(Notification).show({ title: 'Missed call', body: '201' })).toBe(false);
    expect(Notification.shown).toHaveLength(0);
  });

  it('offers Answer and Decline on an incoming-call notification and reports which was chosen', () => {
    const Notification = fakeNotificationClass(true);
    const onCallAction = vi.fn();
    const notifier = new Notifier(Notification, () => {}, onCallAction);
    notifier.show({ title: 'Incoming call', body: 'Bob Brown (102)', callId: 'call-7' });
    notifier.show({ title: 'Incoming call', body: 'Carol Chen (103)', callId: 'call-8' });
    expect(Notification.shown[0]?.options.actions?.map((a) => a.text)).toEqual(['Answer', 'Decline']);
    (Notification.shown[0]?.listeners.get('action') as ((event: unknown, index: number) => void) | undefined)?.({}, 0);
    (Notification.shown[1]?.listeners.get('action') as ((event: unknown, index: number) => void) | undefined)?.({}, 1);
    expect(onCallAction.mock.calls).toEqual([
      ['call-7', 'answer'],
      ['call-8', 'decline'],
    ]);
  });
});
