/**
 * The call shortcuts at work: a key press in the page (Control+Shift and a key, see shared/call-shortcuts.ts), or in
 * the desktop app the same keys pressed in another program (forwarded by main), acts on the call the rules of
 * call-shortcut-targets.ts pick; and the desktop app is told which shortcuts apply, so that it holds only those
 * OS-wide. OS-wide shortcuts are opt-in (Settings, "Use the call shortcuts in other programs"): the keys are other
 * programs' too, and an editor's Control+Shift+E must not hang up a call. Keys that apply to no call are left to the page.
 */
import { watch } from 'vue';
import type { OffhookBridge } from '../../../shared/bridge';
import { matchCallShortcut } from '../../../shared/call-shortcuts';
import type { CallShortcutAction } from '../../../shared/call-shortcuts';
import { createLogger } from '../../log';
import type { CallSnapshot } from '../../phone/engine';
import { useSettingsStore } from '../settings';
import { applicableActions, commandFor } from './call-shortcut-targets';

const log = createLogger('shortcuts');

/** What the shortcuts need of the phone store. */
export interface ShortcutPhone {
  readonly callList: readonly CallSnapshot[];
  answer(id: string): void;
  decline(id: string): void;
  toggleMute(id: string): void;
  hold(id: string): void;
  resume(id: string): void;
  hangUp(id: string): void;
}

/** Where key presses are heard: the page's window. */
export interface KeyTarget {
  addEventListener(type: 'keydown', listener: (event: KeyboardEvent) => void, options: { capture: boolean }): void;
  removeEventListener(type: 'keydown', listener: (event: KeyboardEvent) => void, options: { capture: boolean }): void;
}

export interface CallShortcutsOptions {
  keys: KeyTarget;
  phone: ShortcutPhone;
  bridge: Pick<OffhookBridge, 'setCallShortcuts' | 'onDidPressCallShortcut'>;
  /** Whether the shortcuts also work in other programs; by default, the person's setting (off unless turned on). */
  osWide?: () => boolean;
}

const osWideSetting = () => useSettingsStore().settings.callShortcutsEverywhere === true;

/** Acts on the call `action` applies to; false when it applies to none. */
export function runCallShortcut(phone: ShortcutPhone, action: CallShortcutAction): boolean {
  const command = commandFor(action, phone.callList);
  if (!command) return false;
  log.debug('shortcut', { action, command: command.kind });
  switch (command.kind) {
    case 'answer':
      phone.answer(command.callId);
      break;
    case 'decline':
      phone.decline(command.callId);
      break;
    case 'toggle-mute':
      phone.toggleMute(command.callId);
      break;
    case 'hold':
      phone.hold(command.callId);
      break;
    case 'resume':
      phone.resume(command.callId);
      break;
    case 'hang-up':
      phone.hangUp(command.callId);
      break;
  }
  return true;
}

/** Starts listening; returns the function that stops it all. */
export function installCallShortcuts({ keys, phone, bridge, osWide = osWideSetting }: CallShortcutsOptions): () => void {
  const onKeyDown = (event: KeyboardEvent) => {
    const action = matchCallShortcut(event);
    // A held-down key repeats: one press, one action (Mute would otherwise flicker).
    if (!action || event.repeat) return;
    if (!runCallShortcut(phone, action)) return;
    // The keys are spent: no field or list under the focus acts on them too (Enter would submit the number).
    event.preventDefault();
    event.stopPropagation();
  };
  // Capture: the shortcut acts whichever control has the focus, before that control's own keys.
  keys.addEventListener('keydown', onKeyDown, { capture: true });
  // A press from another program that comes in just after the setting was turned off is not acted on.
  const stopPresses = bridge.onDidPressCallShortcut((action) => osWide() && runCallShortcut(phone, action));
  const stopApplicable = watch(
    () => (osWide() ? applicableActions(phone.callList).join(' ') : ''),
    (joined) => {
      const actions = joined === '' ? [] : (joined.split(' ') as CallShortcutAction[]);
      void bridge.setCallShortcuts(actions).catch((error: unknown) => log.warn('could not update the OS-wide shortcuts', { error: String(error) }));
    },
    { immediate: true },
  );
  return () => {
    keys.removeEventListener('keydown', onKeyDown, { capture: true });
    stopPresses();
    stopApplicable();
  };
}
