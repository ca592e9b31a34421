/**
 * The identifiers of a JsSIP session's dialog (RFC 3261 §12: Call-ID, local tag, remote tag), which a page that
 * reloads keeps so that the next one can name the dialog in a Replaces header (kept-calls.ts). JsSIP has them on
 * the session's dialog object without a typed accessor; they are read here, in one place, and checked.
 */
import type { RTCSession } from 'jssip/lib/RTCSession';

export interface DialogIdentifiers {
  sipCallId: string;
  localTag: string;
  remoteTag: string;
}

/** The session's confirmed dialog, or undefined when it has none (not answered yet, or ended). */
export function dialogIdentifiers(session: RTCSession): DialogIdentifiers | undefined {
  const id = (session as unknown as { _dialog?: { id?: { call_id?: unknown; local_tag?: unknown; remote_tag?: unknown } } | null })._dialog?.id;
  const { call_id: sipCallId, local_tag: localTag, remote_tag: remoteTag } = id ?? {};
  if (typeof sipCallId !== 'string' || typeof localTag !== 'string' || typeof remoteTag !== 'string') return undefined;
  if (sipCallId === '' || localTag === '' || remoteTag === '') return undefined;
  return { sipCallId, localTag, remoteTag };
}
