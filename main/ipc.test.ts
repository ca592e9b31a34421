import { describe, expect, it, vi } from 'vitest';
import { BRIDGE_CHANNELS } from '../shared/bridge';
import type { BridgeCalls } from '../shared/bridge';
import { registerBridgeHandlers } from './ipc';
import type { IpcInvokeEventLike, IpcMainLike } from './ipc';

type Handler = (event: IpcInvokeEventLike, ...args: unknown[]) => unknown;

class FakeIpcMain implements IpcMainLike {
  readonly handlers = new Map<string, Handler>();
  handle(channel: string, listener: Handler) {
    if (this.handlers.has(channel)) throw new Error(`second handler for ${channel}`);
    this.handlers.set(channel, listener);
  }
  /** What `ipcRenderer.invoke` from a frame at `senderUrl` would get back. */
  async invoke(senderUrl: string | null, channel: string, ...args: unknown[]): Promise<unknown> {
    const handler = this.handlers.get(channel);
    if (!handler) throw new Error(`No handler registered for '${channel}'`);
    return handler({ senderFrame: senderUrl === null ? null : { url: senderUrl } }, ...args);
  }
}

const APP_PAGE = 'file:///app/dist/renderer/index.html';

function setUp() {
  const impl = {
    getAppInfo: vi.fn(async () => ({ name: 'Offhook', version: '0.1.0', shell: 'desktop' as const, platform: 'linux' })),
    getSettings: vi.fn(async () => ({ serverUrl: 'http://pbx.example' })),
    saveSettings: vi.fn(async (patch: object) => ({ ...patch })),
    setRegistrationState: vi.fn(async () => {}),
    notify: vi.fn(async () => {}),
    setBadgeCount: vi.fn(async () => {}),
    setRingingCall: vi.fn(async () => {}),
    getCachedCallHistory: vi.fn(async () => []),
    cacheCallHistory: vi.fn(async () => {}),
    setCallShortcuts: vi.fn(async () => {}),
    getKeptSession: vi.fn(async () => null),
    keepSession: vi.fn(async () => {}),
    forgetSession: vi.fn(async () => {}),
  } satisfies BridgeCalls;
  const ipcMain = new FakeIpcMain();
  registerBridgeHandlers(ipcMain, impl, (url) => url.startsWith('file:///app/dist/renderer/'));
  return { ipcMain, impl };
}

describe('registerBridgeHandlers', () => {
  it('registers every bridge channel and nothing else', () => {
    const { ipcMain } = setUp();
    expect([...ipcMain.handlers.keys()].sort()).toEqual(Object.values(BRIDGE_CHANNELS).sort());
  });

  it('passes valid calls to the implementation and returns its answer', async () => {
    const { ipcMain, impl } = setUp();
    await expect(ipcMain.invoke(APP_PAGE, BRIDGE_CHANNELS.getAppInfo)).resolves.toMatchObject({ name: 'Offhook', shell: 'desktop' });
    await expect(ipcMain.invoke(APP_PAGE, BRIDGE_CHANNELS.getSettings)).resolves.toEqual({ serverUrl: 'http://pbx.example' });
    await expect(ipcMain.invoke(APP_PAGE, BRIDGE_CHANNELS.saveSettings, { lastExtension: '201' })).resolves.toEqual({ lastExtension: '201' });
    await ipcMain.invoke(APP_PAGE, BRIDGE_CHANNELS.setRegistrationState, 'registered');
    await ipcMain.invoke(APP_PAGE, BRIDGE_CHANNELS.notify, { title: 'Missed call', body: 'From 201' });
    expect(impl.setRegistrationState).toHaveBeenCalledWith('registered');
    expect(impl.notify).toHaveBeenCalledWith({ title: 'Missed call', body: 'From 201' });
  });

  it('hands the implementation the parsed arguments, without fields outside the contract', async () => {
    const { ipcMain, impl } = setUp();
    await ipcMain.invoke(APP_PAGE, BRIDGE_CHANNELS.saveSettings, { serverUrl: 'http://pbx.example', admin: true });
    expect(impl.saveSettings).toHaveBeenCalledWith({ serverUrl: 'http://pbx.example' });
  });

  it.each([
    ['saveSettings', [{ serverUrl: 42 }], /^saveSettings rejected: serverUrl: .*expected string/],
    ['notify', [{ title: '', body: 'x' }], /^notify rejected: title: /],
    ['notify', [{ title: 'Voicemail' }], /^notify rejected: body: /],
    ['setRegistrationState', ['online'], /^setRegistrationState rejected: argument 1: /],
    ['notify', [], /^notify rejected: arguments: expected 1 argument$/],
    ['getSettings', ['extra'], /^getSettings rejected: arguments: expected 0 arguments$/],
    ['keepSession', [{ serverUrl: 'http://pbx.example', token: '' }], /^keepSession rejected: token: /],
    ['keepSession', [{ serverUrl: 'http://pbx.example', token: 'x'.repeat(513) }], /^keepSession rejected: token: /],
    ['keepSession', [{ token: 'abc' }], /^keepSession rejected: serverUrl: /],
    ['setCallShortcuts', [['answer', 'format-disk']], /^setCallShortcuts rejected: /],
    ['setCallShortcuts', [['answer', 'answer']], /^setCallShortcuts rejected: /],
    ['setCallShortcuts', ['answer'], /^setCallShortcuts rejected: argument 1: /],
  ] as const)('rejects %s with %j, naming the field', async (name, args, message) => {
    const { ipcMain, impl } = setUp();
    await expect(ipcMain.invoke(APP_PAGE, BRIDGE_CHANNELS[name], ...args)).rejects.toThrow(message);
    expect(impl[name]).not.toHaveBeenCalled();
  });

  it('rejects calls from pages that are not the app, and from frames that are gone', async () => {
    const { ipcMain, impl } = setUp();
    await expect(ipcMain.invoke('https://example.com/', BRIDGE_CHANNELS.getSettings)).rejects.toThrow(/not an Offhook page/);
    await expect(ipcMain.invoke(null, BRIDGE_CHANNELS.getSettings)).rejects.toThrow(/not an Offhook page/);
    expect(impl.getSettings).not.toHaveBeenCalled();
  });

  it('passes the implementation’s own failure back to the caller', async () => {
    const { ipcMain, impl } = setUp();
    impl.getSettings.mockRejectedValueOnce(new Error('disk full'));
    await expect(ipcMain.invoke(APP_PAGE, BRIDGE_CHANNELS.getSettings)).rejects.toThrow('disk full');
  });
});
