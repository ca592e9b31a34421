/**
 * The events WebSocket at the network edge, for stores that follow live events: `streamFromFakePbx()` starts the
 * events store of Alice's session (fake-session.ts) on a socket the test feeds, opened and `ready`, and hands
 * back `publish(event)`, which delivers the next numbered event as the PBX would.
 */
import type { PublishedEvent, ResyncEvent, ServerMessage } from '../../shared/events';
import { useEventsStore } from '../features/events';
import type { EventsStartOptions } from '../features/events';
import { ALICE_SESSION } from './fake-session';

type StreamSocket = ReturnType<NonNullable<EventsStartOptions['socket']>>;

export class FakeEventSocket implements StreamSocket {
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  close(): void {}
  deliver(message: ServerMessage): void {
    this.onmessage?.({ data: JSON.stringify(message) });
  }
}

export function streamFromFakePbx(serverUrl = 'http://pbx.test'): { socket: FakeEventSocket; publish(event: PublishedEvent | ResyncEvent): void } {
  const socket = new FakeEventSocket();
  useEventsStore().start({ serverUrl, token: ALICE_SESSION.token, userId: ALICE_SESSION.user.id }, { socket: () => socket });
  socket.onopen?.({});
  socket.deliver({ kind: 'ready', seq: 0 });
  let seq = 0;
  return {
    socket,
    publish(event) {
      socket.deliver({ kind: 'event', seq: ++seq, at: '2026-12-08T10:00:00.000Z', event });
    },
  };
}
