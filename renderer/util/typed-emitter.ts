/**
 * An event emitter with an explicit event map. A listener that throws is logged and never breaks the emitter or
 * the listeners after it, so one faulty view cannot stop the phone engine from reporting a call.
 */
import { createLogger } from '../log';

const log = createLogger('events');

type Listener<Args extends unknown[]> = (...args: Args) => void;

export type EventMap<Events> = { [K in keyof Events]: unknown[] };

/** The listening half of an emitter, for consumers that must not emit. */
export interface Subscribable<Events extends EventMap<Events>> {
  /** Returns a function that removes the listener. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void;
}

export class TypedEmitter<Events extends EventMap<Events>> implements Subscribable<Events> {
  private listeners: { [K in keyof Events]?: Set<Listener<Events[K]>> } = {};

  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    const set = (this.listeners[event] ??= new Set());
    set.add(listener);
    return () => {
      set.delete(listener);
    };
  }

  protected emit<K extends keyof Events>(event: K, ...args: Events[K]): void {
    const set = this.listeners[event];
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(...args);
      } catch (error) {
        log.error('listener failed', { event: String(event), error: error instanceof Error ? error.message : error });
      }
    }
  }

  protected removeAllListeners(): void {
    this.listeners = {};
  }
}
