/** How a button tells of its shortcut: a tooltip beside its label, and `aria-keyshortcuts` for assistive technology. */
import { callShortcut } from '../../../shared/call-shortcuts';
import type { CallShortcutAction } from '../../../shared/call-shortcuts';

export interface ShortcutHint {
  /** The tooltip: the button's label and the keys, "Answer (Ctrl+Shift+Enter)". */
  title: string;
  'aria-keyshortcuts': string;
}

/** Bound on a button with `v-bind`; its accessible name stays its visible label. */
export function shortcutHint(label: string, action: CallShortcutAction): ShortcutHint {
  const shortcut = callShortcut(action);
  return { title: `${label} (${shortcut.keys})`, 'aria-keyshortcuts': shortcut.aria };
}
