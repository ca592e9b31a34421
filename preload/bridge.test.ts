import { describe, expect, it, vi } from 'vitest';
import { BRIDGE_CHANNELS, BRIDGE_EVENT_CHANNELS } from '../shared/bridge';
import type { OffhookBridge } from '../shared/bridge';
import { createPreloadBridge } from './bridge';

// Listed here by hand, checked against the interface by the compiler, so the test does not trust
// BRIDGE_CHANNELS to tell it which functions the contract has.
const CONTRACT_FUNCTIONS = {
  getAppInfo: true,
  getSettings: true,
  saveSettings: true,
  setRegistrationState: true,
  notify: true,
  setBadgeCount: true,
  setRingingCall: true,
  getCachedCallHistory: true,
  cacheCallHistory: true,
  setCallShortcuts: true,
  getKeptSession: true,
  keepSession: true,
  forgetSession: true,
  onDidRequestDial: true,
  onDidRequestAnswer: true,
  onDidRequestDecline: true,
  onDidPressCallShortcut: true,
  onDidResume: true,
} satisfies Record<keyof OffhookBridge, true>;

function setUp() {
  const invoke = vi.fn(async (_channel: string, ..._args: unknown[]): Promise<unknown> => 'answer');
  const listeners = new Map<string, (payload: unknown) => void>();
  const subscribe = vi.fn((channel: string, listener: (payload: unknown) => void) => {
    listeners.set(channel, listener);
    return () => void listeners.delete(channel);
  });
  return { invoke, subscribe, listeners, bridge: createPreloadBridge(invoke, subscribe) };
}

describe('createPreloadBridge', () => {
  it('has exactly the functions of the contract', () => {
    const { bridge } = setUp();
    expect(Object.keys(bridge).sort()).toEqual(Object.keys(CONTRACT_FUNCTIONS).sort());
    for (const value of Object.values(bridge)) expect(typeof value).toBe('function');
  });

  it('cannot be changed by the page', () => {
    const { bridge } = setUp();
    expect(Object.isFrozen(bridge)).toBe(true);
  });

  it.each([
    ['getAppInfo', []],
    ['getSettings', []],
    ['saveSettings', [{ serverUrl: 'http://pbx.example' }]],
    ['setRegistrationState', ['registered']],
    ['notify', [{ title: 'Missed call', body: '201' }]],
    ['setBadgeCount', [3]],
    ['setRingingCall', [{ id: 'c1', caller: 'Bob Brown' }]],
    ['getCachedCallHistory', [{ account: 'http://pbx.example|101', limit: 50 }]],
    ['cacheCallHistory', [{ account: 'http://pbx.example|101', entries: [] }]],
    ['setCallShortcuts', [['answer', 'decline']]],
    ['getKeptSession', []],
    ['keepSession', [{ serverUrl: 'http://pbx.example', token: 't0k3n' }]],
    ['forgetSession', []],
  ] as const)('%s invokes its own channel with its arguments', async (name, args) => {
    const { bridge, invoke } = setUp();
    const call = bridge[name] as (...values: unknown[]) => Promise<unknown>;
    await expect(call(...args)).resolves.toBe('answer');
    expect(invoke.mock.calls).toEqual([[BRIDGE_CHANNELS[name], ...args]]);
  });

  it('passes main\'s dial requests to the listener and removes it when asked', () => {
    const { bridge, listeners } = setUp();
    const seen: unknown[] = [];
    const off = bridge.onDidRequestDial((link) => seen.push(link));
    listeners.get(BRIDGE_EVENT_CHANNELS.onDidRequestDial)?.({ target: '+15551234567', scheme: 'tel' });
    expect(seen).toEqual([{ target: '+15551234567', scheme: 'tel' }]);
    off();
    expect(listeners.has(BRIDGE_EVENT_CHANNELS.onDidRequestDial)).toBe(false);
  });

  it('tells the listener the computer resumed, passing on nothing main sent with it', () => {
    const { bridge, listeners } = setUp();
    const seen: unknown[][] = [];
    const off = bridge.onDidResume((...args: unknown[]) => seen.push(args));
    listeners.get(BRIDGE_EVENT_CHANNELS.onDidResume)?.({ smuggled: true });
    expect(seen).toEqual([[]]);
    off();
    expect(listeners.has(BRIDGE_EVENT_CHANNELS.onDidResume)).toBe(false);
  });

  it("passes main's call shortcuts on, and nothing that is not one", () => {
    const { bridge, listeners } = setUp();
    const seen: unknown[] = [];
    const off = bridge.onDidPressCallShortcut((action) => seen.push(action));
    const send = listeners.get(BRIDGE_EVENT_CHANNELS.onDidPressCallShortcut);
    send?.('answer');
    send?.('format-disk');
    send?.({ action: 'answer' });
    send?.('hang-up');
    expect(seen).toEqual(['answer', 'hang-up']);
    off();
    expect(listeners.has(BRIDGE_EVENT_CHANNELS.onDidPressCallShortcut)).toBe(false);
  });

  it('forwards only the arguments of the contract', async () => {
    const { bridge, invoke } = setUp();
    const notify = bridge.notify as (...values: unknown[]) => Promise<void>;
    await notify({ title: 'a', body: 'b' }, 'smuggled');
    expect(invoke.mock.calls).toEqual([[BRIDGE_CHANNELS.notify, { title: 'a', body: 'b' }]]);
  });
});
