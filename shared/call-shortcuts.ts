/**
 * The keyboard shortcuts for calls, written once: the renderer listens for them in the app, and the desktop app
 * also registers them OS-wide (Electron's globalShortcut) while they apply, when the person has turned that on.
 *
 * Every one is Control+Shift and a key, on every platform (the Control key on macOS too, not Command): Control+Shift
 * never types a character, in any keyboard layout (unlike Alt and Option, which type letters such as å or µ, and
 * Control+Alt, which is AltGr on Windows), and the keys chosen have no meaning of their own in Chromium, the browser
 * the desktop app is built on: Control+Shift+A, M, N, T, W and the like belong to the browser and are left alone.
 */

export const CALL_SHORTCUT_ACTIONS = ['answer', 'decline', 'mute', 'hold', 'hang-up'] as const;
export type CallShortcutAction = (typeof CALL_SHORTCUT_ACTIONS)[number];

export interface CallShortcut {
  action: CallShortcutAction;
  /** What it does, in the product's words (the buttons' labels). */
  label: string;
  /** `KeyboardEvent.code` of the key pressed with Control+Shift: the physical key, whatever the layout. */
  code: string;
  /** How the keys are written for people ("Ctrl+Shift+Enter"). */
  keys: string;
  /** The WAI-ARIA `aria-keyshortcuts` value (modifier and key names as the UI Events spec writes them). */
  aria: string;
  /** The Electron accelerator for the OS-wide shortcut. */
  accelerator: string;
}

export const CALL_SHORTCUTS: readonly CallShortcut[] = [
  { action: 'answer', label: 'Answer', code: 'Enter', keys: 'Ctrl+Shift+Enter', aria: 'Control+Shift+Enter', accelerator: 'Control+Shift+Enter' },
  { action: 'decline', label: 'Decline', code: 'KeyX', keys: 'Ctrl+Shift+X', aria: 'Control+Shift+X', accelerator: 'Control+Shift+X' },
  { action: 'mute', label: 'Mute / Unmute', code: 'Space', keys: 'Ctrl+Shift+Space', aria: 'Control+Shift+Space', accelerator: 'Control+Shift+Space' },
  { action: 'hold', label: 'Hold / Resume', code: 'KeyH', keys: 'Ctrl+Shift+H', aria: 'Control+Shift+H', accelerator: 'Control+Shift+H' },
  { action: 'hang-up', label: 'Hang up', code: 'KeyE', keys: 'Ctrl+Shift+E', aria: 'Control+Shift+E', accelerator: 'Control+Shift+E' },
];

export function callShortcut(action: CallShortcutAction): CallShortcut {
  const found = CALL_SHORTCUTS.find((shortcut) => shortcut.action === action);
  if (!found) throw new Error(`No shortcut for ${action}`);
  return found;
}

/** The modifier keys and key of a key press, as a KeyboardEvent reports them. */
export interface KeyPress {
  code: string;
  ctrlKey: boolean;
  shiftKey: boolean;
  altKey: boolean;
  metaKey: boolean;
}

/** The call shortcut a key press is, if any: Control+Shift and the key, with no other modifier. */
export function matchCallShortcut(press: KeyPress): CallShortcutAction | undefined {
  if (!press.ctrlKey || !press.shiftKey || press.altKey || press.metaKey) return undefined;
  return CALL_SHORTCUTS.find((shortcut) => shortcut.code === press.code)?.action;
}
