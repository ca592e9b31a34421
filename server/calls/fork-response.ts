/**
 * What a caller hears when every device of the called user has refused the PBX's INVITE.
 *
 * The PBX is a back-to-back user agent: each device answers the PBX's own request, not the caller's. Some
 * final responses describe that hop only, and relayed to the caller they would ask for something the caller
 * cannot do: a 401/407 challenge names a realm and nonce of the device (the caller would answer it with its
 * own credentials, for the wrong party, and a caller that gets a bare 401/407 without a challenge header hangs
 * in "progress"), a 3xx names contacts the PBX chose not to follow, and 400, 420, 421, 422, 423, 481, 482, 483,
 * 491 or 412 describe the PBX's request to the device. For the caller each of them means the callee cannot be
 * reached now: 480 Temporarily Unavailable (RFC 3261 §21.4.18), a final response every phone acts on.
 *
 * Among several devices the best response wins (RFC 3261 §16.7 step 6, which a forking proxy follows and the
 * PBX forks the same way): a 6xx at once, else the lowest class; within a class, the first one received,
 * except that a busy device (486) tells the caller more than an unavailable one.
 *
 * The reason phrase a device wrote is its own words (any text, in any language, possibly meant to mislead), and the
 * caller's app would show them as the PBX's: the caller hears the standard phrase of the status instead. The PBX's
 * own refusals (the dial policy's 403 and the like) never pass through here and keep the sentences it writes itself.
 */
import { reasonPhrase } from '../sip/syntax/reason-phrases';

export interface FinalResponse {
  status: number;
  reason: string;
}

/** Final responses about the PBX's request to a device rather than about the callee. */
const HOP_ONLY = new Set([400, 401, 407, 412, 420, 421, 422, 423, 481, 482, 483, 491]);

export const CALLEE_UNREACHABLE: FinalResponse = { status: 480, reason: 'Temporarily Unavailable' };

/** The response a device gave, as the caller should hear it: its status, in the standard phrase. */
export function forCaller(response: FinalResponse): FinalResponse {
  if ((response.status >= 300 && response.status < 400) || HOP_ONLY.has(response.status)) return CALLEE_UNREACHABLE;
  return { status: response.status, reason: reasonPhrase(response.status) };
}

/** The better of two failures for the caller, per RFC 3261 §16.7 step 6; `current` is undefined before the first. */
export function betterFailure(current: FinalResponse | undefined, next: FinalResponse): FinalResponse {
  if (!current) return next;
  const currentClass = Math.floor(current.status / 100);
  const nextClass = Math.floor(next.status / 100);
  if (currentClass === 6) return current;
  if (nextClass === 6) return next;
  if (nextClass !== currentClass) return nextClass < currentClass ? next : current;
  if (next.status === 486 && current.status !== 486) return next;
  return current;
}
