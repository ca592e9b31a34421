/** Why a second call (a consult call, or one added for a conference) ended, in words shared by both. */
import type { EndReason } from '../../phone/call-state';

/** Why the call to `who` ended, as a sentence; undefined when the person ended it themselves. */
export function secondCallFailure(reason: EndReason | undefined, who: string): string | undefined {
  switch (reason) {
    case 'busy':
      return `${who} is busy.`;
    case 'declined':
      return `${who} declined the call.`;
    case 'unavailable':
    case 'missed':
      return `${who} is not available.`;
    case 'not-found':
      return `No one has the number ${who}.`;
    case 'refused':
      return `The phone system did not allow the call to ${who}.`;
    case 'hung-up-remote':
      return `${who} hung up.`;
    case 'failed':
      return `The call to ${who} failed.`;
    case 'hung-up-local':
    case 'cancelled':
    case 'answered-elsewhere':
    case undefined:
      return undefined;
  }
}
