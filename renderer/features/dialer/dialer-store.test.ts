import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { CallHistoryEntry } from '../../../shared/api';
import { createWebBridge } from '../../bridge/web-bridge';
import { FakePhoneEngine } from '../../testing/fake-engine';
import { FakeMediaDevices, FakeRinger } from '../../testing/fake-media';
import { ALICE_SESSION } from '../../testing/fake-session';
import { useDialerStore } from './dialer-store';
import { DIRECTORY_DEBOUNCE_MS, useDirectoryStore } from '../contacts';
import { useHistoryStore } from '../history';
import { usePhoneStore } from '../calls';
import { useSessionStore } from '../sign-in';
import { useSettingsStore } from '../settings';

function outbound(id: number, number: string, name = ''): CallHistoryEntry {
  return {
    id,
    direction: 'outbound',
    disposition: 'answered',
    party: { name, number },
    startedAt: '2026-11-24T10:00:00.000Z',
    answeredAt: null,
    endedAt: '2026-11-24T10:01:00.000Z',
    durationSeconds: 0,
  };
}

describe('dialer store', () => {
  let engine: FakePhoneEngine;
  let phone: ReturnType<typeof usePhoneStore>;
  let dialer: ReturnType<typeof useDialerStore>;
  /** The PBX's REST API: Bob in the directory, one call to Carol in the history. */
  const fetch = vi.fn(async (input: RequestInfo | URL) => {
    const path = new URL(String(input)).pathname;
    const body = path.endsWith('/calls') ? { calls: [outbound(5, '103', 'Carol Chen')] } : { entries: [{ extension: '102', displayName: 'Bob Brown' }], more: false };
    return new Response(JSON.stringify(body));
  });

  beforeEach(() => {
    vi.useFakeTimers();
    fetch.mockClear();
    const items = new Map<string, string>();
    const bridge = createWebBridge({
      storage: { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value) },
      setTitle: () => {},
      showNotification: () => {},
      platform: 'test',
    });
    vi.stubGlobal('window', { offhook: bridge });
    vi.stubGlobal('fetch', fetch);
    vi.stubGlobal('navigator', { language: 'en-US' });
    setActivePinia(createPinia());
    const session = useSessionStore();
    session.session = ALICE_SESSION;
    session.serverUrl = 'http://pbx.test';
    phone = usePhoneStore();
    engine = new FakePhoneEngine();
    phone.start(engine, { ringer: new FakeRinger(), mediaDevices: new FakeMediaDevices() });
    engine.register('registered');
    dialer = useDialerStore();
  });

  afterEach(() => {
    phone.stop();
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it('formats an outside number for the region as it is typed, and leaves extensions and names alone', () => {
    dialer.type('+4420794', true);
    expect(phone.number).toBe('+44 20 794');
    dialer.type('102', true);
    expect(phone.number).toBe('102');
    dialer.type('bo', true);
    expect(phone.number).toBe('bo');
    // A deletion is left as the person made it, or the formatting would put back what they removed.
    dialer.type('(212', false);
    expect(phone.number).toBe('(212');
  });

  it('calls outside numbers in E.164 and extensions as typed', () => {
    dialer.type('(212) 555-0123', true);
    expect(dialer.call()).toBeDefined();
    expect(engine.requests).toContain('call +12125550123');
    expect(phone.number).toBe('');
    dialer.type('102', true);
    dialer.call();
    expect(engine.requests).toContain('call 102');
  });

  it("says why a number can't be called, and forgets it when the field changes", () => {
    dialer.type('(212) 555-012', true);
    expect(dialer.call()).toBeUndefined();
    expect(dialer.numberError).toBe('That number looks incomplete.');
    expect(engine.requests.filter((r) => r.startsWith('call'))).toEqual([]);
    dialer.type('(212) 555-0123', true);
    expect(dialer.numberError).toBe('');
  });

  it('reads national numbers in the region chosen in the settings, else the browser locale’s', async () => {
    expect(dialer.region).toBe('US');
    await useSettingsStore().save({ region: 'GB' });
    dialer.type('020 7946 0958', true);
    dialer.call();
    expect(engine.requests).toContain('call +442079460958');
  });

  it('suggests people from the directory and recent calls as the name is typed; picking one fills the number', async () => {
    useHistoryStore().entries = [outbound(7, '+12125550123', 'Bob Plumber')];
    dialer.type('bo', true);
    await vi.advanceTimersByTimeAsync(DIRECTORY_DEBOUNCE_MS);
    await vi.waitFor(() => expect(useDirectoryStore().entries).toHaveLength(1));
    expect(dialer.suggestions.map((s) => `${s.name} ${s.display}`)).toEqual(['Bob Brown 102', 'Bob Plumber (212) 555-0123']);

    dialer.pick(dialer.suggestions[1]!);
    expect(phone.number).toBe('(212) 555-0123');
    dialer.call();
    expect(engine.requests).toContain('call +12125550123');
  });

  it('names the call after the person picked from the suggestions, with their number', async () => {
    useHistoryStore().entries = [outbound(7, '+12125550123', 'Bob Plumber')];
    dialer.type('bo', true);
    await vi.advanceTimersByTimeAsync(DIRECTORY_DEBOUNCE_MS);
    await vi.waitFor(() => expect(useDirectoryStore().entries).toHaveLength(1));
    dialer.pick(dialer.suggestions[1]!);
    const id = dialer.call()!;
    expect(phone.calls[id]?.remote).toEqual({ name: 'Bob Plumber', number: '+12125550123' });
    // The name stays as the call moves on, until the PBX names the other party itself.
    engine.move(id, 'ringing-out');
    expect(phone.calls[id]?.remote.name).toBe('Bob Plumber');

    // Redial calls the same person by name.
    const again = dialer.redial()!;
    expect(phone.calls[again]?.remote).toEqual({ name: 'Bob Plumber', number: '+12125550123' });
  });

  it('drops the picked name once the person changes the number, and redials a history entry by its name', () => {
    dialer.pick({ id: 's1', name: 'Bob Brown', number: '102', display: '102', source: 'directory' });
    dialer.type('103', true);
    const id = dialer.call()!;
    expect(phone.calls[id]?.remote).toEqual({ name: '', number: '103' });

    setActivePinia(createPinia());
    const fresh = useDialerStore();
    useSessionStore().session = ALICE_SESSION;
    useHistoryStore().entries = [outbound(9, '103', 'Carol Chen')];
    const freshPhone = usePhoneStore();
    const freshEngine = new FakePhoneEngine();
    freshPhone.start(freshEngine, { ringer: new FakeRinger(), mediaDevices: new FakeMediaDevices() });
    freshEngine.register('registered');
    const redialled = fresh.redial()!;
    expect(freshPhone.calls[redialled]?.remote).toEqual({ name: 'Carol Chen', number: '103' });
    freshPhone.stop();
  });

  it('redials the last number dialled, else the newest outbound call in the history', () => {
    expect(dialer.redialNumber).toBeUndefined();
    useHistoryStore().entries = [outbound(9, '103'), outbound(8, '102')];
    expect(dialer.redialNumber).toBe('103');

    dialer.type('+1 212 555 0123', true);
    dialer.call();
    expect(dialer.redialNumber).toBe('+12125550123');
    expect(dialer.redialDisplay).toBe('(212) 555-0123');
    expect(dialer.redial()).toBeDefined();
    expect(engine.requests.filter((r) => r.startsWith('call'))).toEqual(['call +12125550123', 'call +12125550123']);
  });

  it('shows numbers from calls and the history as read in the region, extensions as they are', async () => {
    expect(dialer.display('+12125550123')).toBe('(212) 555-0123');
    expect(dialer.display('102')).toBe('102');
    await useSettingsStore().save({ region: 'GB' });
    expect(dialer.display('+12125550123')).toBe('+1 212 555 0123');
  });

  it('loads the call history once per sign-in when the Phone view opens, for suggestions and Redial', async () => {
    dialer.prepare();
    dialer.prepare();
    await vi.waitFor(() => expect(dialer.redialNumber).toBe('103'));
    expect(fetch.mock.calls.filter(([url]) => String(url).includes('/calls'))).toHaveLength(1);
    dialer.type('car', true);
    expect(dialer.suggestions.map((s) => `${s.name} ${s.display}`)).toEqual(['Carol Chen 103']);
  });

  it('does not redial a number dialled by someone who signed in before', () => {
    dialer.type('102', true);
    dialer.call();
    const session = useSessionStore();
    session.session = { ...ALICE_SESSION, user: { ...ALICE_SESSION.user, extension: '103' } };
    expect(dialer.redialNumber).toBeUndefined();
  });
});
