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

  /** What the last change made in Settings saved, in words ("Saved: Theme Dark"), for the pane to say. */
  const confirmation = ref('');

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

  /**
   * Saves `patch`. Given `what` (the setting's label and its new value in words), the pane then confirms it, or
   * says that it was not saved.
   */
  async function save(patch: AppSettings, what?: string): Promise<void> {
    try {
      settings.value = await getBridge().saveSettings(patch);
    } catch (error) {
      if (what !== undefined) confirmation.value = `Not saved: ${what}. Try again.`;
      log.warn('could not save settings', { error: error instanceof Error ? error.message : String(error) });
      throw error;
    }
    if (what !== undefined) confirmSaved(what);
  }

  /** For a change saved another way (an audio device, through the devices store). */
  function confirmSaved(what: string): void {
    confirmation.value = `Saved: ${what}`;
  }

  return { settings, appInfo, isDesktop, defaultServerUrl, confirmation, load, save, confirmSaved };
});
