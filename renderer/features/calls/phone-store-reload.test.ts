import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { usePhoneStore } from './phone-store';
import { FakePhoneEngine } from '../../testing/fake-engine';
import { FakeMediaDevices, FakeRinger } from '../../testing/fake-media';
import { createWebBridge } from '../../bridge/web-bridge';
import { KEPT_CALLS_KEY } from '../../phone/kept-calls';
import { useSettingsStore } from '../settings';
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

  /** A call from `name` answered on this page, `active` unless `held`. */
  function answered(engine: FakePhoneEngine, name: string, number: string, held = false): string {
    const id = engine.ring({ name, number });
    engine.move(id, 'connecting');
    engine.move(id, 'active');
    if (held) {
      engine.move(id, 'holding');
      engine.move(id, 'held');
    }
    return id;
  }

  it('brings a held call back held: call waiting, Bob held while Alice talks to Carol, then F5', () => {
    const before = page();
    before.engine.register('registered');
    const bob = answered(before.engine, 'Bob', '102', true);
    const carol = answered(before.engine, 'Carol', '103');
    const bobCallId = before.phone.calls[bob]?.sipCallId;
    const carolCallId = before.phone.calls[carol]?.sipCallId;
    before.phone.leave();

    vi.setSystemTime(102_000);
    const after = page();
    after.engine.register('registered');
    expect(after.engine.requests).toEqual([`rejoin ${bobCallId} held`, `rejoin ${carolCallId}`]);
    after.phone.stop();
  });

  it('rejoins at most one call on the line: any other comes back held', () => {
    const before = page();
    before.engine.register('registered');
    const first = answered(before.engine, 'Bob', '102');
    const second = answered(before.engine, 'Carol', '103');
    const firstCallId = before.phone.calls[first]?.sipCallId;
    const secondCallId = before.phone.calls[second]?.sipCallId;
    before.phone.leave();

    const after = page();
    after.engine.register('registered');
    expect(after.engine.requests).toEqual([`rejoin ${firstCallId}`, `rejoin ${secondCallId} held`]);
    after.phone.stop();
  });

  it('keeps the call over a second reload before the phone registered, under its first dialog and time', () => {
    const before = page();
    before.engine.register('registered');
    const id = answered(before.engine, 'Bob', '102');
    const sipCallId = before.phone.calls[id]?.sipCallId;
    before.phone.leave();

    vi.setSystemTime(104_000);
    const second = page();
    second.engine.register('registering');
    second.phone.leave();
    expect(second.engine.requests).toEqual([]);

    vi.setSystemTime(112_000);
    const third = page();
    third.engine.register('registered');
    expect(third.engine.requests).toEqual([`rejoin ${sipCallId}`]);
    third.phone.stop();

  });

  it('counts the grace from the first reload, not the second', () => {
    const before = page();
    before.engine.register('registered');
    answered(before.engine, 'Bob', '102');
    before.phone.leave();
    vi.setSystemTime(110_000);
    page().phone.leave();
    // 16 s after the first reload, 6 s after the second: the PBX has ended the call.
    vi.setSystemTime(116_000);
    const late = page();
    late.engine.register('registered');
    expect(late.engine.requests).toEqual([]);
    late.phone.stop();
  });

  it('keeps the call over a reload while its rejoin INVITE is unanswered, under its first dialog and hold', () => {
    const before = page();
    before.engine.register('registered');
    const id = answered(before.engine, 'Bob', '102', true);
    const sipCallId = before.phone.calls[id]?.sipCallId;
    before.phone.leave();

    const second = page();
    second.engine.register('registered');
    expect(second.engine.requests).toEqual([`rejoin ${sipCallId} held`]);
    second.phone.leave();
    expect(second.engine.requests).not.toContain('stop');

    const third = page();
    third.engine.register('registered');
    expect(third.engine.requests).toEqual([`rejoin ${sipCallId} held`]);
    // Once answered, the rejoined call is kept as the engine knows it, under its new dialog, and only so.
    const [rejoined] = third.phone.callList;
    third.engine.move(rejoined!.id, 'connecting');
    third.engine.move(rejoined!.id, 'active');
    third.phone.leave();
    const fourth = page();
    fourth.engine.register('registered');
    expect(fourth.engine.requests).toEqual([`rejoin ${rejoined!.sipCallId}`]);
    fourth.phone.stop();
  });

  it("does not rejoin another account's calls: another user signing in on the tab within the grace sees nothing", () => {
    const before = page();
    before.engine.register('registered');
    answered(before.engine, 'Bob', '102');
    before.phone.leave();

    setActivePinia(createPinia());
    const phone = usePhoneStore();
    const engine = new FakePhoneEngine();
    engine.account = { ...engine.account, uri: 'sip:103@pbx.test' };
    phone.start(engine, { ringer: new FakeRinger(), mediaDevices: new FakeMediaDevices(), storage });
    engine.register('registered');
    expect(engine.requests).toEqual([]);
    expect(phone.callList).toEqual([]);
    expect(items.has(KEPT_CALLS_KEY)).toBe(false);
    phone.stop();
  });

  it('forgets kept calls on sign-out', () => {
    const before = page();
    before.engine.register('registered');
    answered(before.engine, 'Bob', '102');
    before.phone.leave();
    expect(items.has(KEPT_CALLS_KEY)).toBe(true);
    // The page is kept (back-forward cache) and its user signs out.
    before.phone.stop();
    const after = page();
    after.engine.register('registered');
    expect(after.engine.requests).toEqual([]);
    after.phone.stop();
  });

  it('hangs up in the desktop app, which cannot rejoin after a quit', () => {
    const { phone, engine } = page();
    useSettingsStore().appInfo = { name: 'Offhook', version: '0.0.0', shell: 'desktop', platform: 'test' };
    engine.register('registered');
    answered(engine, 'Bob', '102');
    phone.leave();
    expect(engine.requests).toContain('stop');
    expect(items.has(KEPT_CALLS_KEY)).toBe(false);
  });
});
