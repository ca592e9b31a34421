import { describe, expect, it } from 'vitest';
import { CallShortcutKeeper } from './global-shortcuts';
import type { GlobalShortcutLike } from './global-shortcuts';
import type { CallShortcutAction } from '../shared/call-shortcuts';

/** Electron's globalShortcut as the OS would behave: one holder per accelerator. */
class FakeGlobalShortcut implements GlobalShortcutLike {
  readonly registered = new Map<string, () => void>();
  /** Accelerators another program holds. */
  readonly takenElsewhere = new Set<string>();

  register(accelerator: string, callback: () => void): boolean {
    if (this.takenElsewhere.has(accelerator) || this.registered.has(accelerator)) return false;
    this.registered.set(accelerator, callback);
    return true;
  }

  unregister(accelerator: string): void {
    this.registered.delete(accelerator);
  }

  /** The person presses the keys while another program has the focus. */
  press(accelerator: string): void {
    this.registered.get(accelerator)?.();
  }
}

function setUp() {
  const os = new FakeGlobalShortcut();
  const pressed: CallShortcutAction[] = [];
  const keeper = new CallShortcutKeeper(os, (action) => pressed.push(action));
  return { os, pressed, keeper };
}

describe('CallShortcutKeeper', () => {
  it('holds Answer and Decline while a call rings, and forwards their presses', () => {
    const { os, pressed, keeper } = setUp();
    keeper.set(['answer', 'decline']);
    expect([...os.registered.keys()].sort()).toEqual(['Control+Shift+Enter', 'Control+Shift+X']);
    os.press('Control+Shift+Enter');
    expect(pressed).toEqual(['answer']);
  });

  it('lets go of what no longer applies and takes what now does, without registering twice', () => {
    const { os, pressed, keeper } = setUp();
    keeper.set(['answer', 'decline']);
    keeper.set(['mute', 'hold', 'hang-up']);
    expect([...os.registered.keys()].sort()).toEqual(['Control+Shift+E', 'Control+Shift+H', 'Control+Shift+Space']);
    keeper.set(['mute', 'hold', 'hang-up']);
    os.press('Control+Shift+Space');
    os.press('Control+Shift+X');
    expect(pressed).toEqual(['mute']);
    expect(keeper.held.sort()).toEqual(['hang-up', 'hold', 'mute']);
  });

  it('skips a shortcut another program holds, and takes it when it is free the next time it applies', () => {
    const { os, keeper } = setUp();
    os.takenElsewhere.add('Control+Shift+X');
    keeper.set(['answer', 'decline']);
    expect(keeper.held).toEqual(['answer']);
    keeper.set([]);
    os.takenElsewhere.clear();
    keeper.set(['answer', 'decline']);
    expect(keeper.held.sort()).toEqual(['answer', 'decline']);
  });

  it('survives an OS that throws on an accelerator', () => {
    const { keeper } = setUp();
    const throwing = new CallShortcutKeeper(
      {
        register: () => {
          throw new Error('not supported on this desktop');
        },
        unregister: () => undefined,
      },
      () => undefined,
    );
    expect(() => throwing.set(['answer'])).not.toThrow();
    expect(throwing.held).toEqual([]);
    expect(keeper.held).toEqual([]);
  });

  it('lets go of everything when cleared', () => {
    const { os, keeper } = setUp();
    keeper.set(['mute', 'hang-up']);
    keeper.clear();
    expect(os.registered.size).toBe(0);
    expect(keeper.held).toEqual([]);
  });
});
