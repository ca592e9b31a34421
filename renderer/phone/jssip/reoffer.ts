/**
 * Re-offers on an established call: hold and resume (RFC 3264 §8.4) and the ICE restart or dialog check
 * (RFC 8445 §9) after media or the connection broke. JsSIP hangs up a call whose re-INVITE is refused; here a
 * refusal leaves the call as it was, as RFC 3261 §14.1 says.
 */
import { C } from 'jssip';
import type { TerminateOptions } from 'jssip/lib/RTCSession';
import { createLogger, describeError } from '../../log';
import type { CallHost, CallRecord } from './call-record';
import { applyMediaState } from './media-streams';

const log = createLogger('phone.reoffer');

/**
 * Sends a re-INVITE whose offer says `direction` for the audio (RFC 3264 §8.4); refused, the call stays as it
 * was with a notice on its card. The call is already `holding` or `resuming`.
 */
export function reofferDirection(host: CallHost, record: CallRecord, direction: 'sendonly' | 'sendrecv'): void {
  const session = record.session;
  const peerConnection = record.peerConnection;
  const holding = direction === 'sendonly';
  if (!session || !peerConnection) {
    settleDirection(host, record, holding, false);
    return;
  }
  const transceivers = peerConnection
    .getTransceivers()
    .filter((transceiver) => transceiver.receiver.track.kind === 'audio' && transceiver.direction !== 'stopped');
  const before = transceivers.map((transceiver) => transceiver.direction);
  for (const transceiver of transceivers) transceiver.direction = direction;
  sendReoffer(record, undefined, (ok) => {
    if (!ok) {
      transceivers.forEach((transceiver, i) => {
        transceiver.direction = before[i] ?? 'sendrecv';
      });
    }
    settleDirection(host, record, holding, ok);
  });
}

function settleDirection(host: CallHost, record: CallRecord, holding: boolean, ok: boolean): void {
  if (record.machine.isEnded) return;
  const expected = holding ? 'holding' : 'resuming';
  if (record.machine.state !== expected) return;
  if (ok) {
    record.notice = undefined;
    host.move(record, holding ? 'held' : 'active');
  } else {
    record.notice = holding ? 'hold-failed' : 'resume-failed';
    host.move(record, holding ? 'active' : 'held');
  }
  applyMediaState(record);
}

/**
 * A re-INVITE with the session as it is, or with fresh ICE credentials (`iceRestart`, RFC 8445 §9) when the
 * media path broke. False when it cannot be sent now: no connection to the PBX, or another offer in flight.
 */
export function restartIce(host: CallHost, record: CallRecord, iceRestart = true): boolean {
  const state = record.machine.state;
  if (!host.isConnected() || !record.session || (state !== 'active' && state !== 'held')) return false;
  log.debug(iceRestart ? 'ice restart' : 'dialog check', { id: record.id });
  return sendReoffer(record, iceRestart ? { iceRestart: true } : undefined, (ok) => {
    if (!ok) log.info(iceRestart ? 'the ICE restart was refused' : 'the dialog check was refused', { id: record.id });
    // Chromium keeps the old pair while the new one is checked, so a restart that lands may change no state.
    const peerConnection = record.peerConnection;
    if (ok && peerConnection && !record.machine.isEnded) record.media.update(peerConnection.iceConnectionState);
  });
}

/**
 * Sends a re-INVITE with a new offer and calls `settle` once with whether it was accepted. JsSIP ends the whole
 * call when a re-INVITE is refused; RFC 3261 §14.1 says the session carries on unchanged instead, so the refusal
 * is caught here and the offer rolled back. A lost dialog (408/481) or connection still ends the call.
 */
function sendReoffer(record: CallRecord, rtcOfferConstraints: RTCOfferOptions | undefined, settle: (ok: boolean) => void): boolean {
  const session = record.session;
  const peerConnection = record.peerConnection;
  if (!session || !peerConnection) {
    settle(false);
    return false;
  }
  const terminate = session.terminate;
  let settled = false;
  const finish = (ok: boolean) => {
    if (settled) return;
    settled = true;
    session.terminate = terminate;
    if (!ok && peerConnection.signalingState === 'have-local-offer') {
      peerConnection
        .setLocalDescription({ type: 'rollback' })
        .catch((error: unknown) => log.warn('could not roll back the refused offer', { error: describeError(error) }));
    }
    settle(ok);
  };
  session.terminate = (options?: TerminateOptions) => {
    if (!settled && options?.cause === C.causes.WEBRTC_ERROR) {
      log.info('re-INVITE refused', { id: record.id });
      finish(false);
      return;
    }
    session.terminate = terminate;
    terminate.call(session, options);
  };
  let started = false;
  try {
    started = session.renegotiate(rtcOfferConstraints ? { rtcOfferConstraints } : {}, () => finish(true));
  } catch (error) {
    log.warn('could not send the re-INVITE', { id: record.id, error: describeError(error) });
  }
  if (!started) finish(false);
  // renegotiate() re-enables the microphone by JsSIP's own reckoning, which knows nothing of mute or hold.
  applyMediaState(record);
  return started;
}
