/**
 * Calls kept across a reload of the web phone. A browser cannot carry a WebRTC session over a page load, so the
 * page that goes away does not hang its calls up: it writes each answered call's dialog (Call-ID and both tags,
 * RFC 3261 §12) and whom it was with into the tab's sessionStorage, and the PBX keeps the other party on music on
 * hold for a grace (server/calls REJOIN_GRACE_MS). The page that loads next, once registered, rejoins each call
 * with an INVITE whose Replaces header (RFC 3891) names the old dialog, and shows the same party again.
 *
 * What is read back is checked field by field: sessionStorage is the page's own, but a stale or hand-edited
 * entry must not place odd calls. Entries older than the PBX's grace are dropped, as the PBX has ended those calls.
 */
import type { CallDirection, RemoteParty } from './engine';

export const KEPT_CALLS_KEY = 'offhook.keptCalls';
/** The PBX waits 15 s for an app to come back (server/calls REJOIN_GRACE_MS); later, the call is gone. */
export const KEPT_CALL_MAX_AGE_MS = 15_000;

export interface KeptCall {
  /** The dialog as this app knew it: the SIP Call-ID and its own and the PBX's tags. */
  sipCallId: string;
  localTag: string;
  remoteTag: string;
  direction: CallDirection;
  remote: RemoteParty;
  /** When the call was answered, so its timer goes on counting from there. */
  answeredAt: number;
  /** When the page that had it went away. */
  savedAt: number;
}

/** The part of the Web Storage API used here; tests hand in a map. */
export interface KeptCallStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** The Replaces header value (RFC 3891 §6.1) that names a kept call's dialog. */
export function replacesHeader(call: KeptCall): string {
  return `${call.sipCallId};to-tag=${call.remoteTag};from-tag=${call.localTag}`;
}

/** Writes the calls to keep (nothing, and any older entry cleared, when there are none). */
export function saveKeptCalls(storage: KeptCallStorage, calls: readonly KeptCall[]): void {
  if (calls.length === 0) storage.removeItem(KEPT_CALLS_KEY);
  else storage.setItem(KEPT_CALLS_KEY, JSON.stringify(calls));
}

/** Reads the kept calls still young enough to rejoin, and clears them: each is rejoined once at most. */
export function takeKeptCalls(storage: KeptCallStorage, now: number, maxAgeMs = KEPT_CALL_MAX_AGE_MS): KeptCall[] {
  const raw = storage.getItem(KEPT_CALLS_KEY);
  if (raw === null) return [];
  storage.removeItem(KEPT_CALLS_KEY);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(parsed)) return [];
  return parsed.filter((entry): entry is KeptCall => isKeptCall(entry) && now - entry.savedAt >= 0 && now - entry.savedAt <= maxAgeMs);
}

/** SIP tokens (RFC 3261 §25.1) and Call-IDs: what may go into a header without changing its meaning. */
const WORD = /^[A-Za-z0-9\-.!%*_+`'~()<>:\\"/[\]?{}@]{1,128}$/;

/** A number or extension to address the INVITE to: no spaces or separators that would make it another URI. */
const NUMBER = /^[^\s;,<>@:]{0,64}$/;

function isKeptCall(value: unknown): value is KeptCall {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  const remote = entry.remote as Record<string, unknown> | undefined;
  return (
    typeof entry.sipCallId === 'string' &&
    WORD.test(entry.sipCallId) &&
    typeof entry.localTag === 'string' &&
    WORD.test(entry.localTag) &&
    typeof entry.remoteTag === 'string' &&
    WORD.test(entry.remoteTag) &&
    (entry.direction === 'incoming' || entry.direction === 'outgoing') &&
    typeof remote === 'object' &&
    remote !== null &&
    typeof remote.name === 'string' &&
    typeof remote.number === 'string' &&
    NUMBER.test(remote.number) &&
    typeof entry.answeredAt === 'number' &&
    typeof entry.savedAt === 'number'
  );
}
