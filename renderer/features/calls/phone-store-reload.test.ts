import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { usePhoneStore } from './phone-store';
import { FakePhoneEngine } from '../../testing/fake-engine';
import { FakeMediaDevices, FakeRinger } from '../../testing/fake-media';
import { createWebBridge } from '../../bridge/web-bridge';
import { KEPT_CALLS_KEY } from '../../phone/kept-calls';
import type { KeptCallStorage } from '../../phone/kept-calls';

describe('phone store: a call survives a reload of the page', () => {
  let items: Map<string, string>;
  let storage: KeptCallStorage;

  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(100_000);
    const settings = new Map<string, string>();
    const bridge = createWebBridge({
      storage: { getItem: (key) => settings.get(key) ?? null, setItem: (key, value) => void settings.set(key, value) },
      setTitle: () => {},
      showNotification: () => {},
      platform: 'test',
    });
    vi.stubGlobal('window', { offhook: bridge });
    items = new Map();
    storage = { getItem: (key) => items.get(key) ?? null, setItem: (key, value) => void items.set(key, value), removeItem: (key) => void items.delete(key) };
  });

  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  /** A page: a fresh store on a fresh engine, as after a load. */
  function page() {
    setActivePinia(createPinia());
    const phone = usePhoneStore();
    const engine = new FakePhoneEngine();
    phone.start(engine, { ringer: new FakeRinger(), mediaDevices: new FakeMediaDevices(), storage });
    return { phone, engine };
  }

  it('keeps an answered call instead of hanging up, and the next page rejoins it once registered, showing the same party', () => {
    const before = page();
    before.engine.register('registered');
    const id = before.engine.ring({ name: 'Bob', number: '102' });
    before.engine.move(id, 'connecting');
    before.engine.move(id, 'active');
    const sipCallId = before.phone.calls[id]?.sipCallId;

    before.phone.leave();
    expect(before.engine.requests).not.toContain('stop');
    expect(before.engine.requests).not.toContain(`hang up ${id}`);
    expect(items.has(KEPT_CALLS_KEY)).toBe(true);

    vi.setSystemTime(103_000);
    const after = page();
    // Nothing is placed before the phone has registered again.
    after.engine.register('registering');
    expect(after.engine.requests).toEqual([]);
    after.engine.register('registered');
    expect(after.engine.requests).toEqual([`rejoin ${sipCallId}`]);
    const [rejoined] = after.phone.callList;
    expect(rejoined?.remote).toEqual({ name: 'Bob', number: '102' });
    expect(rejoined?.direction).toBe('incoming');
    // Rejoined once only: registering again later places nothing more.
    after.engine.register('registering');
    after.engine.register('registered');
    expect(after.engine.requests).toHaveLength(1);
    expect(items.has(KEPT_CALLS_KEY)).toBe(false);
    after.phone.stop();
  });

  it('stops the phone as before (unregistering) when no call is in progress', () => {
    const { phone, engine } = page();
    engine.register('registered');
    phone.leave();
    expect(engine.requests).toContain('stop');
    expect(items.has(KEPT_CALLS_KEY)).toBe(false);
  });

  it('does not rejoin a call kept longer ago than the PBX waits', () => {
    const before = page();
    before.engine.register('registered');
    const id = before.engine.ring({ name: 'Bob', number: '102' });
    before.engine.move(id, 'connecting');
    before.engine.move(id, 'active');
    before.phone.leave();
    vi.setSystemTime(100_000 + 60_000);
    const after = page();
    after.engine.register('registered');
    expect(after.engine.requests).toEqual([]);
    after.phone.stop();
  });
});
