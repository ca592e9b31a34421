/**
 * The live event stream's hub: `publish(organization, audience, event)` stores the event in each addressee's
 * stream (store/events.ts) and only then hands it to their open streams, so whatever an app is sent is on disk
 * first, and an app that reconnects (to this PBX or to it after a restart) is sent what it missed from there.
 *
 * Why here and not under api/: the publishers are the layers below the API (calls, features, presence), which
 * may not import it; they reach the hub through the `EventPublisher` interface, wired in pbx.ts. The hub needs
 * only the store. The WebSocket that carries a stream to an app is api/routes/events.ts.
 *
 * Ordering. Publishes run one after the other, each stored and then delivered before the next starts, so live
 * events reach a stream in the order of their numbers. A stream that opens registers first and reads the
 * stored events after: an event stored before the read is in the read, one stored after it is delivered live
 * (held back until the read has been sent), and anything seen twice is dropped by its number.
 *
 * One process: the fan-out is in memory. Several PBX nodes (design §5) would put a shared bus between the
 * store and `deliver`; the numbering, done in the database, already holds for that.
 */
import type { Kysely } from 'kysely';
import { PublishedEvent } from '../../shared/events';
import type { EventMessage, ResyncEvent, ServerMessage } from '../../shared/events';
import { createLogger } from '../log';
import { appendEvent, purgeEvents, readEvents, streamPosition } from '../store/events';
import type { AppendedEvent, EventRetention } from '../store/events';
import type { Database } from '../store/schema';

const log = createLogger('event-hub');

/** A day, and the last thousand per user: an app away longer than that reloads instead (a `resync`). */
export const DEFAULT_EVENT_RETENTION: EventRetention = { maxAgeMs: 24 * 60 * 60 * 1000, maxPerUser: 1_000 };
/** How often what retention no longer keeps is deleted. */
export const DEFAULT_EVENT_PURGE_INTERVAL_MS = 10 * 60 * 1000;
/** Stored events read per query when a stream catches up. */
const REPLAY_PAGE = 200;
/** Live events a stream may hold back while it catches up, before it is taken for stuck and closed. */
const MAX_HELD_BACK = 10_000;

/** What the layers that have something to tell the apps see of the hub. */
export interface EventPublisher {
  /**
   * Stores `event` for each user of `audience` who belongs to the organization (others get nothing), then sends
   * it to their open streams. Resolves with each addressee's number once stored; rejects when the event is
   * not in the contract (shared/events.ts) or could not be stored, and then nobody is sent it.
   */
  publish(organizationId: number, audience: readonly number[], event: PublishedEvent): Promise<AppendedEvent[]>;
}

/** Where a stream's messages go: the WebSocket, in the API. */
export interface EventSink {
  send(message: ServerMessage): void;
  /** The hub gives up on this stream (it fell too far behind); the sink should close. */
  abandon(reason: string): void;
}

export interface EventStream {
  readonly organizationId: number;
  readonly userId: number;
  close(): void;
}

export interface EventHubOptions {
  retention?: EventRetention;
  purgeIntervalMs?: number;
  now?: () => Date;
}

class Subscriber implements EventStream {
  /** The last number sent; nothing at or below it is sent again. */
  lastSent = 0;
  /** Live events that came while the stored ones were being read; undefined once caught up. */
  heldBack: EventMessage[] | undefined = [];
  closed = false;

  constructor(
    readonly organizationId: number,
    readonly userId: number,
    private readonly sink: EventSink,
    private readonly remove: (subscriber: Subscriber) => void,
  ) {}

  offer(message: EventMessage): void {
    if (this.closed) return;
    if (this.heldBack) {
      if (this.heldBack.length >= MAX_HELD_BACK) return this.abandon('too many events while catching up');
      this.heldBack.push(message);
      return;
    }
    this.sendEvent(message);
  }

  sendEvent(message: EventMessage): void {
    if (this.closed || message.seq <= this.lastSent) return;
    this.lastSent = message.seq;
    this.sink.send(message);
  }

  send(message: ServerMessage): void {
    if (!this.closed) this.sink.send(message);
  }

  /** Sends what was held back while catching up, and from now on every event as it comes. */
  goLive(): void {
    const held = this.heldBack ?? [];
    this.heldBack = undefined;
    for (const message of held.sort((a, b) => a.seq - b.seq)) this.sendEvent(message);
  }

  abandon(reason: string): void {
    if (this.closed) return;
    this.close();
    this.sink.abandon(reason);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.heldBack = undefined;
    this.remove(this);
  }
}

export class EventHub implements EventPublisher {
  private readonly streams = new Map<number, Set<Subscriber>>();
  /** The publish under way: the next one starts when it has been delivered (ordering, above). */
  private tail: Promise<unknown> = Promise.resolve();
  private purgeTimer: NodeJS.Timeout | undefined;
  private purging: Promise<void> | undefined;
  private readonly retention: EventRetention;
  private readonly now: () => Date;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly options: EventHubOptions = {},
  ) {
    this.retention = options.retention ?? DEFAULT_EVENT_RETENTION;
    this.now = options.now ?? (() => new Date());
  }

  /** Purges what retention no longer keeps now (awaited), then every interval, on a timer that does not keep the process alive. */
  async startRetention(): Promise<void> {
    await this.purge();
    this.purgeTimer = setInterval(() => void this.purge(), this.options.purgeIntervalMs ?? DEFAULT_EVENT_PURGE_INTERVAL_MS);
    this.purgeTimer.unref();
  }

  purge(): Promise<void> {
    this.purging ??= purgeEvents(this.db, this.retention, this.now())
      .then(
        () => undefined,
        (error: unknown) => log.warn('could not purge old events; trying again later', { error: error instanceof Error ? error.message : String(error) }),
      )
      .finally(() => {
        this.purging = undefined;
      });
    return this.purging;
  }

  publish(organizationId: number, audience: readonly number[], event: PublishedEvent): Promise<AppendedEvent[]> {
    const parsed = PublishedEvent.safeParse(event);
    if (!parsed.success) return Promise.reject(new Error(`not an event of the contract: ${parsed.error.issues[0]?.message ?? 'invalid'}`));
    const run = this.tail.then(() => this.storeAndDeliver(organizationId, audience, parsed.data));
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async storeAndDeliver(organizationId: number, audience: readonly number[], event: PublishedEvent): Promise<AppendedEvent[]> {
    log.debug('publish', { organizationId, type: event.type, audience: audience.length });
    const at = this.now().toISOString();
    const appended = await appendEvent(this.db, { organizationId, audience, type: event.type, body: JSON.stringify(event), publishedAt: at });
    for (const { userId, seq } of appended) {
      const subscribers = this.streams.get(userId);
      if (!subscribers) continue;
      const message: EventMessage = { kind: 'event', seq, at, event };
      for (const subscriber of [...subscribers]) {
        if (subscriber.organizationId === organizationId) subscriber.offer(message);
      }
    }
    return appended;
  }

  /**
   * Opens a user's stream into `sink`: the stored events after `after` in order (or a `resync` when they are
   * not all kept, or `after` is beyond the stream's end), a `ready`, then live events. Without `after`, only
   * live events, after a `ready` that says where the stream stands. Resolves once `ready` has been sent.
   */
  async open(organizationId: number, userId: number, after: number | undefined, sink: EventSink): Promise<EventStream> {
    log.debug('stream opens', { organizationId, userId, after });
    const subscriber = new Subscriber(organizationId, userId, sink, (s) => this.forget(s));
    let set = this.streams.get(userId);
    if (!set) this.streams.set(userId, (set = new Set()));
    set.add(subscriber);
    try {
      const position = await streamPosition(this.db, organizationId, userId);
      const resync = after === undefined ? undefined : resyncReason(after, position.lastSeq, position.oldestKeptSeq);
      if (after === undefined || resync) {
        subscriber.lastSent = position.lastSeq;
        if (resync) subscriber.send({ kind: 'event', seq: position.lastSeq, at: this.now().toISOString(), event: { type: 'resync', reason: resync } });
      } else {
        subscriber.lastSent = after;
        await this.replay(subscriber);
      }
      if (subscriber.closed) return subscriber;
      subscriber.send({ kind: 'ready', seq: subscriber.lastSent });
      subscriber.goLive();
    } catch (error) {
      subscriber.close();
      throw error;
    }
    return subscriber;
  }

  private async replay(subscriber: Subscriber): Promise<void> {
    for (;;) {
      const rows = await readEvents(this.db, subscriber.organizationId, subscriber.userId, subscriber.lastSent, REPLAY_PAGE);
      for (const row of rows) {
        const event = PublishedEvent.safeParse(JSON.parse(row.body));
        if (!event.success) {
          // Stored by an older or newer PBX in a shape this one does not know: skipped, its number used up.
          log.warn('skipping a stored event this PBX cannot read', { userId: row.user_id, seq: row.seq, type: row.type });
          subscriber.lastSent = row.seq;
          continue;
        }
        subscriber.sendEvent({ kind: 'event', seq: row.seq, at: row.published_at, event: event.data });
      }
      if (rows.length < REPLAY_PAGE || subscriber.closed) return;
    }
  }

  private forget(subscriber: Subscriber): void {
    const set = this.streams.get(subscriber.userId);
    set?.delete(subscriber);
    if (set?.size === 0) this.streams.delete(subscriber.userId);
  }

  /** Open streams of a user (or of everyone), for limits and tests. */
  openStreams(userId?: number): number {
    if (userId !== undefined) return this.streams.get(userId)?.size ?? 0;
    let count = 0;
    for (const set of this.streams.values()) count += set.size;
    return count;
  }

  /** Stops the purge and waits for the publish under way; open streams are the API's to close. */
  async close(): Promise<void> {
    if (this.purgeTimer) clearInterval(this.purgeTimer);
    this.purgeTimer = undefined;
    await this.tail;
    await this.purging;
  }
}

/**
 * Why an app resuming after `after` cannot be sent the events it missed: some were purged (the oldest kept is
 * not the one right after it, or none are kept though some were given out), or `after` is past the stream's end.
 */
export function resyncReason(after: number, lastSeq: number, oldestKeptSeq: number | undefined): ResyncEvent['reason'] | undefined {
  if (after > lastSeq) return 'unknown_position';
  if (after === lastSeq) return undefined;
  return (oldestKeptSeq ?? lastSeq + 1) > after + 1 ? 'expired' : undefined;
}
