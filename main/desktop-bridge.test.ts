import { describe, expect, it, vi } from 'vitest';
import { createDesktopBridge } from './desktop-bridge';

function setUp() {
  const deps = {
    appVersion: '0.1.0',
    platform: 'win32',
    settings: { get: vi.fn(() => ({ lastExtension: '201' })), save: vi.fn((patch: object) => ({ ...patch })) },
    tray: { setRegistrationState: vi.fn(), setRingingCall: vi.fn() },
    notifier: { show: vi.fn(() => true) },
    historyCache: undefined,
    keptSession: { get: vi.fn(() => null), keep: vi.fn(), forget: vi.fn() },
    setBadgeCount: vi.fn(),
    setOpenAtLogin: vi.fn(),
  };
  return { deps, bridge: createDesktopBridge(deps) };
}

describe('createDesktopBridge', () => {
  it('describes the desktop app', async () => {
    await expect(setUp().bridge.getAppInfo()).resolves.toEqual({ name: 'Offhook', version: '0.1.0', shell: 'desktop', platform: 'win32' });
  });

  it('reads and saves settings through the settings store', async () => {
    const { bridge, deps } = setUp();
    await expect(bridge.getSettings()).resolves.toEqual({ lastExtension: '201' });
    await expect(bridge.saveSettings({ serverUrl: 'http://pbx.example' })).resolves.toEqual({ serverUrl: 'http://pbx.example' });
    expect(deps.settings.save).toHaveBeenCalledWith({ serverUrl: 'http://pbx.example' });
  });

  it('applies Start at login to the OS when it is saved, and only then', async () => {
    const { bridge, deps } = setUp();
    await bridge.saveSettings({ startAtLogin: true });
    await bridge.saveSettings({ doNotDisturb: true });
    expect(deps.setOpenAtLogin.mock.calls).toEqual([[true]]);
  });

  it('shows the registration state in the tray and notifications through the notifier', async () => {
    const { bridge, deps } = setUp();
    await bridge.setRegistrationState('registering');
    await bridge.notify({ title: 'Missed call', body: '201' });
    expect(deps.tray.setRegistrationState).toHaveBeenCalledWith('registering');
    expect(deps.notifier.show).toHaveBeenCalledWith({ title: 'Missed call', body: '201' });
  });

  it('holds OS-wide exactly the call shortcuts the page says apply', async () => {
    const set = vi.fn();
    const { deps } = setUp();
    await createDesktopBridge({ ...deps, callShortcuts: { set } }).setCallShortcuts(['answer', 'decline']);
    expect(set.mock.calls).toEqual([[['answer', 'decline']]]);
    await expect(createDesktopBridge(deps).setCallShortcuts(['mute'])).resolves.toBeUndefined();
  });

  it('accepts the registration state without a tray', async () => {
    const { deps } = setUp();
    await expect(createDesktopBridge({ ...deps, tray: undefined }).setRegistrationState('failed')).resolves.toBeUndefined();
  });

  it('keeps, gives back and forgets the session through the kept-session store', async () => {
    const { bridge, deps } = setUp();
    const kept = { serverUrl: 'https://pbx.example', token: 'abc' };
    await bridge.keepSession(kept);
    deps.keptSession.get.mockReturnValueOnce(kept as never);
    await expect(bridge.getKeptSession()).resolves.toEqual(kept);
    await bridge.forgetSession();
    expect(deps.keptSession.keep).toHaveBeenCalledWith(kept);
    expect(deps.keptSession.forget).toHaveBeenCalledOnce();
  });
});
