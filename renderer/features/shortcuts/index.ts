/**
 * Keyboard shortcuts for calls: Answer, Decline, Mute, Hold and Hang up with Control+Shift and a key, in the app
 * and (desktop) OS-wide while they apply; the list shown in Settings; the hints the call buttons carry. Other
 * features reach the shortcuts only through this file.
 */
export { CALL_SHORTCUTS, callShortcut } from '../../../shared/call-shortcuts';
export type { CallShortcut, CallShortcutAction } from '../../../shared/call-shortcuts';
export { installCallShortcuts, runCallShortcut } from './use-call-shortcuts';
export type { ShortcutPhone } from './use-call-shortcuts';
export { shortcutHint } from './shortcut-hint';
export { default as ShortcutsList } from './ShortcutsList.vue';
