import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { createWebBridge } from '../../bridge/web-bridge';
import { useSettingsStore } from './settings-store';

describe('settings store: saying what was saved', () => {
  let items: Map<string, string>;

  beforeEach(() => {
    items = new Map();
    const bridge = createWebBridge({
      storage: { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value) },
      setTitle: () => {},
      showNotification: () => {},
      platform: 'test',
    });
    vi.stubGlobal('window', { offhook: bridge });
    setActivePinia(createPinia());
  });

  afterEach(() => vi.unstubAllGlobals());

  it('confirms a change made in Settings once it is stored, in the words given', async () => {
    const settings = useSettingsStore();
    expect(settings.confirmation).toBe('');
    await settings.save({ theme: 'dark' }, 'Theme Dark');
    expect(settings.confirmation).toBe('Saved: Theme Dark');
    expect(settings.settings.theme).toBe('dark');
    expect(JSON.parse(items.get('offhook.settings')!)).toMatchObject({ theme: 'dark' });
  });

  it('says nothing for a change made elsewhere (the header toggles)', async () => {
    const settings = useSettingsStore();
    await settings.save({ doNotDisturb: true });
    expect(settings.confirmation).toBe('');
  });

  it('says so when a change was not saved, and keeps what was stored', async () => {
    const settings = useSettingsStore();
    await settings.save({ ringVolume: 0.5 }, 'Ring volume 50%');
    await expect(settings.save({ ringVolume: 2 }, 'Ring volume 200%')).rejects.toThrow();
    expect(settings.confirmation).toBe('Not saved: Ring volume 200%. Try again.');
    expect(settings.settings.ringVolume).toBe(0.5);
  });

  it('confirms a change saved another way (an audio device)', () => {
    const settings = useSettingsStore();
    settings.confirmSaved('Microphone Headset');
    expect(settings.confirmation).toBe('Saved: Microphone Headset');
  });
});
