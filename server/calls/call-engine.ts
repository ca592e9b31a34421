/**
 * Why one file past 500 lines: it is the two-party B2BUA that issue #15 takes apart into calls/ (legs, one
 * join, the state machine), routing/ and features/ (transfer, pickup); splitting it before that design lands
 * would only draw seams that #15 moves again.
 *
 * The call engine: a back-to-back user agent. A call starts as the caller's party (the INVITE we received)
 * and an attempt that rings every device of the called user (parallel forking, RFC 3261 §16.7 done as a
 * B2BUA); the first device to answer becomes the second party and the others are cancelled. Media is
 * anchored: each party's leg terminates at the PBX (`server/media`) and a bridge relays audio between them.
 *
 * Within a dialog the engine answers re-INVITE and UPDATE (hold, resume, session refresh), relays INFO,
 * runs session timers (RFC 4028), and carries out transfers: REFER (RFC 3515) to a new target, REFER with
 * Replaces and INVITE with Replaces (RFC 3891) to join or take over calls the PBX already holds.
 *
 * Call states:   routing ──► ringing ──► answered ──► ended
 *                   └───────────┴────────────────────────┘   (cancel, decline, failure, hang-up)
 * A call owns its parties, attempts, media, bridges and record; ending it releases all of them, once.
 *
 * Events (see CallEngineEvents): `callStateChanged` reports each extension's line in a call as it moves
 * through trying → early → confirmed → terminated, in the terms of the dialog event package (RFC 4235).
 */
import { randomInt, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { createLogger } from '../log';
import { MediaBridge } from '../media/joins/bridge';
import { answerOffer, chooseBridgeCodecs, createOffer, G711, narrowOffer } from '../media/legs/legs';
import { MediaTimeout } from '../media/legs/media-timeout';
import type { LegKind, MediaLeg } from '../media/legs/media-leg';
import { SdpError } from '../media/sdp/sdp';
import type { MediaConfig } from '../media/legs/webrtc-leg';
import { CallJournal } from '../store/call-journal';
import type { NewCallRecord } from '../store/call-records';
import type { Database } from '../store/schema';
import { findUserByExtension } from '../store/users';
import { TypedEmitter } from '../util/typed-emitter';
import { ownUtf8 } from '../util/unshared';
import type { DialDecision, DialPolicy } from '../sip/edge/security';
import type { AuthenticatedUser, SipAuthenticator } from '../sip/edge/authenticator';
import { legOf, legsMoved, markLegs } from './call-recovery';
import type { StoredLegsMark } from './call-recovery';
import type { SipConnection } from '../sip/transport/connection';
import { Dialog, formatTarget } from '../sip/dialog/dialog';
import type { SipEndpoint } from '../sip/endpoint';
import { betterFailure, forCaller } from './fork-response';
import type { FinalResponse } from './fork-response';
import { formatNameAddr, formatUri, generateCallId, generateTag, hopsLeft, parseCSeq, parseNameAddr, parseUri } from '../sip/syntax/message';
import type { SipMessage, SipRequest, SipResponse, SipUri } from '../sip/syntax/message';
import { parseReferTo, parseReplaces, REFER_SUBSCRIPTION_S, sipfrag, SIPFRAG_CONTENT_TYPE } from '../sip/dialog/refer';
import type { ReplacesTarget } from '../sip/dialog/refer';
import { aorKey } from '../presence/registrar';
import type { Binding, Registrar } from '../presence/registrar';
import { answerKeepingSession, isHold, sdpDirection } from '../media/sdp/sdp-direction';
import { negotiateSessionTimer, parseSessionExpires, RFC_MIN_SE_S, SessionTimer, sessionTimerResponseHeaders } from '../sip/dialog/session-timer';
import type { SessionTimerNegotiation, SessionTimerSettings } from '../sip/dialog/session-timer';
import type { ClientTransaction, ServerTransaction } from '../sip/transaction/transactions';

const log = createLogger('calls');

/** How long a call may ring before the caller is told nobody answered. */
export const RING_TIMEOUT_MS = 60_000;

export type CallState = 'routing' | 'ringing' | 'answered' | 'ended';
export type CallDisposition = 'answered' | 'missed' | 'declined' | 'cancelled' | 'failed' | 'busy';

const TRANSITIONS: Record<CallState, readonly CallState[]> = {
  routing: ['ringing', 'answered', 'ended'],
  ringing: ['answered', 'ended'],
  answered: ['ended'],
  ended: [],
};

const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, REFER, NOTIFY';
const SUPPORTED = 'timer, replaces';

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
  /** RFC 4235: the initiator placed the call, the recipient was called. */
  direction: 'initiator' | 'recipient';
  state: LineState;
  /** Who the line is talking to (or ringing), when known. */
  remote: LineIdentity | undefined;
}

export interface CallEngineEvents {
  /** An extension's line in a call changed state, or (while confirmed) now talks to someone else after a transfer. */
  callStateChanged: [CallStateChangedEvent];
}

/** The leg a device speaks: browsers and the app reach us over WebSocket with WebRTC; everything else is plain RTP. */
function legKindFor(binding: Binding): LegKind {
  const transport = binding.connection.transport;
  return transport === 'WS' || transport === 'WSS' ? 'webrtc' : 'rtp';
}
type Codec = NonNullable<MediaLeg['codec']>;

interface Line {
  identity: LineIdentity;
  direction: 'initiator' | 'recipient';
  state: LineState | undefined;
  remote: LineIdentity | undefined;
  /** The PBX's dialog with the extension's device on this line, once there is one: what busy lamps name. */
  dialog?: Dialog;
}

/** One side of an established (or, for the caller, establishing) call: a dialog, its media leg and its line. */
interface Party {
  dialog: Dialog;
  media: MediaLeg;
  line: Line;
  timer: SessionTimer | undefined;
  cleanups: Array<() => void>;
  /** Hung up or replaced; it no longer takes part in the call. */
  gone: boolean;
  /** Its INVITE had no offer: ours went out in the 2xx, and without its answer in the ACK there is no session. */
  awaitingAnswer?: boolean;
}

interface Fork {
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

interface AttemptHandlers {
  ringing(fork: Fork): void;
  earlyMedia(fork: Fork): void;
  /** The fork's answer has been applied to its media; it is the attempt's winner. */
  answered(fork: Fork): void;
  failed(status: number, reason: string): void;
}

/** Ringing every device of one user on behalf of a call (the first call, or a transfer target). */
interface Attempt {
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

/** RFC 3515 §2.4.4: the implicit subscription a REFER creates, reported to the transferor. */
interface ReferSubscription {
  party: Party;
  referId: number;
  done: boolean;
}

interface Transfer {
  transferor: Party;
  transferee: Party;
  subscription: ReferSubscription;
  attempt: Attempt | undefined;
  /** A blind transfer's target rings this long at most (RING_TIMEOUT_MS), as a first call does. */
  ringTimer?: NodeJS.Timeout;
}

interface DialogEntry {
  call: Call;
  party?: Party;
  fork?: Fork;
}

class Call {
  readonly id = randomUUID();
  private stateValue: CallState = 'routing';
  readonly parties: Party[] = [];
  attempt: Attempt | undefined;
  readonly attempts: Attempt[] = [];
  readonly bridges: MediaBridge[] = [];
  transfer: Transfer | undefined;
  /** The call's record, kept here while the call lasts and written once when it ends. */
  record: NewCallRecord | undefined;
  ringTimer: NodeJS.Timeout | undefined;
  sentRinging = false;
  sentEarlyMedia = false;
  /** The party whose answer is being stored; the caller hears of it once that is done (connect). */
  answering: Party | undefined;
  /** The legs as last stored in active_calls, from the answer on; undefined for a call never answered. */
  storedLegs: StoredLegsMark | undefined;

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

export interface CallEngineDeps {
  db: Kysely<Database>;
  endpoint: SipEndpoint;
  registrar: Registrar;
  authenticator: SipAuthenticator;
  media: MediaConfig;
  /** Host of the Contact URI we put in our requests and responses. */
  contactHost: string;
  /** Who may dial what (outside numbers); every call and transfer target is checked before it is routed. */
  dialPolicy?: DialPolicy;
  /**
   * How long a plain RTP device in an answered call may send nothing (RTP or RTCP) while it should be
   * sending before it counts as gone and the call is hung up (media-timeout.ts); 0 or left out: never.
   * WebRTC devices are not watched: a muted browser may send no RTP at all, and a browser that vanishes
   * closes its WebSocket, which ends its calls.
   */
  mediaTimeoutMs?: number;
}

export class CallEngine extends TypedEmitter<CallEngineEvents> {
  private readonly calls = new Set<Call>();
  /** Every dialog we are part of, by Call-ID (ours are unique; the devices' are unique per call). */
  private readonly dialogs = new Map<string, DialogEntry>();
  private readonly byInvite = new Map<ServerTransaction, Call>();
  /** Our session timer policy (RFC 4028): the smallest interval we accept. */
  readonly sessionTimers: SessionTimerSettings = { minSeconds: RFC_MIN_SE_S };
  /** How long a blind transfer's target may ring (RING_TIMEOUT_MS, as a first call); tests shorten it. */
  transferRingMs = RING_TIMEOUT_MS;
  /** Answered calls, their legs and every call's record, group-committed (store/call-journal.ts). */
  private readonly journal: CallJournal;

  constructor(private readonly deps: CallEngineDeps) {
    super();
    this.journal = new CallJournal(deps.db);
  }

  /** How long an answer waits for others to share its transaction before the caller's 200 (store/call-journal.ts). */
  set answerCommitMs(ms: number) {
    this.journal.answerCommitMs = ms;
  }

  /** Resolves once every call record written so far is in the database (before it closes). */
  flushRecords(): Promise<void> {
    return this.journal.flush();
  }

  get activeCallCount(): number {
    return this.calls.size;
  }

  async handleInvite(tx: ServerTransaction): Promise<void> {
    const request = tx.request;
    if (tx.toTagged) {
      await this.handleModify(tx);
      return;
    }
    // No 100 Trying here: the challenge, a refusal or the callee's 180 usually goes out within a millisecond,
    // and the transaction sends 100 itself if nothing has after 200 ms (RFC 3261 §17.2.1, AUTO_TRYING_MS).
    const caller = await this.deps.authenticator.authenticate(tx, 'From');
    if (!caller || !tx.pending) return;
    log.debug('new call', { caller: caller.extension, uri: request.uri });

    const replaces = request.headers.get('Replaces');
    if (replaces !== undefined) {
      await this.handleReplacingInvite(tx, caller, replaces);
      return;
    }

    const target = parseUri(request.uri).user ?? '';
    const decision = (await this.deps.dialPolicy?.check(caller, target)) ?? 'allow';
    if (!tx.pending) return;
    if (decision !== 'allow') {
      tx.reply(decision.deny, decision.reason);
      return;
    }
    const callee = /^[0-9]{2,10}$/.test(target) ? await findUserByExtension(this.deps.db, caller.organizationId, target) : undefined;
    if (!tx.pending) return;
    if (!callee) {
      tx.reply(404, 'Not Found');
      return;
    }
    const timer = negotiateSessionTimer(request, this.sessionTimers);
    if (timer.kind === 'reject') {
      tx.reply(422, 'Session Interval Too Small', { headers: [['Min-SE', `${timer.minSe}`]] });
      return;
    }
    const bindings = this.deps.registrar.lookup(aorKey(caller.organizationId, target));
    if (bindings.length === 0) {
      tx.reply(480, 'Temporarily Unavailable');
      this.writeRecord({ ...callRecord(caller, target, callee.display_name, request), disposition: 'missed', ended_at: new Date().toISOString(), end_reason: 'unavailable' });
      return;
    }

    const callId = request.headers.get('Call-ID') ?? '';
    // RFC 3261 §13.2.1 / §13.3.1: an INVITE without SDP (a trunk, click-to-dial) gets our offer in the 2xx and
    // answers it in the ACK. The offer is G.711, which every device here can be offered too; it is narrowed to
    // the codec the callee picks before it goes out, and there is no early media (no offer in a 183).
    const delayedOffer = !isSdp(request);
    let callerSide: { leg: MediaLeg; sdp: string; codecs: readonly Codec[] };
    try {
      if (delayedOffer) {
        const offer = await createOffer(`${callId}:caller`, 'rtp', this.deps.media, G711);
        callerSide = { leg: offer.leg, sdp: offer.offerSdp, codecs: G711 };
      } else {
        // Relayed without transcoding, so the caller is answered with a codec every device can be offered.
        const offerSdp = request.body.toString('utf8');
        const codecs = chooseBridgeCodecs(offerSdp, bindings.map(legKindFor));
        if (codecs.length === 0) throw new Error('no codec both the caller and the called devices speak');
        const answer = await answerOffer(`${callId}:caller`, offerSdp, this.deps.media, { allowedCodecs: codecs });
        const codec = answer.leg.codec;
        callerSide = { leg: answer.leg, sdp: answer.answerSdp, codecs: codec ? [codec] : [] };
      }
    } catch (error) {
      log.info('caller offer not acceptable', { error: error instanceof Error ? error.message : String(error) });
      this.refuseOffer(tx);
      return;
    }
    if (!tx.pending) {
      callerSide.leg.close();
      return;
    }

    const callerLine: Line = { identity: { extension: caller.extension, displayName: caller.displayName }, direction: 'initiator', state: undefined, remote: undefined };
    const calleeIdentity: LineIdentity = { extension: target, displayName: callee.display_name };
    const callerDialog = Dialog.fromRequest(request, generateTag(), tx.connection);
    const origin = this.newParty(callerDialog, callerSide.leg, callerLine);
    const call = new Call(caller.organizationId, caller.domain, target, tx, origin, callerSide.sdp, timer, delayedOffer);
    this.calls.add(call);
    this.dialogs.set(callerDialog.callId, { call, party: origin });
    this.byInvite.set(tx, call);
    this.setLine(call, callerLine, 'trying', calleeIdentity);
    call.record = callRecord(caller, target, callee.display_name, request);

    call.ringTimer = setTimeout(() => this.onNoAnswer(call), RING_TIMEOUT_MS);
    call.attempt = this.ring(call, calleeIdentity, callerLine.identity, bindings, callerSide.codecs, {
      ringing: () => this.onRinging(call),
      earlyMedia: (fork) => this.onEarlyMedia(call, fork),
      answered: (fork) => this.connect(call, this.partyFromFork(fork), fork.bridged),
      failed: (status, reason) => {
        const disposition: CallDisposition = status === 603 ? 'declined' : status === 486 || status === 600 ? 'busy' : status === 408 ? 'missed' : 'failed';
        // The caller hears the callee's answer as it was given (busy, declined, unavailable).
        this.finish(call, status, reason, disposition, `callee answered ${status}`);
      },
    });
  }

  handleCancel(tx: ServerTransaction): void {
    const invite = this.deps.endpoint.findInviteTransaction(tx.request);
    if (!invite) {
      tx.reply(481, 'Call/Transaction Does Not Exist');
      return;
    }
    tx.reply(200, 'OK');
    // A CANCEL after the final response has no effect on the INVITE (RFC 3261 §9.2).
    if (invite === 'finished') return;
    const call = this.byInvite.get(invite);
    if (!call) {
      // Cancelled while we were still authenticating or routing: the INVITE ends with 487 (RFC 3261 §9.2).
      if (invite.state === 'proceeding') invite.reply(487, 'Request Terminated');
      return;
    }
    if (call.state === 'routing' || call.state === 'ringing') {
      this.finish(call, 487, 'Request Terminated', 'cancelled', 'caller cancelled');
    }
  }

  handleBye(tx: ServerTransaction): void {
    const entry = this.lookup(tx.request);
    if (!entry) {
      tx.reply(481, 'Call/Transaction Does Not Exist');
      return;
    }
    tx.reply(200, 'OK');
    const { call, fork, party } = entry;
    if (!party) {
      if (fork) this.dropFork(fork);
      return;
    }
    this.onPartyGone(call, party, party === call.origin ? 'caller hung up' : 'callee hung up', true);
  }

  handleAck(request: SipRequest): void {
    // The ACK for our 2xx confirms the dialog; reliable flows need no 2xx retransmission to stop.
    const entry = this.lookup(request);
    const dialog = entry?.party?.dialog;
    if (!entry || !dialog) return;
    if (dialog.state === 'early') dialog.transition('confirmed');
    if (dialog.localOfferPending) {
      // RFC 3261 §14.2: after an offerless re-INVITE the answer to our 2xx's offer arrives here: a new address,
      // port or direction takes effect. A WebRTC leg has no offer of its own pending to take an answer to;
      // browsers do not send offerless re-INVITEs.
      dialog.localOfferPending = false;
      const call = entry.call;
      const media = entry.party?.media;
      // The answer to the offer in our 2xx to a device that sent none: without it there is no session (§13.3.1.4).
      const required = entry.party?.awaitingAnswer === true;
      if (entry.party) entry.party.awaitingAnswer = false;
      const giveUp = (why: string) => {
        log.info('no acceptable answer in the ACK; hanging up', { call: call.id, why });
        this.hangUp(call, 'answered', 'no acceptable answer in the ACK');
      };
      if (isSdp(request) && media?.kind === 'rtp') {
        const answer = request.body.toString('utf8');
        log.debug('offer answered in ACK', { call: call.id, direction: sdpDirection(answer) });
        media.acceptAnswer(answer).catch((error: unknown) => {
          if (required) giveUp(error instanceof Error ? error.message : String(error));
          else log.info('answer in ACK not acceptable; the session stays as it was', { call: call.id, error });
        });
      } else if (required) {
        giveUp('the ACK carries no SDP');
      }
    }
  }

  /** Whether an in-dialog request names a dialog of a call here (RFC 3261 §12.2.2: else 481). */
  knowsDialog(request: SipRequest): boolean {
    return this.lookup(request) !== undefined;
  }

  /** UPDATE (RFC 3311): a session refresh or a new offer, within an early or confirmed dialog. */
  async handleUpdate(tx: ServerTransaction): Promise<void> {
    await this.handleModify(tx);
  }

  /** INFO (RFC 6086) is relayed to the other party and its answer relayed back; with nobody to relay to we consume it. */
  handleInfo(tx: ServerTransaction): void {
    const entry = this.lookup(tx.request);
    if (!entry) {
      tx.reply(481, 'Call/Transaction Does Not Exist');
      return;
    }
    const use = entry.party ?? entry.fork;
    if (use && !use.dialog.acceptRemoteCseq(tx.request)) {
      tx.reply(500, 'Server Internal Error - CSeq out of order');
      return;
    }
    const other = entry.party ? entry.call.other(entry.party) : undefined;
    if (!other || !other.dialog.connection.isOpen || entry.call.state !== 'answered') {
      tx.reply(200, 'OK');
      return;
    }
    const info = other.dialog.createRequest('INFO');
    for (const name of ['Content-Type', 'Content-Disposition', 'Info-Package']) {
      const value = tx.request.headers.get(name);
      if (value !== undefined) info.headers.set(name, value);
    }
    info.headers.set('Contact', this.contact(other.dialog.connection));
    info.body = tx.request.body;
    log.debug('relaying INFO', { call: entry.call.id, type: tx.request.headers.get('Content-Type') });
    this.deps.endpoint.sendRequest(info, other.dialog.connection, (response) => {
      if (response.status < 200 || !tx.pending) return;
      const contentType = response.headers.get('Content-Type');
      tx.reply(response.status, response.reason, { body: response.body, ...(contentType ? { contentType } : {}) });
    });
  }

  /** REFER (RFC 3515): blind transfer to a target, or attended transfer when Refer-To carries Replaces. */
  async handleRefer(tx: ServerTransaction): Promise<void> {
    const request = tx.request;
    // RFC 3515 §2.4.2 lets a REFER start a dialog of its own; the PBX transfers only calls it holds, and says
    // so with 403 rather than 481 (which would claim a dialog it should have known).
    if (!tx.toTagged) {
      tx.reply(403, 'Forbidden - REFER outside a call is not accepted');
      return;
    }
    const entry = this.lookup(request);
    if (!entry) {
      tx.reply(481, 'Call/Transaction Does Not Exist');
      return;
    }
    const { call, party } = entry;
    if (!party || call.state !== 'answered' || party.gone) {
      tx.reply(403, 'Forbidden - Only an answered call can be transferred');
      return;
    }
    if (!party.dialog.acceptRemoteCseq(request)) {
      tx.reply(500, 'Server Internal Error - CSeq out of order');
      return;
    }
    const referTo = request.headers.getAll('Refer-To');
    if (referTo.length !== 1) {
      tx.reply(400, 'Bad Request - Exactly one Refer-To is required');
      return;
    }
    let target;
    try {
      target = parseReferTo(referTo[0] ?? '');
    } catch {
      tx.reply(400, 'Bad Request - Invalid Refer-To');
      return;
    }
    if (call.transfer) {
      tx.reply(491, 'Request Pending');
      return;
    }
    const transferee = call.other(party);
    if (!transferee) {
      tx.reply(481, 'Call/Transaction Does Not Exist');
      return;
    }
    if (!target.replaces) {
      // The transferor places the new call, so their dial policy applies to its target.
      const decision = await this.checkDialPolicy(call, party, target.uri.user ?? '');
      if (!tx.pending) return;
      if (decision !== 'allow') {
        log.info('transfer target refused by the dial policy', { call: call.id, by: party.line.identity.extension, status: decision.deny });
        tx.reply(decision.deny, decision.reason);
        return;
      }
      if (call.ended || call.transfer || party.gone) {
        tx.reply(call.transfer ? 491 : 481);
        return;
      }
    }
    // RFC 4488: a transferor that asks for no implicit subscription gets no NOTIFYs, and is told so in the 202.
    const quiet = request.headers.get('Refer-Sub')?.trim().toLowerCase() === 'false';
    tx.reply(202, 'Accepted', { headers: [['Contact', this.contact(party.dialog.connection)], ...(quiet ? [['Refer-Sub', 'false'] as [string, string]] : [])] });
    const subscription: ReferSubscription = { party, referId: parseCSeq(request.headers.get('CSeq') ?? '0 REFER').seq, done: quiet };
    call.transfer = { transferor: party, transferee, subscription, attempt: undefined };
    this.notifyRefer(subscription, 100, 'Trying', false);
    log.info('transfer requested', { call: call.id, by: party.line.identity.extension, to: formatUri(target.uri), attended: Boolean(target.replaces) });
    if (target.replaces) this.attendedTransfer(call, call.transfer, target.replaces);
    else await this.blindTransfer(call, call.transfer, target.uri);
  }

  /** We hold no subscriptions of our own, so a NOTIFY is only acknowledged when it names a dialog of ours. */
  handleNotify(tx: ServerTransaction): void {
    tx.reply(this.lookup(tx.request) ? 200 : 481);
  }

  /** Ends every call (BYE to answered ones, 503 or CANCEL to the rest), e.g. when the PBX shuts down. */
  shutdown(): void {
    for (const call of [...this.calls]) {
      if (call.state === 'answered') this.hangUp(call, 'answered', 'server shutting down');
      else this.finish(call, 503, 'Service Unavailable', 'failed', 'server shutting down');
    }
  }

  // ── In-dialog offers: re-INVITE and UPDATE ──────────────────────────────────────────────────────────────

  private async handleModify(tx: ServerTransaction): Promise<void> {
    const request = tx.request;
    const entry = this.lookup(request);
    const use = entry?.party ?? entry?.fork;
    if (!entry || !use) {
      tx.reply(481, 'Call/Transaction Does Not Exist');
      return;
    }
    const dialog = use.dialog;
    if (!dialog.acceptRemoteCseq(request)) {
      tx.reply(500, 'Server Internal Error - CSeq out of order');
      return;
    }
    const isInvite = request.method === 'INVITE';
    const hasOffer = isSdp(request);
    // In an early dialog the INVITE's own offer may still be open: ours to a ringing device until it answers,
    // or the caller's until we answer it (in a 183 or the 2xx).
    const ourInviteOfferOpen = !entry.party && entry.fork !== undefined && !entry.fork.answerApplied;
    const theirInviteOfferOpen = entry.party === entry.call.origin && !entry.call.delayedOffer && entry.call.state !== 'answered' && !entry.call.sentEarlyMedia;
    // RFC 3261 §14.1 / RFC 3311 §5.2: an offer crossing one of ours is glare; the sender retries later.
    if ((dialog.localOfferPending || ourInviteOfferOpen) && (hasOffer || isInvite)) {
      tx.reply(491, 'Request Pending');
      return;
    }
    // RFC 3261 §14.2 / RFC 3311 §5.2: a new offer while we still owe an answer gets 500 with Retry-After.
    if (dialog.remoteOfferPending || (theirInviteOfferOpen && hasOffer)) {
      tx.reply(500, 'Server Internal Error - Previous offer in progress', { headers: [['Retry-After', `${randomInt(0, 11)}`]] });
      return;
    }
    const timer = negotiateSessionTimer(request, this.sessionTimers);
    if (timer.kind === 'reject') {
      tx.reply(422, 'Session Interval Too Small', { headers: [['Min-SE', `${timer.minSe}`]] });
      return;
    }

    let body: string | undefined;
    if (hasOffer) {
      const offer = request.body.toString('utf8');
      dialog.remoteOfferPending = true;
      try {
        body = await this.renegotiate(use.media, dialog, offer);
      } catch (error) {
        log.info('new offer not acceptable', { call: entry.call.id, error });
        if (tx.pending) this.refuseOffer(tx);
        return;
      } finally {
        dialog.remoteOfferPending = false;
      }
      if (!tx.pending) return;
      dialog.localSdp = body;
      const direction = sdpDirection(offer);
      log.info(isHold(direction) ? 'call held' : 'call resumed or renegotiated', { call: entry.call.id, by: entry.party?.line.identity.extension, direction });
    } else if (isInvite) {
      // RFC 3261 §14.2: an offerless re-INVITE gets our offer in the 2xx and its answer in the ACK.
      body = dialog.localSdp;
      dialog.localOfferPending = true;
    }
    tx.reply(200, 'OK', {
      headers: [
        ['Contact', this.contact(dialog.connection)],
        ['Allow', ALLOW],
        ['Supported', SUPPORTED],
        ...sessionTimerResponseHeaders(timer),
      ],
      ...(body !== undefined ? { contentType: 'application/sdp', body: Buffer.from(body, 'utf8') } : {}),
    });
    if (isInvite && entry.party) this.hangUpUnlessAcknowledged(tx, entry.party);
    // RFC 4028 §10: a 2xx to a re-INVITE or UPDATE refreshes the session.
    if (entry.party) this.applySessionTimer(entry.party, timer);
  }

  /**
   * The leg answers a new offer itself. An offer we cannot read, or with no codec in common, is refused (488,
   * RFC 3261 §14.2) and the session goes on as before. An offer the leg cannot apply yet (a WebRTC leg whose
   * ICE/DTLS is not up has no mid assigned) must not end the call: the session is kept as it is and only the
   * direction asked for is answered (RFC 3264 §8.4).
   */
  private async renegotiate(media: MediaLeg, dialog: Dialog, offerSdp: string): Promise<string> {
    try {
      return await media.renegotiate(offerSdp);
    } catch (error) {
      if (error instanceof SdpError) throw error;
      log.info('re-offer answered with the current session', { error: error instanceof Error ? error.message : String(error) });
      return answerKeepingSession(dialog.localSdp, offerSdp);
    }
  }

  // ── Session timers (RFC 4028) ────────────────────────────────────────────────────────────────────────

  private applySessionTimer(party: Party, negotiation: SessionTimerNegotiation): void {
    if (negotiation.kind !== 'use') {
      party.timer?.restart();
      return;
    }
    party.timer ??= new SessionTimer(() => this.refreshSession(party), () => this.onSessionExpired(party));
    // `refresher` names the UAC or UAS of the request just answered; we were its UAS.
    party.timer.start(negotiation.seconds, negotiation.refresher === 'uas');
    log.debug('session timer', { seconds: negotiation.seconds, refresher: negotiation.refresher, dialog: party.dialog.callId });
  }

  private onSessionExpired(party: Party): void {
    const entry = this.dialogs.get(party.dialog.callId);
    if (!entry || entry.party !== party) return;
    log.info('session expired without refresh', { call: entry.call.id, dialog: party.dialog.callId });
    // RFC 4028 §10: the session is over; both sides get a BYE.
    this.hangUp(entry.call, 'answered', 'session expired');
  }

  /** We are the refresher: a re-INVITE with the session as it stands (RFC 4028 §7.4). */
  private refreshSession(party: Party): void {
    const dialog = party.dialog;
    const timer = party.timer;
    if (party.gone || !timer || !dialog.connection.isOpen) return;
    if (dialog.localOfferPending || dialog.remoteOfferPending) {
      timer.retryRefresh(1_000);
      return;
    }
    const invite = dialog.createRequest('INVITE');
    invite.headers.set('Contact', this.contact(dialog.connection));
    invite.headers.set('Allow', ALLOW);
    invite.headers.set('Supported', SUPPORTED);
    invite.headers.set('Session-Expires', `${timer.seconds};refresher=uac`);
    invite.headers.set('Content-Type', 'application/sdp');
    invite.body = ownUtf8(dialog.localSdp);
    dialog.localOfferPending = true;
    log.debug('refreshing session', { dialog: dialog.callId });
    this.deps.endpoint.sendRequest(invite, dialog.connection, (response) => {
      if (response.status < 200) return;
      dialog.localOfferPending = false;
      if (response.status < 300) {
        this.deps.endpoint.sendStateless(dialog.createAck(parseCSeq(response.headers.get('CSeq') ?? '0 INVITE').seq), dialog.connection);
        const granted = parseSessionExpires(response.headers.get('Session-Expires'));
        if (granted && !party.gone) timer.start(Math.max(granted.seconds, this.sessionTimers.minSeconds), granted.refresher !== 'uas');
        else timer.restart();
        return;
      }
      if (response.status === 491) {
        // RFC 3261 §14.1: retry after a random wait, longer when we own the Call-ID.
        const ours = this.dialogs.get(dialog.callId)?.call.origin.dialog !== dialog;
        timer.retryRefresh(ours ? randomInt(2_100, 4_001) : randomInt(0, 2_001));
        return;
      }
      if (response.status === 408 || response.status === 481) {
        const entry = this.dialogs.get(dialog.callId);
        // RFC 4028 §10: a refresh that times out or finds no dialog ends the session.
        if (entry?.party === party) this.hangUp(entry.call, 'answered', `session refresh failed (${response.status})`);
      }
    });
  }

  // ── Ringing devices ─────────────────────────────────────────────────────────────────────────────────

  private ring(call: Call, target: LineIdentity, from: LineIdentity, bindings: Binding[], codecs: readonly Codec[], handlers: AttemptHandlers, referredBy?: string): Attempt {
    const attempt: Attempt = {
      call,
      target,
      line: { identity: target, direction: 'recipient', state: undefined, remote: from },
      forks: [],
      done: false,
      earlyFork: undefined,
      handlers,
      referredBy,
    };
    call.attempts.push(attempt);
    this.setLine(call, attempt.line, 'trying', from);
    void Promise.all(bindings.map((binding) => this.fork(attempt, from, binding, codecs))).then(() => {
      if (attempt.forks.length === 0 && !attempt.done && !call.ended) {
        attempt.done = true;
        log.warn('no device could be offered the call', { call: call.id, target: target.extension });
        handlers.failed(480, 'Temporarily Unavailable');
      }
    });
    return attempt;
  }

  private async fork(attempt: Attempt, from: LineIdentity, binding: Binding, codecs: readonly Codec[]): Promise<void> {
    const call = attempt.call;
    try {
      await this.deps.registrar.connectionFor(binding);
    } catch (error) {
      log.info('could not reach a device', { error: error instanceof Error ? error.message : String(error) });
      return;
    }
    let offer;
    try {
      offer = await createOffer(`${call.id}:${call.attempts.length}:${attempt.forks.length}`, legKindFor(binding), this.deps.media, codecs);
    } catch (error) {
      log.warn('could not create an offer for a device', { error });
      return;
    }
    if (call.ended || attempt.done) {
      offer.leg.close();
      return;
    }
    const localTag = generateTag();
    const dialog = new Dialog({
      callId: generateCallId(),
      localTag,
      remoteTag: undefined,
      localUri: formatNameAddr({ displayName: from.displayName, uri: parseUri(`sip:${from.extension}@${call.domain}`), params: { tag: localTag } }),
      remoteUri: `<sip:${attempt.target.extension}@${call.domain}>`,
      remoteTarget: formatUri(binding.contact.uri),
      localCseq: 0,
      // RFC 3327 §5.2: a device registered through proxies is reached through them, nearest first.
      routeSet: [...binding.path],
      connection: binding.connection,
    });
    dialog.localSdp = offer.offerSdp;
    const fork: Fork = { attempt, binding, dialog, media: offer.leg, tx: undefined, state: 'calling', answerApplied: false, bridged: false };
    attempt.forks.push(fork);
    this.dialogs.set(dialog.callId, { call, fork });

    const invite = dialog.createRequest('INVITE');
    invite.headers.set('Contact', this.contact(binding.connection));
    invite.headers.set('Allow', ALLOW);
    invite.headers.set('Supported', SUPPORTED);
    // RFC 7332 §3: the INVITE we send on carries the caller's Max-Forwards, one less.
    invite.headers.set('Max-Forwards', String(hopsLeft(call.inviteTx.request) - 1));
    if (attempt.referredBy) invite.headers.set('Referred-By', attempt.referredBy);
    invite.headers.set('Content-Type', 'application/sdp');
    invite.body = ownUtf8(offer.offerSdp);
    fork.tx = this.deps.endpoint.sendRequest(invite, binding.connection, (response) => this.onForkResponse(fork, response));
  }

  private onForkResponse(fork: Fork, response: SipResponse): void {
    const status = response.status;
    if (status === 100) return;
    const attempt = fork.attempt;
    const toTag = parseNameAddr(response.headers.get('To') ?? '').params.tag ?? undefined;
    if (status < 200) {
      if (fork.state !== 'calling' && fork.state !== 'early') return;
      fork.state = 'early';
      fork.dialog.remoteTag = toTag;
      if (toTag) fork.dialog.routeSet = responseRouteSet(response);
      const contact = response.headers.get('Contact');
      if (contact) fork.dialog.remoteTarget = formatTarget(contact);
      if (attempt.done) return;
      // The first device to ring with a tag names the line for busy lamps, so another phone can pick it up.
      if (toTag && !attempt.line.dialog) attempt.line.dialog = fork.dialog;
      if (isSdp(response) && !fork.answerApplied && !attempt.earlyFork) void this.onForkEarlyMedia(fork, response);
      else attempt.handlers.ringing(fork);
      return;
    }
    if (status < 300) {
      void this.onForkAnswered(fork, response, toTag);
      return;
    }
    if (fork.state !== 'calling' && fork.state !== 'early') return;
    this.dropFork(fork);
    if (attempt.earlyFork === fork) attempt.earlyFork = undefined;
    const heard = forCaller({ status, reason: response.reason });
    if (heard.status !== status) log.info('a device refused the call about our request only', { call: attempt.call.id, status, callerHears: heard.status });
    attempt.failure = betterFailure(attempt.failure, heard);
    const pending = attempt.forks.filter((f) => f.state === 'calling' || f.state === 'early');
    if (pending.length > 0 || attempt.done || attempt.call.ended) return;
    attempt.done = true;
    attempt.handlers.failed(attempt.failure.status, attempt.failure.reason);
  }

  /** RFC 3261 §13.2.1 / RFC 3264: an answer in a 183 is the answer; the 2xx repeats it. */
  private async onForkEarlyMedia(fork: Fork, response: SipResponse): Promise<void> {
    const attempt = fork.attempt;
    fork.answerApplied = true;
    attempt.earlyFork = fork;
    try {
      await fork.media.acceptAnswer(response.body.toString('utf8'));
    } catch (error) {
      log.info('early media answer not acceptable', { error });
      attempt.earlyFork = undefined;
      attempt.handlers.ringing(fork);
      return;
    }
    if (attempt.done || fork.state !== 'early' || attempt.call.ended) return;
    attempt.handlers.earlyMedia(fork);
  }

  private async onForkAnswered(fork: Fork, response: SipResponse, toTag: string | undefined): Promise<void> {
    const attempt = fork.attempt;
    const call = attempt.call;
    fork.dialog.remoteTag = toTag;
    // RFC 3261 §12.1.2 / §13.2.2.4: the 2xx fixes the route set, and the ACK already follows it.
    if (fork.state !== 'answered') fork.dialog.routeSet = responseRouteSet(response);
    const contact = response.headers.get('Contact');
    if (contact) fork.dialog.remoteTarget = formatTarget(contact);
    // RFC 3261 §13.2.2.4: the UAC acknowledges every 2xx, even one it no longer wants, then hangs up.
    const cseq = parseCSeq(response.headers.get('CSeq') ?? '1 INVITE').seq;
    this.deps.endpoint.sendStateless(fork.dialog.createAck(cseq), fork.dialog.connection);
    if (fork.state === 'answered') return;
    if (call.ended || attempt.done || fork.state === 'cancelled' || fork.state === 'failed') {
      this.sendBye(fork.dialog);
      this.dropFork(fork);
      return;
    }
    fork.state = 'answered';
    attempt.done = true;
    fork.sessionExpires = parseSessionExpires(response.headers.get('Session-Expires'));
    for (const other of attempt.forks) if (other !== fork) this.cancelFork(other);
    if (!fork.answerApplied) {
      fork.answerApplied = true;
      try {
        await fork.media.acceptAnswer(response.body.toString('utf8'));
      } catch (error) {
        log.warn('callee answer not acceptable', { error });
        this.sendBye(fork.dialog);
        this.dropFork(fork);
        if (!call.ended) attempt.handlers.failed(488, 'Not Acceptable Here');
        return;
      }
    }
    if (call.ended) {
      this.sendBye(fork.dialog);
      this.dropFork(fork);
      return;
    }
    fork.dialog.transition('confirmed');
    attempt.handlers.answered(fork);
  }

  private cancelFork(fork: Fork): void {
    if (fork.state !== 'calling' && fork.state !== 'early') return;
    fork.state = 'cancelled';
    fork.media.close();
    const connection = fork.dialog.connection;
    // The transaction sends CANCEL once the device has answered the INVITE with anything (RFC 3261 §9.1).
    fork.tx?.cancel((cancel) => {
      if (connection.isOpen) this.deps.endpoint.sendRequest(cancel, connection, () => undefined);
    });
  }

  /** A fork that failed, was refused or hung up before it won: release its leg and forget its dialog. */
  private dropFork(fork: Fork): void {
    if (fork.state === 'calling' || fork.state === 'early' || fork.state === 'answered') fork.state = 'failed';
    fork.media.close();
    const entry = this.dialogs.get(fork.dialog.callId);
    if (entry?.fork === fork && !entry.party) this.dialogs.delete(fork.dialog.callId);
  }

  // ── The first call: caller, ringing, answer ─────────────────────────────────────────────────────────

  private onRinging(call: Call): void {
    if (call.ended || call.state === 'answered') return;
    if (call.state === 'routing') call.transition('ringing');
    const attempt = call.attempt;
    if (attempt) this.setLine(call, attempt.line, 'early', call.origin.line.identity);
    this.setLine(call, call.origin.line, 'early', attempt?.target);
    if (!call.sentRinging && call.inviteTx.state === 'proceeding') {
      call.sentRinging = true;
      call.inviteTx.reply(180, 'Ringing', {
        toTag: call.origin.dialog.localTag,
        headers: [...recordRoute(call.inviteTx.request), ['Contact', this.contact(call.origin.dialog.connection)]],
      });
    }
  }

  /** With anchored media the caller's leg is ours already: a 183 carries its answer and the bridge starts early. */
  private onEarlyMedia(call: Call, fork: Fork): void {
    if (call.ended || call.state === 'answered') return;
    // A caller that sent no offer cannot be given early media: our offer may only go in the 2xx.
    if (call.delayedOffer) {
      this.onRinging(call);
      return;
    }
    if (call.state === 'routing') call.transition('ringing');
    this.setLine(call, fork.attempt.line, 'early', call.origin.line.identity);
    this.setLine(call, call.origin.line, 'early', fork.attempt.target);
    fork.bridged = true;
    // A bridge closes its legs only when the call ends; a fork that loses later just stops receiving.
    call.bridges.push(new MediaBridge(call.origin.media, fork.media));
    if (!call.sentEarlyMedia && call.inviteTx.state === 'proceeding') {
      call.sentEarlyMedia = true;
      call.origin.dialog.localSdp = call.originSdp;
      call.inviteTx.reply(183, 'Session Progress', {
        toTag: call.origin.dialog.localTag,
        headers: [...recordRoute(call.inviteTx.request), ['Contact', this.contact(call.origin.dialog.connection)]],
        contentType: 'application/sdp',
        body: Buffer.from(call.originSdp, 'utf8'),
      });
    }
  }

  /**
   * The caller's INVITE is answered: `party` (a device that answered, or one that picked the call up) joins it.
   * What a user would miss after a crash is stored before it is acknowledged: the caller hears the 200 once the
   * answered call is in active_calls (group-committed), so a crash from then on leaves its record and its legs
   * to hang up. Meanwhile the call may end (CANCEL, the ring timer, shutdown: endCall hangs the party up) or
   * the party may leave (onPartyGone); the caller then hears that instead.
   */
  private connect(call: Call, party: Party, bridged = false): void {
    if (call.ended) return;
    if (call.answering) {
      // Another answer holds the call already (the attempt is done once one answers, so not expected): hang this one up.
      this.sendBye(party.dialog);
      this.dropParty(call, party);
      return;
    }
    const record = call.record;
    if (!record) {
      this.relayAnswer(call, party, bridged);
      return;
    }
    call.answering = party;
    const dialogs = [call.origin.dialog, party.dialog];
    call.storedLegs = markLegs(dialogs);
    this.journal
      .answered({ id: call.id, record, answeredAt: new Date().toISOString(), legs: dialogs.map(legOf) })
      .catch((error: unknown) => log.error('could not store an answered call; it goes on, but a crash would lose it', { call: call.id, error }))
      .then(() => {
        if (call.answering !== party) return;
        call.answering = undefined;
        if (party.gone) this.finish(call, 480, 'Temporarily Unavailable', 'failed', 'callee left before the answer reached the caller');
        else this.relayAnswer(call, party, bridged);
      })
      .catch((error: unknown) => log.error('could not relay an answer', { call: call.id, error }));
  }

  /** Relays a stored answer to the caller: `party` joins the call and the caller gets its 200. */
  private relayAnswer(call: Call, party: Party, bridged: boolean): void {
    if (call.ended) return;
    call.parties.push(party);
    call.transition('answered');
    if (call.ringTimer) clearTimeout(call.ringTimer);
    const origin = call.origin;
    if (call.delayedOffer) {
      // Our offer goes in the 2xx with the one codec the callee answered; the caller answers in its ACK.
      const codec = party.media.codec;
      if (codec) call.originSdp = narrowOffer(origin.media, codec);
      origin.dialog.localOfferPending = true;
      origin.awaitingAnswer = true;
    }
    if (!bridged) call.bridges.push(new MediaBridge(call.origin.media, party.media));
    origin.dialog.localSdp = call.originSdp;
    call.inviteTx.reply(200, 'OK', {
      toTag: origin.dialog.localTag,
      headers: [
        ...recordRoute(call.inviteTx.request),
        ['Contact', this.contact(origin.dialog.connection)],
        ['Allow', ALLOW],
        ['Supported', SUPPORTED],
        ...sessionTimerResponseHeaders(call.originTimer),
      ],
      contentType: 'application/sdp',
      body: Buffer.from(call.originSdp, 'utf8'),
    });
    origin.dialog.transition('confirmed');
    this.hangUpUnlessAcknowledged(call.inviteTx, origin);
    this.applySessionTimer(origin, call.originTimer);
    this.setLine(call, origin.line, 'confirmed', party.line.identity);
    this.setLine(call, party.line, 'confirmed', origin.line.identity);
    if (call.record) {
      call.record.answered_at = new Date().toISOString();
      call.record.disposition = 'answered';
    }
    log.info('call answered', { call: call.id, caller: origin.line.identity.extension, callee: party.line.identity.extension });
  }

  /**
   * RFC 3261 §13.3.1.4: a 2xx to an INVITE that is never acknowledged (64·T1) confirms the dialog, but the
   * session is over: every party still in the call gets a BYE, the silent one included.
   */
  private hangUpUnlessAcknowledged(tx: ServerTransaction, party: Party): void {
    // The listener lives as long as the transaction (64·T1 at most) and checks that the party is still here.
    tx.once('ackTimedOut', () => {
      const entry = this.dialogs.get(party.dialog.callId);
      if (party.gone || entry?.party !== party) return;
      log.info('answer never acknowledged; hanging up', { call: entry.call.id, extension: party.line.identity.extension });
      this.hangUp(entry.call, 'answered', 'answer never acknowledged');
    });
  }

  private partyFromFork(fork: Fork): Party {
    const party = this.newParty(fork.dialog, fork.media, fork.attempt.line);
    this.dialogs.set(fork.dialog.callId, { call: fork.attempt.call, party, fork });
    const granted = fork.sessionExpires;
    if (granted && granted.seconds > 0) {
      // RFC 4028 §7.2: a device that answers with Session-Expires puts the timer on the dialog; we were the UAC,
      // so refresher=uac (or none named) makes us refresh it, and refresher=uas has the device refresh.
      party.timer = new SessionTimer(() => this.refreshSession(party), () => this.onSessionExpired(party));
      party.timer.start(granted.seconds, granted.refresher !== 'uas');
      log.debug('session timer', { seconds: granted.seconds, refresher: granted.refresher ?? 'uac', dialog: fork.dialog.callId });
    }
    return party;
  }

  private newParty(dialog: Dialog, media: MediaLeg, line: Line): Party {
    const party: Party = { dialog, media, line, timer: undefined, cleanups: [], gone: false };
    line.dialog = dialog;
    party.cleanups.push(
      dialog.connection.on('closed', () => this.onPartyGoneByDialog(party, 'device disconnected')),
      media.on('stateChanged', (state) => {
        if (state === 'failed') this.onPartyGoneByDialog(party, 'media failed');
      }),
    );
    const timeoutMs = this.deps.mediaTimeoutMs ?? 0;
    if (media.kind === 'rtp' && timeoutMs > 0) {
      party.cleanups.push(new MediaTimeout(media, { timeoutMs }, (silentMs) => this.onPartySilent(party, silentMs)).start());
    }
    return party;
  }

  /** A device that sends no media in an answered call is gone (media-timeout.ts); before the answer it may be quiet. */
  private onPartySilent(party: Party, silentMs: number): void {
    const entry = this.dialogs.get(party.dialog.callId);
    if (entry?.party !== party || entry.call.state !== 'answered') return;
    log.info('no media from the device; hanging up', { call: entry.call.id, extension: party.line.identity.extension, silentMs });
    this.onPartyGone(entry.call, party, 'no media from the device', false);
  }

  private onPartyGoneByDialog(party: Party, why: string): void {
    const entry = this.dialogs.get(party.dialog.callId);
    if (entry?.party !== party) return;
    this.onPartyGone(entry.call, party, why, false);
  }

  /** A party hung up (BYE) or vanished. During a transfer the transferor may leave alone. */
  private onPartyGone(call: Call, party: Party, why: string, sentBye: boolean): void {
    if (call.ended || party.gone) return;
    if (call.answering === party) {
      // It answered and left before the caller heard of it: connect() tells the caller once the answer is stored.
      log.info('the answering device left before its answer was relayed', { call: call.id, why });
      if (!sentBye) this.sendBye(party.dialog);
      this.dropParty(call, party);
      return;
    }
    if (call.transfer?.transferor === party) {
      log.debug('transferor left before the transfer completed', { call: call.id });
      this.dropParty(call, party);
      return;
    }
    if (call.state !== 'answered') {
      if (party === call.origin) this.finish(call, 487, 'Request Terminated', 'cancelled', why);
      return;
    }
    this.hangUp(call, 'answered', why, sentBye ? party : undefined);
  }

  /** Ends a call that was never answered, answering the caller's INVITE with `status`. */
  private finish(call: Call, status: number, reason: string | undefined, disposition: CallDisposition, why: string): void {
    if (call.ended) return;
    if (call.inviteTx.state === 'proceeding') call.inviteTx.reply(status, reason, { toTag: call.origin.dialog.localTag });
    this.endCall(call, disposition, why);
  }

  /** Ends an answered call: BYE to every party that did not hang up itself. */
  private hangUp(call: Call, disposition: CallDisposition, why: string, hungUp?: Party): void {
    if (call.ended) return;
    if (call.state !== 'answered') {
      this.finish(call, 480, 'Temporarily Unavailable', disposition === 'answered' ? 'failed' : disposition, why);
      return;
    }
    for (const party of call.parties) if (party !== hungUp && !party.gone) this.sendBye(party.dialog);
    this.endCall(call, disposition, why);
  }

  private onNoAnswer(call: Call): void {
    if (call.state === 'routing' || call.state === 'ringing') this.finish(call, 480, 'Temporarily Unavailable', 'missed', 'no answer');
  }

  private endCall(call: Call, disposition: CallDisposition, why: string): void {
    if (call.ended) return;
    call.transition('ended');
    if (call.ringTimer) clearTimeout(call.ringTimer);
    if (call.transfer) {
      clearTimeout(call.transfer.ringTimer);
      this.notifyRefer(call.transfer.subscription, 487, 'Request Terminated', true);
    }
    for (const party of [...call.parties]) this.dropParty(call, party);
    const answering = call.answering;
    if (answering) {
      // Its answer was being stored and never reached the caller.
      call.answering = undefined;
      this.sendBye(answering.dialog);
      this.dropParty(call, answering);
    }
    for (const attempt of call.attempts) {
      attempt.done = true;
      for (const fork of attempt.forks) {
        this.cancelFork(fork);
        if (fork.state !== 'answered') this.dropFork(fork);
      }
      this.setLine(call, attempt.line, 'terminated', attempt.line.remote);
    }
    for (const bridge of call.bridges) bridge.close();
    this.byInvite.delete(call.inviteTx);
    this.calls.delete(call);
    log.info('call ended', { call: call.id, disposition, why });
    if (call.record) {
      // An answered call's row in active_calls goes in the transaction that writes its record.
      this.writeRecord({ ...call.record, ended_at: new Date().toISOString(), end_reason: why, ...(disposition === 'answered' ? {} : { disposition }) }, call.storedLegs ? call.id : undefined);
    }
  }

  /** A party leaves the call: its timer, listeners, media and dialog go with it; the call goes on. */
  private dropParty(call: Call, party: Party): void {
    if (party.gone) return;
    party.gone = true;
    party.timer?.stop();
    for (const cleanup of party.cleanups) cleanup();
    party.media.close();
    party.dialog.transition('terminated');
    const entry = this.dialogs.get(party.dialog.callId);
    if (entry?.party === party) this.dialogs.delete(party.dialog.callId);
    const at = call.parties.indexOf(party);
    if (at >= 0) call.parties.splice(at, 1);
    this.setLine(call, party.line, 'terminated', party.line.remote);
  }

  // ── Transfer ───────────────────────────────────────────────────────────────────────────────────────

  /** Blind transfer: ring the target on the transferee's behalf; when it answers, it takes the transferor's place. */
  private async blindTransfer(call: Call, transfer: Transfer, target: SipUri): Promise<void> {
    const extension = target.user ?? '';
    const user = /^[0-9]{2,10}$/.test(extension) ? await findUserByExtension(this.deps.db, call.organizationId, extension) : undefined;
    if (call.ended || call.transfer !== transfer) return;
    const fail = (status: number, reason: string) => {
      clearTimeout(transfer.ringTimer);
      this.notifyRefer(transfer.subscription, status, reason, true);
      call.transfer = undefined;
      // With the transferor gone there is nobody to return the transferee to.
      if (transfer.transferor.gone) this.hangUp(call, 'answered', `transfer failed (${status})`);
    };
    if (!user) {
      fail(404, 'Not Found');
      return;
    }
    const bindings = this.deps.registrar.lookup(aorKey(call.organizationId, extension));
    if (bindings.length === 0) {
      fail(480, 'Temporarily Unavailable');
      return;
    }
    const codec = transfer.transferee.media.codec;
    const targetIdentity: LineIdentity = { extension, displayName: user.display_name };
    // RFC 3892: the target's phone learns who transferred the call. The transferor's own identity, as the PBX
    // authenticated it, rather than a Referred-By the REFER may carry, which nobody vouches for.
    const transferor = transfer.transferor.line.identity;
    const referredBy = formatNameAddr({ displayName: transferor.displayName, uri: parseUri(`sip:${transferor.extension}@${call.domain}`), params: {} });
    transfer.attempt = this.ring(call, targetIdentity, transfer.transferee.line.identity, bindings, codec ? [codec] : [], {
      ringing: (fork) => {
        this.setLine(call, fork.attempt.line, 'early', transfer.transferee.line.identity);
        this.notifyRefer(transfer.subscription, 180, 'Ringing', false);
      },
      earlyMedia: (fork) => {
        this.setLine(call, fork.attempt.line, 'early', transfer.transferee.line.identity);
        this.notifyRefer(transfer.subscription, 183, 'Session Progress', false);
      },
      answered: (fork) => this.completeBlindTransfer(call, transfer, fork),
      failed: (status, reason) => {
        if (transfer.attempt) this.setLine(call, transfer.attempt.line, 'terminated', transfer.transferee.line.identity);
        fail(status, reason);
      },
    }, referredBy);
    // Nobody answers: the target's devices are let go, and the transferor hears so in the final NOTIFY
    // (RFC 3515 §2.4.5); a transferee whose transferor has left is hung up rather than left in silence.
    transfer.ringTimer = setTimeout(() => {
      const attempt = transfer.attempt;
      if (call.ended || call.transfer !== transfer || !attempt || attempt.done) return;
      attempt.done = true;
      for (const fork of attempt.forks) {
        this.cancelFork(fork);
        this.dropFork(fork);
      }
      this.setLine(call, attempt.line, 'terminated', transfer.transferee.line.identity);
      log.info('transfer target did not answer', { call: call.id, target: extension });
      fail(480, 'Temporarily Unavailable');
    }, this.transferRingMs);
  }

  private completeBlindTransfer(call: Call, transfer: Transfer, fork: Fork): void {
    const { transferor, transferee } = transfer;
    clearTimeout(transfer.ringTimer);
    if (call.ended || transferee.gone) {
      this.sendBye(fork.dialog);
      this.dropFork(fork);
      return;
    }
    const party = this.partyFromFork(fork);
    call.parties.push(party);
    call.bridges.push(new MediaBridge(transferee.media, party.media));
    this.notifyRefer(transfer.subscription, 200, 'OK', true);
    call.transfer = undefined;
    if (!transferor.gone) {
      this.sendBye(transferor.dialog);
      this.dropParty(call, transferor);
    }
    this.setLine(call, party.line, 'confirmed', transferee.line.identity);
    this.setLine(call, transferee.line, 'confirmed', party.line.identity);
    log.info('blind transfer completed', { call: call.id, transferee: transferee.line.identity.extension, target: party.line.identity.extension });
    this.storeLegs(call);
  }

  /**
   * Attended transfer: the transferor talks to the transferee in `call` and to the target in the call that
   * Replaces names. The two remote parties are bridged together in `call`; both of the transferor's dialogs end.
   */
  private attendedTransfer(call: Call, transfer: Transfer, replaces: ReplacesTarget): void {
    const { transferor, transferee } = transfer;
    const fail = (status: number, reason: string) => {
      clearTimeout(transfer.ringTimer);
      this.notifyRefer(transfer.subscription, status, reason, true);
      call.transfer = undefined;
    };
    const entry = this.findReplaced(replaces);
    const held = entry?.party;
    if (!entry || !held || entry.call === call || entry.call.state !== 'answered' || entry.call.organizationId !== call.organizationId) {
      fail(481, 'Call/Transaction Does Not Exist');
      return;
    }
    // Only the transferor's own line in the other call can be handed over.
    if (held.line.identity.extension !== transferor.line.identity.extension) {
      fail(403, 'Forbidden');
      return;
    }
    const other = entry.call;
    const target = other.other(held);
    if (!target) {
      fail(481, 'Call/Transaction Does Not Exist');
      return;
    }
    if (!sameCodec(transferee.media.codec, target.media.codec)) {
      // Both legs of a bridge must carry one codec; the media layer relays without transcoding.
      fail(488, 'Not Acceptable Here');
      return;
    }
    other.parties.splice(other.parties.indexOf(target), 1);
    call.parties.push(target);
    this.dialogs.set(target.dialog.callId, { call, party: target });
    // The other call's bridges still hold the target's leg; they now end with this call.
    call.bridges.push(...other.bridges.splice(0), new MediaBridge(transferee.media, target.media));
    this.notifyRefer(transfer.subscription, 200, 'OK', true);
    call.transfer = undefined;
    this.sendBye(transferor.dialog);
    this.dropParty(call, transferor);
    this.sendBye(held.dialog);
    this.dropParty(other, held);
    this.endCall(other, 'answered', 'transferred');
    this.setLine(call, transferee.line, 'confirmed', target.line.identity);
    this.setLine(call, target.line, 'confirmed', transferee.line.identity);
    log.info('attended transfer completed', { call: call.id, joined: other.id });
    this.storeLegs(call);
  }

  /**
   * INVITE with Replaces (RFC 3891): a device takes over a dialog the PBX holds, either a device still ringing
   * (call pickup) or the same user's line in an answered call (moving a call to another device).
   */
  private async handleReplacingInvite(tx: ServerTransaction, user: AuthenticatedUser, value: string): Promise<void> {
    const request = tx.request;
    const replaces = parseReplaces(value);
    if (!replaces) {
      tx.reply(400, 'Bad Request - Invalid Replaces');
      return;
    }
    const entry = this.findReplaced(replaces);
    if (!entry || entry.call.organizationId !== user.organizationId || entry.call.ended) {
      tx.reply(481, 'Call/Transaction Does Not Exist');
      return;
    }
    const call = entry.call;
    const pickup = entry.fork && !entry.party && call.attempt === entry.fork.attempt && !entry.fork.attempt.done;
    const takeover = entry.party && call.state === 'answered' && entry.party !== undefined;
    if (!pickup && !takeover) {
      tx.reply(481, 'Call/Transaction Does Not Exist');
      return;
    }
    if (takeover && replaces.earlyOnly) {
      tx.reply(486, 'Busy Here');
      return;
    }
    if (takeover && entry.party?.line.identity.extension !== user.extension) {
      tx.reply(403, 'Forbidden');
      return;
    }
    const peer = pickup ? call.origin : entry.party ? call.other(entry.party) : undefined;
    if (!peer) {
      tx.reply(481, 'Call/Transaction Does Not Exist');
      return;
    }
    // Without an offer (RFC 3261 §13.2.1), the device gets ours in the 2xx: plain RTP in the codec the call
    // already carries, so nothing is transcoded; its answer is due in the ACK.
    const delayedOffer = !isSdp(request);
    let answer;
    try {
      const legId = `${request.headers.get('Call-ID') ?? ''}:replaces`;
      const codec = peer.media.codec;
      if (delayedOffer) {
        if (!codec || !G711.some((g711) => sameCodec(g711, codec))) throw new Error(`the call carries ${codec?.mimeType ?? 'no codec'}, which a plain RTP offer cannot`);
        const offer = await createOffer(legId, 'rtp', this.deps.media, [codec]);
        answer = { leg: offer.leg, answerSdp: offer.offerSdp };
      } else {
        answer = await answerOffer(legId, request.body.toString('utf8'), this.deps.media, { allowedCodecs: codec ? [codec] : undefined });
      }
    } catch (error) {
      log.info('replacing offer not acceptable', { error });
      this.refuseOffer(tx);
      return;
    }
    if (!tx.pending || call.ended || (!delayedOffer && !sameCodec(answer.leg.codec, peer.media.codec)) || (pickup && call.state === 'answered')) {
      answer.leg.close();
      if (tx.pending && call.ended) tx.reply(481);
      else if (tx.pending) this.refuseOffer(tx);
      return;
    }
    const dialog = Dialog.fromRequest(request, generateTag(), tx.connection);
    dialog.localSdp = answer.answerSdp;
    const identity: LineIdentity = { extension: user.extension, displayName: user.displayName };
    const line: Line = entry.party ? entry.party.line : { identity, direction: 'recipient', state: undefined, remote: call.origin.line.identity };
    const party = this.newParty(dialog, answer.leg, line);
    if (delayedOffer) {
      dialog.localOfferPending = true;
      party.awaitingAnswer = true;
    }
    this.dialogs.set(dialog.callId, { call, party });
    const timer = negotiateSessionTimer(request, this.sessionTimers);
    tx.reply(200, 'OK', {
      toTag: dialog.localTag,
      headers: [...recordRoute(request), ['Contact', this.contact(tx.connection)], ['Allow', ALLOW], ['Supported', SUPPORTED], ...sessionTimerResponseHeaders(timer)],
      contentType: 'application/sdp',
      body: Buffer.from(answer.answerSdp, 'utf8'),
    });
    dialog.transition('confirmed');
    this.hangUpUnlessAcknowledged(tx, party);
    this.applySessionTimer(party, timer);

    if (pickup && call.attempt) {
      const attempt = call.attempt;
      attempt.done = true;
      for (const fork of attempt.forks) this.cancelFork(fork);
      if (line !== attempt.line) this.setLine(call, attempt.line, 'terminated', call.origin.line.identity);
      log.info('call picked up', { call: call.id, by: user.extension });
      this.connect(call, party);
      return;
    }
    const replaced = entry.party;
    if (!replaced) return;
    // The line carries on with the new device; only the replaced dialog and its leg end, without a lamp change.
    replaced.line = { ...replaced.line, state: 'terminated' };
    call.parties.push(party);
    call.bridges.push(new MediaBridge(peer.media, party.media));
    this.sendBye(replaced.dialog);
    this.dropParty(call, replaced);
    this.setLine(call, party.line, 'confirmed', peer.line.identity);
    log.info('call moved to another device', { call: call.id, extension: user.extension });
    this.storeLegs(call);
  }

  private findReplaced(replaces: ReplacesTarget): DialogEntry | undefined {
    const entry = this.dialogs.get(replaces.callId);
    const dialog = entry?.party?.dialog ?? entry?.fork?.dialog;
    if (!entry || !dialog || !dialog.isNamedBy(replaces.callId, replaces.toTag, replaces.fromTag)) return undefined;
    return entry;
  }

  /** The dial policy for a party of a call, who authenticated when the call or transfer began. */
  private async checkDialPolicy(call: Call, party: Party, dialled: string): Promise<DialDecision> {
    const policy = this.deps.dialPolicy;
    if (!policy) return 'allow';
    const user = await findUserByExtension(this.deps.db, call.organizationId, party.line.identity.extension);
    if (!user) return { deny: 403, reason: 'Forbidden' };
    const caller: AuthenticatedUser = {
      userId: user.id,
      organizationId: call.organizationId,
      extension: user.extension,
      displayName: user.display_name,
      domain: call.domain,
    };
    return policy.check(caller, dialled);
  }

  /** RFC 3515 §2.4.4: each NOTIFY reports the referred call's progress as a sipfrag status line. */
  private notifyRefer(subscription: ReferSubscription, status: number, reason: string, final: boolean): void {
    if (subscription.done) return;
    if (final) subscription.done = true;
    const party = subscription.party;
    if (party.gone || !party.dialog.connection.isOpen) return;
    const notify = party.dialog.createRequest('NOTIFY');
    notify.headers.set('Event', `refer;id=${subscription.referId}`);
    notify.headers.set('Subscription-State', final ? 'terminated;reason=noresource' : `active;expires=${REFER_SUBSCRIPTION_S}`);
    notify.headers.set('Contact', this.contact(party.dialog.connection));
    notify.headers.set('Content-Type', SIPFRAG_CONTENT_TYPE);
    notify.body = sipfrag(status, reason);
    this.deps.endpoint.sendRequest(notify, party.dialog.connection, () => undefined);
  }

  // ── Plumbing ───────────────────────────────────────────────────────────────────────────────────────

  /** The dialog an in-dialog request belongs to, if its tags match (RFC 3261 §12.2.2). */
  private lookup(request: SipRequest): DialogEntry | undefined {
    const entry = this.dialogs.get(request.headers.get('Call-ID') ?? '');
    const dialog = entry?.party?.dialog ?? entry?.fork?.dialog;
    return entry && dialog?.matches(request) ? entry : undefined;
  }

  private setLine(call: Call, line: Line, state: LineState, remote: LineIdentity | undefined): void {
    if (line.state === 'terminated') return;
    if (line.state === state && line.remote?.extension === remote?.extension) return;
    line.state = state;
    line.remote = remote;
    const dialog = line.dialog;
    this.emit('callStateChanged', {
      callId: call.id,
      organizationId: call.organizationId,
      extension: line.identity.extension,
      direction: line.direction,
      state,
      remote,
      // The device's own view of its dialog with us: its tag is local, ours remote (RFC 4235 §4.1).
      ...(dialog ? { dialog: { callId: dialog.callId, localTag: dialog.remoteTag, remoteTag: dialog.localTag } } : {}),
    });
  }

  /** 488 for an offer we cannot take, saying why in a Warning (RFC 3261 §13.3.1.3, §20.43: 305). */
  private refuseOffer(tx: ServerTransaction): void {
    tx.reply(488, 'Not Acceptable Here', { headers: [['Warning', `305 ${this.deps.contactHost} "Incompatible media format"`]] });
  }

  private sendBye(dialog: Dialog): void {
    if (!dialog.connection.isOpen || dialog.state === 'terminated') return;
    this.deps.endpoint.sendRequest(dialog.createRequest('BYE'), dialog.connection, () => undefined);
  }

  private contact(connection: SipConnection): string {
    return this.deps.endpoint.contactFor(connection);
  }

  /** Queues the record of a call that has ended (and the deletion of its active_calls row); a failed write is logged and costs no call. */
  private writeRecord(record: NewCallRecord, activeId?: string): void {
    this.journal.ended(record, activeId).catch((error: unknown) => log.error('could not write call record', { error }));
  }

  /** Stores an answered call's legs anew when they changed since: a transfer, another device, requests sent. */
  private storeLegs(call: Call): void {
    if (!call.storedLegs || call.answering || call.ended) return;
    const dialogs = call.parties.filter((party) => !party.gone).map((party) => party.dialog);
    if (!legsMoved(call.storedLegs, dialogs)) return;
    call.storedLegs = markLegs(dialogs);
    this.journal.legsChanged(call.id, dialogs.map(legOf)).catch((error: unknown) => log.warn('could not store the legs of a call', { call: call.id, error }));
  }

  /** Brings the stored legs of every answered call up to date (CSeqs move with every request we send); the heartbeat calls it. */
  storeChangedLegs(): void {
    for (const call of this.calls) this.storeLegs(call);
  }
}

/** A new call's record: missed until it is answered, and not yet ended. */
function callRecord(caller: AuthenticatedUser, calleeExtension: string, calleeName: string, request: SipRequest): NewCallRecord {
  return {
    organization_id: caller.organizationId,
    call_id: request.headers.get('Call-ID') ?? '',
    caller_extension: caller.extension,
    caller_name: caller.displayName,
    callee: calleeName,
    callee_extension: calleeExtension,
    started_at: new Date().toISOString(),
    answered_at: null,
    ended_at: null,
    disposition: 'missed',
    end_reason: null,
  };
}

function isSdp(message: SipMessage): boolean {
  const type = message.headers.get('Content-Type')?.split(';')[0]?.trim().toLowerCase();
  return message.body.length > 0 && type === 'application/sdp';
}

/** RFC 3261 §12.1.2: a UAC's route set is the response's Record-Route in reverse order. */
function responseRouteSet(response: SipResponse): string[] {
  return response.headers.getAll('Record-Route').reverse();
}

/** RFC 3261 §12.1.1: a UAS copies the request's Record-Route into every response that creates a dialog. */
function recordRoute(request: SipRequest): Array<[string, string]> {
  return request.headers.getAll('Record-Route').map((value): [string, string] => ['Record-Route', value]);
}

function sameCodec(a: Codec | undefined, b: Codec | undefined): boolean {
  if (!a || !b) return true;
  return a.mimeType.toLowerCase() === b.mimeType.toLowerCase() && a.clockRate === b.clockRate;
}
