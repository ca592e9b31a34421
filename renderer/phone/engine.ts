/**
 * What the rest of the renderer knows about the phone: a registration state and calls, each reported as a plain
 * snapshot whenever it changes. `jssip-adapter.ts` is the one implementation and the only code that talks to
 * JsSIP; the store depends on this interface alone.
 */
import type { RegistrationState } from '../../shared/registration';
import type { Subscribable } from '../util/typed-emitter';
import type { CallState, EndReason } from './call-state';

export type CallDirection = 'incoming' | 'outgoing';

export interface RemoteParty {
  /** The caller's or callee's display name, empty when the PBX gives none. */
  name: string;
  /** The user part of their SIP URI: an extension or a phone number. */
  number: string;
}

/** A copy of one call's state, safe to keep in a reactive store. */
export interface CallSnapshot {
  id: string;
  direction: CallDirection;
  state: CallState;
  endReason?: EndReason;
  remote: RemoteParty;
  /** Milliseconds since the epoch. */
  startedAt: number;
  /** When the call became active; the call timer counts from here. */
  answeredAt?: number;
  endedAt?: number;
}

export interface PhoneEngineEvents {
  registrationChanged: [state: RegistrationState];
  /** A call we placed or one that reaches us; always followed by callChanged until it has ended. */
  callAdded: [call: CallSnapshot];
  callChanged: [call: CallSnapshot];
}

export interface PhoneEngine extends Subscribable<PhoneEngineEvents> {
  readonly registration: RegistrationState;
  /** Connects and registers; reconnects on its own after a network loss. */
  start(): void;
  /** Ends every call, unregisters and disconnects. The engine cannot be started again. */
  stop(): void;
  /** Places a call to an extension or number; returns the call's id. */
  call(target: string): string;
  answer(id: string): void;
  decline(id: string): void;
  /** Cancels a call that has not been answered yet, or ends an answered one. */
  hangUp(id: string): void;
  /**
   * Plays the far end of the call through `element` for as long as the call has media, updating it as
   * tracks arrive. Returns a function that detaches the element.
   */
  attachRemoteAudio(id: string, element: HTMLAudioElement): () => void;
}
