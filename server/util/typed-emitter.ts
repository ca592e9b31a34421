/**
 * An event emitter with an explicit event map. A listener that throws is logged and never breaks the emitter
 * or the other listeners.
 */
import { createLogger } from '../log';

const log = createLogger('events');

type Listener<Args extends unknown[]> = (...args: Args) => void;
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- storage type; the public methods keep the event map's types
type AnyListener = (...args: any[]) => void;

export class TypedEmitter<Events extends { [K in keyof Events]: unknown[] }> {
  private listeners = new Map<keyof Events, Set<AnyListener>>();

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.listeners.get(event);
    if (!set) {
      set = new Set();
      this.listeners.set(event, set);
    }
    set.add(listener as AnyListener);
    return () => this.off(event, listener);
  }

  once<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(event, (...args: Events[K]) => {
      off();
      listener(...args);
    });
    return off;
  }

  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    this.listeners.get(event)?.delete(listener as AnyListener);
  }

  protected emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    const set = this.listeners.get(event);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[K]>)(...args);
      } catch (error) {
        log.error('listener failed', { event: String(event), error });
      }
    }
  }

  protected listenerCount<K extends keyof Events>(event: K): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  protected removeAllListeners(): void {
    this.listeners.clear();
  }
}
