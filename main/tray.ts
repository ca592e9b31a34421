/**
 * The tray icon: the registration state at a glance (icon, tooltip, first menu line) and the way back to the
 * window when it is hidden. Linux app indicators show neither tooltips nor clicks, so the state is also
 * written in the menu.
 */
import { REGISTRATION_LABELS } from '../shared/registration';
import type { RegistrationState } from '../shared/registration';
import { createLogger } from './log';

const log = createLogger('tray');

export type TrayMenuItem =
  | { type: 'separator' }
  | { type?: 'normal'; label: string; enabled?: boolean; click?: () => void };

export interface TrayLike<Icon, Menu> {
  setImage(image: Icon): void;
  setToolTip(toolTip: string): void;
  setContextMenu(menu: Menu | null): void;
  on(event: 'click', listener: () => void): unknown;
  destroy(): void;
}

export interface TrayDeps<Icon, Menu> {
  createTray(icon: Icon): TrayLike<Icon, Menu>;
  buildMenu(template: TrayMenuItem[]): Menu;
  iconFor(state: RegistrationState): Icon;
  onShow(): void;
  onQuit(): void;
  /** A click on the ringing call (icon or menu) answers it. */
  onAnswer?(callId: string): void;
  onDecline?(callId: string): void;
}

/** The call ringing right now, as the tray shows it. */
export interface RingingCall {
  id: string;
  caller: string;
}

export class TrayController<Icon, Menu> {
  readonly #deps: TrayDeps<Icon, Menu>;
  readonly #tray: TrayLike<Icon, Menu>;
  #state: RegistrationState;
  #ringing: RingingCall | undefined;

  constructor(deps: TrayDeps<Icon, Menu>, initialState: RegistrationState = 'unregistered') {
    this.#deps = deps;
    this.#state = initialState;
    this.#tray = deps.createTray(deps.iconFor(initialState));
    // While a call rings, a click on the icon answers it, without bringing the window to the front.
    this.#tray.on('click', () => {
      if (this.#ringing && deps.onAnswer) deps.onAnswer(this.#ringing.id);
      else deps.onShow();
    });
    this.#render();
  }

  get state(): RegistrationState {
    return this.#state;
  }

  setRegistrationState(state: RegistrationState): void {
    if (state === this.#state) return;
    log.debug('registration state changed', { from: this.#state, to: state });
    this.#state = state;
    this.#tray.setImage(this.#deps.iconFor(state));
    this.#render();
  }

  get ringing(): RingingCall | undefined {
    return this.#ringing;
  }

  setRingingCall(call: RingingCall | undefined): void {
    if (call?.id === this.#ringing?.id && call?.caller === this.#ringing?.caller) return;
    this.#ringing = call;
    this.#render();
  }

  destroy(): void {
    this.#tray.destroy();
  }

  #render(): void {
    const label = REGISTRATION_LABELS[this.#state];
    const ringing = this.#ringing;
    this.#tray.setToolTip(ringing ? `Offhook — Incoming call from ${ringing.caller}` : `Offhook — ${label}`);
    const callItems: TrayMenuItem[] = ringing
      ? [
          { label: `Incoming call from ${ringing.caller}`, enabled: false },
          ...(this.#deps.onAnswer ? [{ label: 'Answer', click: () => this.#deps.onAnswer?.(ringing.id) }] : []),
          ...(this.#deps.onDecline ? [{ label: 'Decline', click: () => this.#deps.onDecline?.(ringing.id) }] : []),
          { type: 'separator' },
        ]
      : [];
    // Some Linux desktops only pick up menu changes when the menu is set again, so it is rebuilt each time.
    this.#tray.setContextMenu(
      this.#deps.buildMenu([
        ...callItems,
        { label, enabled: false },
        { type: 'separator' },
        { label: 'Show Offhook', click: () => this.#deps.onShow() },
        { label: 'Quit', click: () => this.#deps.onQuit() },
      ]),
    );
  }
}
