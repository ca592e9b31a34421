/**
 * What a sign-in refused before its password was checked (auth/sign-in-guard.ts) looks like over HTTP: 429 Too
 * Many Requests for a limit the caller ran into, 503 when the server's password checks are queued to the limit,
 * each with Retry-After (RFC 9110 §10.2.3, RFC 6585 §4) and a sentence a person can act on.
 */
import { SignInRefusedError } from '../auth/sign-in-guard';
import { HttpError } from './errors';

function wait(ms: number): string {
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  if (seconds < 90) return `${seconds} second${seconds === 1 ? '' : 's'}`;
  return `${Math.ceil(seconds / 60)} minutes`;
}

/** Turns a SignInRefusedError into the HTTP error to answer with; anything else is thrown on as it is. */
export function signInRefusal(error: unknown): never {
  if (!(error instanceof SignInRefusedError)) throw error;
  const retryAfter = { 'Retry-After': `${Math.max(1, Math.ceil(error.retryAfterMs / 1000))}` };
  const later = wait(error.retryAfterMs);
  switch (error.reason) {
    case 'pair':
    case 'account':
      throw new HttpError(429, 'too_many_attempts', `Too many failed sign-ins for this extension. Try again in ${later}.`, undefined, retryAfter);
    case 'address':
      throw new HttpError(429, 'too_many_attempts', `Too many failed sign-ins from your network. Try again in ${later}.`, undefined, retryAfter);
    case 'busy-source':
      throw new HttpError(429, 'too_many_attempts', `Too many sign-ins at once from your network. Try again in ${later}.`, undefined, retryAfter);
    case 'busy':
      throw new HttpError(503, 'busy', `The server is busy checking other sign-ins. Try again in ${later}.`, undefined, retryAfter);
  }
}
