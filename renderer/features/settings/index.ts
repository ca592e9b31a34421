/**
 * Settings: the app's settings (through the bridge), the audio devices calls and the ringer use, and the
 * Settings pane. Other features reach settings only through this file.
 */
export { useSettingsStore } from './settings-store';
export { useDevicesStore } from './devices-store';
export { useDoNotDisturbStore } from './do-not-disturb-store';
export type { AudioDevice, DeviceChoice, DeviceRole, MediaDevicesPort } from './devices-store';
/** The pane, loaded when first opened: it is not part of the first screen (see vite.renderer.config.ts). */
export const loadSettingsView = () => import('./SettingsView.vue');
