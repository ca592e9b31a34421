/** How calls read on screen: durations, end reasons, the other party. */
import type { EndReason } from './call-state';
import type { CallNotice, CallSnapshot, RemoteParty } from './engine';

export const END_REASON_LABELS: Record<EndReason, string> = {
  'hung-up-local': 'Call ended',
  'hung-up-remote': 'Call ended',
  declined: 'Call declined',
  cancelled: 'Call cancelled',
  missed: 'Missed call',
  busy: 'Line busy',
  unavailable: 'Not available',
  failed: 'Call failed',
  'not-found': 'Number not found',
  refused: 'Call not allowed',
  'answered-elsewhere': 'Answered on another device',
};

/**
 * How an ended call's card says it ended: the PBX's own sentence when it gave one ("Outside calls are not allowed
 * for this extension."), else the reason's label.
 */
export function endOutcome(call: Pick<CallSnapshot, 'endReason' | 'endDetail'>): string {
  if (!call.endReason) return '';
  const detail = call.endDetail?.trim();
  if (detail) return /[.!?…]$/.test(detail) ? detail : `${detail}.`;
  return END_REASON_LABELS[call.endReason];
}

/** `m:ss` is hard to scan in a column of cards, so minutes are always two digits; hours appear when needed. */
export function formatDuration(milliseconds: number): string {
  const total = Math.max(0, Math.floor(milliseconds / 1000));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const seconds = total % 60;
  const mmss = `${String(minutes).padStart(2, '0')}:${String(seconds).padStart(2, '0')}`;
  return hours > 0 ? `${hours}:${mmss}` : mmss;
}

/** What went wrong with an in-call option, said on the call's card. */
export const CALL_NOTICE_LABELS: Record<CallNotice, string> = {
  'hold-failed': "Couldn't put the call on hold",
  'resume-failed': "Couldn't take the call off hold",
  'dtmf-failed': "Couldn't send the key press",
};

/** The line a card leads with: the name when the PBX sends one, else the number. */
export function partyTitle(remote: RemoteParty): string {
  return remote.name.trim() || remote.number || 'Unknown caller';
}

/** The second line of a card: the number, when the title is the name. */
export function partyDetail(remote: RemoteParty): string | undefined {
  const name = remote.name.trim();
  return name && remote.number && name !== remote.number ? remote.number : undefined;
}

/**
 * The accessible name of a call's card, which says what kind of call it is now; tests and screen readers find
 * cards by it ("Incoming call", "Active call").
 */
export function cardLabel(call: Pick<CallSnapshot, 'state' | 'direction'>): string {
  switch (call.state) {
    case 'ringing-in':
      return 'Incoming call';
    case 'idle':
    case 'dialing':
    case 'ringing-out':
      return call.direction === 'incoming' ? 'Incoming call' : 'Outgoing call';
    case 'connecting':
      return 'Connecting call';
    case 'active':
    case 'holding':
      return 'Active call';
    case 'held':
    case 'resuming':
      return 'Held call';
    case 'ended':
      return 'Ended call';
  }
}
