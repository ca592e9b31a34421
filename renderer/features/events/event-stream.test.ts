import { createPinia, setActivePinia } from 'pinia';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { EVENTS_CLOSE, EVENTS_PROTOCOL } from '../../../shared/events';
import type { CallEvent, EventMessage, ServerMessage } from '../../../shared/events';
import { EventStreamClient, eventStreamUrl } from './event-stream';
import type { StreamClock, StreamSocket, StreamStatus } from './event-stream';
import { useEventsStore } from './events-store';

/** A socket the test drives: it opens, delivers frames and closes when told. */
class FakeSocket implements StreamSocket {
  onopen: ((event: unknown) => void) | null = null;
  onmessage: ((event: { data: unknown }) => void) | null = null;
  onclose: ((event: { code: number; reason: string }) => void) | null = null;
  onerror: ((event: unknown) => void) | null = null;
  closedByClient = false;
  constructor(
    readonly url: URL,
    readonly protocols: string[],
  ) {}
  open(): void {
    this.onopen?.({});
  }
  deliver(message: ServerMessage | string): void {
    this.onmessage?.({ data: typeof message === 'string' ? message : JSON.stringify(message) });
  }
  drop(code = 1006): void {
    this.onclose?.({ code, reason: '' });
  }
  close(): void {
    this.closedByClient = true;
  }
}

const HEARTBEAT_MS = 20_000;
const clock: StreamClock = { setTimeout: (f, ms) => setTimeout(f, ms), clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>), random: () => 0 };

const call = (seq: number, state: CallEvent['state'] = 'ringing'): EventMessage => ({
  kind: 'event',
  seq,
  at: '2026-12-08T10:00:00.000Z',
  event: { type: 'call', callId: `c${seq}`, state, parties: [{ extension: '102', name: 'Bob Brown', role: 'callee' }], leg: null },
});

describe('EventStreamClient', () => {
  let sockets: FakeSocket[];
  let handled: EventMessage[];
  let statuses: StreamStatus[];
  let client: EventStreamClient;
  const latest = () => sockets.at(-1) as FakeSocket;

  beforeEach(() => {
    vi.useFakeTimers();
    sockets = [];
    handled = [];
    statuses = [];
    client = new EventStreamClient(
      { serverUrl: 'https://pbx.example.test', token: 'tok-en_1', userId: 7 },
      { event: (m) => handled.push(m), status: (s) => statuses.push(s) },
      {
        socket: (url, protocols) => {
          const socket = new FakeSocket(new URL(url), protocols);
          sockets.push(socket);
          return socket;
        },
        clock,
        heartbeatMs: HEARTBEAT_MS,
      },
    );
  });
  afterEach(() => {
    client.stop();
    vi.useRealTimers();
  });

  it('connects as a browser must: the token in a subprotocol, never in the URL', () => {
    client.start();
    expect(latest().url.href).toBe('wss://pbx.example.test/api/v1/events?user=7');
    expect(latest().protocols).toEqual([EVENTS_PROTOCOL, 'offhook-bearer.tok-en_1']);
    expect(eventStreamUrl('http://127.0.0.1:8088', 3, 12)).toBe('ws://127.0.0.1:8088/api/v1/events?user=3&after=12');
  });

  it('hands on each event once and in order, and resumes after the last one when the socket drops', () => {
    client.start();
    latest().open();
    latest().deliver({ kind: 'ready', seq: 4 });
    latest().deliver(call(5));
    latest().deliver(call(6));
    latest().drop();
    expect(statuses).toEqual(['connecting', 'live', 'waiting']);
    vi.advanceTimersByTime(500);
    expect(latest().url.searchParams.get('after')).toBe('6');
    latest().open();
    // The PBX replays from 7; a repeat of 6 (it cannot happen, but) is dropped.
    latest().deliver(call(6));
    latest().deliver(call(7));
    latest().deliver({ kind: 'ready', seq: 7 });
    latest().deliver(call(8));
    expect(handled.map((m) => m.seq)).toEqual([5, 6, 7, 8]);
    expect(client.lastSeq).toBe(8);
    expect(statuses.at(-1)).toBe('live');
  });

  it('backs off further with each failed attempt, and starts over once live', () => {
    client.start();
    for (const wait of [500, 1_000, 2_000]) {
      latest().drop();
      vi.advanceTimersByTime(wait - 1);
      const count = sockets.length;
      vi.advanceTimersByTime(1);
      expect(sockets.length).toBe(count + 1);
    }
    latest().open();
    latest().deliver({ kind: 'ready', seq: 0 });
    latest().drop();
    const count = sockets.length;
    vi.advanceTimersByTime(500);
    expect(sockets.length).toBe(count + 1);
  });

  it('passes a resync on and counts from its number', () => {
    client.start();
    latest().open();
    latest().deliver({ kind: 'event', seq: 40, at: '2026-12-08T10:00:00.000Z', event: { type: 'resync', reason: 'expired' } });
    latest().deliver({ kind: 'ready', seq: 40 });
    latest().deliver(call(41));
    expect(handled.map((m) => [m.seq, m.event.type])).toEqual([
      [40, 'resync'],
      [41, 'call'],
    ]);
  });

  it('drops what is not in the contract, and reconnects when numbers skip so that the gap is replayed', () => {
    client.start();
    latest().open();
    latest().deliver({ kind: 'ready', seq: 1 });
    latest().deliver('not json');
    latest().deliver(JSON.stringify({ kind: 'event', seq: 2, at: 'x', event: { type: 'call', callId: 'c2' } }));
    expect(handled).toEqual([]);
    latest().deliver(call(3));
    expect(handled).toEqual([]);
    expect(latest().closedByClient).toBe(true);
    vi.advanceTimersByTime(500);
    expect(latest().url.searchParams.get('after')).toBe('1');
  });

  it('takes a socket that goes quiet for three heartbeats for dead and replaces it', () => {
    client.start();
    latest().open();
    latest().deliver({ kind: 'ready', seq: 0 });
    vi.advanceTimersByTime(HEARTBEAT_MS * 2);
    latest().deliver({ kind: 'heartbeat' });
    vi.advanceTimersByTime(HEARTBEAT_MS * 3 - 1);
    expect(sockets.length).toBe(1);
    vi.advanceTimersByTime(1);
    expect(sockets[0]?.closedByClient).toBe(true);
    vi.advanceTimersByTime(500);
    expect(sockets.length).toBe(2);
  });

  it('stops for good when the PBX says the session is over', () => {
    client.start();
    latest().open();
    latest().drop(EVENTS_CLOSE.signedOut);
    vi.advanceTimersByTime(60_000);
    expect(sockets.length).toBe(1);
    expect(client.status).toBe('signed-out');
  });
});

describe('events store', () => {
  beforeEach(() => {
    setActivePinia(createPinia());
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it('hands each event to the handlers of its type, a failing handler stopping none of the others', () => {
    const sockets: FakeSocket[] = [];
    const store = useEventsStore();
    const calls: string[] = [];
    store.on('call', () => {
      throw new Error('a faulty view');
    });
    const off = store.on('call', (event) => calls.push(`${event.callId}:${event.state}`));
    const devices: number[] = [];
    store.on('registration', (event) => devices.push(event.devices.length));
    store.start({ serverUrl: 'http://127.0.0.1:8088', token: 't', userId: 1 }, {
      socket: (url, protocols) => {
        const socket = new FakeSocket(new URL(url), protocols);
        sockets.push(socket);
        return socket;
      },
      clock,
    });
    const socket = sockets[0] as FakeSocket;
    socket.open();
    socket.deliver({ kind: 'ready', seq: 0 });
    expect(store.status).toBe('live');
    socket.deliver(call(1, 'answered'));
    socket.deliver({ kind: 'event', seq: 2, at: '2026-12-08T10:00:00.000Z', event: { type: 'registration', devices: [] } });
    off();
    socket.deliver(call(3, 'ended'));
    expect(calls).toEqual(['c1:answered']);
    expect(devices).toEqual([0]);
    expect(store.lastSeq).toBe(3);
    store.stop();
    expect(socket.closedByClient).toBe(true);
    expect(store.status).toBe('stopped');
  });
});
