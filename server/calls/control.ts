/**
 * What the call engine offers the features built on it (transfer, pickup; later conference, park): the
 * primitives a feature composes, each keeping the engine's invariants (a dialog is known while its party or
 * fork lives; a line's lamp moves only forward; a party dropped releases its timer, listeners, media and
 * dialog). Features reach calls only through this, never into the engine's maps.
 */
import type { MediaConfig } from '../media/legs/webrtc-leg';
import type { Binding } from '../presence/registrar';
import type { Dialog } from '../sip/dialog/dialog';
import type { ReplacesTarget } from '../sip/dialog/refer';
import type { SessionTimerNegotiation, SessionTimerSettings } from '../sip/dialog/session-timer';
import type { SipEndpoint } from '../sip/endpoint';
import type { SipRequest } from '../sip/syntax/message';
import type { ServerTransaction } from '../sip/transaction/transactions';
import type { SipConnection } from '../sip/transport/connection';
import type { MediaLeg } from '../media/legs/media-leg';
import type { Attempt, AttemptHandlers, Call, CallDisposition, Codec, DialogEntry, Fork, Line, LineIdentity, LineState, Party } from './call';

export interface CallControl {
  readonly endpoint: SipEndpoint;
  readonly media: MediaConfig;
  /** Our session timer policy (RFC 4028), for a feature that answers an INVITE itself. */
  readonly sessionTimers: SessionTimerSettings;

  /** The dialog an in-dialog request belongs to, if its tags match (RFC 3261 §12.2.2). */
  lookup(request: SipRequest): DialogEntry | undefined;
  /** The dialog a Replaces header (RFC 3891) names, with its tags checked. */
  findReplaced(replaces: ReplacesTarget): DialogEntry | undefined;
  /** The party (or ringing fork) whose dialog has this SIP Call-ID, e.g. the app's own session's. */
  findDialog(sipCallId: string): DialogEntry | undefined;
  /** From now on, requests in `party`'s dialog reach `call`. */
  trackDialog(call: Call, party: Party): void;

  /** Rings every device in `bindings` for `target` on behalf of `call`; the first to answer wins. */
  ring(call: Call, target: LineIdentity, from: LineIdentity, bindings: Binding[], codecs: readonly Codec[], handlers: AttemptHandlers, referredBy?: string): Attempt;
  cancelFork(fork: Fork): void;
  dropFork(fork: Fork): void;
  /** The party an answered fork becomes (its dialog now names the party). */
  partyFromFork(fork: Fork): Party;
  newParty(dialog: Dialog, media: MediaLeg, line: Line): Party;
  /** `party` answers the call's caller (call pickup): stored, then the caller's 200. */
  connect(call: Call, party: Party): void;

  sendBye(dialog: Dialog): void;
  /** `party` leaves; the call goes on. */
  dropParty(call: Call, party: Party): void;
  /**
   * `party` can no longer take part (its session expired, it never acknowledged, its answer was unusable): it is
   * hung up, and the call with it unless it is a conference that two others still hold.
   */
  partyFailed(call: Call, party: Party, why: string): void;
  /** Ends an answered call: BYE to every party still in it. */
  hangUp(call: Call, disposition: CallDisposition, why: string): void;
  /** Ends a call with no BYE of its own (its parties have been dealt with). */
  endCall(call: Call, disposition: CallDisposition, why: string): void;

  setLine(call: Call, line: Line, state: LineState, remote: LineIdentity | undefined): void;
  /** Tells `party`'s phone who it now talks to (after a transfer): an UPDATE with P-Asserted-Identity. */
  updateIdentity(call: Call, party: Party, identity: LineIdentity): void;
  /** A party's device put the call on hold or took it off: music on hold and the lines' `heldBy` follow (hold-music.ts). */
  holdChanged(call: Call): void;
  /** Tells `party`'s user something in words (callNotice), the line's state unchanged. */
  announce(call: Call, party: Party, reason: string): void;
  /** Stores the call's legs anew when they changed (store/call-journal.ts), for recovery after a crash. */
  storeLegs(call: Call): void;

  contact(connection: SipConnection): string;
  /** 488 with a Warning for an offer we cannot take. */
  refuseOffer(tx: ServerTransaction): void;
  /** A 2xx never acknowledged ends the call (RFC 3261 §13.3.1.4). */
  hangUpUnlessAcknowledged(tx: ServerTransaction, party: Party): void;
  applySessionTimer(party: Party, negotiation: SessionTimerNegotiation): void;
}
