/**
 * Staying signed in across a reload or a restart: the session kept through the bridge (server and token) is
 * renewed at start, which answers what a sign-in answers (the SIP password is derived from the token, so it is the
 * same one). Three ways it can go:
 *
 * - renewed: the phone starts as after a sign-in (`started`, with `resumed: true`);
 * - over (401, or a server that cannot renew): the kept session is forgotten and the sign-in form says why;
 * - not now (no network, the server down or busy): the token is kept and tried again later, waiting longer each
 *   time, and `notice` says so meanwhile. A sign-in or a sign-out in between cancels it.
 */
import { ref } from 'vue';
import type { SessionResponse } from '../../../shared/api';
import type { KeptSession, OffhookBridge } from '../../../shared/bridge';
import { normalizeServerUrl, renewSession, RequestError } from '../../api/client';
import { createLogger } from '../../log';

const log = createLogger('resume');

/** How the phone came to start: after a sign-in, or with a kept session renewed (`resumed`). */
export interface PhoneStart {
  session: SessionResponse;
  serverUrl: string;
  resumed: boolean;
}

export interface ResumeClock {
  setTimeout(run: () => void, ms: number): unknown;
  clearTimeout(timer: unknown): void;
}

export interface ResumerDeps {
  bridge(): Pick<OffhookBridge, 'getKeptSession' | 'forgetSession'>;
  started(start: PhoneStart): void;
  /** The kept session is over: the sign-in form shows `message`. */
  ended(message: string): void;
  renew?: typeof renewSession;
  clock?: ResumeClock;
}

export interface ResumeOptions {
  /** What must be ready before the phone starts (the settings it reads); awaited beside the renewal, not before it. */
  ready?: Promise<unknown>;
}

/**
 * How long the first renewal at start may take. The first route waits for it, so the window stays blank meanwhile: a
 * server that does not answer gets the sign-in form with the notice after this, not after the client's 15 s, and
 * the retries that follow go on with the usual timeout.
 */
export const START_RENEW_TIMEOUT_MS = 3_000;
/** How long the bridge may take to read the kept session at start before the app goes on without it. */
export const KEPT_SESSION_READ_TIMEOUT_MS = 3_000;

const FIRST_RETRY_MS = 2_000;
const LAST_RETRY_MS = 60_000;

/** 2, 4, 8 … seconds, then once a minute: never a tight loop against a server that is down. */
export function resumeRetryDelayMs(attempt: number): number {
  return Math.min(LAST_RETRY_MS, FIRST_RETRY_MS * 2 ** Math.max(0, attempt - 1));
}

const browserClock: ResumeClock = {
  setTimeout: (run, ms) => globalThis.setTimeout(run, ms),
  clearTimeout: (timer) => globalThis.clearTimeout(timer as ReturnType<typeof setTimeout>),
};

export function createResumer(deps: ResumerDeps) {
  const renew = deps.renew ?? renewSession;
  const clock = deps.clock ?? browserClock;
  const resuming = ref(false);
  const notice = ref('');
  let firstAttempt: Promise<void> = Promise.resolve();
  let timer: unknown;
  /** Moves on every resume and cancel, so that the answer of a renewal no longer wanted is dropped. */
  let generation = 0;

  function cancel(): void {
    generation++;
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    resuming.value = false;
    notice.value = '';
  }

  /**
   * Renews the kept session, if there is one, and starts the phone with it. Resolves once the first attempt is
   * settled (started, over, or waiting to try again), which is what the first route waits for.
   */
  function resume(options: ResumeOptions = {}): Promise<void> {
    cancel();
    const run = generation;
    firstAttempt = (async () => {
      const kept = await readKeptSession();
      if (!kept || run !== generation) return;
      resuming.value = true;
      await attempt(kept.serverUrl, kept.token, 1, run, options.ready);
    })();
    return firstAttempt;
  }

  /** The kept session, or null when there is none, it cannot be read, or the bridge does not answer in time. */
  async function readKeptSession(): Promise<KeptSession | null> {
    let guard: unknown;
    const tooSlow = new Promise<null>((resolve) => {
      guard = clock.setTimeout(() => {
        log.warn('reading the kept session took too long; going on without it');
        resolve(null);
      }, KEPT_SESSION_READ_TIMEOUT_MS);
    });
    const read = deps
      .bridge()
      .getKeptSession()
      .catch((error: unknown) => {
        log.warn('could not read the kept session', { error: String(error) });
        return null;
      });
    try {
      return await Promise.race([read, tooSlow]);
    } finally {
      clock.clearTimeout(guard);
    }
  }

  async function attempt(server: string, token: string, count: number, run: number, ready: Promise<unknown> | undefined): Promise<void> {
    timer = undefined;
    try {
      const session = await renew(server, token, count === 1 ? { timeoutMs: START_RENEW_TIMEOUT_MS } : {});
      await ready;
      if (run !== generation) return;
      resuming.value = false;
      notice.value = '';
      log.info('signed back in with the kept session', { server, extension: session.user.extension, attempt: count });
      deps.started({ session, serverUrl: normalizeServerUrl(server), resumed: true });
    } catch (error) {
      if (run !== generation) return;
      if (error instanceof RequestError && !error.signedOut) {
        const delay = resumeRetryDelayMs(count);
        notice.value = `${error.message} Trying again in ${Math.round(delay / 1000)} seconds.`;
        log.info('could not renew the kept session; trying again later', { attempt: count, delayMs: delay });
        timer = clock.setTimeout(() => void attempt(server, token, count + 1, run, ready), delay);
        return;
      }
      resuming.value = false;
      notice.value = '';
      log.info('the kept session is over', { error: error instanceof Error ? error.message : String(error) });
      await deps
        .bridge()
        .forgetSession()
        .catch((failure: unknown) => log.warn('could not forget the kept session', { error: String(failure) }));
      if (run !== generation) return;
      deps.ended(error instanceof RequestError ? error.message : 'Sign in to continue.');
    }
  }

  return {
    resuming,
    notice,
    resume,
    cancel,
    untilFirstAttempt: (): Promise<void> => firstAttempt,
  };
}

/** How often a running app renews its session, so that an app left open all day (and for days) stays signed in. */
export const KEEP_ALIVE_MS = 60 * 60 * 1000;

export interface SessionKeeperDeps {
  /** The session is over (signed out elsewhere, expired, at its maximum lifetime): `message` says so. */
  ended(message: string): void;
  /** The session now ends at `expiresAt`. */
  renewed(expiresAt: string): void;
  renew?: typeof renewSession;
  clock?: ResumeClock;
}

/**
 * Keeps a running app's session alive: renews it every KEEP_ALIVE_MS while signed in. The SIP password does not
 * change with a renewal, so the phone's registration goes on untouched. A server that cannot be reached is tried
 * again at the next turn; only the server saying the session is over ends it.
 */
export function createSessionKeeper(deps: SessionKeeperDeps) {
  const renew = deps.renew ?? renewSession;
  const clock = deps.clock ?? browserClock;
  let timer: unknown;
  let generation = 0;

  function stop(): void {
    generation++;
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
  }

  function start(server: string, token: string): void {
    stop();
    const run = generation;
    const turn = async (): Promise<void> => {
      timer = undefined;
      try {
        const session = await renew(server, token);
        if (run !== generation) return;
        deps.renewed(session.expiresAt);
      } catch (error) {
        if (run !== generation) return;
        if (error instanceof RequestError && error.signedOut) {
          log.info('the session is over', { error: error.message });
          stop();
          deps.ended(error.message);
          return;
        }
        log.info('could not renew the session; trying again later', { error: error instanceof Error ? error.message : String(error) });
      }
      if (run === generation) timer = clock.setTimeout(() => void turn(), KEEP_ALIVE_MS);
    };
    timer = clock.setTimeout(() => void turn(), KEEP_ALIVE_MS);
  }

  return { start, stop };
}
