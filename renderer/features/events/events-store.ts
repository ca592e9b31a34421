/**
 * The PBX's live events, for every other store: one stream per signed-in app (event-stream.ts), started at
 * sign-in and stopped at sign-out, and `on(type, handler)` for whoever needs a kind of event (calls, devices,
 * later park, voicemail, chat). A handler that throws is logged and never stops the others. On a `resync`
 * each store reloads what it shows from the REST API.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { AppEvent, AppEventType, EventMessage } from '../../../shared/events';
import { createLogger } from '../../log';
import { EventStreamClient } from './event-stream';
import type { SocketFactory, StreamClock, StreamSession, StreamStatus } from './event-stream';

const log = createLogger('events-store');

type EventOf<T extends AppEventType> = Extract<AppEvent, { type: T }>;
type Handler<T extends AppEventType> = (event: EventOf<T>, message: EventMessage) => void;

/** What tests hand in instead of the browser's WebSocket and timers. */
export interface EventsStartOptions {
  socket?: SocketFactory;
  clock?: StreamClock;
  heartbeatMs?: number;
}

export const useEventsStore = defineStore('events', () => {
  const status = ref<StreamStatus>('stopped');
  /** The number of the last event handled in this user's stream. */
  const lastSeq = ref<number>();
  /** Events handled since sign-in, for diagnostics. */
  const received = ref(0);

  // Outside the reactive state: the client holds a socket, and handlers are functions.
  let client: EventStreamClient | undefined;
  const handlers = new Map<AppEventType, Set<(event: AppEvent, message: EventMessage) => void>>();

  function dispatch(message: EventMessage): void {
    lastSeq.value = message.seq;
    received.value++;
    for (const handler of [...(handlers.get(message.event.type) ?? [])]) {
      try {
        handler(message.event, message);
      } catch (error) {
        log.error('event handler failed', { type: message.event.type, error: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  /** Opens the stream of the signed-in user; a stream already open (another account) is closed first. */
  function start(session: StreamSession, options: EventsStartOptions = {}): void {
    stop();
    lastSeq.value = undefined;
    received.value = 0;
    client = new EventStreamClient(
      session,
      {
        event: dispatch,
        status: (next) => {
          status.value = next;
          lastSeq.value = client?.lastSeq ?? lastSeq.value;
        },
      },
      options,
    );
    client.start();
  }

  function stop(): void {
    client?.stop();
    client = undefined;
    status.value = 'stopped';
  }

  /** Calls `handler` with every event of `type` from now on; returns the function that stops it. */
  function on<T extends AppEventType>(type: T, handler: Handler<T>): () => void {
    let set = handlers.get(type);
    if (!set) handlers.set(type, (set = new Set()));
    const entry = handler as unknown as (event: AppEvent, message: EventMessage) => void;
    set.add(entry);
    return () => set.delete(entry);
  }

  return { status, lastSeq, received, start, stop, on };
});
