/**
 * Housekeeping of sign-in sessions: expired ones are deleted once when the PBX starts and then every
 * interval. An expired session is never honoured (every read compares its expiry), so this only keeps the
 * table from growing with every sign-in that was never signed out; a purge that fails is logged and the
 * next one tries again.
 */
import type { Kysely } from 'kysely';
import { createLogger } from '../log';
import type { Database } from './schema';
import { purgeExpiredSessions } from './sessions';

const log = createLogger('store');

/** Hourly: a session lasts hours, so an expired one lingers at most an hour more, at the cost of one DELETE. */
export const SESSION_PURGE_INTERVAL_MS = 60 * 60 * 1000;

export interface SessionPurgeOptions {
  /** Milliseconds between purges after the first; default SESSION_PURGE_INTERVAL_MS. */
  intervalMs?: number;
}

export interface SessionPurge {
  /** Stops the timer; settles once a purge under way (if any) has finished, so the database may then close. */
  stop(): Promise<void>;
}

/** Purges expired sessions now (awaited) and then every `intervalMs`, on a timer that does not keep the process alive. */
export async function startSessionPurge(db: Kysely<Database>, { intervalMs = SESSION_PURGE_INTERVAL_MS }: SessionPurgeOptions = {}): Promise<SessionPurge> {
  if (!(Number.isFinite(intervalMs) && intervalMs > 0)) throw new Error(`the session purge interval must be a positive number of milliseconds, got ${intervalMs}`);
  let running: Promise<void> | undefined;
  const purge = (): Promise<void> => {
    running ??= purgeExpiredSessions(db)
      .then(
        () => undefined,
        (error: unknown) => log.warn('could not purge expired sessions; trying again later', { error: error instanceof Error ? error.message : String(error) }),
      )
      .finally(() => {
        running = undefined;
      });
    return running;
  };
  await purge();
  const timer = setInterval(() => void purge(), intervalMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
