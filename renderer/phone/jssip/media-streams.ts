/**
 * A call's audio on this device: the microphone it sends (its constraint, mute and hold, moving it to another
 * device mid-call), the far end's tracks gathered into one stream, and the `<audio>` elements that play it
 * through the chosen speaker.
 */
import type { AnswerOptions } from 'jssip/lib/RTCSession';
import { createLogger, describeError } from '../../log';
import type { CallDevices } from '../engine';
import { isHeld } from './call-record';
import type { CallRecord } from './call-record';

const log = createLogger('phone.media');

/**
 * Media for every call. Media is anchored at the PBX, which this device reaches directly, so host candidates
 * suffice and no STUN or TURN server is asked.
 */
export function mediaOptions(devices: CallDevices): AnswerOptions {
  return {
    pcConfig: { iceServers: [] },
    mediaConstraints: { audio: microphoneConstraint(devices.microphoneId), video: false },
  };
}

function microphoneConstraint(deviceId: string | undefined): MediaTrackConstraints | true {
  return deviceId ? { deviceId: { exact: deviceId } } : true;
}

/**
 * Our microphone is live only on a call that is on the line and not muted; a held call hears nothing of us (the
 * issue's "the held side hears silence, not the room") and we hear nothing of it.
 */
export function applyMediaState(record: CallRecord): void {
  const held = isHeld(record);
  const sending = !record.muted && !held && !record.remoteHold;
  for (const sender of record.peerConnection?.getSenders() ?? []) {
    if (sender.track?.kind === 'audio') sender.track.enabled = sending;
  }
  for (const element of record.audioElements) element.muted = held;
}

/** Follows the call's peer connection: its tracks, its ICE state (for the media watch) and its gathering. */
export function watchPeerConnection(record: CallRecord, peerConnection: RTCPeerConnection): void {
  if (record.peerConnection === peerConnection) return;
  record.peerConnection = peerConnection;
  peerConnection.addEventListener('track', (event) => addRemoteTrack(record, event.track));
  peerConnection.addEventListener('iceconnectionstatechange', () => {
    if (!record.machine.isEnded) record.media.update(peerConnection.iceConnectionState);
  });
  peerConnection.addEventListener('icegatheringstatechange', () => {
    if (peerConnection.iceGatheringState === 'gathering') record.gathering.began();
  });
  collectReceivers(record);
}

/** Tracks can exist before their 'track' event reaches us (outgoing calls add transceivers up front). */
export function collectReceivers(record: CallRecord): void {
  for (const receiver of record.peerConnection?.getReceivers() ?? []) {
    if (receiver.track) addRemoteTrack(record, receiver.track);
  }
}

function addRemoteTrack(record: CallRecord, track: MediaStreamTrack): void {
  if (track.kind !== 'audio' || record.remoteTracks.has(track.id) || record.machine.isEnded) return;
  record.remoteTracks.set(track.id, track);
  // A new stream object, rather than addTrack on the old one, makes every element pick the track up at once.
  record.remoteStream = new MediaStream([...record.remoteTracks.values()]);
  for (const element of record.audioElements) play(element, record.remoteStream);
  applyMediaState(record);
}

/** Plays the far end through `element` from now on; returns the function that detaches it. */
export function attachRemoteAudio(record: CallRecord, element: HTMLAudioElement, devices: CallDevices): () => void {
  record.audioElements.add(element);
  collectReceivers(record);
  routeOutput(element, devices);
  element.muted = isHeld(record);
  if (record.remoteStream) play(element, record.remoteStream);
  return () => {
    record.audioElements.delete(element);
    if (element.srcObject === record.remoteStream) element.srcObject = null;
  };
}

/** Sends the element's sound to the chosen speaker, or the system default. */
export function routeOutput(element: HTMLAudioElement, devices: CallDevices): void {
  const sinkId = devices.speakerId ?? '';
  if (typeof element.setSinkId !== 'function' || element.sinkId === sinkId) return;
  element.setSinkId(sinkId).catch((error: unknown) => {
    // The device went away between choosing and routing; the system default keeps playing.
    log.warn('could not route call audio to the speaker', { error: describeError(error) });
  });
}

/**
 * Moves the call to the microphone `devices()` names, if it still names the same one once that microphone is
 * open (the person may have chosen again meanwhile).
 */
export async function replaceMicrophone(record: CallRecord, devices: () => CallDevices): Promise<void> {
  const senders = record.peerConnection?.getSenders().filter((sender) => sender.track?.kind === 'audio') ?? [];
  if (senders.length === 0 || record.machine.isEnded) return;
  const wanted = devices().microphoneId;
  let track: MediaStreamTrack | undefined;
  try {
    const stream = await navigator.mediaDevices.getUserMedia({ audio: microphoneConstraint(wanted), video: false });
    track = stream.getAudioTracks()[0];
  } catch (error) {
    // The call keeps the microphone it has; a later device change tries again.
    log.warn('could not open the microphone', { id: record.id, error: describeError(error) });
    return;
  }
  if (!track) return;
  if (record.machine.isEnded || devices().microphoneId !== wanted) {
    track.stop();
    return;
  }
  for (const sender of senders) {
    const old = sender.track;
    // replaceTrack swaps the source without renegotiation (WebRTC §5.2), so the call never drops.
    await sender.replaceTrack(track);
    if (old && old !== track) old.stop();
  }
  record.ownTracks.push(track);
  applyMediaState(record);
}

/** Lets go of the call's audio once it has ended: its elements fall silent and the tracks we opened stop. */
export function releaseMedia(record: CallRecord): void {
  for (const element of record.audioElements) {
    if (element.srcObject === record.remoteStream) element.srcObject = null;
  }
  record.audioElements.clear();
  for (const track of record.ownTracks) track.stop();
  record.ownTracks = [];
}

function play(element: HTMLAudioElement, stream: MediaStream): void {
  if (element.srcObject !== stream) element.srcObject = stream;
  // Autoplay needs a prior user gesture; placing or answering the call was one. If the browser still refuses,
  // the element keeps the stream and plays on the next interaction.
  element.play().catch((error: unknown) => log.warn('remote audio did not start', { error: describeError(error) }));
}
