/**
 * Which call each call shortcut acts on, from the calls on screen: the rules of a phone with more than one call.
 * Answer and Decline take the call that has rung longest; Mute, Hold and Hang up take the call on the line. Hold
 * resumes a held call when none is on the line, and Hang up ends a call still being placed when none is.
 */
import type { CallShortcutAction } from '../../../shared/call-shortcuts';
import { CALL_SHORTCUT_ACTIONS } from '../../../shared/call-shortcuts';
import type { CallSnapshot } from '../../phone/engine';

/** What a shortcut does to which call. */
export interface ShortcutCommand {
  kind: 'answer' | 'decline' | 'toggle-mute' | 'hold' | 'resume' | 'hang-up';
  callId: string;
}

type Call = Pick<CallSnapshot, 'id' | 'state' | 'startedAt'>;

/** Oldest first, as the phone store lists them. */
function byAge(calls: readonly Call[]): Call[] {
  return [...calls].sort((a, b) => a.startedAt - b.startedAt);
}

function onLine(calls: readonly Call[]): Call | undefined {
  return calls.find((call) => call.state === 'active') ?? calls.find((call) => call.state === 'holding');
}

/** The newest call on hold: the one the person most likely means to go back to. */
function lastHeld(calls: readonly Call[]): Call | undefined {
  return [...calls].reverse().find((call) => call.state === 'held');
}

/** What `action` does now, or undefined when it applies to no call (the keys are then left to the page). */
export function commandFor(action: CallShortcutAction, calls: readonly Call[]): ShortcutCommand | undefined {
  const sorted = byAge(calls);
  const ringing = sorted.find((call) => call.state === 'ringing-in');
  const line = onLine(sorted);
  switch (action) {
    case 'answer':
      return ringing && { kind: 'answer', callId: ringing.id };
    case 'decline':
      return ringing && { kind: 'decline', callId: ringing.id };
    case 'mute':
      return line && { kind: 'toggle-mute', callId: line.id };
    case 'hold': {
      if (line) return line.state === 'active' ? { kind: 'hold', callId: line.id } : undefined;
      const held = lastHeld(sorted);
      return held && { kind: 'resume', callId: held.id };
    }
    case 'hang-up': {
      const target =
        line ??
        sorted.find((call) => call.state === 'connecting') ??
        sorted.find((call) => call.state === 'dialing' || call.state === 'ringing-out') ??
        lastHeld(sorted) ??
        sorted.find((call) => call.state === 'resuming');
      return target && { kind: 'hang-up', callId: target.id };
    }
  }
}

/** The shortcuts that do something now: the ones the desktop app holds OS-wide. */
export function applicableActions(calls: readonly Call[]): CallShortcutAction[] {
  return CALL_SHORTCUT_ACTIONS.filter((action) => commandFor(action, calls) !== undefined);
}
