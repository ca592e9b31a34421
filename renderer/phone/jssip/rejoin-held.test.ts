import { describe, expect, it } from 'vitest';
import type { RTCSession } from 'jssip/lib/RTCSession';
import { CallStateMachine } from '../call-state';
import type { CallState } from '../call-state';
import { GatheringCap } from '../ice-gathering';
import { MediaWatch } from '../media-watch';
import type { CallHost, CallRecord } from './call-record';
import { wireSession } from './call-session';

/**
 * A rejoin INVITE after a reload, at the edge where JsSIP and the browser would be: a session that emits JsSIP's
 * events and a peer connection with the microphone on one audio transceiver, as JsSIP has it when it emits
 * 'connecting' (after addTrack, before createOffer).
 */
function rejoinCall(rejoinHeld: boolean) {
  const microphone = { kind: 'audio', enabled: true };
  const transceiver = { sender: { track: microphone }, receiver: { track: { kind: 'audio' } }, direction: 'sendrecv' as RTCRtpTransceiverDirection };
  const peerConnection = {
    getTransceivers: () => [transceiver],
    getSenders: () => [transceiver.sender],
    getReceivers: () => [],
    addEventListener: () => {},
  };
  const listeners = new Map<string, Array<(data: unknown) => void>>();
  const session = {
    connection: peerConnection,
    on(event: string, listener: (data: unknown) => void) {
      listeners.set(event, [...(listeners.get(event) ?? []), listener]);
    },
    emit(event: string, data: unknown) {
      for (const listener of listeners.get(event) ?? []) listener(data);
    },
  };
  const machine = new CallStateMachine();
  machine.transition('dialing');
  const record: CallRecord = {
    id: 'call-1',
    direction: 'outgoing',
    machine,
    remote: { name: 'Bob Brown', number: '102' },
    startedAt: 0,
    answeredAt: 1_000,
    remoteTracks: new Map(),
    audioElements: new Set(),
    muted: false,
    remoteHold: false,
    receivedDigits: '',
    ownTracks: [],
    media: new MediaWatch({ restartIce: () => false, giveUp: () => {} }),
    gathering: new GatheringCap(),
    ...(rejoinHeld ? { rejoinHeld } : {}),
  };
  const moves: CallState[] = [];
  const host: CallHost = {
    now: () => 50_000,
    isConnected: () => true,
    move: (call, to) => {
      call.machine.transition(to);
      moves.push(to);
    },
    end: (call, reason) => call.machine.transition('ended', reason),
    changed: () => {},
  };
  wireSession(host, record, session as unknown as RTCSession);
  return { record, session, transceiver, microphone, moves };
}

describe('a call rejoined after a reload', () => {
  it('that the user held offers sendonly (RFC 3264 §8.4) with the microphone off, and comes back held without a re-INVITE', () => {
    const call = rejoinCall(true);
    call.session.emit('connecting', {});
    expect(call.transceiver.direction).toBe('sendonly');
    expect(call.microphone.enabled).toBe(false);

    call.session.emit('confirmed', {});
    expect(call.moves).toEqual(['connecting', 'active', 'holding', 'held']);
    expect(call.record.machine.state).toBe('held');
    expect(call.microphone.enabled).toBe(false);
    expect(call.record.answeredAt).toBe(1_000);
  });

  it('that was on the line offers sendrecv and comes back on the line', () => {
    const call = rejoinCall(false);
    call.session.emit('connecting', {});
    expect(call.transceiver.direction).toBe('sendrecv');
    call.session.emit('confirmed', {});
    expect(call.record.machine.state).toBe('active');
    expect(call.microphone.enabled).toBe(true);
  });
});
