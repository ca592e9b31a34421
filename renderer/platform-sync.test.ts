import { beforeEach, describe, expect, it } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { nextTick, reactive } from 'vue';
import type { NotificationRequest, OffhookBridge } from '../shared/bridge';
import type { DialLink } from '../shared/dial-links';
import type { RegistrationState } from '../shared/registration';
import { syncPlatform } from './platform-sync';
import { usePhoneStore } from './features/calls';
import { FakePhoneEngine } from './testing/fake-engine';

/** The platform edge: records what the renderer tells it. */
function recordingBridge() {
  const states: RegistrationState[] = [];
  const notifications: NotificationRequest[] = [];
  const dialListeners = new Set<(link: DialLink) => void>();
  const badges: number[] = [];
  const ringingShown: Array<{ id: string; caller: string } | null> = [];
  const answerListeners = new Set<(id: string) => void>();
  const bridge: OffhookBridge = {
    getAppInfo: async () => ({ name: 'Offhook', version: '0.0.0', shell: 'web', platform: 'test' }),
    getSettings: async () => ({}),
    saveSettings: async (patch) => patch,
    setRegistrationState: async (state) => void states.push(state),
    notify: async (request) => void notifications.push(request),
    setBadgeCount: async (count) => void badges.push(count),
    setRingingCall: async (call) => void ringingShown.push(call),
    onDidRequestAnswer: (listener) => {
      answerListeners.add(listener);
      return () => void answerListeners.delete(listener);
    },
    onDidRequestDecline: () => () => undefined,
    onDidResume: () => () => undefined,
    setCallShortcuts: async () => undefined,
    onDidPressCallShortcut: () => () => undefined,
    getCachedCallHistory: async () => [],
    cacheCallHistory: async () => undefined,
    getKeptSession: async () => null,
    keepSession: async () => undefined,
    forgetSession: async () => undefined,
    onDidRequestDial: (listener) => {
      dialListeners.add(listener);
      return () => void dialListeners.delete(listener);
    },
  };
  const openLink = (link: DialLink) => {
    for (const listener of dialListeners) listener(link);
  };
  return { bridge, states, notifications, openLink, badges, ringingShown, answerFromTray: (id: string) => answerListeners.forEach((l) => l(id)) };
}

describe('syncPlatform', () => {
  let engine: FakePhoneEngine;
  let phone: ReturnType<typeof usePhoneStore>;

  beforeEach(() => {
    setActivePinia(createPinia());
    phone = usePhoneStore();
    engine = new FakePhoneEngine();
    phone.start(engine);
  });

  it('reports every registration state, starting with the current one', async () => {
    const { bridge, states } = recordingBridge();
    syncPlatform(bridge, phone);
    engine.register('registering');
    await nextTick();
    engine.register('registered');
    await nextTick();
    expect(states).toEqual(['unregistered', 'registering', 'registered']);
  });

  it('notifies once for each call that starts ringing', async () => {
    const { bridge, notifications } = recordingBridge();
    syncPlatform(bridge, phone);
    const id = engine.ring({ name: 'Ada Lovelace', number: '101' });
    await nextTick();
    engine.ring({ name: '', number: '102' });
    await nextTick();
    engine.move(id, 'connecting');
    await nextTick();
    expect(notifications).toEqual([
      { title: 'Incoming call', body: 'Ada Lovelace (101)', callId: id },
      { title: 'Incoming call', body: '102', callId: expect.any(String) },
    ]);
  });

  it('stops reporting once stopped', async () => {
    const { bridge, states } = recordingBridge();
    const stop = syncPlatform(bridge, phone);
    stop();
    engine.register('registered');
    await nextTick();
    expect(states).toEqual(['unregistered']);
  });

  it('puts an opened link in the number field, waiting for registration first', async () => {
    const { bridge, openLink } = recordingBridge();
    syncPlatform(bridge, phone);
    openLink({ target: '+15551234567', scheme: 'tel' });
    expect(phone.number).toBe('');
    engine.register('registered');
    await nextTick();
    expect(phone.number).toBe('+15551234567');
    expect(engine.requests.filter((r) => r.startsWith('call'))).toEqual([]);
  });

  it('calls an opened link at once when the setting says so', async () => {
    const { bridge, openLink } = recordingBridge();
    syncPlatform(bridge, phone, () => 'call');
    engine.register('registered');
    await nextTick();
    openLink({ target: '102', scheme: 'sip' });
    expect(engine.requests.filter((r) => r.startsWith('call'))).toEqual(['call 102']);
  });

  it('tells the person about a missed call and counts it on the badge until they look', async () => {
    const { bridge, notifications, badges } = recordingBridge();
    const missed = { unseenMissed: 0, noteMissedCall() { this.unseenMissed += 1; }, refresh: async () => undefined };
    const counter = reactive(missed);
    syncPlatform(bridge, phone, undefined, counter);
    const id = engine.ring({ name: 'Ada Lovelace', number: '101' });
    await nextTick();
    engine.end(id, 'missed');
    await nextTick();
    await nextTick();
    expect(notifications.at(-1)).toEqual({ title: 'Missed call', body: 'Ada Lovelace' });
    expect(counter.unseenMissed).toBe(1);
    expect(badges).toEqual([1]);

    const answered = engine.ring({ name: 'Bob', number: '102' });
    engine.end(answered, 'hung-up-remote');
    await nextTick();
    expect(counter.unseenMissed).toBe(1);
  });

  it('counts new voicemail on the badge beside missed calls, and follows the mailbox as it changes', async () => {
    const { bridge, badges } = recordingBridge();
    const counter = reactive({ unseenMissed: 0, noteMissedCall() { this.unseenMissed += 1; }, refresh: async () => undefined });
    const mailbox = reactive({ newCount: 0 });
    syncPlatform(bridge, phone, undefined, counter, mailbox);
    mailbox.newCount = 2;
    await nextTick();
    const id = engine.ring({ name: 'Ada Lovelace', number: '101' });
    await nextTick();
    engine.end(id, 'missed');
    await nextTick();
    await nextTick();
    mailbox.newCount = 0;
    await nextTick();
    expect(badges).toEqual([2, 3, 1]);
  });

  it('neither notifies nor counts a call the person answered on another of their devices', async () => {
    const { bridge, notifications, badges } = recordingBridge();
    const counter = reactive({ unseenMissed: 0, noteMissedCall() { this.unseenMissed += 1; }, refresh: async () => undefined });
    syncPlatform(bridge, phone, undefined, counter);
    const id = engine.ring({ name: 'Ada Lovelace', number: '101' });
    await nextTick();
    engine.end(id, 'answered-elsewhere');
    await nextTick();
    await nextTick();
    expect(notifications.map((n) => n.title)).toEqual(['Incoming call']);
    expect(counter.unseenMissed).toBe(0);
    expect(badges).toEqual([]);
  });

  it('shows the ringing call in the tray and answers it from there', async () => {
    const { bridge, ringingShown, answerFromTray } = recordingBridge();
    syncPlatform(bridge, phone);
    const id = engine.ring({ name: 'Ada Lovelace', number: '101' });
    await nextTick();
    expect(ringingShown.at(-1)).toEqual({ id, caller: 'Ada Lovelace' });
    answerFromTray(id);
    expect(engine.requests).toContain(`answer ${id}`);
    engine.move(id, 'connecting');
    await nextTick();
    expect(ringingShown.at(-1)).toBeNull();
  });

  it('syncs the call history each time the phone registers, including after a reconnect', async () => {
    const { bridge } = recordingBridge();
    let refreshes = 0;
    syncPlatform(bridge, phone, undefined, { unseenMissed: 0, noteMissedCall: () => undefined, refresh: async () => void refreshes++ });
    engine.register('registered');
    await nextTick();
    engine.register('registering');
    await nextTick();
    engine.register('registered');
    await nextTick();
    expect(refreshes).toBe(2);
  });
});
