/**
 * The one app window: secure web preferences, navigation locked to the app's own pages, external links
 * handed to the OS browser, and only the permissions a softphone needs.
 */
import type { AppOrigin } from './app-origin';
import { createLogger } from './log';

const log = createLogger('window');

/** Renderer settings for every window, test builds included: no Node, an isolated world, a sandboxed process. */
export function secureWebPreferences(preloadPath: string) {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    navigateOnDragDrop: false,
    safeDialogs: true,
  } as const;
}

export type SecureWebPreferences = ReturnType<typeof secureWebPreferences>;

export interface MainWindowConstructorOptions {
  title: string;
  width: number;
  height: number;
  minWidth: number;
  minHeight: number;
  show: boolean;
  autoHideMenuBar: boolean;
  icon?: string;
  webPreferences: SecureWebPreferences;
}

export interface NavigationEventLike {
  readonly url: string;
  preventDefault(): void;
}

export interface PermissionSessionLike {
  setPermissionRequestHandler(
    handler: (
      webContents: unknown,
      permission: string,
      callback: (granted: boolean) => void,
      details: { requestingUrl: string },
    ) => void,
  ): void;
  setPermissionCheckHandler(
    handler: (
      webContents: unknown,
      permission: string,
      requestingOrigin: string,
      details: { requestingUrl?: string },
    ) => boolean,
  ): void;
}

export interface WebContentsLike {
  readonly session: PermissionSessionLike;
  on(event: 'will-navigate', listener: (event: NavigationEventLike) => void): unknown;
  on(event: 'will-redirect', listener: (event: NavigationEventLike) => void): unknown;
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
}

export interface BrowserWindowLike {
  readonly webContents: WebContentsLike;
  loadURL(url: string): Promise<void>;
  once(event: 'ready-to-show', listener: () => void): unknown;
  on(event: 'close', listener: (event: { preventDefault(): void }) => void): unknown;
  show(): void;
  hide(): void;
  focus(): void;
  restore(): void;
  isMinimized(): boolean;
}

export interface MainWindowDeps<W extends BrowserWindowLike> {
  BrowserWindow: new (options: MainWindowConstructorOptions) => W;
  /** Opens a web link in the user's browser (`shell.openExternal`). */
  openExternal(url: string): Promise<void>;
}

export interface MainWindowOptions {
  origin: AppOrigin;
  preloadPath: string;
  iconPath?: string;
}

export const MAIN_WINDOW_SIZE = { width: 1180, height: 780, minWidth: 760, minHeight: 520 } as const;

export function createMainWindow<W extends BrowserWindowLike>(deps: MainWindowDeps<W>, options: MainWindowOptions): W {
  log.debug('creating the main window', { entryUrl: options.origin.entryUrl });
  const window = new deps.BrowserWindow({
    title: 'Offhook',
    ...MAIN_WINDOW_SIZE,
    // Shown on ready-to-show so the user never sees an empty frame while the renderer boots.
    show: false,
    autoHideMenuBar: true,
    ...(options.iconPath ? { icon: options.iconPath } : {}),
    webPreferences: secureWebPreferences(options.preloadPath),
  });
  window.once('ready-to-show', () => window.show());
  lockNavigation(window.webContents, options.origin, deps.openExternal);
  installPermissionPolicy(window.webContents.session, options.origin);
  window.loadURL(options.origin.entryUrl).catch((error: unknown) => {
    log.error('the renderer failed to load', { url: options.origin.entryUrl, error });
  });
  return window;
}

/**
 * Keeps the renderer on the app's own pages. A page that leaves the app would run with the bridge in reach,
 * so every other navigation is stopped, and web links go to the user's browser instead.
 */
export function lockNavigation(
  contents: WebContentsLike,
  origin: AppOrigin,
  openExternal: (url: string) => Promise<void>,
): void {
  const openInBrowser = (url: string) => {
    if (!isWebUrl(url)) return;
    openExternal(url).catch((error: unknown) => log.warn('could not open a link in the browser', { url, error }));
  };
  contents.on('will-navigate', (event) => {
    if (origin.contains(event.url)) return;
    event.preventDefault();
    log.info('navigation away from the app blocked', { url: event.url });
    openInBrowser(event.url);
  });
  contents.on('will-redirect', (event) => {
    if (origin.contains(event.url)) return;
    event.preventDefault();
    log.warn('redirect away from the app blocked', { url: event.url });
  });
  contents.setWindowOpenHandler(({ url }) => {
    openInBrowser(url);
    return { action: 'deny' };
  });
}

/** Microphone (and camera, for later video calls) and notifications; everything else is refused. */
const GRANTED_PERMISSIONS: ReadonlySet<string> = new Set(['media', 'notifications']);

export function installPermissionPolicy(session: PermissionSessionLike, origin: AppOrigin): void {
  const allowed = (permission: string, url: string | undefined) =>
    GRANTED_PERMISSIONS.has(permission) && url !== undefined && origin.contains(url);
  session.setPermissionRequestHandler((_contents, permission, callback, details) => {
    const granted = allowed(permission, details.requestingUrl);
    if (!granted) log.info('permission request denied', { permission, url: details.requestingUrl });
    callback(granted);
  });
  session.setPermissionCheckHandler((_contents, permission, _origin, details) => allowed(permission, details.requestingUrl));
}

/**
 * Closing the window hides it, so the phone stays registered and can ring; `isQuitting` says when the user
 * really asked to quit (tray Quit, app menu, OS shutdown).
 */
export function hideOnClose(window: BrowserWindowLike, isQuitting: () => boolean): void {
  window.on('close', (event) => {
    if (isQuitting()) return;
    event.preventDefault();
    window.hide();
  });
}

/** Brings the window to the front: from the tray, from a second launch, from a notification. */
export function revealWindow(window: BrowserWindowLike): void {
  if (window.isMinimized()) window.restore();
  window.show();
  window.focus();
}

function isWebUrl(url: string): boolean {
  try {
    const { protocol } = new URL(url);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
