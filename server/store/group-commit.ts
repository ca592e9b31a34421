/**
 * Group commit: writes queued within a short window share one transaction, and each writer hears that its
 * write is durable once that transaction has committed. With SQLite in WAL mode a commit appends every page
 * the transaction touched to the log, so a batch of fifty rows costs little more than one row alone, and
 * the PBX can store every registration and every answered call before it acknowledges it without paying a
 * transaction each.
 *
 * Each item names how long it may wait (its window): the earliest deadline in the queue decides when the
 * batch goes. Batches run one at a time, in the order their items came. Should a batch fail, its items are
 * written one by one, so one bad item costs no other; `flush()` waits for everything queued so far.
 */
import { createLogger } from '../log';

const log = createLogger('store');

export interface GroupCommitOptions {
  /** How long an item waits, by default, for others to share its transaction. */
  windowMs: number;
  /** The most items one transaction takes; the rest go in the next. */
  maxItems: number;
}

interface Queued<T> {
  item: T;
  /** performance.now() by which its batch should start. */
  due: number;
  written(): void;
  failed(error: unknown): void;
}

export class GroupCommit<T> {
  private queue: Array<Queued<T>> = [];
  private running: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private timerDue = Infinity;

  /**
   * @param commit writes a batch in one transaction; throws to fail it.
   * @param what names the writes in log lines.
   */
  constructor(
    private readonly commit: (items: readonly T[]) => Promise<void>,
    private readonly options: GroupCommitOptions,
    private readonly what: string,
  ) {}

  /** Queues an item; resolves once it is committed, rejects if it could not be. */
  add(item: T, windowMs = this.options.windowMs): Promise<void> {
    return new Promise<void>((written, failed) => {
      const due = performance.now() + windowMs;
      this.queue.push({ item, due, written, failed });
      this.schedule(due);
    });
  }

  /** Items queued and not yet committed. */
  get pending(): number {
    return this.queue.length;
  }

  /** Resolves once everything queued so far has been written (or has failed). */
  async flush(): Promise<void> {
    while (this.running || this.queue.length > 0) await (this.running ?? this.run());
  }

  private schedule(due: number): void {
    // A batch that is running schedules the next one when it ends.
    if (this.running || this.timerDue <= due) return;
    clearTimeout(this.timer);
    this.timerDue = due;
    this.timer = setTimeout(() => void this.run(), Math.max(0, due - performance.now()));
  }

  private run(): Promise<void> {
    if (this.running) return this.running;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerDue = Infinity;
    const batch = this.queue.splice(0, this.options.maxItems);
    this.running = this.write(batch).finally(() => {
      this.running = undefined;
      let due = Infinity;
      for (const queued of this.queue) due = Math.min(due, queued.due);
      if (due !== Infinity) this.schedule(due);
    });
    return this.running;
  }

  private async write(batch: Array<Queued<T>>): Promise<void> {
    if (batch.length === 0) return;
    try {
      await this.commit(batch.map((queued) => queued.item));
      for (const queued of batch) queued.written();
    } catch (error) {
      const [only] = batch;
      if (only && batch.length === 1) {
        only.failed(error);
        return;
      }
      log.warn(`${this.what}: a batch failed; writing its items one by one`, { count: batch.length, error });
      for (const queued of batch) {
        try {
          await this.commit([queued.item]);
          queued.written();
        } catch (single) {
          queued.failed(single);
        }
      }
    }
  }
}
