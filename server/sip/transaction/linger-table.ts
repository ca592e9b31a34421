/**
 * What is left of transactions that only linger to absorb retransmissions (RFC 3261 §17): a server transaction
 * after Timer J, I or (RFC 6026) L has begun, holding its final response as its flow sends it again; a client
 * transaction after Timer D, K or (RFC 6026) M has begun, holding the ACK it sends again (`ClientEcho` in
 * transactions.ts). The transaction hands that over and is done.
 *
 * At a thousand calls a second some hundred thousand transactions linger at once. As records here they hold
 * neither the request they carried nor anything the TU hung on them (a call, once it has ended), and have no
 * timer each. Records of the same linger time end in the order they were added, so each linger time has a
 * queue, and one timer ends the records whose time has come.
 */
import type { Clock, TimerHandle } from './timers';

/** Records end no earlier than their time, and at most this much after it: one timer serves many. */
export const SWEEP_EVERY_MS = 100;

interface Entry<V> {
  readonly key: string;
  readonly value: V;
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

export class LingerTable<V> {
  private readonly byKey = new Map<string, Entry<V>>();
  /** By linger time, each queue in the order its records end. */
  private readonly queues = new Map<number, Queue<Entry<V>>>();
  private timer: TimerHandle | undefined;
  private timerAt = Infinity;

  /** `ended` hears of every record that ends, by its time or evicted. */
  constructor(
    private readonly clock: Clock,
    private readonly ended?: (key: string, value: V) => void,
  ) {}

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): V | undefined {
    return this.byKey.get(key)?.value;
  }

  add(key: string, value: V, lingerMs: number): void {
    const record: Entry<V> = { key, value, until: this.clock.now() + lingerMs };
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
    let first: Queue<Entry<V>> | undefined;
    for (const queue of this.queues.values()) {
      this.dropStale(queue);
      const head = queue.peek();
      if (head && (!first || head.until < (first.peek()?.until ?? Infinity))) first = queue;
    }
    const record = first?.shift();
    if (!record) return false;
    this.byKey.delete(record.key);
    this.ended?.(record.key, record.value);
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
        if (this.byKey.get(head.key) !== head) continue;
        this.byKey.delete(head.key);
        this.ended?.(head.key, head.value);
      }
      const head = queue.peek();
      if (head) next = Math.min(next, head.until);
      else this.queues.delete(lingerMs);
    }
    if (next < Infinity) this.wakeAt(Math.max(next, now + SWEEP_EVERY_MS));
  }

  /** Records evicted earlier leave their place in the queue; they are passed over here. */
  private dropStale(queue: Queue<Entry<V>>): void {
    for (let head = queue.peek(); head !== undefined && this.byKey.get(head.key) !== head; head = queue.peek()) queue.shift();
  }

  private wakeAt(at: number): void {
    if (at >= this.timerAt) return;
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.clock.schedule(Math.max(0, at - this.clock.now()), () => this.sweep());
  }
}
