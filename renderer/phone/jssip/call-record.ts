/**
 * What the engine keeps of one call: its state machine, its JsSIP session and peer connection, its media, and the
 * facts a snapshot reports. Also the narrow view of the engine (`CallHost`) that the per-call modules act through,
 * so that a call's session events, re-offers and media never reach into the engine's other calls.
 */
import type { RTCSession } from 'jssip/lib/RTCSession';
import type { CallStateMachine, CallState, EndReason } from '../call-state';
import type { CallDirection, CallNotice, CallSnapshot, RemoteParty } from '../engine';
import type { GatheringCap } from '../ice-gathering';
import type { MediaWatch } from '../media-watch';

export interface CallRecord {
  id: string;
  direction: CallDirection;
  machine: CallStateMachine;
  remote: RemoteParty;
  startedAt: number;
  answeredAt?: number;
  endedAt?: number;
  session?: RTCSession;
  /** The Call-ID of the session's INVITE, read when JsSIP reports the session. */
  sipCallId?: string;
  peerConnection?: RTCPeerConnection;
  remoteTracks: Map<string, MediaStreamTrack>;
  remoteStream?: MediaStream;
  audioElements: Set<HTMLAudioElement>;
  muted: boolean;
  remoteHold: boolean;
  receivedDigits: string;
  notice?: CallNotice;
  /**
   * A call rejoined after a reload that the user had on hold: its INVITE offers sendonly and the microphone stays
   * off, and once answered it is held without a further re-INVITE. Cleared then.
   */
  rejoinHeld?: boolean;
  /** Microphone tracks we captured for a device change; JsSIP stops only the ones it captured itself. */
  ownTracks: MediaStreamTrack[];
  media: MediaWatch;
  gathering: GatheringCap;
}

/** The engine, as one call's modules see it. */
export interface CallHost {
  now(): number;
  /** The socket to the PBX is up, so a re-INVITE can be sent. */
  isConnected(): boolean;
  /** Moves the call's state machine and reports the call. */
  move(record: CallRecord, to: Exclude<CallState, 'ended'>): void;
  /** Ends the call once, releasing its media, and reports it. */
  end(record: CallRecord, reason: EndReason, detail?: string): void;
  /** Reports the call after a change that is not a state move (mute, remote hold, a notice, a received key). */
  changed(record: CallRecord): void;
}

export function snapshot(record: CallRecord): CallSnapshot {
  return {
    id: record.id,
    direction: record.direction,
    state: record.machine.state,
    endReason: record.machine.endReason,
    endDetail: record.machine.endDetail,
    remote: { ...record.remote },
    startedAt: record.startedAt,
    answeredAt: record.answeredAt,
    endedAt: record.endedAt,
    muted: record.muted,
    remoteHold: record.remoteHold,
    receivedDigits: record.receivedDigits,
    notice: record.notice,
    sipCallId: record.sipCallId,
  };
}

/** On hold by our own doing, or on the way back from it, or being rejoined as held. */
export function isHeld(record: CallRecord): boolean {
  const state = record.machine.state;
  return state === 'held' || state === 'resuming' || record.rejoinHeld === true;
}
