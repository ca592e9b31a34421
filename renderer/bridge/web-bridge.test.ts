import { describe, expect, it } from 'vitest';
import { SETTINGS_KEY, createWebBridge } from './web-bridge';
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

  it('works without storage', async () => {
    const { environment } = fakeBrowser();
    const bridge = createWebBridge({ ...environment, storage: undefined });
    await expect(bridge.saveSettings({ lastExtension: '101' })).resolves.toEqual({ lastExtension: '101' });
    await expect(bridge.getSettings()).resolves.toEqual({});
  });
});
