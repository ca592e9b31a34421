/**
 * The phone engine: the only code in Offhook that talks to JsSIP. It owns one JsSIP UA per signed-in session and
 * one CallStateMachine per RTCSession, maps JsSIP's events onto those, and reports everything else in the app
 * needs through the typed events of `PhoneEngine`.
 */
import { C, UA, WebSocketInterface } from 'jssip';
import type { RTCSessionEvent, UAConfiguration } from 'jssip/lib/UA';
import type { AnswerOptions, EndEvent, RTCSession } from 'jssip/lib/RTCSession';
import type { SipCredentials } from '../../shared/api';
import type { RegistrationState } from '../../shared/registration';
import { createLogger } from '../log';
import { TypedEmitter } from '../util/typed-emitter';
import { CallStateMachine } from './call-state';
import type { CallState, EndReason } from './call-state';
import type { CallDirection, CallSnapshot, PhoneEngine, PhoneEngineEvents, RemoteParty } from './engine';

const log = createLogger('phone');

/** Seconds a registration lasts before JsSIP refreshes it. */
const REGISTER_EXPIRES = 300;

/**
 * Media for every call. Media is anchored at the PBX, which this device reaches directly, so host candidates
 * suffice and no STUN or TURN server is asked.
 */
const MEDIA_OPTIONS: AnswerOptions = {
  pcConfig: { iceServers: [] },
  mediaConstraints: { audio: true, video: false },
};

export function uaConfiguration(sip: SipCredentials): UAConfiguration {
  return {
    sockets: [new WebSocketInterface(sip.wsUrl)],
    uri: sip.uri,
    authorization_user: sip.authorizationUser,
    password: sip.password,
    realm: sip.realm,
    display_name: sip.displayName,
    register: true,
    register_expires: REGISTER_EXPIRES,
    // The PBX keeps its own watch on each leg; RFC 4028 refreshes would only add re-INVITEs.
    session_timers: false,
    connection_recovery_min_interval: 2,
    connection_recovery_max_interval: 30,
  };
}

export interface EndFacts {
  /** `ended` for a call that was established, `failed` for one that never was (JsSIP's two events). */
  event: 'ended' | 'failed';
  /** Who ended it, as JsSIP reports: `local`, `remote` or `system`. */
  originator: string;
  /** JsSIP's cause, one of `C.causes`. */
  cause: string;
  direction: CallDirection;
}

/** Why a call ended, in our terms, from what JsSIP tells us about its end. */
export function endReasonFor({ event, originator, cause, direction }: EndFacts): EndReason {
  if (event === 'ended') {
    if (cause === C.causes.BYE) return originator === 'local' ? 'hung-up-local' : 'hung-up-remote';
    // RTP timeout, a lost connection, a missing ACK: the call dropped, nobody hung up.
    return 'failed';
  }
  switch (cause) {
    case C.causes.CANCELED:
      // We cancel our own calls; a call to us that the caller gives up on is one we missed.
      return direction === 'incoming' ? 'missed' : 'cancelled';
    case C.causes.NO_ANSWER:
      return direction === 'incoming' ? 'missed' : 'unavailable';
    case C.causes.REJECTED:
      return 'declined';
    case C.causes.BUSY:
      return 'busy';
    case C.causes.UNAVAILABLE:
      return 'unavailable';
    case C.causes.NOT_FOUND:
    case C.causes.ADDRESS_INCOMPLETE:
      return 'not-found';
    default:
      return 'failed';
  }
}

interface CallRecord {
  id: string;
  direction: CallDirection;
  machine: CallStateMachine;
  remote: RemoteParty;
  startedAt: number;
  answeredAt?: number;
  endedAt?: number;
  session?: RTCSession;
  peerConnection?: RTCPeerConnection;
  remoteTracks: Map<string, MediaStreamTrack>;
  remoteStream?: MediaStream;
  audioElements: Set<HTMLAudioElement>;
}

export interface JsSipEngineOptions {
  now?: () => number;
}

export function createJsSipEngine(sip: SipCredentials, options: JsSipEngineOptions = {}): PhoneEngine {
  return new JsSipPhoneEngine(sip, options.now ?? Date.now);
}

class JsSipPhoneEngine extends TypedEmitter<PhoneEngineEvents> implements PhoneEngine {
  private ua: UA | undefined;
  private state: RegistrationState = 'unregistered';
  private stopped = false;
  private nextId = 1;
  private readonly calls = new Map<string, CallRecord>();
  /** The call `call()` is placing, until JsSIP reports its RTCSession (synchronously, inside `UA.call`). */
  private placing: CallRecord | undefined;

  constructor(
    private readonly sip: SipCredentials,
    private readonly now: () => number,
  ) {
    super();
  }

  get registration(): RegistrationState {
    return this.state;
  }

  start(): void {
    if (this.ua || this.stopped) return;
    log.debug('start', { uri: this.sip.uri, wsUrl: this.sip.wsUrl });
    let ua: UA;
    try {
      ua = new UA(uaConfiguration(this.sip));
    } catch (error) {
      log.error('the SIP credentials from the server are not usable', { error: describe(error) });
      this.setRegistration('failed');
      return;
    }
    this.ua = ua;
    ua.on('connecting', () => {
      if (this.state !== 'registered') this.setRegistration('registering');
    });
    // JsSIP reconnects on its own (connection_recovery_*) and registers again once connected.
    ua.on('disconnected', () => this.setRegistration(this.stopped ? 'unregistered' : 'registering'));
    ua.on('registered', () => this.setRegistration('registered'));
    ua.on('unregistered', () => {
      this.setRegistration(this.stopped || ua.isConnected() ? 'unregistered' : 'registering');
    });
    ua.on('registrationFailed', (event) => {
      log.warn('registration failed', { cause: event.cause, status: event.response?.status_code });
      this.setRegistration('failed');
    });
    ua.on('newRTCSession', (event: RTCSessionEvent) => {
      if (String(event.originator) === 'local') this.onOutgoingSession(event.session);
      else this.onIncomingSession(event.session);
    });
    this.setRegistration('registering');
    ua.start();
  }

  stop(): void {
    if (this.stopped) return;
    log.debug('stop');
    this.stopped = true;
    // UA.stop() ends every session (so each call reports its end) and unregisters before disconnecting.
    this.ua?.stop();
    for (const record of this.calls.values()) this.end(record, 'hung-up-local');
    this.setRegistration('unregistered');
  }

  call(target: string): string {
    const ua = this.ua;
    if (!ua || this.stopped) throw new Error('The phone is not started');
    log.debug('call', { target });
    const record = this.addRecord('outgoing', { name: '', number: target });
    this.move(record, 'dialing');
    this.placing = record;
    try {
      ua.call(target, MEDIA_OPTIONS);
    } catch (error) {
      log.warn('could not place the call', { target, error: describe(error) });
      this.end(record, 'failed');
    } finally {
      this.placing = undefined;
    }
    return record.id;
  }

  answer(id: string): void {
    const record = this.live(id, 'answer');
    if (!record?.session) return;
    if (record.machine.state !== 'ringing-in') {
      log.warn('answer ignored: the call is not ringing', { id, state: record.machine.state });
      return;
    }
    log.debug('answer', { id });
    this.move(record, 'connecting');
    try {
      record.session.answer(MEDIA_OPTIONS);
    } catch (error) {
      // The caller gave up in the same instant; JsSIP reports that end on its own if it has not already.
      log.warn('could not answer', { id, error: describe(error) });
    }
  }

  decline(id: string): void {
    const record = this.live(id, 'decline');
    if (!record?.session) return;
    if (record.machine.state !== 'ringing-in') {
      log.warn('decline ignored: the call is not ringing', { id, state: record.machine.state });
      return;
    }
    log.debug('decline', { id });
    // RFC 3261 §21.6.2: 603 Decline says the person was reached and chose not to take the call.
    this.terminate(record, { status_code: 603, reason_phrase: 'Decline' });
  }

  hangUp(id: string): void {
    const record = this.live(id, 'hang up');
    if (!record) return;
    if (record.machine.state === 'ringing-in') {
      this.decline(id);
      return;
    }
    log.debug('hang up', { id, state: record.machine.state });
    if (record.session) this.terminate(record, {});
    else this.end(record, 'cancelled');
  }

  attachRemoteAudio(id: string, element: HTMLAudioElement): () => void {
    const record = this.calls.get(id);
    if (!record) return () => {};
    record.audioElements.add(element);
    this.collectReceivers(record);
    if (record.remoteStream) play(element, record.remoteStream);
    return () => {
      record.audioElements.delete(element);
      if (element.srcObject === record.remoteStream) element.srcObject = null;
    };
  }

  private onOutgoingSession(session: RTCSession): void {
    const record = this.placing;
    if (!record) {
      log.warn('an outgoing session that Offhook did not place; ending it');
      session.terminate();
      return;
    }
    this.placing = undefined;
    this.wire(record, session);
  }

  private onIncomingSession(session: RTCSession): void {
    const identity = session.remote_identity;
    const record = this.addRecord('incoming', {
      name: identity.display_name ?? '',
      number: identity.uri.user ?? '',
    });
    log.debug('incoming call', { id: record.id, from: record.remote.number });
    this.wire(record, session);
    this.move(record, 'ringing-in');
  }

  private addRecord(direction: CallDirection, remote: RemoteParty): CallRecord {
    const record: CallRecord = {
      id: `call-${this.nextId++}`,
      direction,
      machine: new CallStateMachine(),
      remote,
      startedAt: this.now(),
      remoteTracks: new Map(),
      audioElements: new Set(),
    };
    this.calls.set(record.id, record);
    this.emit('callAdded', snapshot(record));
    return record;
  }

  private wire(record: CallRecord, session: RTCSession): void {
    record.session = session;
    // An outgoing session has its RTCPeerConnection before JsSIP reports the session; an incoming one gets it
    // when answered.
    if (session.connection) this.watchPeerConnection(record, session.connection);
    session.on('peerconnection', ({ peerconnection }) => this.watchPeerConnection(record, peerconnection));
    session.on('progress', () => {
      // Any 1xx above 100 means the far end is alerting or sending early media (RFC 3261 §13.2.2.1).
      if (record.direction === 'outgoing' && record.machine.state === 'dialing') this.move(record, 'ringing-out');
    });
    session.on('accepted', () => {
      if (record.machine.can('connecting')) this.move(record, 'connecting');
      this.collectReceivers(record);
    });
    session.on('confirmed', () => {
      if (record.machine.can('connecting')) this.move(record, 'connecting');
      if (!record.machine.can('active')) return;
      record.answeredAt = this.now();
      this.collectReceivers(record);
      this.move(record, 'active');
    });
    const onEnd = (event: 'ended' | 'failed') => (data: EndEvent) => {
      const facts = { event, originator: String(data.originator), cause: data.cause, direction: record.direction };
      log.debug(`call ${event}`, { id: record.id, originator: facts.originator, cause: facts.cause });
      this.end(record, endReasonFor(facts));
    };
    session.on('ended', onEnd('ended'));
    session.on('failed', onEnd('failed'));
  }

  private terminate(record: CallRecord, options: { status_code?: number; reason_phrase?: string }): void {
    try {
      record.session?.terminate(options);
    } catch (error) {
      // JsSIP throws when the session has already ended; make sure the call does too.
      log.warn('could not end the call', { id: record.id, error: describe(error) });
      this.end(record, 'failed');
    }
  }

  private move(record: CallRecord, to: Exclude<CallState, 'ended'>): void {
    record.machine.transition(to);
    this.emit('callChanged', snapshot(record));
  }

  private end(record: CallRecord, reason: EndReason): void {
    if (record.machine.isEnded) return;
    record.endedAt = this.now();
    record.machine.transition('ended', reason);
    for (const element of record.audioElements) {
      if (element.srcObject === record.remoteStream) element.srcObject = null;
    }
    record.audioElements.clear();
    this.calls.delete(record.id);
    this.emit('callChanged', snapshot(record));
  }

  /** An action on a call the UI still shows, or nothing when it has ended meanwhile. */
  private live(id: string, action: string): CallRecord | undefined {
    const record = this.calls.get(id);
    if (!record) log.debug(`${action} ignored: no such call`, { id });
    return record;
  }

  private watchPeerConnection(record: CallRecord, peerConnection: RTCPeerConnection): void {
    if (record.peerConnection === peerConnection) return;
    record.peerConnection = peerConnection;
    peerConnection.addEventListener('track', (event) => this.addRemoteTrack(record, event.track));
    this.collectReceivers(record);
  }

  /** Tracks can exist before their 'track' event reaches us (outgoing calls add transceivers up front). */
  private collectReceivers(record: CallRecord): void {
    for (const receiver of record.peerConnection?.getReceivers() ?? []) {
      if (receiver.track) this.addRemoteTrack(record, receiver.track);
    }
  }

  private addRemoteTrack(record: CallRecord, track: MediaStreamTrack): void {
    if (track.kind !== 'audio' || record.remoteTracks.has(track.id) || record.machine.isEnded) return;
    record.remoteTracks.set(track.id, track);
    // A new stream object, rather than addTrack on the old one, makes every element pick the track up at once.
    record.remoteStream = new MediaStream([...record.remoteTracks.values()]);
    for (const element of record.audioElements) play(element, record.remoteStream);
  }

  private setRegistration(state: RegistrationState): void {
    if (state === this.state) return;
    log.debug('registration', { from: this.state, to: state });
    this.state = state;
    this.emit('registrationChanged', state);
  }
}

function snapshot(record: CallRecord): CallSnapshot {
  return {
    id: record.id,
    direction: record.direction,
    state: record.machine.state,
    endReason: record.machine.endReason,
    remote: { ...record.remote },
    startedAt: record.startedAt,
    answeredAt: record.answeredAt,
    endedAt: record.endedAt,
  };
}

function play(element: HTMLAudioElement, stream: MediaStream): void {
  if (element.srcObject !== stream) element.srcObject = stream;
  // Autoplay needs a prior user gesture; placing or answering the call was one. If the browser still refuses,
  // the element keeps the stream and plays on the next interaction.
  element.play().catch((error: unknown) => log.warn('remote audio did not start', { error: describe(error) }));
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
