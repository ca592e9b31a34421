/**
 * Why a call ended, in our terms (`EndReason`), from the two events and the cause JsSIP reports at its end.
 */
import { C } from 'jssip';
import type { CallDirection } from '../engine';
import type { EndReason } from '../call-state';

export interface EndFacts {
  /** `ended` for a call that was established, `failed` for one that never was (JsSIP's two events). */
  event: 'ended' | 'failed';
  /** Who ended it, as JsSIP reports: `local`, `remote` or `system`. */
  originator: string;
  /** JsSIP's cause, one of `C.causes`. */
  cause: string;
  direction: CallDirection;
}

/** Why a call ended, in our terms, from what JsSIP tells us about its end. */
export function endReasonFor({ event, originator, cause, direction }: EndFacts): EndReason {
  if (event === 'ended') {
    if (cause === C.causes.BYE) return originator === 'local' ? 'hung-up-local' : 'hung-up-remote';
    // RTP timeout, a lost connection, a missing ACK: the call dropped, nobody hung up.
    return 'failed';
  }
  switch (cause) {
    case C.causes.CANCELED:
      // We cancel our own calls; a call to us that the caller gives up on is one we missed.
      return direction === 'incoming' ? 'missed' : 'cancelled';
    case C.causes.NO_ANSWER:
      return direction === 'incoming' ? 'missed' : 'unavailable';
    case C.causes.REJECTED:
      return 'declined';
    case C.causes.BUSY:
      return 'busy';
    case C.causes.UNAVAILABLE:
      return 'unavailable';
    case C.causes.NOT_FOUND:
    case C.causes.ADDRESS_INCOMPLETE:
      return 'not-found';
    default:
      return 'failed';
  }
}
