/** OS notifications (missed call, new voicemail, chat message) shown on the renderer's behalf. */
import type { NotificationRequest } from '../shared/bridge';
import { createLogger } from './log';

const log = createLogger('notifications');

export interface NotificationLike {
  show(): void;
  on(event: 'click', listener: () => void): unknown;
  on(event: 'close', listener: () => void): unknown;
}

export interface NotificationConstructorLike<N extends NotificationLike> {
  new (options: { title: string; body: string }): N;
  isSupported(): boolean;
}

export class Notifier<N extends NotificationLike> {
  readonly #Notification: NotificationConstructorLike<N>;
  readonly #onClick: () => void;
  /**
   * A notification object that nothing references can be garbage-collected while still on screen, and its
   * click would then be lost; the shown ones are held here until clicked or closed.
   */
  readonly #showing = new Set<N>();

  constructor(Notification: NotificationConstructorLike<N>, onClick: () => void = () => {}) {
    this.#Notification = Notification;
    this.#onClick = onClick;
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
    const notification = new this.#Notification({ title: request.title, body: request.body });
    this.#showing.add(notification);
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
