// Must stay the first import: it configures zod before any schema is built.
import './zod-config';
import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import { getBridge } from './bridge';
import { createLogger } from './log';
import { watchWakeSignals } from './phone/wake-signals';
import { syncPlatform } from './platform-sync';
import { useHistoryStore } from './features/history';
import { createAppRouter } from './router';
import { usePhoneStore } from './features/calls';
import { installCallShortcuts } from './features/shortcuts';
import { useDoNotDisturbStore, useSettingsStore } from './features/settings';
import { useSessionStore } from './features/sign-in';
import { useVoicemailStore } from './features/voicemail';
import './styles.css';

const log = createLogger('app');

async function start(): Promise<void> {
  const app = createApp(App);
  // Faults are logged for whoever debugs; the person using the phone never sees a stack trace.
  app.config.errorHandler = (error, _instance, info) => {
    log.error('unhandled error', { info, error: error instanceof Error ? error.message : String(error) });
  };

  const pinia = createPinia();
  app.use(pinia);
  const settingsLoaded = useSettingsStore(pinia)
    .load()
    .catch((error: unknown) => log.error('could not load settings', { error: String(error) }));
  // A kept session is renewed from the first moment, beside the settings and the mount: its round trip is most of
  // the time from opening the app to "Registered". The phone itself starts once the settings are in.
  void useSessionStore(pinia).resume({ ready: settingsLoaded });
  await settingsLoaded;
  // Do not disturb is the PBX's setting: read at each sign-in and followed live; the app's own is the fallback.
  useDoNotDisturbStore(pinia).follow();

  const phone = usePhoneStore(pinia);
  const settings = useSettingsStore(pinia);
  syncPlatform(getBridge(), phone, () => settings.settings.linkAction ?? 'prefill', useHistoryStore(pinia), useVoicemailStore(pinia));
  installCallShortcuts({ keys: window, phone, bridge: getBridge() });
  watchWakeSignals({ window, document, bridge: getBridge() }, (reason) => phone.checkConnection(reason));
  // On the way out, the web phone keeps a call in progress for the page that loads next (a reload rejoins it,
  // kept-calls.ts); a page cannot tell a close from a reload, so a closed tab leaves the other party on music for the
  // PBX's grace (15 s). The desktop app hangs up (it cannot rejoin after a quit), and with no call either of them
  // unregisters, so the PBX stops ringing a page that is gone. `leave()` decides which, from the bridge's shell.
  window.addEventListener('pagehide', () => phone.leave());

  const router = createAppRouter();
  app.use(router);
  await router.isReady();
  app.mount('#app');
  log.debug('started');
}

void start();
