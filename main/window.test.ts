import { describe, expect, it, vi } from 'vitest';
import { createAppOrigin } from './app-origin';
import { createMainWindow, hideOnClose, revealWindow, secureWebPreferences } from './window';
import type { MainWindowConstructorOptions, NavigationEventLike } from './window';

type PermissionRequestHandler = (
  contents: unknown,
  permission: string,
  callback: (granted: boolean) => void,
  details: { requestingUrl: string },
) => void;
type PermissionCheckHandler = (
  contents: unknown,
  permission: string,
  requestingOrigin: string,
  details: { requestingUrl?: string },
) => boolean;

class FakeSession {
  requestHandler: PermissionRequestHandler | undefined;
  checkHandler: PermissionCheckHandler | undefined;
  setPermissionRequestHandler(handler: PermissionRequestHandler) {
    this.requestHandler = handler;
  }
  setPermissionCheckHandler(handler: PermissionCheckHandler) {
    this.checkHandler = handler;
  }
  request(permission: string, requestingUrl: string): boolean {
    let granted: boolean | undefined;
    this.requestHandler?.({}, permission, (value) => (granted = value), { requestingUrl });
    if (granted === undefined) throw new Error('the permission request was not answered');
    return granted;
  }
}

class FakeWebContents {
  readonly session = new FakeSession();
  readonly listeners = new Map<string, ((event: NavigationEventLike) => void)[]>();
  openHandler: ((details: { url: string }) => { action: 'deny' }) | undefined;
  on(event: string, listener: (event: NavigationEventLike) => void) {
    this.listeners.set(event, [...(this.listeners.get(event) ?? []), listener]);
    return this;
  }
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }) {
    this.openHandler = handler;
  }
  /** Emits a navigation event the way Chromium would; returns whether it went ahead. */
  navigate(event: 'will-navigate' | 'will-redirect', url: string): boolean {
    let prevented = false;
    for (const listener of this.listeners.get(event) ?? []) listener({ url, preventDefault: () => (prevented = true) });
    return !prevented;
  }
}

class FakeBrowserWindow {
  static created: FakeBrowserWindow[] = [];
  readonly webContents = new FakeWebContents();
  readonly loaded: string[] = [];
  readonly once = vi.fn((event: string, listener: () => void) => {
    this.onceListeners.set(event, listener);
    return this;
  });
  readonly onceListeners = new Map<string, () => void>();
  readonly closeListeners: ((event: { preventDefault(): void }) => void)[] = [];
  visible = false;
  minimized = false;
  focused = false;
  constructor(readonly options: MainWindowConstructorOptions) {
    FakeBrowserWindow.created.push(this);
  }
  async loadURL(url: string) {
    this.loaded.push(url);
  }
  on(_event: 'close', listener: (event: { preventDefault(): void }) => void) {
    this.closeListeners.push(listener);
    return this;
  }
  show() {
    this.visible = true;
  }
  hide() {
    this.visible = false;
  }
  focus() {
    this.focused = true;
  }
  restore() {
    this.minimized = false;
  }
  isMinimized() {
    return this.minimized;
  }
  /** The user closes the window; returns whether the close went ahead. */
  close(): boolean {
    let prevented = false;
    for (const listener of this.closeListeners) listener({ preventDefault: () => (prevented = true) });
    if (!prevented) this.visible = false;
    return !prevented;
  }
}

const RENDERER_DIR = '/app/dist/renderer';
const APP_PAGE = 'file:///app/dist/renderer/index.html';

function openWindow() {
  const openExternal = vi.fn(async (_url: string) => {});
  const origin = createAppOrigin({ kind: 'file', rendererDir: RENDERER_DIR });
  const window = createMainWindow({ BrowserWindow: FakeBrowserWindow, openExternal }, { origin, preloadPath: '/app/dist/preload/preload.cjs' });
  return { window, openExternal };
}

describe('secureWebPreferences', () => {
  it('isolates the renderer: context isolation, sandbox, no Node, web security on', () => {
    const preferences = secureWebPreferences('/app/preload.cjs');
    expect(preferences).toMatchObject({
      preload: '/app/preload.cjs',
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    });
  });
});

describe('createMainWindow', () => {
  it('creates one hidden Offhook window with the secure preferences and loads the app', () => {
    FakeBrowserWindow.created = [];
    const { window } = openWindow();
    expect(FakeBrowserWindow.created).toHaveLength(1);
    expect(window.options).toMatchObject({ title: 'Offhook', show: false });
    expect(window.options.minWidth).toBeLessThanOrEqual(window.options.width);
    expect(window.options.minHeight).toBeLessThanOrEqual(window.options.height);
    expect(window.options.webPreferences).toEqual(secureWebPreferences('/app/dist/preload/preload.cjs'));
    expect(window.loaded).toEqual([APP_PAGE]);
  });

  it('shows the window once it is ready to show', () => {
    const { window } = openWindow();
    expect(window.visible).toBe(false);
    window.onceListeners.get('ready-to-show')?.();
    expect(window.visible).toBe(true);
  });

  it('loads a dev server URL when given one', () => {
    const origin = createAppOrigin({ kind: 'dev-server', url: 'http://localhost:5173/' });
    const window = createMainWindow({ BrowserWindow: FakeBrowserWindow, openExternal: async () => {} }, { origin, preloadPath: '/p.cjs' });
    expect(window.loaded).toEqual(['http://localhost:5173/']);
  });

  it('lets the app move between its own pages', () => {
    const { window, openExternal } = openWindow();
    expect(window.webContents.navigate('will-navigate', `${APP_PAGE}#/voicemail`)).toBe(true);
    expect(openExternal).not.toHaveBeenCalled();
  });

  it('blocks navigation away from the app and sends web links to the browser', () => {
    const { window, openExternal } = openWindow();
    expect(window.webContents.navigate('will-navigate', 'https://example.com/help')).toBe(false);
    expect(openExternal).toHaveBeenCalledWith('https://example.com/help');
  });

  it('blocks navigation to other local files and schemes without opening them anywhere', () => {
    const { window, openExternal } = openWindow();
    expect(window.webContents.navigate('will-navigate', 'file:///etc/passwd')).toBe(false);
    expect(window.webContents.navigate('will-navigate', 'javascript:alert(1)')).toBe(false);
    expect(window.webContents.navigate('will-redirect', 'https://example.com/')).toBe(false);
    expect(openExternal).not.toHaveBeenCalled();
  });

  it('never opens a new window; web links go to the browser, anything else is dropped', () => {
    const { window, openExternal } = openWindow();
    expect(window.webContents.openHandler?.({ url: 'https://example.com/' })).toEqual({ action: 'deny' });
    expect(window.webContents.openHandler?.({ url: 'file:///etc/passwd' })).toEqual({ action: 'deny' });
    expect(window.webContents.openHandler?.({ url: APP_PAGE })).toEqual({ action: 'deny' });
    expect(openExternal.mock.calls).toEqual([['https://example.com/']]);
  });

  it('grants the microphone and notifications to the app, and nothing else to anyone', () => {
    const { window } = openWindow();
    const session = window.webContents.session;
    expect(session.request('media', APP_PAGE)).toBe(true);
    expect(session.request('notifications', APP_PAGE)).toBe(true);
    expect(session.request('geolocation', APP_PAGE)).toBe(false);
    expect(session.request('clipboard-read', APP_PAGE)).toBe(false);
    expect(session.request('media', 'https://example.com/')).toBe(false);
    expect(session.checkHandler?.({}, 'media', 'file:///', { requestingUrl: APP_PAGE })).toBe(true);
    expect(session.checkHandler?.({}, 'hid', 'file:///', { requestingUrl: APP_PAGE })).toBe(false);
    expect(session.checkHandler?.({}, 'media', 'file:///', {})).toBe(false);
  });
});

describe('hideOnClose', () => {
  it('hides the window instead of closing it until the app is quitting', () => {
    const { window } = openWindow();
    let quitting = false;
    hideOnClose(window, () => quitting);
    window.show();
    expect(window.close()).toBe(false);
    expect(window.visible).toBe(false);
    quitting = true;
    expect(window.close()).toBe(true);
  });
});

describe('revealWindow', () => {
  it('restores a minimized window, shows it and focuses it', () => {
    const { window } = openWindow();
    window.minimized = true;
    revealWindow(window);
    expect(window).toMatchObject({ minimized: false, visible: true, focused: true });
  });
});
