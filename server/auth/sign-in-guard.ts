/**
 * The REST front door to the password-guessing limits: sign-in (POST /session) asks the attempt limiter
 * (attempt-limiter.ts, the same one SIP digest authentication asks) before any password is checked, and runs
 * the scrypt of the check in the password pool (password-pool.ts). A refused sign-in costs no scrypt; a known
 * device (an address that signed in or registered as the account before) is served ahead of other checks.
 */
import { createLogger } from '../log';
import { AttemptLimiter } from './attempt-limiter';
import type { RefusalReason } from './attempt-limiter';
import { verifyPassword } from './password';
import type { PasswordVerifier } from './password';
import { PasswordPool, PasswordPoolFullError } from './password-pool';

const log = createLogger('sign-in-guard');

/** How long a sign-in refused for a full pool is asked to wait: the queue drains in well under a second. */
const BUSY_RETRY_AFTER_MS = 1_000;

/**
 * A sign-in refused before its password was checked: by a limit (`reason` from the limiter), or because too many
 * checks were queued from the address ('busy-source') or in all ('busy').
 */
export class SignInRefusedError extends Error {
  constructor(
    readonly reason: RefusalReason | 'busy-source' | 'busy',
    readonly retryAfterMs: number,
  ) {
    super(`sign-in refused (${reason}), retry after ${retryAfterMs} ms`);
    this.name = 'SignInRefusedError';
  }
}

export class SignInGuard {
  constructor(
    readonly attempts: AttemptLimiter = new AttemptLimiter(),
    readonly pool: PasswordPool = new PasswordPool(),
  ) {}

  /**
   * Runs `check` (which verifies the password through the verifier it is given) if the limits allow, and counts
   * its outcome: a user is a success, undefined a failure. Throws SignInRefusedError when refused unchecked.
   */
  async authenticate<T>(source: string, account: string, check: (verify: PasswordVerifier) => Promise<T | undefined>): Promise<T | undefined> {
    const admission = this.attempts.admit({ source, account });
    if (!admission.admitted) {
      log.info('sign-in refused unchecked', { source, reason: admission.reason });
      throw new SignInRefusedError(admission.reason, admission.retryAfterMs);
    }
    const priority = this.attempts.isKnownDevice(source, account);
    const verify: PasswordVerifier = (password, encoded) => this.pool.run(source, () => verifyPassword(password, encoded), { priority });
    let user: T | undefined;
    try {
      user = await check(verify);
    } catch (error) {
      this.attempts.abandoned(admission.ticket);
      if (error instanceof PasswordPoolFullError) {
        log.info('sign-in refused: password checks queued to the limit', { source, scope: error.scope });
        throw new SignInRefusedError(error.scope === 'source' ? 'busy-source' : 'busy', BUSY_RETRY_AFTER_MS);
      }
      throw error;
    }
    if (user === undefined) this.attempts.failed(admission.ticket);
    else this.attempts.succeeded(admission.ticket);
    return user;
  }
}

const shared = new WeakMap<AttemptLimiter, SignInGuard>();

/**
 * The one guard for a limiter, made on first use: the HTTP and HTTPS apps of one PBX share it, and so its pool,
 * as they share libuv's threads.
 */
export function sharedSignInGuard(attempts: AttemptLimiter): SignInGuard {
  let guard = shared.get(attempts);
  if (!guard) {
    guard = new SignInGuard(attempts);
    shared.set(attempts, guard);
  }
  return guard;
}
