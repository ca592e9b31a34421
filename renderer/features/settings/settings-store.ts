/** What the platform knows: app settings and app information, always through the bridge. */
import { defineStore } from 'pinia';
import { computed, ref } from 'vue';
import type { AppInfo, AppSettings } from '../../../shared/bridge';
import { getBridge } from '../../bridge';
import { createLogger } from '../../log';

const log = createLogger('settings');

export const useSettingsStore = defineStore('settings', () => {
  const settings = ref<AppSettings>({});
  const appInfo = ref<AppInfo>();

  const isDesktop = computed(() => appInfo.value?.shell === 'desktop');

  /**
   * The server to sign in to. The web phone is served by the PBX itself, so its own origin is the answer there;
   * the desktop app remembers the server the person signed in to last.
   */
  const defaultServerUrl = computed(() => {
    if (isDesktop.value) return settings.value.serverUrl ?? '';
    const origin = globalThis.location?.origin;
    return origin && origin !== 'null' ? origin : (settings.value.serverUrl ?? '');
  });

  async function load(): Promise<void> {
    const bridge = getBridge();
    const [info, saved] = await Promise.all([bridge.getAppInfo(), bridge.getSettings()]);
    appInfo.value = info;
    settings.value = saved;
    log.debug('loaded', { shell: info.shell, version: info.version });
  }

  async function save(patch: AppSettings): Promise<void> {
    settings.value = await getBridge().saveSettings(patch);
  }

  return { settings, appInfo, isDesktop, defaultServerUrl, load, save };
});
