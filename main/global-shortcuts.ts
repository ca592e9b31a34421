/**
 * The call shortcuts OS-wide (Electron's globalShortcut), so a call can be answered, muted or ended while another
 * program has the focus. The person turns them on in Settings (off by default: the keys are other programs' too); the
 * renderer then asks for them, and they are held only while they apply (a call rings: Answer and Decline;
 * a call is on the line: Mute, Hold, Hang up), so that Offhook takes Control+Shift+X or +E from other programs only
 * during a call. A press is forwarded to the renderer, which acts on the call exactly as for the same keys in the app.
 */
import { callShortcut } from '../shared/call-shortcuts';
import type { CallShortcutAction } from '../shared/call-shortcuts';
import { createLogger } from './log';

const log = createLogger('global-shortcuts');

/** The part of Electron's `globalShortcut` used here. */
export interface GlobalShortcutLike {
  /** False when the OS or another program already holds the accelerator. */
  register(accelerator: string, callback: () => void): boolean;
  unregister(accelerator: string): void;
}

export class CallShortcutKeeper {
  readonly #globalShortcut: GlobalShortcutLike;
  readonly #onPress: (action: CallShortcutAction) => void;
  /** The actions whose accelerator this app holds now. */
  readonly #held = new Set<CallShortcutAction>();

  constructor(globalShortcut: GlobalShortcutLike, onPress: (action: CallShortcutAction) => void) {
    this.#globalShortcut = globalShortcut;
    this.#onPress = onPress;
  }

  get held(): CallShortcutAction[] {
    return [...this.#held];
  }

  /**
   * Holds exactly `actions` from now on. One that another program holds is skipped (and logged) and tried again
   * the next time it applies; the in-app shortcut still works.
   */
  set(actions: readonly CallShortcutAction[]): void {
    const wanted = new Set(actions);
    for (const action of this.#held) {
      if (wanted.has(action)) continue;
      this.#globalShortcut.unregister(callShortcut(action).accelerator);
      this.#held.delete(action);
    }
    for (const action of wanted) {
      if (this.#held.has(action)) continue;
      const { accelerator } = callShortcut(action);
      let registered = false;
      try {
        registered = this.#globalShortcut.register(accelerator, () => this.#onPress(action));
      } catch (error) {
        log.warn('the OS refused a call shortcut', { accelerator, error: error instanceof Error ? error.message : String(error) });
      }
      if (registered) this.#held.add(action);
      else log.info('a call shortcut is held by another program; it works inside Offhook only', { accelerator });
    }
  }

  /** Lets go of every shortcut: when the page reloads (its calls are gone) and when the app quits. */
  clear(): void {
    this.set([]);
  }
}
