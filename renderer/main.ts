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
import { useSettingsStore } from './features/settings';
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
  await useSettingsStore(pinia)
    .load()
    .catch((error: unknown) => log.error('could not load settings', { error: String(error) }));

  const phone = usePhoneStore(pinia);
  const settings = useSettingsStore(pinia);
  syncPlatform(getBridge(), phone, () => settings.settings.linkAction ?? 'prefill', useHistoryStore(pinia));
  watchWakeSignals({ window, document, bridge: getBridge() }, (reason) => phone.checkConnection(reason));
  // Unregister on the way out, so the PBX stops ringing a page that is gone.
  window.addEventListener('pagehide', () => phone.stop());

  const router = createAppRouter();
  app.use(router);
  await router.isReady();
  app.mount('#app');
  log.debug('started');
}

void start();
