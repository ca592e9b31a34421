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
  /** The final response's status code, when a response ended the call (JsSIP's `message.status_code`). */
  status?: number;
  /** That response's reason phrase, which our PBX extends with the reason in words ("Forbidden - Outside calls …"). */
  reasonPhrase?: string;
  /** The Reason header of the CANCEL that ended a call to us (RFC 3326), when it had one. */
  reasonHeader?: string;
}

/** The SIP message that ended a call, as JsSIP hands it over (a response, a CANCEL, a BYE, or nothing). */
interface EndMessage {
  status_code?: unknown;
  reason_phrase?: unknown;
  method?: unknown;
  getHeader?: (name: string) => unknown;
}

/** The parts of the message that ended a call that `endReasonFor` and `endDetailFor` read. */
export function messageFacts(message: unknown): Pick<EndFacts, 'status' | 'reasonPhrase' | 'reasonHeader'> {
  if (!message || typeof message !== 'object') return {};
  const m = message as EndMessage;
  const facts: Pick<EndFacts, 'status' | 'reasonPhrase' | 'reasonHeader'> = {};
  if (typeof m.status_code === 'number') facts.status = m.status_code;
  if (typeof m.reason_phrase === 'string') facts.reasonPhrase = m.reason_phrase;
  if (m.method === 'CANCEL' && typeof m.getHeader === 'function') {
    const reason = m.getHeader('Reason');
    if (typeof reason === 'string') facts.reasonHeader = reason;
  }
  return facts;
}

/**
 * Characters that never belong in a sentence on a card: C0 and C1 controls, and the bidirectional formatting
 * characters (embeddings, overrides, isolates, marks) with which a text can show itself in another order than it reads.
 */
function isControlOrBidi(char: string): boolean {
  const code = char.charCodeAt(0);
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x061c ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/** Longest PBX wording shown on a card; a longer one is cut, since it comes from the network. */
const DETAIL_MAX = 160;

/**
 * RFC 3326 §2: `Reason: SIP ;cause=200 ;text="Call completed elsewhere"` on the CANCEL of a forked call says that
 * another of the user's devices answered it (RFC 3261 §16.7 has the proxy cancel the others). The header may list
 * several protocols' reasons, comma-separated; only the SIP one counts.
 */
export function isCompletedElsewhere(reasonHeader: string | undefined): boolean {
  if (!reasonHeader) return false;
  return splitOutsideQuotes(reasonHeader, ',').some((value) => {
    const [protocol = '', ...params] = splitOutsideQuotes(value, ';').map((part) => part.trim());
    if (protocol.toUpperCase() !== 'SIP') return false;
    return params.some((param) => /^cause\s*=\s*200$/i.test(param));
  });
}

function splitOutsideQuotes(text: string, separator: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (char === '\\' && quoted) {
      current += char + (text[i + 1] ?? '');
      i += 1;
      continue;
    }
    if (char === '"') quoted = !quoted;
    if (char === separator && !quoted) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

/**
 * What the PBX said about a refusal beyond the status: our PBX writes it after " - " in the reason phrase
 * ("Forbidden - Outside calls are not allowed for this extension"). Only a 403 carries the PBX's own words (its
 * refusals: the dial policy and the like); every other status may have come from a device of the person called, and
 * the PBX gives those the standard phrase (server/calls/fork-response.ts), so detail in them is not shown either.
 * A bare standard phrase says nothing more.
 */
export function endDetailFor({ event, originator, status, reasonPhrase }: EndFacts): string | undefined {
  if (event !== 'failed' || originator !== 'remote' || status !== 403 || !reasonPhrase) return undefined;
  const separator = reasonPhrase.indexOf(' - ');
  if (separator < 0) return undefined;
  // Control and bidi characters never belong on screen, whatever came over the network.
  const text = [...reasonPhrase.slice(separator + 3)]
    .map((char) => (isControlOrBidi(char) ? ' ' : char))
    .join('')
    .trim();
  if (!text) return undefined;
  return text.length > DETAIL_MAX ? `${text.slice(0, DETAIL_MAX - 1)}…` : text;
}

/** Why a call ended, in our terms, from what JsSIP tells us about its end. */
export function endReasonFor({ event, originator, cause, direction, status, reasonHeader }: EndFacts): EndReason {
  if (event === 'ended') {
    if (cause === C.causes.BYE) return originator === 'local' ? 'hung-up-local' : 'hung-up-remote';
    // RTP timeout, a lost connection, a missing ACK: the call dropped, nobody hung up.
    return 'failed';
  }
  switch (cause) {
    case C.causes.CANCELED:
      // We cancel our own calls; a call to us that the caller gives up on is one we missed, unless the PBX
      // cancelled it because the user answered on another device.
      if (direction !== 'incoming') return 'cancelled';
      return isCompletedElsewhere(reasonHeader) ? 'answered-elsewhere' : 'missed';
    case C.causes.NO_ANSWER:
      return direction === 'incoming' ? 'missed' : 'unavailable';
    case C.causes.REJECTED:
      // JsSIP files 403 Forbidden with 603 Decline; only 603 is a person's choice (RFC 3261 §21.6.2), a 403 is
      // the phone system's rule (§21.4.4).
      return originator === 'remote' && status === 403 ? 'refused' : 'declined';
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
