/**
 * Bounded and fair scrypt work for sign-in. Each password check is an scrypt run on libuv's thread pool, which
 * file system, DNS and zlib work share; left alone, parallel guesses fill every thread and a legitimate sign-in
 * waits behind all of them (the issue measured 0.17 s becoming 1.9 s). Checks go through this pool instead:
 *
 * - at most `concurrency` run at once; by default the thread pool's size less one, so one thread is left for
 *   everything else;
 * - waiting checks are served fairly by source address, by start-time fair queueing: a check's tag is the larger
 *   of the pool's virtual time (the tag of the check started last) and one more than its source's previous tag,
 *   and the smallest tag starts next, the earliest among equals. An address with nothing queued therefore starts
 *   next, however many checks another address has queued; many addresses with one check each take turns;
 * - a priority check (a known device of the account, attempt-limiter.ts) goes before every other;
 * - at most `maxQueuedPerSource` checks wait per address and `maxQueued` in all: beyond that a check is refused
 *   at once (PasswordPoolFullError), and the caller answers 429 or 503, rather than let the queue and the wait grow.
 */
import { createLogger } from '../log';

const log = createLogger('password-pool');

/** libuv's thread pool size: UV_THREADPOOL_SIZE when set (libuv takes 1 to 1024), else its default of 4. */
export function threadPoolSize(env: NodeJS.ProcessEnv = process.env): number {
  const size = Number(env.UV_THREADPOOL_SIZE);
  return Number.isInteger(size) && size >= 1 ? Math.min(size, 1024) : 4;
}

export interface PasswordPoolOptions {
  /** Checks run at once. */
  concurrency: number;
  /** Checks waiting, in all, beyond which a new one is refused. */
  maxQueued: number;
  /** Checks waiting from one address beyond which its next is refused. */
  maxQueuedPerSource: number;
}

export const DEFAULT_PASSWORD_POOL_OPTIONS: PasswordPoolOptions = {
  concurrency: Math.max(1, threadPoolSize() - 1),
  maxQueued: 64,
  maxQueuedPerSource: 4,
};

/** A check refused because the queue was full: its address's share (`source`) or the whole (`pool`). */
export class PasswordPoolFullError extends Error {
  constructor(readonly scope: 'source' | 'pool') {
    super(scope === 'source' ? 'too many password checks queued from this address' : 'too many password checks queued');
    this.name = 'PasswordPoolFullError';
  }
}

interface Job {
  source: string;
  tag: number;
  /** Arrival order, the tie-break among equal tags. */
  seq: number;
  priority: boolean;
  start: () => void;
}

export class PasswordPool {
  readonly options: PasswordPoolOptions;
  private running = 0;
  private virtualTime = 0;
  private seq = 0;
  /** At most maxQueued entries, so a linear search for the next is cheap. */
  private readonly waiting: Job[] = [];
  private readonly waitingBySource = new Map<string, number>();
  private readonly runningBySource = new Map<string, number>();
  /** The tag of each address's latest check, while it has checks running or waiting. */
  private readonly lastTag = new Map<string, number>();

  constructor(options: Partial<PasswordPoolOptions> = {}) {
    this.options = { ...DEFAULT_PASSWORD_POOL_OPTIONS, ...options };
    for (const [name, value] of Object.entries(this.options)) {
      if (!(Number.isInteger(value) && value >= 1)) throw new Error(`password pool option ${name} must be a whole number of at least 1, got ${value}`);
    }
  }

  /** Checks running now. */
  get active(): number {
    return this.running;
  }

  /** Checks waiting now. */
  get queued(): number {
    return this.waiting.length;
  }

  /**
   * Runs `work` (one password check) when its turn comes. Rejects at once with PasswordPoolFullError when the
   * queue has no room; otherwise settles as `work` does.
   */
  run<T>(source: string, work: () => Promise<T>, { priority = false } = {}): Promise<T> {
    const queuedHere = this.waitingBySource.get(source) ?? 0;
    const mustWait = this.running >= this.options.concurrency || this.waiting.length > 0;
    if (mustWait && queuedHere >= this.options.maxQueuedPerSource) return Promise.reject(new PasswordPoolFullError('source'));
    if (mustWait && !priority && this.waiting.length >= this.options.maxQueued) return Promise.reject(new PasswordPoolFullError('pool'));
    return new Promise<T>((resolve, reject) => {
      const previous = this.lastTag.get(source);
      const tag = Math.max(this.virtualTime, previous === undefined ? -Infinity : previous + 1);
      this.lastTag.set(source, tag);
      const job: Job = {
        source,
        tag,
        seq: this.seq++,
        priority,
        start: () => {
          this.running += 1;
          this.runningBySource.set(source, (this.runningBySource.get(source) ?? 0) + 1);
          Promise.resolve()
            .then(work)
            .then(resolve, reject)
            .finally(() => {
              this.running -= 1;
              const still = (this.runningBySource.get(source) ?? 1) - 1;
              if (still > 0) this.runningBySource.set(source, still);
              else this.runningBySource.delete(source);
              // With nothing of its own running or waiting, a source's tag can no longer put it behind anyone
              // (a newcomer's tag is the virtual time), so it is forgotten: one entry per busy source, no more.
              if (still <= 0 && !this.waitingBySource.has(source)) this.lastTag.delete(source);
              this.pump();
            });
        },
      };
      this.waiting.push(job);
      this.waitingBySource.set(source, queuedHere + 1);
      this.pump();
    });
  }

  private pump(): void {
    while (this.running < this.options.concurrency && this.waiting.length > 0) {
      const at = this.nextIndex();
      const [job] = this.waiting.splice(at, 1);
      if (!job) return;
      const left = (this.waitingBySource.get(job.source) ?? 1) - 1;
      if (left <= 0) this.waitingBySource.delete(job.source);
      else this.waitingBySource.set(job.source, left);
      this.virtualTime = Math.max(this.virtualTime, job.tag);
      if (this.waiting.length > 0) log.debug('password check starts with others waiting', { source: job.source, waiting: this.waiting.length });
      job.start();
    }
  }

  private nextIndex(): number {
    let best = 0;
    for (let i = 1; i < this.waiting.length; i++) {
      const a = this.waiting[i];
      const b = this.waiting[best];
      if (!a || !b) continue;
      const earlier = a.priority !== b.priority ? a.priority : a.tag !== b.tag ? a.tag < b.tag : a.seq < b.seq;
      if (earlier) best = i;
    }
    return best;
  }

  /** Sources whose latest tag is remembered: those with checks running or waiting (tests). */
  get rememberedSources(): number {
    return this.lastTag.size;
  }
}
