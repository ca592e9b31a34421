import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import { nextTick, ref } from 'vue';
import type { Ref } from 'vue';
import type { CallShortcutAction } from '../../../shared/call-shortcuts';
import { signedInPhone } from '../../testing/fake-pbx';
import { installCallShortcuts } from './use-call-shortcuts';
import type { KeyTarget } from './use-call-shortcuts';
import { shortcutHint } from './shortcut-hint';

/** The page's window as far as key presses go: the test presses keys, the installer listens. */
class FakeKeys implements KeyTarget {
  private listener: ((event: KeyboardEvent) => void) | undefined;
  addEventListener(_type: 'keydown', listener: (event: KeyboardEvent) => void, options: { capture: boolean }): void {
    expect(options.capture).toBe(true);
    this.listener = listener;
  }
  removeEventListener(): void {
    this.listener = undefined;
  }
  get listening(): boolean {
    return this.listener !== undefined;
  }
  /** Presses Control+Shift and `code` (or the modifiers given); says whether the page's own handling was stopped. */
  press(code: string, modifiers: Partial<Pick<KeyboardEvent, 'ctrlKey' | 'shiftKey' | 'altKey' | 'metaKey' | 'repeat'>> = {}) {
    const event = {
      code,
      ctrlKey: true,
      shiftKey: true,
      altKey: false,
      metaKey: false,
      repeat: false,
      ...modifiers,
      defaultPrevented: false,
      propagationStopped: false,
      preventDefault() {
        this.defaultPrevented = true;
      },
      stopPropagation() {
        this.propagationStopped = true;
      },
    };
    this.listener?.(event as unknown as KeyboardEvent);
    return { prevented: event.defaultPrevented, stopped: event.propagationStopped };
  }
}

/** The desktop bridge's side of the shortcuts: what the page says applies, and main's forwarded presses. */
function fakeBridge() {
  const held: CallShortcutAction[][] = [];
  let forward: ((action: CallShortcutAction) => void) | undefined;
  return {
    held,
    pressElsewhere: (action: CallShortcutAction) => forward?.(action),
    bridge: {
      setCallShortcuts: vi.fn(async (actions: CallShortcutAction[]) => void held.push(actions)),
      onDidPressCallShortcut: (listener: (action: CallShortcutAction) => void) => {
        forward = listener;
        return () => (forward = undefined);
      },
    },
  };
}

describe('call shortcuts in the app', () => {
  let app: ReturnType<typeof signedInPhone>;
  let keys: FakeKeys;
  let platform: ReturnType<typeof fakeBridge>;
  let stop: () => void;
  /** Settings: Use the call shortcuts in other programs. */
  let elsewhere: Ref<boolean>;

  beforeEach(() => {
    vi.useFakeTimers();
    app = signedInPhone();
    keys = new FakeKeys();
    platform = fakeBridge();
    elsewhere = ref(true);
    stop = installCallShortcuts({ keys, phone: app.phone, bridge: platform.bridge, osWide: () => elsewhere.value });
  });

  afterEach(() => {
    stop();
    app.stop();
    vi.useRealTimers();
  });

  it('answers the ringing call with Ctrl+Shift+Enter, and keeps the keys from the page', () => {
    const id = app.engine.ring({ name: 'Alice Adams', number: '101' });
    expect(keys.press('Enter')).toEqual({ prevented: true, stopped: true });
    expect(app.engine.requests).toContain(`answer ${id}`);
  });

  it('declines with Ctrl+Shift+X', () => {
    const id = app.engine.ring({ name: '', number: '101' });
    keys.press('KeyX');
    expect(app.engine.requests).toContain(`decline ${id}`);
  });

  it('mutes, holds and hangs up the call on the line', () => {
    const id = app.engine.ring({ name: '', number: '101' });
    app.engine.move(id, 'connecting');
    app.engine.move(id, 'active');
    keys.press('Space');
    keys.press('KeyH');
    keys.press('KeyE');
    expect(app.engine.requests.slice(-3)).toEqual([`mute ${id}`, `hold ${id}`, `hang up ${id}`]);
  });

  it('resumes a held call with the Hold keys', () => {
    const id = app.engine.ring({ name: '', number: '101' });
    for (const state of ['connecting', 'active', 'holding', 'held'] as const) app.engine.move(id, state);
    keys.press('KeyH');
    expect(app.engine.requests.at(-1)).toBe(`resume ${id}`);
  });

  it('leaves the keys to the page when they apply to no call, and ignores a held-down key', () => {
    expect(keys.press('Enter')).toEqual({ prevented: false, stopped: false });
    const id = app.engine.ring({ name: '', number: '101' });
    keys.press('Enter', { repeat: true });
    keys.press('Enter', { shiftKey: false });
    keys.press('Enter', { altKey: true });
    expect(app.engine.requests.filter((r) => r.startsWith('answer'))).toEqual([]);
    expect(id).toBeDefined();
  });

  it('tells the desktop app which shortcuts to hold OS-wide as calls come and go, and acts on its presses', async () => {
    expect(platform.held).toEqual([[]]);
    const id = app.engine.ring({ name: '', number: '101' });
    await nextTick();
    expect(platform.held.at(-1)).toEqual(['answer', 'decline']);
    platform.pressElsewhere('answer');
    expect(app.engine.requests).toContain(`answer ${id}`);
    app.engine.move(id, 'connecting');
    app.engine.move(id, 'active');
    await nextTick();
    expect(platform.held.at(-1)).toEqual(['mute', 'hold', 'hang-up']);
    app.engine.end(id, 'hung-up-remote');
    await nextTick();
    expect(platform.held.at(-1)).toEqual([]);
  });

  it('holds nothing OS-wide unless the person turned it on, while the keys still work in the app', async () => {
    elsewhere.value = false;
    await nextTick();
    const id = app.engine.ring({ name: '', number: '101' });
    await nextTick();
    expect(platform.held.at(-1)).toEqual([]);
    platform.pressElsewhere('answer');
    expect(app.engine.requests.filter((r) => r.startsWith('answer'))).toEqual([]);
    keys.press('Enter');
    expect(app.engine.requests).toContain(`answer ${id}`);
    app.engine.move(id, 'connecting');
    app.engine.move(id, 'active');
    elsewhere.value = true;
    await nextTick();
    expect(platform.held.at(-1)).toEqual(['mute', 'hold', 'hang-up']);
    // Turned off during the call: the OS-wide keys are let go at once.
    elsewhere.value = false;
    await nextTick();
    expect(platform.held.at(-1)).toEqual([]);
  });

  it('is off by default: with no choice saved, the desktop app holds no key of other programs', async () => {
    stop();
    setActivePinia(createPinia());
    const defaults = fakeBridge();
    stop = installCallShortcuts({ keys, phone: app.phone, bridge: defaults.bridge });
    app.engine.ring({ name: '', number: '101' });
    await nextTick();
    expect(defaults.held.at(-1)).toEqual([]);
  });

  it('stops listening when stopped', () => {
    stop();
    expect(keys.listening).toBe(false);
    app.engine.ring({ name: '', number: '101' });
    platform.pressElsewhere('answer');
    expect(app.engine.requests.filter((r) => r.startsWith('answer'))).toEqual([]);
  });
});

describe('shortcut hints on the call buttons', () => {
  it('add the keys to the tooltip and aria-keyshortcuts, leaving the accessible name to the label', () => {
    expect(shortcutHint('Answer', 'answer')).toEqual({ title: 'Answer (Ctrl+Shift+Enter)', 'aria-keyshortcuts': 'Control+Shift+Enter' });
    expect(shortcutHint('Unmute', 'mute')).toEqual({ title: 'Unmute (Ctrl+Shift+Space)', 'aria-keyshortcuts': 'Control+Shift+Space' });
  });
});
