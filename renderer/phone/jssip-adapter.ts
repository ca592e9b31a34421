/**
 * The phone engine: the only code in Offhook that talks to JsSIP. It owns one JsSIP UA per signed-in session and
 * one CallStateMachine per RTCSession, maps JsSIP's events onto those, and reports everything else in the app
 * needs through the typed events of `PhoneEngine`.
 */
import { C, UA, URI, WebSocketInterface } from 'jssip';
import type { RTCSessionEvent, UAConfiguration } from 'jssip/lib/UA';
import type {
  AnswerOptions,
  EndEvent,
  IceCandidateEvent,
  IncomingDTMFEvent,
  OutgoingDTMFEvent,
  RTCSession,
  TerminateOptions,
} from 'jssip/lib/RTCSession';
import type { SipCredentials } from '../../shared/api';
import type { DtmfMethod } from '../../shared/bridge';
import type { RegistrationState } from '../../shared/registration';
import { createLogger } from '../log';
import { TypedEmitter } from '../util/typed-emitter';
import { readMediaStats } from './call-quality';
import type { MediaStatsSample } from './call-quality';
import { CallStateMachine, isEstablished } from './call-state';
import type { CallState, EndReason } from './call-state';
import { ConnectionKeeper } from './connection-keeper';
import type { SignallingLink, WakeReason } from './connection-keeper';
import { GatheringCap } from './ice-gathering';
import { MediaWatch } from './media-watch';
import type { DialPadKey } from './dial-string';
import type {
  CallDevices,
  CallDirection,
  CallNotice,
  CallSnapshot,
  DeclineKind,
  PhoneEngine,
  PhoneEngineEvents,
  RemoteParty,
} from './engine';

const log = createLogger('phone');

/** Seconds a registration lasts before JsSIP refreshes it. */
const REGISTER_EXPIRES = 300;

/**
 * JsSIP's own reconnection runs on its own timer whenever a socket closes; `ConnectionKeeper` decides when to
 * reconnect instead (with its keep-alive, wake signals and backoff), so JsSIP's is pushed out to an hour, where
 * it can only ever be a harmless second try.
 */
const JSSIP_RECOVERY_SECONDS = 3_600;

/** Registration failures that trying again cannot fix: the PBX refused these credentials. */
const FINAL_REGISTRATION_CAUSES: readonly string[] = [C.causes.AUTHENTICATION_ERROR, C.causes.REJECTED, C.causes.NOT_FOUND];

/**
 * Parts of JsSIP 3.13's UA that its type declarations leave out: the transport (to replace a dead socket) and
 * sendOptions (the keep-alive).
 */
interface UaWithTransport {
  readonly transport: { connect(): void; disconnect(): void };
  sendOptions(
    target: string,
    body: string | null,
    options: { eventHandlers: { succeeded(): void; failed(event: { originator: string; cause?: string }): void } },
  ): unknown;
}

/** RFC 4733 §2.5.1.3 leaves tone length to the sender; 100 ms with a 70 ms gap is what IVRs expect of a person. */
const DTMF_DURATION_MS = 100;
const DTMF_GAP_MS = 70;

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
    connection_recovery_min_interval: JSSIP_RECOVERY_SECONDS,
    connection_recovery_max_interval: JSSIP_RECOVERY_SECONDS,
  };
}

/** Where the keep-alive OPTIONS go: the registrar's domain, taken from our own address of record. */
export function registrarUri(aor: string): string {
  const host = URI.parse(aor)?.host;
  return `sip:${host ?? aor.replace(/^sips?:(?:[^@]*@)?/, '')}`;
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
  muted: boolean;
  remoteHold: boolean;
  receivedDigits: string;
  notice?: CallNotice;
  /** Microphone tracks we captured for a device change; JsSIP stops only the ones it captured itself. */
  ownTracks: MediaStreamTrack[];
  media: MediaWatch;
  gathering: GatheringCap;
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
  private devices: CallDevices = {};
  private keeper: ConnectionKeeper | undefined;
  /** The UA has been connected before: a later `connected` is a reconnection. */
  private everConnected = false;

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
    const keeper = new ConnectionKeeper(this.signallingLink(ua));
    this.keeper = keeper;
    ua.on('connecting', () => {
      if (this.state !== 'registered') this.setRegistration('registering');
    });
    // JsSIP registers again by itself each time the socket connects.
    ua.on('connected', () => {
      keeper.connected();
      if (this.everConnected) this.afterReconnect();
      this.everConnected = true;
    });
    ua.on('disconnected', () => {
      this.setRegistration(this.stopped ? 'unregistered' : 'registering');
      keeper.disconnected();
    });
    ua.on('registered', () => {
      keeper.registered();
      this.setRegistration('registered');
    });
    ua.on('unregistered', () => {
      this.setRegistration(this.stopped || ua.isConnected() ? 'unregistered' : 'registering');
    });
    ua.on('registrationFailed', (event) => {
      log.warn('registration failed', { cause: event.cause, status: event.response?.status_code });
      this.setRegistration('failed');
      keeper.registrationFailed(!FINAL_REGISTRATION_CAUSES.includes(String(event.cause)));
    });
    ua.on('newRTCSession', (event: RTCSessionEvent) => {
      if (String(event.originator) === 'local') this.onOutgoingSession(event.session);
      else this.onIncomingSession(event.session);
    });
    this.setRegistration('registering');
    keeper.start();
    ua.start();
  }

  checkConnection(reason: WakeReason): void {
    if (this.stopped) return;
    log.debug('check connection', { reason });
    this.keeper?.wake(reason);
  }

  private signallingLink(ua: UA): SignallingLink {
    const internals = ua as unknown as UaWithTransport;
    const target = registrarUri(this.sip.uri);
    return {
      isConnected: () => ua.isConnected(),
      probe: (done) => {
        try {
          internals.sendOptions(target, null, {
            eventHandlers: {
              succeeded: () => done(true),
              // Any response at all, even an error, proves the socket carries messages both ways.
              failed: (event) => done(String(event.originator) === 'remote'),
            },
          });
        } catch (error) {
          log.warn('could not send the keep-alive', { error: describe(error) });
          done(false);
        }
      },
      connect: () => internals.transport.connect(),
      drop: () => internals.transport.disconnect(),
      register: () => ua.register(),
    };
  }

  /**
   * The socket was replaced. The PBX ties every dialog to the connection it was made on and hangs up the calls of
   * a connection that closes, so each call is checked with a re-INVITE: one the PBX still holds gets a 2xx (with an
   * ICE restart if its media is down too), a lost one gets 481 (RFC 3261 §12.2.1.2) and JsSIP ends it. A call still
   * ringing here was cancelled by the PBX meanwhile.
   */
  private afterReconnect(): void {
    for (const record of [...this.calls.values()]) {
      const state = record.machine.state;
      if (state === 'ringing-in') {
        log.info('a ringing call was lost with the connection', { id: record.id });
        this.end(record, 'missed');
        this.terminateQuietly(record);
      } else if (state === 'active' || state === 'held') {
        log.info('checking the call after reconnecting', { id: record.id, restartIce: record.media.isDown });
        this.restartIce(record, record.media.isDown);
      }
    }
  }

  /**
   * A re-INVITE with the session as it is, or with fresh ICE credentials (`iceRestart`, RFC 8445 §9) when the
   * media path broke. False when it cannot be sent now: no connection to the PBX, or another offer in flight.
   */
  private restartIce(record: CallRecord, iceRestart = true): boolean {
    const state = record.machine.state;
    if (!this.ua?.isConnected() || !record.session || (state !== 'active' && state !== 'held')) return false;
    log.debug(iceRestart ? 'ice restart' : 'dialog check', { id: record.id });
    return this.sendReoffer(record, iceRestart ? { iceRestart: true } : undefined, (ok) => {
      if (!ok) log.info(iceRestart ? 'the ICE restart was refused' : 'the dialog check was refused', { id: record.id });
      // Chromium keeps the old pair while the new one is checked, so a restart that lands may change no state.
      const peerConnection = record.peerConnection;
      if (ok && peerConnection && !record.machine.isEnded) record.media.update(peerConnection.iceConnectionState);
    });
  }

  private terminateQuietly(record: CallRecord): void {
    try {
      record.session?.terminate();
    } catch {
      // Already over on JsSIP's side.
    }
  }

  stop(): void {
    if (this.stopped) return;
    log.debug('stop');
    this.stopped = true;
    this.keeper?.stop();
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
      ua.call(target, mediaOptions(this.devices));
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
      record.session.answer(mediaOptions(this.devices));
    } catch (error) {
      // The caller gave up in the same instant; JsSIP reports that end on its own if it has not already.
      log.warn('could not answer', { id, error: describe(error) });
    }
  }

  decline(id: string, kind: DeclineKind = 'decline'): void {
    const record = this.live(id, 'decline');
    if (!record?.session) return;
    if (record.machine.state !== 'ringing-in') {
      log.warn('decline ignored: the call is not ringing', { id, state: record.machine.state });
      return;
    }
    log.debug('decline', { id, kind });
    if (kind === 'busy') {
      // RFC 3261 §21.4.24: 486 Busy Here: reachable, but not taking calls now (do not disturb).
      this.terminate(record, { status_code: 486, reason_phrase: 'Busy Here', cause: C.causes.BUSY });
    } else {
      // RFC 3261 §21.6.2: 603 Decline says the person was reached and chose not to take the call.
      this.terminate(record, { status_code: 603, reason_phrase: 'Decline' });
    }
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
    this.routeOutput(element);
    element.muted = isHeld(record);
    if (record.remoteStream) play(element, record.remoteStream);
    return () => {
      record.audioElements.delete(element);
      if (element.srcObject === record.remoteStream) element.srcObject = null;
    };
  }

  setMuted(id: string, muted: boolean): void {
    const record = this.live(id, muted ? 'mute' : 'unmute');
    if (!record || record.muted === muted) return;
    log.debug(muted ? 'mute' : 'unmute', { id });
    record.muted = muted;
    this.applyMediaState(record);
    this.emit('callChanged', snapshot(record));
  }

  hold(id: string): void {
    const record = this.live(id, 'hold');
    if (!record) return;
    if (record.machine.state !== 'active') {
      log.warn('hold ignored: the call is not active', { id, state: record.machine.state });
      return;
    }
    log.debug('hold', { id });
    record.notice = undefined;
    this.move(record, 'holding');
    this.reoffer(record, 'sendonly');
  }

  resume(id: string): void {
    const record = this.live(id, 'resume');
    if (!record) return;
    if (record.machine.state !== 'held') {
      log.warn('resume ignored: the call is not held', { id, state: record.machine.state });
      return;
    }
    log.debug('resume', { id });
    record.notice = undefined;
    this.move(record, 'resuming');
    this.reoffer(record, 'sendrecv');
  }

  sendDtmf(id: string, key: DialPadKey, method: DtmfMethod): void {
    const record = this.live(id, 'send DTMF');
    if (!record?.session || !isEstablished(record.machine.state)) return;
    // RFC 4733 needs telephone-event negotiated on the audio sender; without it, SIP INFO still gets through.
    const dtmfSender = record.peerConnection?.getSenders().find((sender) => sender.track?.kind === 'audio')?.dtmf;
    const inMedia = method === 'rfc4733' && dtmfSender?.canInsertDTMF === true;
    log.debug('dtmf', { id, key, via: inMedia ? 'rfc4733' : 'info' });
    try {
      record.session.sendDTMF(key, {
        transportType: inMedia ? C.DTMF_TRANSPORT.RFC2833 : C.DTMF_TRANSPORT.INFO,
        duration: DTMF_DURATION_MS,
        interToneGap: DTMF_GAP_MS,
      });
      this.setNotice(record, undefined);
    } catch (error) {
      log.warn('could not send DTMF', { id, error: describe(error) });
      this.setNotice(record, 'dtmf-failed');
    }
  }

  async readStats(id: string): Promise<MediaStatsSample | undefined> {
    const peerConnection = this.calls.get(id)?.peerConnection;
    if (!peerConnection) return undefined;
    const report = await peerConnection.getStats();
    return readMediaStats(report.values() as Iterable<Record<string, unknown>>);
  }

  async useDevices(devices: CallDevices): Promise<void> {
    const previous = this.devices;
    this.devices = { ...devices };
    log.debug('devices', { microphone: devices.microphoneId ?? 'default', speaker: devices.speakerId ?? 'default' });
    if (previous.speakerId !== devices.speakerId) {
      for (const record of this.calls.values()) for (const element of record.audioElements) this.routeOutput(element);
    }
    if (previous.microphoneId !== devices.microphoneId) {
      await Promise.all([...this.calls.values()].map((record) => this.replaceMicrophone(record)));
    }
  }

  private async replaceMicrophone(record: CallRecord): Promise<void> {
    const senders = record.peerConnection?.getSenders().filter((sender) => sender.track?.kind === 'audio') ?? [];
    if (senders.length === 0 || record.machine.isEnded) return;
    const wanted = this.devices.microphoneId;
    let track: MediaStreamTrack | undefined;
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: microphoneConstraint(wanted), video: false });
      track = stream.getAudioTracks()[0];
    } catch (error) {
      // The call keeps the microphone it has; a later device change tries again.
      log.warn('could not open the microphone', { id: record.id, error: describe(error) });
      return;
    }
    if (!track) return;
    if (record.machine.isEnded || this.devices.microphoneId !== wanted) {
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
    this.applyMediaState(record);
  }

  /**
   * Sends a re-INVITE whose offer says `direction` for the audio (RFC 3264 §8.4); refused, the call stays as it
   * was with a notice on its card.
   */
  private reoffer(record: CallRecord, direction: 'sendonly' | 'sendrecv'): void {
    const session = record.session;
    const peerConnection = record.peerConnection;
    const holding = direction === 'sendonly';
    if (!session || !peerConnection) {
      this.settleReoffer(record, holding, false);
      return;
    }
    const transceivers = peerConnection
      .getTransceivers()
      .filter((transceiver) => transceiver.receiver.track.kind === 'audio' && transceiver.direction !== 'stopped');
    const before = transceivers.map((transceiver) => transceiver.direction);
    for (const transceiver of transceivers) transceiver.direction = direction;
    this.sendReoffer(record, undefined, (ok) => {
      if (!ok) {
        transceivers.forEach((transceiver, i) => {
          transceiver.direction = before[i] ?? 'sendrecv';
        });
      }
      this.settleReoffer(record, holding, ok);
    });
  }

  /**
   * Sends a re-INVITE with a new offer and calls `settle` once with whether it was accepted. JsSIP ends the whole
   * call when a re-INVITE is refused; RFC 3261 §14.1 says the session carries on unchanged instead, so the refusal
   * is caught here and the offer rolled back. A lost dialog (408/481) or connection still ends the call.
   */
  private sendReoffer(record: CallRecord, rtcOfferConstraints: RTCOfferOptions | undefined, settle: (ok: boolean) => void): boolean {
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
          .catch((error: unknown) => log.warn('could not roll back the refused offer', { error: describe(error) }));
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
      log.warn('could not send the re-INVITE', { id: record.id, error: describe(error) });
    }
    if (!started) finish(false);
    // renegotiate() re-enables the microphone by JsSIP's own reckoning, which knows nothing of mute or hold.
    this.applyMediaState(record);
    return started;
  }

  private settleReoffer(record: CallRecord, holding: boolean, ok: boolean): void {
    if (record.machine.isEnded) return;
    const expected = holding ? 'holding' : 'resuming';
    if (record.machine.state !== expected) return;
    if (ok) {
      record.notice = undefined;
      this.move(record, holding ? 'held' : 'active');
    } else {
      record.notice = holding ? 'hold-failed' : 'resume-failed';
      this.move(record, holding ? 'active' : 'held');
    }
    this.applyMediaState(record);
  }

  /**
   * Our microphone is live only on a call that is on the line and not muted; a held call hears nothing of us (the
   * issue's "the held side hears silence, not the room") and we hear nothing of it.
   */
  private applyMediaState(record: CallRecord): void {
    const held = isHeld(record);
    const sending = !record.muted && !held && !record.remoteHold;
    for (const sender of record.peerConnection?.getSenders() ?? []) {
      if (sender.track?.kind === 'audio') sender.track.enabled = sending;
    }
    for (const element of record.audioElements) element.muted = held;
  }

  private setNotice(record: CallRecord, notice: CallNotice | undefined): void {
    if (record.notice === notice) return;
    record.notice = notice;
    this.emit('callChanged', snapshot(record));
  }

  private routeOutput(element: HTMLAudioElement): void {
    const sinkId = this.devices.speakerId ?? '';
    if (typeof element.setSinkId !== 'function' || element.sinkId === sinkId) return;
    element.setSinkId(sinkId).catch((error: unknown) => {
      // The device went away between choosing and routing; the system default keeps playing.
      log.warn('could not route call audio to the speaker', { error: describe(error) });
    });
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
      muted: false,
      remoteHold: false,
      receivedDigits: '',
      ownTracks: [],
      media: new MediaWatch({
        restartIce: () => this.restartIce(record),
        giveUp: () => {
          log.warn('the call has had no media for too long; ending it', { id: record.id });
          this.end(record, 'failed');
          this.terminateQuietly(record);
        },
      }),
      gathering: new GatheringCap(),
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
    session.on('icecandidate', (event: IceCandidateEvent) => record.gathering.candidate(event));
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
    // The far end holding us (RFC 3264 §8.4 in their re-INVITE) is shown on the card; JsSIP answers it itself.
    session.on('hold', ({ originator }) => {
      if (String(originator) !== 'remote') return;
      record.remoteHold = true;
      this.applyMediaState(record);
      this.emit('callChanged', snapshot(record));
    });
    session.on('unhold', ({ originator }) => {
      if (String(originator) !== 'remote') return;
      record.remoteHold = false;
      this.applyMediaState(record);
      this.emit('callChanged', snapshot(record));
    });
    // Browsers cannot receive RFC 4733 events, so only keys relayed to us as SIP INFO can be shown.
    session.on('newDTMF', (event: IncomingDTMFEvent | OutgoingDTMFEvent) => {
      if (String(event.originator) !== 'remote') return;
      const tone = String(event.dtmf.tone ?? '');
      if (!/^[0-9*#A-D]$/i.test(tone)) return;
      record.receivedDigits += tone.toUpperCase();
      this.emit('callChanged', snapshot(record));
    });
    session.on('ended', onEnd('ended'));
    session.on('failed', onEnd('failed'));
  }

  private terminate(record: CallRecord, options: TerminateOptions): void {
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
    for (const track of record.ownTracks) track.stop();
    record.ownTracks = [];
    record.media.dispose();
    record.gathering.dispose();
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
    peerConnection.addEventListener('iceconnectionstatechange', () => {
      if (!record.machine.isEnded) record.media.update(peerConnection.iceConnectionState);
    });
    peerConnection.addEventListener('icegatheringstatechange', () => {
      if (peerConnection.iceGatheringState === 'gathering') record.gathering.began();
    });
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
    this.applyMediaState(record);
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
    muted: record.muted,
    remoteHold: record.remoteHold,
    receivedDigits: record.receivedDigits,
    notice: record.notice,
  };
}

function isHeld(record: CallRecord): boolean {
  const state = record.machine.state;
  return state === 'held' || state === 'resuming';
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
