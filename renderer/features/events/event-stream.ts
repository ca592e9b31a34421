/**
 * The app's end of the PBX's live event stream (shared/events.ts). It knows nothing of Vue: the store hands it
 * a session and listens. What it guarantees to its listener: every event of the user's stream once, in order,
 * across dropped sockets and PBX restarts, or a `resync` when that cannot be (then the app reloads its state).
 *
 * - Every message is checked against the shared schema; one that is not in the contract is logged and dropped.
 * - It remembers the last number handled and reconnects with `after=<it>`; anything at or below it is a repeat
 *   and dropped. A number that skips ahead (never sent by a PBX that works) reconnects, which replays the gap.
 * - A socket that closes is replaced after `reconnectDelayMs` (connection-keeper.ts): exponential with jitter,
 *   capped, so the apps of a PBX that restarts do not all come back at once. One that goes quiet for a few
 *   heartbeats is taken for dead (a suspended laptop, a NAT that forgot us) and replaced too.
 * - A close with EVENTS_CLOSE.signedOut means the session is over: it stops and says so.
 */
import { EVENTS_CLOSE, EVENTS_HEARTBEAT_S, EVENTS_PATH, EVENTS_PROTOCOL, EVENTS_TOKEN_PROTOCOL_PREFIX, parseServerMessage } from '../../../shared/events';
import type { EventMessage } from '../../../shared/events';
import { createLogger } from '../../log';
import { reconnectDelayMs } from '../../phone/connection-keeper';

const log = createLogger('event-stream');

/** Heartbeats missed before the socket is taken for dead. */
const MISSED_HEARTBEATS = 3;

/** What the client uses of a WebSocket; the browser's own fits, and tests hand in a fake. */
export interface StreamSocket {
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
  close(code?: number, reason?: string): void;
}

export type SocketFactory = (url: string, protocols: string[]) => StreamSocket;

export interface StreamClock {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  random(): number;
}

export type StreamStatus = 'connecting' | 'live' | 'waiting' | 'stopped' | 'signed-out';

export interface StreamSession {
  /** The PBX's base URL, as signed in to (http or https). */
  serverUrl: string;
  token: string;
  /** The signed-in user's id: the stream the remembered number counts in. */
  userId: number;
}

export interface StreamListener {
  event(message: EventMessage): void;
  status(status: StreamStatus): void;
}

const browserClock: StreamClock = {
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  random: () => Math.random(),
};

const browserSocket: SocketFactory = (url, protocols) => new WebSocket(url, protocols) as unknown as StreamSocket;

/** The stream's WebSocket URL on a PBX: ws for http, wss for https. */
export function eventStreamUrl(serverUrl: string, userId: number, after: number | undefined): string {
  const url = new URL(EVENTS_PATH, serverUrl.replace(/^http/i, 'ws'));
  url.searchParams.set('user', String(userId));
  if (after !== undefined) url.searchParams.set('after', String(after));
  return url.href;
}

export class EventStreamClient {
  private socket: StreamSocket | undefined;
  private state: StreamStatus = 'stopped';
  /** The last number handled; undefined until the first `ready` says where the stream stands. */
  private last: number | undefined;
  /** Failed connections in a row, for the backoff; reset once a stream is live. */
  private attempts = 0;
  private retryTimer: unknown;
  private quietTimer: unknown;

  constructor(
    private readonly session: StreamSession,
    private readonly listener: StreamListener,
    private readonly options: { socket?: SocketFactory; clock?: StreamClock; heartbeatMs?: number } = {},
  ) {}

  get status(): StreamStatus {
    return this.state;
  }

  get lastSeq(): number | undefined {
    return this.last;
  }

  start(): void {
    if (this.state !== 'stopped') return;
    this.connect();
  }

  stop(): void {
    this.setStatus('stopped');
    this.teardown();
  }

  private get clock(): StreamClock {
    return this.options.clock ?? browserClock;
  }

  private setStatus(status: StreamStatus): void {
    if (this.state === status) return;
    this.state = status;
    this.listener.status(status);
  }

  private connect(): void {
    this.setStatus('connecting');
    const url = eventStreamUrl(this.session.serverUrl, this.session.userId, this.last);
    log.debug('connecting', { after: this.last });
    let socket: StreamSocket;
    try {
      socket = (this.options.socket ?? browserSocket)(url, [EVENTS_PROTOCOL, `${EVENTS_TOKEN_PROTOCOL_PREFIX}${this.session.token}`]);
    } catch (error) {
      log.warn('could not open the event stream', { error: error instanceof Error ? error.message : String(error) });
      this.retry();
      return;
    }
    this.socket = socket;
    socket.onopen = () => this.expectWithin();
    socket.onmessage = (event) => {
      if (this.socket === socket) this.receive(event.data);
    };
    socket.onerror = () => undefined;
    socket.onclose = (event) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.closed(event.code);
    };
  }

  private receive(data: unknown): void {
    this.expectWithin();
    const message = typeof data === 'string' ? parseServerMessage(data) : undefined;
    if (!message) {
      log.warn('dropped a message outside the contract');
      return;
    }
    if (message.kind === 'heartbeat') return;
    if (message.kind === 'ready') {
      // Without a number of our own, live events count from where the PBX says the stream stands.
      this.last = Math.max(this.last ?? 0, message.seq);
      this.attempts = 0;
      this.setStatus('live');
      return;
    }
    if (message.event.type === 'resync') {
      this.last = message.seq;
      this.listener.event(message);
      return;
    }
    if (this.last !== undefined && message.seq <= this.last) return;
    if (this.last !== undefined && message.seq > this.last + 1) {
      log.warn('the stream skipped numbers; resuming', { last: this.last, got: message.seq });
      this.replace();
      return;
    }
    this.last = message.seq;
    this.listener.event(message);
  }

  /** Arms the watch for silence: any message from the PBX rearms it. */
  private expectWithin(): void {
    this.clock.clearTimeout(this.quietTimer);
    const heartbeatMs = this.options.heartbeatMs ?? EVENTS_HEARTBEAT_S * 1000;
    this.quietTimer = this.clock.setTimeout(() => {
      log.info('the event stream went quiet; reconnecting');
      this.replace();
    }, heartbeatMs * MISSED_HEARTBEATS);
  }

  /** Gives up on the socket (it may be dead, so its close is not awaited) and connects again. */
  private replace(): void {
    const socket = this.socket;
    this.socket = undefined;
    socket?.close();
    this.closed(undefined);
  }

  private closed(code: number | undefined): void {
    this.clock.clearTimeout(this.quietTimer);
    if (this.state === 'stopped') return;
    if (code === EVENTS_CLOSE.signedOut) {
      log.info('the session ended; the event stream stops');
      this.setStatus('signed-out');
      return;
    }
    this.retry();
  }

  private retry(): void {
    this.attempts++;
    const delay = reconnectDelayMs(this.attempts, () => this.clock.random());
    log.debug('reconnecting later', { attempt: this.attempts, delayMs: delay });
    this.setStatus('waiting');
    this.retryTimer = this.clock.setTimeout(() => {
      this.retryTimer = undefined;
      if (this.state === 'waiting') this.connect();
    }, delay);
  }

  private teardown(): void {
    this.clock.clearTimeout(this.retryTimer);
    this.clock.clearTimeout(this.quietTimer);
    this.retryTimer = undefined;
    const socket = this.socket;
    this.socket = undefined;
    socket?.close(1000, 'signed out');
  }
}
