/**
 * One call's JsSIP RTCSession: its events mapped onto the call's state machine, and what we ask of it
 * (decline, end, send a key).
 */
import { C } from 'jssip';
import type {
  EndEvent,
  IceCandidateEvent,
  IncomingDTMFEvent,
  OutgoingDTMFEvent,
  RTCSession,
  TerminateOptions,
} from 'jssip/lib/RTCSession';
import type { DtmfMethod } from '../../../shared/bridge';
import { createLogger, describeError } from '../../log';
import type { DialPadKey } from '../dial-string';
import type { DeclineKind } from '../engine';
import { assertedParty } from './asserted-identity';
import type { CallHost, CallRecord } from './call-record';
import { endDetailFor, endReasonFor, messageFacts } from './end-reason';
import { applyMediaState, collectReceivers, watchPeerConnection } from './media-streams';

const log = createLogger('phone.session');

/** RFC 4733 §2.5.1.3 leaves tone length to the sender; 100 ms with a 70 ms gap is what IVRs expect of a person. */
const DTMF_DURATION_MS = 100;
const DTMF_GAP_MS = 70;

/** Ties `session` to the call: from here on its events move the call's state machine. */
export function wireSession(host: CallHost, record: CallRecord, session: RTCSession): void {
  record.session = session;
  // An outgoing session has its RTCPeerConnection before JsSIP reports the session; an incoming one gets it
  // when answered.
  if (session.connection) watchPeerConnection(record, session.connection);
  session.on('peerconnection', ({ peerconnection }) => watchPeerConnection(record, peerconnection));
  session.on('icecandidate', (event: IceCandidateEvent) => record.gathering.candidate(event));
  session.on('progress', () => {
    // Any 1xx above 100 means the far end is alerting or sending early media (RFC 3261 §13.2.2.1).
    if (record.direction === 'outgoing' && record.machine.state === 'dialing') host.move(record, 'ringing-out');
  });
  session.on('accepted', () => {
    if (record.machine.can('connecting')) host.move(record, 'connecting');
    collectReceivers(record);
  });
  // JsSIP emits 'connecting' once the microphone is on the peer connection and before it makes the offer: the one
  // moment to make a held call's rejoin INVITE offer sendonly (RFC 3264 §8.4), so the PBX keeps the party on hold.
  session.on('connecting', () => {
    if (!record.rejoinHeld) return;
    for (const transceiver of record.peerConnection?.getTransceivers() ?? []) {
      if (transceiver.sender.track?.kind === 'audio' && transceiver.direction !== 'stopped') transceiver.direction = 'sendonly';
    }
    applyMediaState(record);
  });
  session.on('confirmed', () => {
    if (record.machine.can('connecting')) host.move(record, 'connecting');
    if (!record.machine.can('active')) return;
    // A call rejoined after a reload keeps the time it was first answered.
    record.answeredAt ??= host.now();
    collectReceivers(record);
    host.move(record, 'active');
    if (record.rejoinHeld) {
      // Its offer already said sendonly: the call is held as it was before the reload, with no re-INVITE.
      host.move(record, 'holding');
      host.move(record, 'held');
      record.rejoinHeld = false;
      applyMediaState(record);
    }
  });
  const onEnd = (event: 'ended' | 'failed') => (data: EndEvent) => {
    const facts = { event, originator: String(data.originator), cause: data.cause, direction: record.direction, ...messageFacts(data.message) };
    log.debug(`call ${event}`, { id: record.id, originator: facts.originator, cause: facts.cause, status: facts.status });
    host.end(record, endReasonFor(facts), endDetailFor(facts));
  };
  // The far end holding us (RFC 3264 §8.4 in their re-INVITE) is shown on the card; JsSIP answers it itself.
  session.on('hold', ({ originator }) => {
    if (String(originator) !== 'remote') return;
    record.remoteHold = true;
    applyMediaState(record);
    host.changed(record);
  });
  session.on('unhold', ({ originator }) => {
    if (String(originator) !== 'remote') return;
    record.remoteHold = false;
    applyMediaState(record);
    host.changed(record);
  });
  // Browsers cannot receive RFC 4733 events, so only keys relayed to us as SIP INFO can be shown.
  session.on('newDTMF', (event: IncomingDTMFEvent | OutgoingDTMFEvent) => {
    if (String(event.originator) !== 'remote') return;
    const tone = String(event.dtmf.tone ?? '');
    if (!/^[0-9*#A-D]$/i.test(tone)) return;
    record.receivedDigits += tone.toUpperCase();
    host.changed(record);
  });
  // After a transfer the PBX says whom the call now connects us to (asserted-identity.ts); JsSIP answers the UPDATE.
  session.on('update', ({ request }) => {
    const party = assertedParty(request.getHeader('P-Asserted-Identity'));
    if (!party) return;
    log.info('the call now connects to someone else', { id: record.id, number: party.number });
    record.remote = party;
    host.changed(record);
  });
  session.on('ended', onEnd('ended'));
  session.on('failed', onEnd('failed'));
}

/** Turns down a call that is ringing here. */
export function declineSession(host: CallHost, record: CallRecord, kind: DeclineKind): void {
  if (kind === 'busy') {
    // RFC 3261 §21.4.24: 486 Busy Here: reachable, but not taking calls now (do not disturb).
    terminateSession(host, record, { status_code: 486, reason_phrase: 'Busy Here', cause: C.causes.BUSY });
  } else {
    // RFC 3261 §21.6.2: 603 Decline says the person was reached and chose not to take the call.
    terminateSession(host, record, { status_code: 603, reason_phrase: 'Decline' });
  }
}

/** Cancels, declines or hangs up, as the session's state calls for; JsSIP then reports the end. */
export function terminateSession(host: CallHost, record: CallRecord, options: TerminateOptions): void {
  try {
    record.session?.terminate(options);
  } catch (error) {
    // JsSIP throws when the session has already ended; make sure the call does too.
    log.warn('could not end the call', { id: record.id, error: describeError(error) });
    host.end(record, 'failed');
  }
}

/** Ends a session the engine has already given up on; it may be over on JsSIP's side too. */
export function terminateQuietly(record: CallRecord): void {
  try {
    record.session?.terminate();
  } catch {
    // Already over on JsSIP's side.
  }
}

/** Sends one key press in the media (RFC 4733) when asked and possible, else as SIP INFO. */
export function sendDtmfKey(host: CallHost, record: CallRecord, key: DialPadKey, method: DtmfMethod): void {
  const session = record.session;
  if (!session) return;
  // RFC 4733 needs telephone-event negotiated on the audio sender; without it, SIP INFO still gets through.
  const dtmfSender = record.peerConnection?.getSenders().find((sender) => sender.track?.kind === 'audio')?.dtmf;
  const inMedia = method === 'rfc4733' && dtmfSender?.canInsertDTMF === true;
  log.debug('dtmf', { id: record.id, key, via: inMedia ? 'rfc4733' : 'info' });
  try {
    session.sendDTMF(key, {
      transportType: inMedia ? C.DTMF_TRANSPORT.RFC2833 : C.DTMF_TRANSPORT.INFO,
      duration: DTMF_DURATION_MS,
      interToneGap: DTMF_GAP_MS,
    });
    setNotice(host, record, undefined);
  } catch (error) {
    log.warn('could not send DTMF', { id: record.id, error: describeError(error) });
    setNotice(host, record, 'dtmf-failed');
  }
}

function setNotice(host: CallHost, record: CallRecord, notice: CallRecord['notice']): void {
  if (record.notice === notice) return;
  record.notice = notice;
  host.changed(record);
}
