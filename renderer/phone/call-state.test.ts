import { describe, expect, it } from 'vitest';
import {
  CALL_STATES,
  CALL_STATE_TRANSITIONS,
  CallStateMachine,
  IllegalCallTransition,
  canTransition,
  isEstablished,
} from './call-state';
import type { CallState } from './call-state';

/** Drives a fresh machine along a path of legal moves, ending with the reason given where the path ends. */
function machineAt(path: CallState[]): CallStateMachine {
  const machine = new CallStateMachine();
  for (const state of path) {
    if (state === 'ended') machine.transition('ended', 'failed');
    else machine.transition(state);
  }
  return machine;
}

/** The shortest way from idle to each state. */
const PATH_TO: Record<CallState, CallState[]> = {
  idle: [],
  dialing: ['dialing'],
  'ringing-out': ['dialing', 'ringing-out'],
  'ringing-in': ['ringing-in'],
  connecting: ['ringing-in', 'connecting'],
  active: ['ringing-in', 'connecting', 'active'],
  holding: ['ringing-in', 'connecting', 'active', 'holding'],
  held: ['ringing-in', 'connecting', 'active', 'holding', 'held'],
  resuming: ['ringing-in', 'connecting', 'active', 'holding', 'held', 'resuming'],
  ended: ['ended'],
};

const LEGAL = CALL_STATES.flatMap((from) => CALL_STATE_TRANSITIONS[from].map((to) => [from, to] as const));
const ILLEGAL = CALL_STATES.flatMap((from) =>
  CALL_STATES.filter((to) => !CALL_STATE_TRANSITIONS[from].includes(to)).map((to) => [from, to] as const),
);

describe('call state machine', () => {
  it('starts idle with no end reason', () => {
    const machine = new CallStateMachine();
    expect(machine.state).toBe('idle');
    expect(machine.endReason).toBeUndefined();
    expect(machine.isEnded).toBe(false);
  });

  it('follows an outgoing call that rings and is answered', () => {
    const machine = new CallStateMachine();
    for (const state of ['dialing', 'ringing-out', 'connecting', 'active'] as const) {
      machine.transition(state);
      expect(machine.state).toBe(state);
    }
    machine.transition('ended', 'hung-up-local');
    expect(machine.state).toBe('ended');
    expect(machine.endReason).toBe('hung-up-local');
  });

  it('follows an incoming call that is answered', () => {
    const machine = machineAt(['ringing-in', 'connecting', 'active']);
    machine.transition('ended', 'hung-up-remote');
    expect(machine.endReason).toBe('hung-up-remote');
  });

  it('keeps what the PBX said when it refused a call, beside the reason', () => {
    const machine = machineAt(['dialing']);
    machine.transition('ended', 'refused', '  Outside calls are not allowed for this extension ');
    expect(machine.endReason).toBe('refused');
    expect(machine.endDetail).toBe('Outside calls are not allowed for this extension');
  });

  it('ends a call answered on another device as such, with no detail', () => {
    const machine = machineAt(['ringing-in']);
    machine.transition('ended', 'answered-elsewhere', '   ');
    expect(machine.endReason).toBe('answered-elsewhere');
    expect(machine.endDetail).toBeUndefined();
  });

  it('lets a call be answered without ringing first', () => {
    const machine = machineAt(['dialing']);
    machine.transition('connecting');
    expect(machine.state).toBe('connecting');
  });

  it('puts an active call on hold and takes it off again', () => {
    const machine = machineAt(PATH_TO.active);
    for (const state of ['holding', 'held', 'resuming', 'active'] as const) {
      machine.transition(state);
      expect(machine.state).toBe(state);
    }
  });

  it('stays on the line when the hold is refused, and on hold when the resume is (RFC 3261 §14.1)', () => {
    const holding = machineAt(PATH_TO.holding);
    holding.transition('active');
    expect(holding.state).toBe('active');
    const resuming = machineAt(PATH_TO.resuming);
    resuming.transition('held');
    expect(resuming.state).toBe('held');
  });

  it('cannot hold a call that is not answered yet', () => {
    for (const from of ['dialing', 'ringing-out', 'ringing-in', 'connecting'] as const) {
      expect(canTransition(from, 'holding')).toBe(false);
      expect(canTransition(from, 'held')).toBe(false);
    }
  });

  it('counts a call as established from active until it ends', () => {
    expect(CALL_STATES.filter(isEstablished)).toEqual(['active', 'holding', 'held', 'resuming']);
  });

  it.each(LEGAL)('allows %s → %s', (from, to) => {
    const machine = machineAt(PATH_TO[from]);
    expect(machine.can(to)).toBe(true);
    if (to === 'ended') machine.transition('ended', 'cancelled');
    else machine.transition(to);
    expect(machine.state).toBe(to);
  });

  it.each(ILLEGAL)('refuses %s → %s and stays where it was', (from, to) => {
    const machine = machineAt(PATH_TO[from]);
    expect(canTransition(from, to)).toBe(false);
    const move = () => (to === 'ended' ? machine.transition('ended', 'failed') : machine.transition(to));
    expect(move).toThrow(IllegalCallTransition);
    expect(move).toThrow(`A call cannot go from ${from} to ${to}`);
    expect(machine.state).toBe(from);
  });

  it('never revives an ended call', () => {
    const machine = machineAt(['dialing', 'ended']);
    expect(() => machine.transition('active')).toThrow(IllegalCallTransition);
    expect(() => machine.transition('ended', 'busy')).toThrow(IllegalCallTransition);
    expect(machine.endReason).toBe('failed');
  });

  it('refuses to end a call without a reason', () => {
    const machine = machineAt(['ringing-in']);
    // The overloads make this a compile error; the check is for callers that bypass them.
    const transition = machine.transition.bind(machine) as (to: CallState, reason?: string) => void;
    expect(() => transition('ended')).toThrow(TypeError);
    expect(machine.state).toBe('ringing-in');
  });

  it('has a legal way out of every state but ended, and none out of ended', () => {
    for (const state of CALL_STATES) {
      expect(CALL_STATE_TRANSITIONS[state].includes('ended')).toBe(state !== 'ended');
    }
    expect(CALL_STATE_TRANSITIONS.ended).toEqual([]);
  });
});
