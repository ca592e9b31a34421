import { describe, expect, it } from 'vitest';
import type { RTCSession } from 'jssip/lib/RTCSession';
import { CallStateMachine } from '../call-state';
import type { CallState } from '../call-state';
import { GatheringCap } from '../ice-gathering';
import { MediaWatch } from '../media-watch';
import type { CallHost, CallRecord } from './call-record';
import { reofferDirection, restartIce } from './reoffer';

// JsSIP's C.causes.WEBRTC_ERROR: what JsSIP terminates a session with when the far end refuses its re-INVITE.
const WEBRTC_ERROR = 'WebRTC Error';

/** The browser and JsSIP at the edge: a peer connection with one audio transceiver, and a session that records. */
function fakeCall(state: Exclude<CallState, 'ended' | 'idle'>) {
  const transceiver = { receiver: { track: { kind: 'audio' } }, direction: 'sendrecv' as RTCRtpTransceiverDirection };
  const microphone = { kind: 'audio', enabled: true };
  const rollbacks: unknown[] = [];
  const peerConnection = {
    signalingState: 'have-local-offer',
    getTransceivers: () => [transceiver],
    getSenders: () => [{ track: microphone }],
    setLocalDescription: async (description: unknown) => {
      rollbacks.push(description);
    },
  };
  const terminated: unknown[] = [];
  const offers: Array<{ options: unknown; accepted: () => void }> = [];
  const session = {
    terminate(options?: unknown) {
      terminated.push(options);
    },
    renegotiate(options: unknown, accepted: () => void) {
      offers.push({ options, accepted });
      return true;
    },
  };
  const machine = new CallStateMachine();
  const path: Record<string, Array<Exclude<CallState, 'ended'>>> = {
    active: ['ringing-in', 'connecting', 'active'],
    holding: ['ringing-in', 'connecting', 'active', 'holding'],
    held: ['ringing-in', 'connecting', 'active', 'holding', 'held'],
    resuming: ['ringing-in', 'connecting', 'active', 'holding', 'held', 'resuming'],
  };
  for (const step of path[state] ?? []) machine.transition(step);
  const record: CallRecord = {
    id: 'call-1',
    direction: 'incoming',
    machine,
    remote: { name: 'Bob Brown', number: '102' },
    startedAt: 0,
    session: session as unknown as RTCSession,
    peerConnection: peerConnection as unknown as RTCPeerConnection,
    remoteTracks: new Map(),
    audioElements: new Set(),
    muted: false,
    remoteHold: false,
    receivedDigits: '',
    ownTracks: [],
    media: new MediaWatch({ restartIce: () => false, giveUp: () => {} }),
    gathering: new GatheringCap(),
  };
  const moves: CallState[] = [];
  let connected = true;
  const host: CallHost = {
    now: () => 0,
    isConnected: () => connected,
    move: (call, to) => {
      call.machine.transition(to);
      moves.push(to);
    },
    end: (call, reason) => call.machine.transition('ended', reason),
    changed: () => {},
  };
  return {
    record,
    host,
    session,
    transceiver,
    microphone,
    rollbacks,
    terminated,
    offers,
    moves,
    disconnect: () => {
      connected = false;
    },
  };
}

describe('hold and resume', () => {
  it('puts the call on hold with a sendonly offer, and silences our microphone meanwhile', () => {
    const call = fakeCall('holding');
    reofferDirection(call.host, call.record, 'sendonly');
    expect(call.transceiver.direction).toBe('sendonly');
    expect(call.offers).toHaveLength(1);
    expect(call.microphone.enabled).toBe(true);

    call.offers[0]?.accepted();
    expect(call.moves).toEqual(['held']);
    expect(call.record.notice).toBeUndefined();
    expect(call.microphone.enabled).toBe(false);
  });

  it('keeps the call on the line when the far end refuses the hold (RFC 3261 §14.1), rolling the offer back', async () => {
    const call = fakeCall('holding');
    const ownTerminate = call.session.terminate;
    reofferDirection(call.host, call.record, 'sendonly');

    // JsSIP's answer to a refused re-INVITE: it ends the whole session.
    call.record.session?.terminate({ cause: WEBRTC_ERROR });
    await Promise.resolve();

    expect(call.terminated).toEqual([]);
    expect(call.rollbacks).toEqual([{ type: 'rollback' }]);
    expect(call.transceiver.direction).toBe('sendrecv');
    expect(call.moves).toEqual(['active']);
    expect(call.record.notice).toBe('hold-failed');
    expect(call.microphone.enabled).toBe(true);
    // The session's own terminate is back in place for the next hang-up.
    expect(call.session.terminate).toBe(ownTerminate);
  });

  it('still ends the call when the dialog itself is lost during the re-offer', () => {
    const call = fakeCall('resuming');
    reofferDirection(call.host, call.record, 'sendrecv');
    call.record.session?.terminate({ cause: 'Dialog Error' });
    expect(call.terminated).toEqual([{ cause: 'Dialog Error' }]);
  });

  it('says so when a resume is refused, and the call stays held', () => {
    const call = fakeCall('resuming');
    reofferDirection(call.host, call.record, 'sendrecv');
    call.record.session?.terminate({ cause: WEBRTC_ERROR });
    expect(call.moves).toEqual(['held']);
    expect(call.record.notice).toBe('resume-failed');
    expect(call.transceiver.direction).toBe('sendrecv');
  });
});

describe('restartIce', () => {
  it('offers fresh ICE credentials (RFC 8445 §9) on an established call', () => {
    const call = fakeCall('active');
    expect(restartIce(call.host, call.record)).toBe(true);
    expect(call.offers[0]?.options).toEqual({ rtcOfferConstraints: { iceRestart: true } });
  });

  it('checks the dialog with a plain re-INVITE when the media is fine', () => {
    const call = fakeCall('held');
    expect(restartIce(call.host, call.record, false)).toBe(true);
    expect(call.offers[0]?.options).toEqual({});
  });

  it('sends nothing without a connection to the PBX, or on a call that is not established', () => {
    const offline = fakeCall('active');
    offline.disconnect();
    expect(restartIce(offline.host, offline.record)).toBe(false);
    const holding = fakeCall('holding');
    expect(restartIce(holding.host, holding.record)).toBe(false);
    expect([...offline.offers, ...holding.offers]).toEqual([]);
  });
});
