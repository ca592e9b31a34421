/**
 * The PBX's heartbeat: every few seconds one UPDATE records that it is alive. A process that is killed or
 * loses power writes nothing on its way out, so at the next start the last heartbeat is the best word on when
 * it stopped: the calls it left up (active-calls.ts) are recorded as ended then.
 */
import type { Kysely } from 'kysely';
import { createLogger } from '../log';
import type { Database } from './schema';

const log = createLogger('store');

/**
 * Seconds between heartbeats: how far a crashed call's recorded end may fall before the real one. Each is one
 * row rewritten, nothing to a disk at this pace.
 */
export const DEFAULT_HEARTBEAT_S = 5;

/** Records `at` as the time the PBX was last alive. */
export async function writeHeartbeat(db: Kysely<Database>, at: Date): Promise<void> {
  const alive = at.toISOString();
  await db
    .insertInto('heartbeat')
    .values({ id: 1, alive_at: alive })
    .onConflict((conflict) => conflict.column('id').doUpdateSet({ alive_at: alive }))
    .execute();
}

/** When the PBX was last alive, if it ever said. */
export async function readHeartbeat(db: Kysely<Database>): Promise<string | undefined> {
  const row = await db.selectFrom('heartbeat').select('alive_at').where('id', '=', 1).executeTakeFirst();
  return row?.alive_at;
}

export interface HeartbeatOptions {
  intervalMs: number;
  /** Runs before each beat is written: what else should be brought up to date as often (the calls' legs). */
  onBeat?: () => void;
  now?: () => Date;
}

export class Heartbeat {
  private readonly timer: NodeJS.Timeout;
  private writing: Promise<void> | undefined;

  private constructor(
    private readonly db: Kysely<Database>,
    private readonly options: HeartbeatOptions,
  ) {
    this.timer = setInterval(() => this.beat(), options.intervalMs);
    this.timer.unref();
  }

  /** Writes the first beat, then one every `intervalMs`. Start it only once what a crash left has been read. */
  static async start(db: Kysely<Database>, options: HeartbeatOptions): Promise<Heartbeat> {
    log.debug('heartbeat starts', { intervalMs: options.intervalMs });
    await writeHeartbeat(db, (options.now ?? (() => new Date()))());
    return new Heartbeat(db, options);
  }

  /** Stops beating, once the beat being written (if any) is in. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.writing;
  }

  private beat(): void {
    // A beat that has not finished (a disk that stalls) is not queued behind by another.
    if (this.writing) return;
    try {
      this.options.onBeat?.();
    } catch (error) {
      log.error('heartbeat task failed', { error });
    }
    this.writing = writeHeartbeat(this.db, (this.options.now ?? (() => new Date()))())
      .catch((error: unknown) => log.warn('could not write the heartbeat', { error }))
      .finally(() => (this.writing = undefined));
  }
}
