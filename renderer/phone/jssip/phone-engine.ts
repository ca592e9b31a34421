/**
 * The phone engine over JsSIP: one UA per signed-in session, registered and kept connected, and one
 * `CallRecord` (with its CallStateMachine) per RTCSession. It implements `PhoneEngine` by handing each call's
 * work to the modules beside it: `call-session.ts` (the session's events and requests), `reoffer.ts` (hold,
 * resume, ICE restart) and `media-streams.ts` (microphone, speaker, remote audio).
 */
import { UA } from 'jssip';
import type { RTCSession } from 'jssip/lib/RTCSession';
import type { RTCSessionEvent } from 'jssip/lib/UA';
import type { SipCredentials } from '../../../shared/api';
import type { DtmfMethod } from '../../../shared/bridge';
import type { RegistrationState } from '../../../shared/registration';
import { createLogger, describeError } from '../../log';
import { TypedEmitter } from '../../util/typed-emitter';
import { readMediaStats } from '../call-quality';
import type { MediaStatsSample } from '../call-quality';
import { CallStateMachine, isEstablished } from '../call-state';
import type { CallState, EndReason } from '../call-state';
import { ConnectionKeeper } from '../connection-keeper';
import type { WakeReason } from '../connection-keeper';
import type { DialPadKey } from '../dial-string';
import type { CallDevices, CallDirection, DeclineKind, PhoneAccount, PhoneEngine, PhoneEngineEvents, RemoteParty } from '../engine';
import { AudioWarmup } from '../audio-warmup';
import { GatheringCap } from '../ice-gathering';
import { MediaWatch } from '../media-watch';
import { snapshot } from './call-record';
import type { CallHost, CallRecord } from './call-record';
import { declineSession, sendDtmfKey, terminateQuietly, terminateSession, wireSession } from './call-session';
import { applyMediaState, attachRemoteAudio, mediaOptions, releaseMedia, replaceMicrophone, routeOutput } from './media-streams';
import { replacesHeader } from '../kept-calls';
import type { KeptCall } from '../kept-calls';
import { dialogIdentifiers } from './dialog-identifiers';
import { reofferDirection, restartIce } from './reoffer';
import { isTransientRegistrationFailure, signallingLink, uaConfiguration } from './user-agent';

const log = createLogger('phone');

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
  /** What one call's modules may do to the engine. */
  private readonly host: CallHost;
  /** Pays the audio stack's first-use cost while idle, not on the first call (audio-warmup.ts). */
  private readonly warmup = new AudioWarmup();

  constructor(
    private readonly sip: SipCredentials,
    now: () => number,
  ) {
    super();
    this.host = {
      now,
      isConnected: () => this.ua?.isConnected() ?? false,
      move: (record, to) => this.move(record, to),
      end: (record, reason, detail) => this.end(record, reason, detail),
      changed: (record) => this.emit('callChanged', snapshot(record)),
    };
  }

  get registration(): RegistrationState {
    return this.state;
  }

  get account(): PhoneAccount {
    return { server: this.sip.wsUrl, uri: this.sip.uri };
  }

  start(): void {
    if (this.ua || this.stopped) return;
    log.debug('start', { uri: this.sip.uri, wsUrl: this.sip.wsUrl });
    let ua: UA;
    try {
      ua = new UA(uaConfiguration(this.sip));
    } catch (error) {
      log.error('the SIP credentials from the server are not usable', { error: describeError(error) });
      this.setRegistration('failed');
      return;
    }
    this.ua = ua;
    const keeper = new ConnectionKeeper(signallingLink(ua, this.sip.uri));
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
      this.warmup.phoneReady();
      this.setRegistration('registered');
    });
    ua.on('unregistered', () => {
      this.setRegistration(this.stopped || ua.isConnected() ? 'unregistered' : 'registering');
    });
    ua.on('registrationFailed', (event) => {
      log.warn('registration failed', { cause: event.cause, status: event.response?.status_code });
      this.setRegistration('failed');
      keeper.registrationFailed(isTransientRegistrationFailure(event.cause));
    });
    ua.on('newRTCSession', (event: RTCSessionEvent) => {
      // JsSIP keeps the INVITE to itself once the session exists; its Call-ID is read here, the one place it is
      // given. Both its request classes carry `call_id` (JsSIP's parser sets it on incoming ones, untyped).
      const callId: unknown = (event.request as { call_id?: unknown }).call_id;
      const sipCallId = typeof callId === 'string' && callId !== '' ? callId : undefined;
      if (String(event.originator) === 'local') this.onOutgoingSession(event.session, sipCallId);
      else this.onIncomingSession(event.session, sipCallId);
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
        terminateQuietly(record);
      } else if (state === 'active' || state === 'held') {
        log.info('checking the call after reconnecting', { id: record.id, restartIce: record.media.isDown });
        restartIce(this.host, record, record.media.isDown);
      }
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

  keptCalls(): KeptCall[] {
    const now = this.host.now();
    const kept: KeptCall[] = [];
    for (const record of this.calls.values()) {
      const ids = record.session && isEstablished(record.machine.state) ? dialogIdentifiers(record.session) : undefined;
      if (!ids || record.answeredAt === undefined) continue;
      // A hold under way counts as held, a resume under way as on the line: what the user last asked for.
      const held = record.machine.state === 'held' || record.machine.state === 'holding';
      kept.push({ ...ids, direction: record.direction, remote: { ...record.remote }, answeredAt: record.answeredAt, held, savedAt: now });
    }
    return kept;
  }

  rejoin(kept: KeptCall): string {
    log.info('rejoining a call kept over a reload', { number: kept.remote.number, held: kept.held });
    // The PBX takes an INVITE with Replaces before it routes the number: any user part reaches it.
    const shown = { direction: kept.direction, remote: kept.remote, answeredAt: kept.answeredAt, rejoinHeld: kept.held };
    return this.place(kept.remote.number || 'rejoin', shown, [`Replaces: ${replacesHeader(kept)}`]);
  }

  call(target: string): string {
    return this.place(target, { direction: 'outgoing', remote: { name: '', number: target } });
  }

  private place(
    target: string,
    shown: { direction: CallDirection; remote: RemoteParty; answeredAt?: number; rejoinHeld?: boolean },
    extraHeaders: string[] = [],
  ): string {
    const ua = this.ua;
    if (!ua || this.stopped) throw new Error('The phone is not started');
    log.debug('call', { target });
    const record = this.addRecord(shown.direction, shown.remote);
    record.answeredAt = shown.answeredAt;
    if (shown.rejoinHeld) record.rejoinHeld = true;
    this.move(record, 'dialing');
    this.placing = record;
    try {
      ua.call(target, { ...mediaOptions(this.devices), ...(extraHeaders.length > 0 ? { extraHeaders } : {}) });
    } catch (error) {
      log.warn('could not place the call', { target, error: describeError(error) });
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
      log.warn('could not answer', { id, error: describeError(error) });
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
    declineSession(this.host, record, kind);
  }

  hangUp(id: string): void {
    const record = this.live(id, 'hang up');
    if (!record) return;
    if (record.machine.state === 'ringing-in') {
      this.decline(id);
      return;
    }
    log.debug('hang up', { id, state: record.machine.state });
    if (record.session) terminateSession(this.host, record, {});
    else this.end(record, 'cancelled');
  }

  attachRemoteAudio(id: string, element: HTMLAudioElement): () => void {
    const record = this.calls.get(id);
    if (!record) return () => {};
    return attachRemoteAudio(record, element, this.devices);
  }

  setMuted(id: string, muted: boolean): void {
    const record = this.live(id, muted ? 'mute' : 'unmute');
    if (!record || record.muted === muted) return;
    log.debug(muted ? 'mute' : 'unmute', { id });
    record.muted = muted;
    applyMediaState(record);
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
    reofferDirection(this.host, record, 'sendonly');
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
    reofferDirection(this.host, record, 'sendrecv');
  }

  sendDtmf(id: string, key: DialPadKey, method: DtmfMethod): void {
    const record = this.live(id, 'send DTMF');
    if (!record?.session || !isEstablished(record.machine.state)) return;
    sendDtmfKey(this.host, record, key, method);
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
      for (const record of this.calls.values()) {
        for (const element of record.audioElements) routeOutput(element, this.devices);
      }
    }
    if (previous.microphoneId !== devices.microphoneId) {
      await Promise.all([...this.calls.values()].map((record) => replaceMicrophone(record, () => this.devices)));
    }
  }

  private onOutgoingSession(session: RTCSession, sipCallId: string | undefined): void {
    const record = this.placing;
    if (!record) {
      log.warn('an outgoing session that Offhook did not place; ending it');
      session.terminate();
      return;
    }
    this.placing = undefined;
    record.sipCallId = sipCallId;
    wireSession(this.host, record, session);
    this.emit('callChanged', snapshot(record));
  }

  private onIncomingSession(session: RTCSession, sipCallId: string | undefined): void {
    const identity = session.remote_identity;
    const record = this.addRecord('incoming', {
      name: identity.display_name ?? '',
      number: identity.uri.user ?? '',
    });
    record.sipCallId = sipCallId;
    log.debug('incoming call', { id: record.id, from: record.remote.number });
    wireSession(this.host, record, session);
    this.move(record, 'ringing-in');
  }

  private addRecord(direction: CallDirection, remote: RemoteParty): CallRecord {
    const record: CallRecord = {
      id: `call-${this.nextId++}`,
      direction,
      machine: new CallStateMachine(),
      remote,
      startedAt: this.host.now(),
      remoteTracks: new Map(),
      audioElements: new Set(),
      muted: false,
      remoteHold: false,
      receivedDigits: '',
      ownTracks: [],
      media: new MediaWatch({
        restartIce: () => restartIce(this.host, record),
        giveUp: () => {
          log.warn('the call has had no media for too long; ending it', { id: record.id });
          this.end(record, 'failed');
          terminateQuietly(record);
        },
      }),
      gathering: new GatheringCap(),
    };
    this.calls.set(record.id, record);
    this.emit('callAdded', snapshot(record));
    return record;
  }

  private move(record: CallRecord, to: Exclude<CallState, 'ended'>): void {
    record.machine.transition(to);
    this.emit('callChanged', snapshot(record));
  }

  private end(record: CallRecord, reason: EndReason, detail?: string): void {
    if (record.machine.isEnded) return;
    record.endedAt = this.host.now();
    record.machine.transition('ended', reason, detail);
    releaseMedia(record);
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

  private setRegistration(state: RegistrationState): void {
    if (state === this.state) return;
    log.debug('registration', { from: this.state, to: state });
    this.state = state;
    this.emit('registrationChanged', state);
  }
}
