import { describe, expect, it } from 'vitest';
import { KEPT_SESSION_KEY, SETTINGS_KEY, createWebBridge } from './web-bridge';
import type { WebBridgeEnvironment } from './web-bridge';
import { version } from '../../package.json';

/** Stands in for the browser: an in-memory localStorage, a page title and a notification tray. */
function fakeBrowser(initial: Record<string, string> = {}) {
  const items = new Map(Object.entries(initial));
  const state = { title: '', notifications: [] as Array<{ title: string; body: string }> };
  const environment: WebBridgeEnvironment = {
    storage: {
      getItem: (key) => items.get(key) ?? null,
      setItem: (key, value) => void items.set(key, value),
      removeItem: (key) => void items.delete(key),
    },
    setTitle: (title) => {
      state.title = title;
    },
    showNotification: (title, body) => void state.notifications.push({ title, body }),
    platform: 'Linux x86_64',
  };
  return { environment, items, state };
}

describe('web bridge', () => {
  it('describes itself as the web shell', async () => {
    const bridge = createWebBridge(fakeBrowser().environment);
    await expect(bridge.getAppInfo()).resolves.toEqual({
      name: 'Offhook',
      version,
      shell: 'web',
      platform: 'Linux x86_64',
    });
  });

  it('starts with no settings', async () => {
    await expect(createWebBridge(fakeBrowser().environment).getSettings()).resolves.toEqual({});
  });

  it('merges saved settings and keeps them in localStorage', async () => {
    const { environment, items } = fakeBrowser();
    const bridge = createWebBridge(environment);
    await bridge.saveSettings({ serverUrl: 'http://127.0.0.1:8088' });
    await expect(bridge.saveSettings({ lastExtension: '101' })).resolves.toEqual({
      serverUrl: 'http://127.0.0.1:8088',
      lastExtension: '101',
    });
    expect(JSON.parse(items.get(SETTINGS_KEY) ?? '')).toEqual({ serverUrl: 'http://127.0.0.1:8088', lastExtension: '101' });
    await expect(createWebBridge(environment).getSettings()).resolves.toEqual({
      serverUrl: 'http://127.0.0.1:8088',
      lastExtension: '101',
    });
  });

  it('starts over from unreadable settings', async () => {
    const { environment } = fakeBrowser({ [SETTINGS_KEY]: '{not json' });
    await expect(createWebBridge(environment).getSettings()).resolves.toEqual({});
  });

  it('refuses settings that break the contract', async () => {
    const bridge = createWebBridge(fakeBrowser().environment);
    await expect(bridge.saveSettings({ lastExtension: 'x'.repeat(33) })).rejects.toThrow();
  });

  it('shows the registration state in the page title', async () => {
    const { environment, state } = fakeBrowser();
    const bridge = createWebBridge(environment);
    await bridge.setRegistrationState('registered');
    expect(state.title).toBe('Offhook — Registered');
    await bridge.setRegistrationState('failed');
    expect(state.title).toBe('Offhook — Registration failed');
  });

  it('passes notifications to the browser', async () => {
    const { environment, state } = fakeBrowser();
    await createWebBridge(environment).notify({ title: 'Incoming call', body: 'Ada Lovelace (101)' });
    expect(state.notifications).toEqual([{ title: 'Incoming call', body: 'Ada Lovelace (101)' }]);
  });

  it('shows a ringing call in the title and the icon, and goes back after', async () => {
    const { environment, state } = fakeBrowser();
    const icons: string[] = [];
    const bridge = createWebBridge({ ...environment, setFavicon: (variant) => void icons.push(variant) });
    await bridge.setRegistrationState('registered');
    await bridge.setRingingCall({ id: 'c1', caller: 'Alice Adams' });
    expect(state.title).toBe('Ringing: Alice Adams');
    // The registration changing meanwhile does not hide the ringing call.
    await bridge.setRegistrationState('registering');
    expect(state.title).toBe('Ringing: Alice Adams');
    await bridge.setRingingCall(null);
    expect(state.title).toBe('Offhook — Registering…');
    expect(icons).toEqual(['ringing', 'usual']);
  });

  it('notifies of an incoming call only while the page is out of sight, and takes it away when it stops ringing', async () => {
    const { environment, state } = fakeBrowser();
    let hidden = false;
    let closed = 0;
    const bridge = createWebBridge({
      ...environment,
      isHidden: () => hidden,
      showNotification: (title, body) => {
        state.notifications.push({ title, body });
        return () => void (closed += 1);
      },
    });
    await bridge.notify({ title: 'Incoming call', body: 'Alice Adams (101)', callId: 'c1' });
    expect(state.notifications).toEqual([]);
    hidden = true;
    await bridge.setRingingCall({ id: 'c2', caller: 'Alice Adams' });
    await bridge.notify({ title: 'Incoming call', body: 'Alice Adams (101)', callId: 'c2' });
    expect(state.notifications).toEqual([{ title: 'Incoming call', body: 'Alice Adams (101)' }]);
    await bridge.setRingingCall(null);
    expect(closed).toBe(1);
  });

  it('works without storage', async () => {
    const { environment } = fakeBrowser();
    const bridge = createWebBridge({ ...environment, storage: undefined });
    await expect(bridge.saveSettings({ lastExtension: '101' })).resolves.toEqual({ lastExtension: '101' });
    await expect(bridge.getSettings()).resolves.toEqual({});
  });

  it('keeps the server and token in localStorage, gives them back, and forgets them', async () => {
    const { environment, items } = fakeBrowser();
    const bridge = createWebBridge(environment);
    await expect(bridge.getKeptSession()).resolves.toBeNull();
    await bridge.keepSession({ serverUrl: 'https://pbx.example', token: 'tok' });
    expect(JSON.parse(items.get(KEPT_SESSION_KEY) ?? '')).toEqual({ serverUrl: 'https://pbx.example', token: 'tok' });
    // A reload: a new bridge over the same storage.
    await expect(createWebBridge(environment).getKeptSession()).resolves.toEqual({ serverUrl: 'https://pbx.example', token: 'tok' });
    await bridge.forgetSession();
    expect(items.has(KEPT_SESSION_KEY)).toBe(false);
    await expect(bridge.getKeptSession()).resolves.toBeNull();
  });

  it('forgets a kept session it cannot read, and refuses to keep one that breaks the contract', async () => {
    for (const raw of ['{not json', '{"token":"tok"}', '"tok"']) {
      const { environment, items } = fakeBrowser({ [KEPT_SESSION_KEY]: raw });
      await expect(createWebBridge(environment).getKeptSession()).resolves.toBeNull();
      expect(items.has(KEPT_SESSION_KEY)).toBe(false);
    }
    await expect(createWebBridge(fakeBrowser().environment).keepSession({ serverUrl: 'https://pbx.example', token: '' })).rejects.toThrow();
  });
});
