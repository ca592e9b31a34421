/**
 * The Electron main process. This file alone touches the `electron` module: it hands Electron's objects to
 * the modules beside it, which hold the logic and are tested under plain Node.
 */
import { app, BrowserWindow, globalShortcut, ipcMain, Menu, nativeImage, Notification, powerMonitor, safeStorage, session, shell, Tray } from 'electron';
import type { NativeImage } from 'electron';
import Database from 'better-sqlite3';
import Store from 'electron-store';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BRIDGE_EVENT_CHANNELS } from '../shared/bridge';
import type { RegistrationState } from '../shared/registration';
import { createAppOrigin } from './app-origin';
import { CallHistoryCache } from './call-history-cache';
import type { AppOrigin } from './app-origin';
import { contentSecurityPolicy, installContentSecurityPolicy } from './csp';
import { createDesktopBridge } from './desktop-bridge';
import { DialRequestRouter } from './dial-requests';
import { CallShortcutKeeper } from './global-shortcuts';
import { registerBridgeHandlers } from './ipc';
import { KeptSessionStore } from './kept-session';
import { createLogger } from './log';
import { Notifier } from './notifications';
import { SettingsStore } from './settings';
import { acquireSingleInstance } from './single-instance';
import type { SecondLaunch } from './single-instance';
import { TrayController } from './tray';
import { createMainWindow, hideOnClose, revealWindow } from './window';

const log = createLogger('main');

const APP_USER_MODEL_ID = 'com.offhook.desktop';
const LINK_SCHEMES = ['tel', 'sip', 'callto'] as const;

// Built layout: dist/main/main.js beside dist/preload/ and dist/renderer/, with resources/ at the app root.
const fromHere = (relative: string) => fileURLToPath(new URL(relative, import.meta.url));
const PRELOAD_PATH = fromHere('../preload/preload.cjs');
const RENDERER_DIR = fromHere('../renderer');
const RESOURCES_DIR = fromHere('../../resources');

function rendererOrigin(): AppOrigin {
  const devServer = process.env.OFFHOOK_RENDERER_URL;
  // A packaged app always runs the renderer it shipped with: pointed elsewhere, that page would hold the bridge.
  if (devServer && !app.isPackaged) return createAppOrigin({ kind: 'dev-server', url: devServer });
  if (devServer) log.warn('OFFHOOK_RENDERER_URL is ignored in a packaged app');
  return createAppOrigin({ kind: 'file', rendererDir: RENDERER_DIR });
}

function trayIcon(state: RegistrationState): NativeImage {
  const file = `${RESOURCES_DIR}/tray-${state}.png`;
  // The icons are 32 px; the macOS menu bar wants 16 pt, so there they are the 2x image of a 16 pt icon.
  if (process.platform === 'darwin') return nativeImage.createFromBuffer(readFileSync(file), { scaleFactor: 2 });
  return nativeImage.createFromPath(file);
}

function registerLinkSchemes(): void {
  // Only the installed app claims tel: and sip:; a development run must not take them over on the developer's machine.
  if (!app.isPackaged) return;
  for (const scheme of LINK_SCHEMES) {
    if (!app.setAsDefaultProtocolClient(scheme)) log.warn('could not become the handler of a link scheme', { scheme });
  }
}

function main(): void {
  app.setAppUserModelId(APP_USER_MODEL_ID);

  let window: BrowserWindow | undefined;
  let quitting = false;
  const quit = () => {
    quitting = true;
    app.quit();
  };
  const show = () => {
    if (window && !window.isDestroyed()) revealWindow(window);
  };

  const dialRequests = new DialRequestRouter((link) => {
    if (window && !window.isDestroyed()) window.webContents.send(BRIDGE_EVENT_CHANNELS.onDidRequestDial, link);
  });
  const onSecondLaunch = (launch: SecondLaunch) => {
    show();
    // Links (tel:, sip:, callto:) arrive here on Windows and Linux.
    dialRequests.fromArgv(launch.argv);
  };
  if (!acquireSingleInstance(app, onSecondLaunch)) {
    app.quit();
    return;
  }
  registerLinkSchemes();
  // macOS hands links over with open-url, possibly before the app is ready.
  app.on('open-url', (event, url) => {
    event.preventDefault();
    show();
    dialRequests.fromUrl(url);
  });
  dialRequests.fromArgv(process.argv);

  app.on('open-url', (event) => {
    // macOS delivers tel:/sip: links as events rather than a command line.
    event.preventDefault();
    show();
  });
  app.on('before-quit', () => {
    quitting = true;
  });
  app.on('activate', show);

  app
    .whenReady()
    .then(() => {
      const origin = rendererOrigin();
      installContentSecurityPolicy(
        session.defaultSession,
        contentSecurityPolicy({ devServer: origin.entryUrl.startsWith('http') }),
      );

      const storeFile = new Store<Record<string, unknown>>({ name: 'settings', clearInvalidConfig: true });
      const settings = new SettingsStore(
        storeFile,
        // `npm start` names the PBX it launched, so a first run needs no typing.
        process.env.OFFHOOK_SERVER_URL ? { serverUrl: process.env.OFFHOOK_SERVER_URL } : {},
      );
      const notifier = new Notifier(Notification, show, (callId, action) =>
        window?.webContents.send(action === 'answer' ? BRIDGE_EVENT_CHANNELS.onDidRequestAnswer : BRIDGE_EVENT_CHANNELS.onDidRequestDecline, callId),
      );
      const tray = new TrayController<NativeImage, Menu>({
        createTray: (icon) => new Tray(icon),
        buildMenu: (template) => Menu.buildFromTemplate(template),
        iconFor: trayIcon,
        onShow: show,
        onQuit: quit,
        onAnswer: (callId) => window?.webContents.send(BRIDGE_EVENT_CHANNELS.onDidRequestAnswer, callId),
        onDecline: (callId) => window?.webContents.send(BRIDGE_EVENT_CHANNELS.onDidRequestDecline, callId),
      });
      app.on('will-quit', () => tray.destroy());
      // Call shortcuts OS-wide while a call rings or is on; each press goes to the page, which acts on the call.
      const callShortcuts = new CallShortcutKeeper(globalShortcut, (action) => {
        if (window && !window.isDestroyed()) window.webContents.send(BRIDGE_EVENT_CHANNELS.onDidPressCallShortcut, action);
      });
      app.on('will-quit', () => callShortcuts.clear());

      let historyCache: CallHistoryCache | undefined;
      try {
        const cacheDb = new Database(join(app.getPath('userData'), 'offhook-cache.db'));
        app.on('will-quit', () => cacheDb.close());
        historyCache = new CallHistoryCache(cacheDb);
      } catch (error) {
        // Without the cache the app still works; the history loads from the PBX each time.
        log.error('the call history cache could not be opened', { error: error instanceof Error ? error.message : String(error) });
      }

      registerBridgeHandlers(
        ipcMain,
        createDesktopBridge({
          appVersion: app.getVersion(),
          platform: process.platform,
          settings,
          tray,
          notifier,
          historyCache,
          callShortcuts,
          // After whenReady: before it, safeStorage cannot tell on Linux which secret store it would use.
          keptSession: new KeptSessionStore(storeFile, safeStorage),
          setBadgeCount: (count) => void app.setBadgeCount(count),
          setOpenAtLogin: (open) => app.setLoginItemSettings({ openAtLogin: open }),
        }),
        (url) => origin.contains(url),
      );

      window = createMainWindow(
        { BrowserWindow, openExternal: (url) => shell.openExternal(url) },
        {
          origin,
          preloadPath: PRELOAD_PATH,
          ...(process.platform === 'linux' ? { iconPath: `${RESOURCES_DIR}/icon.png` } : {}),
        },
      );
      // The phone keeps running in the tray so it can still ring; Quit in the tray menu ends it.
      // Closing the window keeps the phone in the tray unless the person chose otherwise.
      hideOnClose(window, () => quitting || settings.get().closeToTray === false);
      // After sleep the phone's socket is likely dead and its registration expired; it checks both when told.
      const resumed = () => {
        if (window && !window.isDestroyed()) window.webContents.send(BRIDGE_EVENT_CHANNELS.onDidResume);
      };
      powerMonitor.on('resume', resumed);
      powerMonitor.on('unlock-screen', resumed);
      window.webContents.on('did-finish-load', () => dialRequests.rendererReady());
      window.webContents.on('did-start-loading', () => {
        dialRequests.rendererGone();
        // The page's calls are gone with it; the new page says which shortcuts apply once it has calls.
        callShortcuts.clear();
      });
      window.webContents.on('render-process-gone', (_event, details) => {
        log.error('the renderer process is gone', { reason: details.reason });
      });
      log.info('Offhook started', { version: app.getVersion(), entryUrl: origin.entryUrl });
    })
    .catch((error: unknown) => {
      log.error('start-up failed', { error });
      app.exit(1);
    });
}

main();
