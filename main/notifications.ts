/** OS notifications (missed call, new voicemail, chat message) shown on the renderer's behalf. */
import type { NotificationRequest } from '../shared/bridge';
import { createLogger } from './log';

const log = createLogger('notifications');

export interface NotificationLike {
  show(): void;
  close?(): void;
  on(event: 'click', listener: () => void): unknown;
  on(event: 'close', listener: () => void): unknown;
  /** A button of the notification, by its index in `actions` (macOS; Windows and Linux show none). */
  on(event: 'action', listener: (event: unknown, index: number) => void): unknown;
}

export interface NotificationConstructorLike<N extends NotificationLike> {
  new (options: { title: string; body: string; actions?: Array<{ type: 'button'; text: string }> }): N;
  isSupported(): boolean;
}

/** What the person did with an incoming-call notification. */
export type CallNotificationAction = 'answer' | 'decline';

export class Notifier<N extends NotificationLike> {
  readonly #Notification: NotificationConstructorLike<N>;
  readonly #onClick: () => void;
  /**
   * A notification object that nothing references can be garbage-collected while still on screen, and its
   * click would then be lost; the shown ones are held here until clicked or closed.
   */
  readonly #showing = new Set<N>();

  readonly #onCallAction: (callId: string, action: CallNotificationAction) => void;

  constructor(
    Notification: NotificationConstructorLike<N>,
    onClick: () => void = () => {},
    onCallAction: (callId: string, action: CallNotificationAction) => void = () => {},
  ) {
    this.#Notification = Notification;
    this.#onClick = onClick;
    this.#onCallAction = onCallAction;
  }

  get supported(): boolean {
    return this.#Notification.isSupported();
  }

  /** Shows the notification; returns false (and does nothing) where the OS has no notifications. */
  show(request: NotificationRequest): boolean {
    if (!this.supported) {
      log.debug('notifications are not supported here; dropped', { title: request.title });
      return false;
    }
    const callId = request.callId;
    const notification = new this.#Notification(
      callId
        ? { title: request.title, body: request.body, actions: [{ type: 'button', text: 'Answer' }, { type: 'button', text: 'Decline' }] }
        : { title: request.title, body: request.body },
    );
    this.#showing.add(notification);
    if (callId) {
      notification.on('action', (_event, index) => {
        this.#showing.delete(notification);
        if (index === 0) this.#onCallAction(callId, 'answer');
        else if (index === 1) this.#onCallAction(callId, 'decline');
      });
    }
    notification.on('click', () => {
      this.#showing.delete(notification);
      this.#onClick();
    });
    notification.on('close', () => this.#showing.delete(notification));
    notification.show();
    return true;
  }

  get showingCount(): number {
    return this.#showing.size;
  }
}
