import { describe, expect, it } from 'vitest';
import type { CallState } from '../../phone/call-state';
import { applicableActions, commandFor } from './call-shortcut-targets';

let clock = 0;
const call = (id: string, state: CallState) => ({ id, state, startedAt: (clock += 1) });

describe('which call a shortcut acts on', () => {
  it('does nothing with no call, so the keys are left to the page', () => {
    expect(applicableActions([])).toEqual([]);
    expect(commandFor('answer', [])).toBeUndefined();
    expect(commandFor('hang-up', [call('ended', 'ended')])).toBeUndefined();
  });

  it('answers or declines the call that has rung longest', () => {
    const calls = [call('first', 'ringing-in'), call('second', 'ringing-in')];
    expect(commandFor('answer', calls)).toEqual({ kind: 'answer', callId: 'first' });
    expect(commandFor('decline', [...calls].reverse())).toEqual({ kind: 'decline', callId: 'first' });
    expect(applicableActions(calls)).toEqual(['answer', 'decline']);
  });

  it('mutes, holds and hangs up the call on the line, also while another rings (call waiting)', () => {
    const calls = [call('line', 'active'), call('waiting', 'ringing-in')];
    expect(commandFor('mute', calls)).toEqual({ kind: 'toggle-mute', callId: 'line' });
    expect(commandFor('hold', calls)).toEqual({ kind: 'hold', callId: 'line' });
    expect(commandFor('hang-up', calls)).toEqual({ kind: 'hang-up', callId: 'line' });
    expect(commandFor('answer', calls)).toEqual({ kind: 'answer', callId: 'waiting' });
    expect(applicableActions(calls)).toEqual(['answer', 'decline', 'mute', 'hold', 'hang-up']);
  });

  it('takes the active call before others on hold, and resumes the newest held call when none is on the line', () => {
    const older = call('older', 'held');
    const newer = call('newer', 'held');
    const active = call('active', 'active');
    expect(commandFor('hold', [older, newer, active])).toEqual({ kind: 'hold', callId: 'active' });
    expect(commandFor('hold', [older, newer])).toEqual({ kind: 'resume', callId: 'newer' });
    expect(commandFor('mute', [older, newer])).toBeUndefined();
    expect(commandFor('hang-up', [older, newer])).toEqual({ kind: 'hang-up', callId: 'newer' });
  });

  it('waits while a hold is under way instead of asking twice', () => {
    expect(commandFor('hold', [call('c', 'holding')])).toBeUndefined();
    expect(commandFor('mute', [call('c', 'holding')])).toEqual({ kind: 'toggle-mute', callId: 'c' });
  });

  it('hangs up a call being placed when none is on the line', () => {
    expect(commandFor('hang-up', [call('out', 'ringing-out')])).toEqual({ kind: 'hang-up', callId: 'out' });
    expect(commandFor('hang-up', [call('out', 'dialing'), call('joining', 'connecting')])).toEqual({ kind: 'hang-up', callId: 'joining' });
    expect(applicableActions([call('out', 'ringing-out')])).toEqual(['hang-up']);
  });
});
