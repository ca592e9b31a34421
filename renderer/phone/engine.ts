/**
 * What the rest of the renderer knows about the phone: a registration state and calls, each reported as a plain
 * snapshot whenever it changes. `jssip/` is the one implementation and the only code that talks to JsSIP; the
 * store depends on this interface alone.
 */
import type { DtmfMethod } from '../../shared/bridge';
import type { RegistrationState } from '../../shared/registration';
import type { DialPadKey } from './dial-string';
import type { MediaStatsSample } from './call-quality';
import type { Subscribable } from '../util/typed-emitter';
import type { CallState, EndReason } from './call-state';
import type { WakeReason } from './connection-keeper';
import type { KeptCall } from './kept-calls';

export type CallDirection = 'incoming' | 'outgoing';

export interface RemoteParty {
  /** The caller's or callee's display name, empty when the PBX gives none. */
  name: string;
  /** The user part of their SIP URI: an extension or a phone number. */
  number: string;
}

/** Whom an engine registers as: the PBX it connects to and the user's SIP address (extension and organization). */
export interface PhoneAccount {
  /** The PBX's SIP WebSocket URL. */
  server: string;
  /** The user's SIP URI, `sip:<extension>@<organization's domain>`. */
  uri: string;
}

/** A copy of one call's state, safe to keep in a reactive store. */
export interface CallSnapshot {
  id: string;
  direction: CallDirection;
  state: CallState;
  endReason?: EndReason;
  /** The far end's own words about the end (a PBX's refusal: "Outside calls are not allowed for this extension"). */
  endDetail?: string;
  remote: RemoteParty;
  /** Milliseconds since the epoch. */
  startedAt: number;
  /** When the call became active; the call timer counts from here. */
  answeredAt?: number;
  endedAt?: number;
  /** Our microphone is muted for this call: the far end hears silence. */
  muted: boolean;
  /** The far end has put us on hold (their re-INVITE said sendonly or inactive). */
  remoteHold: boolean;
  /** Keys the far end sent us by SIP INFO (RFC 6086 with application/dtmf-relay), oldest first. */
  receivedDigits: string;
  /** The last in-call option that did not work, until the next one is tried. */
  notice?: CallNotice;
  /**
   * The SIP Call-ID of the call's session (RFC 3261 §8.1.1.4), which names the user's leg of the call to the PBX's
   * REST commands (transfer); set once the session exists, so from the first change after `dialing` at the latest.
   */
  sipCallId?: string;
}

export type CallNotice = 'hold-failed' | 'resume-failed' | 'dtmf-failed';

/** How we turn a call down: 603 Decline (the person chose not to answer) or 486 Busy Here (do not disturb). */
export type DeclineKind = 'decline' | 'busy';

/** The audio devices calls use; undefined means the system default. */
export interface CallDevices {
  microphoneId?: string;
  speakerId?: string;
}

export interface PhoneEngineEvents {
  registrationChanged: [state: RegistrationState];
  /** A call we placed or one that reaches us; always followed by callChanged until it has ended. */
  callAdded: [call: CallSnapshot];
  callChanged: [call: CallSnapshot];
}

export interface PhoneEngine extends Subscribable<PhoneEngineEvents> {
  readonly registration: RegistrationState;
  /** Whose phone this is; calls kept over a reload are rejoined only by the same account (kept-calls.ts). */
  readonly account: PhoneAccount;
  /**
   * Connects and registers; keeps the connection alive (keep-alive OPTIONS) and replaces it, with backoff, when
   * it dies. Calls whose media drops are repaired with an ICE restart, or ended when they cannot be.
   */
  start(): void;
  /**
   * The network, the computer or the page just changed (back online, resumed from sleep, shown again): checks
   * the connection now instead of at the next keep-alive, replaces it if dead, and registers again.
   */
  checkConnection(reason: WakeReason): void;
  /** Ends every call, unregisters and disconnects. The engine cannot be started again. */
  stop(): void;
  /**
   * The dialogs of the answered calls (on the line or held, and whether the user holds each), as a page that goes
   * away keeps them (kept-calls.ts).
   */
  keptCalls(): KeptCall[];
  /**
   * Takes a call kept by the page before a reload back: an INVITE with Replaces naming its old dialog (RFC 3891),
   * shown as the same call (party, direction, answer time). A call kept as held is rejoined held: its INVITE offers
   * sendonly (RFC 3264 §8.4) and the microphone stays off. Returns the call's id.
   */
  rejoin(call: KeptCall): string;
  /** Places a call to an extension or number; returns the call's id. */
  call(target: string): string;
  answer(id: string): void;
  decline(id: string, kind?: DeclineKind): void;
  /** Cancels a call that has not been answered yet, or ends an answered one. */
  hangUp(id: string): void;
  /**
   * Plays the far end of the call through `element` for as long as the call has media, updating it as
   * tracks arrive. Returns a function that detaches the element.
   */
  attachRemoteAudio(id: string, element: HTMLAudioElement): () => void;
  /** Silences or restores our microphone on one call; the call stays up either way. */
  setMuted(id: string, muted: boolean): void;
  /** Puts an active call on hold with a re-INVITE (RFC 3264 §8.4: a=sendonly); the call moves holding → held. */
  hold(id: string): void;
  /** Takes a held call off hold with a re-INVITE (a=sendrecv); the call moves resuming → active. */
  resume(id: string): void;
  /** Sends one key press to the far end of an established call. */
  sendDtmf(id: string, key: DialPadKey, method: DtmfMethod): void;
  /** The call's audio counters now, or undefined when it has no media yet. */
  readStats(id: string): Promise<MediaStatsSample | undefined>;
  /**
   * Uses these devices for every call from now on, moving calls in progress over without dropping them (the
   * microphone track is replaced on each call's sender, the speaker is changed on each call's audio element).
   */
  useDevices(devices: CallDevices): Promise<void>;
}
