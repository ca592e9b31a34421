/**
 * Calls kept across a reload of the web phone. A browser cannot carry a WebRTC session over a page load, so the
 * page that goes away does not hang its calls up: it writes each answered call's dialog (Call-ID and both tags,
 * RFC 3261 §12) and whom it was with into the tab's sessionStorage, and the PBX keeps the other party on music on
 * hold for a grace (server/calls REJOIN_GRACE_MS). The page that loads next, once registered, rejoins each call
 * with an INVITE whose Replaces header (RFC 3891) names the old dialog, and shows the same party again.
 *
 * A call the user had on hold is kept as held and comes back held, so a reload never bridges a held party back to
 * the room. The calls are kept with the account they belong to (the PBX and the user's SIP address): a different
 * user who signs in on the same tab within the grace gets nothing of them.
 *
 * What is read back is checked field by field: sessionStorage is the page's own, but a stale or hand-edited
 * entry must not place odd calls. Entries older than the PBX's grace are dropped, as the PBX has ended those calls.
 */
import type { CallDirection, PhoneAccount, RemoteParty } from './engine';

export const KEPT_CALLS_KEY = 'offhook.keptCalls';
/**
 * How long the PBX waits for an app to come back: this mirrors server/calls REJOIN_GRACE_MS (15 s), and the two
 * change together. It is not read from the PBX because nothing carries it to the app (the session answer has no
 * such field, and the renderer cannot import server/); erring either way costs little: too short and a late page
 * does not try, too long and the PBX answers the Replaces with 481 and the card says the call ended.
 */
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
  /** The user had put the call on hold (or was putting it on hold): it comes back held. */
  held: boolean;
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

/** Writes the calls to keep with the account they belong to (nothing, and any older entry cleared, when there are none). */
export function saveKeptCalls(storage: KeptCallStorage, account: PhoneAccount, calls: readonly KeptCall[]): void {
  if (calls.length === 0) storage.removeItem(KEPT_CALLS_KEY);
  else storage.setItem(KEPT_CALLS_KEY, JSON.stringify({ account: { server: account.server, uri: account.uri }, calls }));
}

/** Forgets any kept calls (sign-out: the calls are over, and the next user must not see them). */
export function clearKeptCalls(storage: KeptCallStorage): void {
  storage.removeItem(KEPT_CALLS_KEY);
}

/**
 * Reads the kept calls of `account` still young enough to rejoin, and clears them: each is rejoined once at most.
 * Calls another account kept are dropped unread.
 */
export function takeKeptCalls(storage: KeptCallStorage, account: PhoneAccount, now: number, maxAgeMs = KEPT_CALL_MAX_AGE_MS): KeptCall[] {
  const raw = storage.getItem(KEPT_CALLS_KEY);
  if (raw === null) return [];
  storage.removeItem(KEPT_CALLS_KEY);
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return [];
  }
  if (typeof parsed !== 'object' || parsed === null) return [];
  const { account: owner, calls } = parsed as { account?: unknown; calls?: unknown };
  if (!isAccount(owner) || owner.server !== account.server || owner.uri !== account.uri || !Array.isArray(calls)) return [];
  return calls.filter((entry): entry is KeptCall => isKeptCall(entry) && now - entry.savedAt >= 0 && now - entry.savedAt <= maxAgeMs);
}

function isAccount(value: unknown): value is PhoneAccount {
  if (typeof value !== 'object' || value === null) return false;
  const { server, uri } = value as Record<string, unknown>;
  return typeof server === 'string' && typeof uri === 'string';
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
    typeof entry.held === 'boolean' &&
    typeof entry.savedAt === 'number'
  );
}
