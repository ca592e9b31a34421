/**
 * What is left of a server transaction that only lingers (RFC 3261 §17.2: Timer J for a non-INVITE, Timer I
 * for an INVITE whose failure was acknowledged, RFC 6026 Timer L for an INVITE whose 2xx was acknowledged):
 * its key, the final response as its flow sends it again, and when it ends. A retransmitted request gets that
 * response again (an ACK, nothing); that is all a lingering transaction does.
 *
 * At a thousand calls a second some hundred thousand transactions linger at once. As records here they hold
 * neither the request they answered nor anything the TU hung on them (a call, once it has ended), have no
 * timer each, and take a few hundred bytes besides the response.
 *
 * Records of the same linger time end in the order they were added, so each linger time has a queue, and one
 * timer ends the records whose time has come.
 */
import type { PreparedMessage, SipConnection } from './connection';
import type { Clock, TimerHandle } from './timers';

/** Records end no earlier than their time, and at most this much after it: one timer serves many. */
export const SWEEP_EVERY_MS = 100;

export interface Lingering {
  readonly key: string;
  /** Sent again for each copy of the request; none for an INVITE whose failure was acknowledged. */
  readonly response: PreparedMessage | undefined;
  readonly connection: SipConnection;
  readonly until: number;
}

/** A queue that is only pushed at the back and taken from the front. */
class Queue<T> {
  private items: T[] = [];
  private head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  push(item: T): void {
    this.items.push(item);
  }

  peek(): T | undefined {
    return this.items[this.head];
  }

  shift(): T | undefined {
    const item = this.items[this.head];
    if (item === undefined) return undefined;
    this.items[this.head] = undefined as T;
    this.head++;
    // The taken half is dropped once it outweighs what is left.
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return item;
  }
}

export class LingerTable {
  private readonly byKey = new Map<string, Lingering>();
  /** By linger time, each queue in the order its records end. */
  private readonly queues = new Map<number, Queue<Lingering>>();
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;

  constructor(private readonly clock: Clock) {}

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): Lingering | undefined {
    return this.byKey.get(key);
  }

  add(key: string, response: PreparedMessage | undefined, connection: SipConnection, lingerMs: number): void {
    const record: Lingering = { key, response, connection, until: this.clock.now() + lingerMs };
    this.byKey.set(key, record);
    let queue = this.queues.get(lingerMs);
    if (!queue) {
      queue = new Queue();
      this.queues.set(lingerMs, queue);
    }
    queue.push(record);
    this.wakeAt(record.until);
  }

  /** Ends the record that would end first, to make room; false when there is none. */
  evictFirst(): boolean {
    let first: Queue<Lingering> | undefined;
    for (const queue of this.queues.values()) {
      this.dropStale(queue);
      const head = queue.peek();
      if (head && (!first || head.until < (first.peek()?.until ?? Infinity))) first = queue;
    }
    const record = first?.shift();
    if (!record) return false;
    this.byKey.delete(record.key);
    return true;
  }

  clear(): void {
    this.byKey.clear();
    this.queues.clear();
    this.timer?.cancel();
    this.timer = undefined;
    this.timerAt = Infinity;
  }

  private sweep(): void {
    this.timer = undefined;
    this.timerAt = Infinity;
    const now = this.clock.now();
    let next = Infinity;
    for (const [lingerMs, queue] of this.queues) {
      for (let head = queue.peek(); head !== undefined && head.until <= now; head = queue.peek()) {
        queue.shift();
        if (this.byKey.get(head.key) === head) this.byKey.delete(head.key);
      }
      const head = queue.peek();
      if (head) next = Math.min(next, head.until);
      else this.queues.delete(lingerMs);
    }
    if (next < Infinity) this.wakeAt(Math.max(next, now + SWEEP_EVERY_MS));
  }

  /** Records evicted earlier leave their place in the queue; they are passed over here. */
  private dropStale(queue: Queue<Lingering>): void {
    for (let head = queue.peek(); head !== undefined && this.byKey.get(head.key) !== head; head = queue.peek()) queue.shift();
  }

  private wakeAt(at: number): void {
    if (at >= this.timerAt) return;
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.clock.schedule(Math.max(0, at - this.clock.now()), () => this.sweep());
  }
}
