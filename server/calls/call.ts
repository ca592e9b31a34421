/**
 * A call and what it is made of: its parties (a dialog, a media leg and the line it stands for), the attempts
 * that ring a user's devices (one fork per device), the joins that carry its audio, and its record. The
 * engine (call-engine.ts) moves calls through their states; features act on them through CallControl
 * (control.ts).
 *
 * Call states:   routing ──► ringing ──► answered ──► ended
 *                   └───────────┴────────────────────────┘   (cancel, decline, failure, hang-up)
 * `transition()` throws on any other move. A call owns its parties, attempts, media, joins and record;
 * ending it releases all of them, once.
 */
import { randomUUID } from 'node:crypto';
import type { MediaBridge } from '../media/joins/bridge';
import type { DtmfEvent, LegKind, MediaLeg } from '../media/legs/media-leg';
import type { Playback } from '../media/player';
import type { NewCallRecord } from '../store/call-records';
import type { Binding } from '../presence/registrar';
import type { Dialog } from '../sip/dialog/dialog';
import type { SessionTimer, SessionTimerNegotiation } from '../sip/dialog/session-timer';
import type { ClientTransaction, ServerTransaction } from '../sip/transaction/transactions';
import type { StoredLegsMark } from './call-recovery';
import type { FinalResponse } from './fork-response';

/**
 * How long the other party of a call hears music on hold while an app that left it (a reload, its WebSocket
 * closed) may come back with INVITE/Replaces; then the call ends.
 */
export const REJOIN_GRACE_MS = 15_000;

/** How long a call may ring before the caller is told nobody answered. */
export const RING_TIMEOUT_MS = 60_000;

export type CallState = 'routing' | 'ringing' | 'answered' | 'ended';
export type CallDisposition = 'answered' | 'missed' | 'declined' | 'cancelled' | 'failed' | 'busy';

export const TRANSITIONS: Record<CallState, readonly CallState[]> = {
  routing: ['ringing', 'answered', 'ended'],
  ringing: ['answered', 'ended'],
  answered: ['ended'],
  ended: [],
};


/** The state of one extension's line in a call, as the dialog event package names it (RFC 4235 §3.7.1). */
export type LineState = 'trying' | 'early' | 'confirmed' | 'terminated';

export interface LineIdentity {
  extension: string;
  displayName: string;
}

export interface CallStateChangedEvent {
  /** The PBX's id of the call (stable across transfers that keep the call). */
  callId: string;
  organizationId: number;
  /** Whose line this is. */
  extension: string;
  /** Their name, as the call shows it. */
  displayName: string;
  /** RFC 4235: the initiator placed the call, the recipient was called. */
  direction: 'initiator' | 'recipient';
  state: LineState;
  /** Who the line is talking to (or ringing), when known. */
  remote: LineIdentity | undefined;
  /** The extension's device's dialog with us on this line, in the device's view (RFC 4235 §4.1), once there is one. */
  dialog?: { callId: string; localTag: string | undefined; remoteTag: string };
  /** While the call is on hold: who holds it (this line's own user, or the other party). */
  heldBy?: LineIdentity;
}

export interface CallEngineEvents {
  /** An extension's line in a call changed state, or (while confirmed) now talks to someone else after a transfer. */
  callStateChanged: [CallStateChangedEvent];
  /** Something a line's user should be told in words, its state unchanged (a transfer that failed after it began). */
  callNotice: [CallStateChangedEvent & { reason: string }];
}

/** The leg a device speaks: browsers and the app reach us over WebSocket with WebRTC; everything else is plain RTP. */
export function legKindFor(binding: Binding): LegKind {
  const transport = binding.connection.transport;
  return transport === 'WS' || transport === 'WSS' ? 'webrtc' : 'rtp';
}
export type Codec = NonNullable<MediaLeg['codec']>;

export interface Line {
  identity: LineIdentity;
  direction: 'initiator' | 'recipient';
  state: LineState | undefined;
  remote: LineIdentity | undefined;
  /** The PBX's dialog with the extension's device on this line, once there is one: what busy lamps name. */
  dialog?: Dialog;
  /** Who holds the call, while it is held (hold-music.ts). */
  heldBy?: LineIdentity;
}

/** One side of an established (or, for the caller, establishing) call: a dialog, its media leg and its line. */
export interface Party {
  dialog: Dialog;
  media: MediaLeg;
  line: Line;
  timer: SessionTimer | undefined;
  cleanups: Array<() => void>;
  /** Hung up or replaced; it no longer takes part in the call. */
  gone: boolean;
  /** Its INVITE had no offer: ours went out in the 2xx, and without its answer in the ACK there is no session. */
  awaitingAnswer?: boolean;
  /** The music on hold it hears, while it does (hold-music.ts). */
  music?: Playback;
  /**
   * Its app's connection went away during the call (a reload): the others hear music while it may come back
   * with INVITE/Replaces (rejoin.ts); `since` is when it went.
   */
  away?: { since: number; timer: NodeJS.Timeout };
}

export interface Fork {
  attempt: Attempt;
  binding: Binding;
  dialog: Dialog;
  media: MediaLeg;
  tx: ClientTransaction | undefined;
  state: 'calling' | 'early' | 'answered' | 'failed' | 'cancelled';
  /** The device's answer (in a 183 or the 2xx) has been applied to the media leg. */
  answerApplied: boolean;
  /** Early media already bridged this fork to the caller. */
  bridged: boolean;
  /** The session timer the device's 2xx put on the dialog (RFC 4028 §7.2), if any. */
  sessionExpires?: { seconds: number; refresher?: 'uac' | 'uas' };
}

export interface AttemptHandlers {
  ringing(fork: Fork): void;
  earlyMedia(fork: Fork): void;
  /** The fork's answer has been applied to its media; it is the attempt's winner. */
  answered(fork: Fork): void;
  failed(status: number, reason: string): void;
}

/** Ringing every device of one user on behalf of a call (the first call, or a transfer target). */
export interface Attempt {
  call: Call;
  target: LineIdentity;
  line: Line;
  forks: Fork[];
  done: boolean;
  earlyFork: Fork | undefined;
  handlers: AttemptHandlers;
  /** For a transfer target: who transferred the call (RFC 3892 Referred-By), which its phone may show. */
  referredBy?: string;
  /** The best refusal so far among the devices, as the caller is to hear it (fork-response.ts). */
  failure?: FinalResponse;
}

/**
 * A transfer under way on a call (features/transfer). The engine needs only this of it: the transferor may
 * leave alone while it runs, and the transfer hears when the call ends before it is done.
 */
export interface PendingTransfer {
  readonly transferor: Party;
  callEnded(): void;
}

/**
 * A join of more than two parties (features/conference: the PBX's mixer). With one, a party that leaves does
 * not end the call while two others remain; the call closes it when it ends.
 */
export interface ConferenceJoin {
  /** The extension of the user who built it: the one who may remove others. */
  readonly builder: string;
  /** `party` has left the call (hung up, or removed); its leg is closed after this. */
  partyLeft(party: Party): void;
  /** `party` continues on another device (INVITE with Replaces): its new leg takes the old one's place. */
  partyReplaced(old: Party, replacement: Party): void;
  close(): void;
}

export interface DialogEntry {
  call: Call;
  party?: Party;
  fork?: Fork;
}

export class Call {
  readonly id = randomUUID();
  private stateValue: CallState = 'routing';
  readonly parties: Party[] = [];
  attempt: Attempt | undefined;
  readonly attempts: Attempt[] = [];
  readonly bridges: MediaBridge[] = [];
  transfer: PendingTransfer | undefined;
  /** Set once the call has become a conference; its bridges are then detached. */
  conference: ConferenceJoin | undefined;
  /** The call's record, kept here while the call lasts and written once when it ends. */
  record: NewCallRecord | undefined;
  ringTimer: NodeJS.Timeout | undefined;
  sentRinging = false;
  sentEarlyMedia = false;
  /** The party whose answer is being stored; the caller hears of it once that is done (connect). */
  answering: Party | undefined;
  /** The legs as last stored in active_calls, from the answer on; undefined for a call never answered. */
  storedLegs: StoredLegsMark | undefined;
  /** A call the PBX answered for a service (voicemail, the mailbox menu): its record's end reason, whoever hangs up. */
  serviceEndReason: string | undefined;
  /** Told once when the call ends (a service's ServiceCall.onEnded). */
  readonly endListeners = new Set<(why: string) => void>();
  /** A service's listeners to the caller's key presses sent in SIP INFO (info-keys.ts). */
  readonly infoKeyListeners = new Set<(event: DtmfEvent) => void>();
  /**
   * A screened call (screening.ts): the user who answered, while they hear who calls and choose. Not yet one of
   * the call's parties; its key presses sent in SIP INFO go to `keys`.
   */
  screening: { party: Party; keys: Set<(event: DtmfEvent) => void> } | undefined;

  constructor(
    readonly organizationId: number,
    readonly domain: string,
    readonly calleeExtension: string,
    readonly inviteTx: ServerTransaction,
    readonly origin: Party,
    /** Our SDP for the caller: the answer to its offer, or our offer when its INVITE had none (`delayedOffer`). */
    public originSdp: string,
    readonly originTimer: SessionTimerNegotiation,
    readonly delayedOffer = false,
  ) {
    this.parties.push(origin);
  }

  get state(): CallState {
    return this.stateValue;
  }

  /** Read after every await: a CANCEL or BYE may have ended the call meanwhile. */
  get ended(): boolean {
    return this.stateValue === 'ended';
  }

  transition(to: CallState): void {
    if (!TRANSITIONS[this.stateValue].includes(to)) {
      throw new Error(`call ${this.id}: illegal transition ${this.stateValue} → ${to}`);
    }
    this.stateValue = to;
  }

  other(party: Party): Party | undefined {
    return this.parties.find((p) => p !== party && !p.gone);
  }
}

/** A line's change as the engine reports it (`callStateChanged`): to the apps' feed and to busy lamps. */
export function lineChange(call: Call, line: Line): CallStateChangedEvent {
  const { state, remote } = line;
  const dialog = line.dialog;
  return {
    callId: call.id,
    organizationId: call.organizationId,
    extension: line.identity.extension,
    displayName: line.identity.displayName,
    direction: line.direction,
    state: state ?? 'trying',
    remote,
    ...(line.heldBy && state === 'confirmed' ? { heldBy: line.heldBy } : {}),
    // The device's own view of its dialog with us: its tag is local, ours remote (RFC 4235 §4.1).
    ...(dialog ? { dialog: { callId: dialog.callId, localTag: dialog.remoteTag, remoteTag: dialog.localTag } } : {}),
  };
}
