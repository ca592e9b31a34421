/**
 * Why past 500 lines (under 500 counted without comments): one call's life, from its INVITE to its end, with
 * the dialog table all of it reads; forking, in-dialog requests, caller progress and the features live apart
 * already. A join per call (bridge or mixer) in place of the bridges list is the next cut.
 *
 * The call engine: a back-to-back user agent. A call starts as the caller's party (the INVITE we received)
 * and an attempt that rings every device of the called user (parallel forking, RFC 3261 §16.7 done as a
 * B2BUA); the first device to answer becomes the second party and the others are cancelled. Media is
 * anchored: each party's leg terminates at the PBX (`server/media`) and a join relays audio between them.
 *
 * Within a dialog the engine answers re-INVITE and UPDATE (hold, resume, session refresh), ACK and INFO, and
 * runs session timers (RFC 4028): in-dialog.ts. What a call to a user does by the user's answering plan, and
 * calls the PBX answers itself for services (voicemail, *97), answering.ts; callers screened (asked their name
 * before the user's devices ring), screening.ts; an answer stored and relayed to the caller, answers.ts. Ringing devices is forking.ts; what
 * the caller hears meanwhile, caller-progress.ts; music on hold and who holds a call, hold-music.ts; an app that
 * reloads during a call and comes back, rejoin-grace.ts. Features built on calls (transfer, pickup, conference) act through CallControl
 * (control.ts), which the engine implements; the composition root hands them the SIP requests that are theirs
 * (REFER, INVITE with Replaces) and the app's REST commands.
 *
 * The call's states and parts are call.ts's. Events (see CallEngineEvents): `callStateChanged` reports each
 * extension's line in a call as it moves through trying → early → confirmed → terminated, in the terms of the
 * dialog event package (RFC 4235).
 */
import type { Kysely } from 'kysely';
import { createLogger } from '../log';
import { MediaTimeout } from '../media/legs/media-timeout';
import type { MediaLeg } from '../media/legs/media-leg';
import type { MediaConfig } from '../media/legs/webrtc-leg';
import { MediaPlayer } from '../media/player';
import type { Sound } from '../media/player';
import { CallJournal } from '../store/call-journal';
import type { NewCallRecord } from '../store/call-records';
import type { Database } from '../store/schema';
import { TypedEmitter } from '../util/typed-emitter';
import type { AnsweringPlanner, CallServices, Dialplan } from './ports';
import { CallAnswering } from './answering';
import { CallAnswers } from './answers';
import type { AuthenticatedUser, SipAuthenticator } from '../sip/edge/authenticator';
import { legOf, legsMoved, markLegs } from './call-recovery';
import type { SipConnection } from '../sip/transport/connection';
import { Dialog } from '../sip/dialog/dialog';
import type { SipEndpoint } from '../sip/endpoint';
import { generateTag, parseUri } from '../sip/syntax/message';
import type { SipRequest } from '../sip/syntax/message';
import type { ReplacesTarget } from '../sip/dialog/refer';
import type { Binding, Registrar } from '../presence/registrar';
import { negotiateSessionTimer, RFC_MIN_SE_S } from '../sip/dialog/session-timer';
import type { SessionTimerNegotiation, SessionTimerSettings } from '../sip/dialog/session-timer';
import type { ServerTransaction } from '../sip/transaction/transactions';
import { Call, lineChange, REJOIN_GRACE_MS } from './call';
import type { Attempt, AttemptHandlers, CallDisposition, CallEngineEvents, Codec, DialogEntry, Fork, Line, LineIdentity, LineState, Party } from './call';
import { callRecord } from './call-messages';
import type { CallControl } from './control';
import { Forking } from './forking';
import { HoldMusic } from './hold-music';
import { InDialogRequests } from './in-dialog';
import { awaitRejoin } from './rejoin-grace';

const log = createLogger('calls');

export interface CallEngineDeps {
  db: Kysely<Database>;
  endpoint: SipEndpoint;
  registrar: Registrar;
  authenticator: SipAuthenticator;
  media: MediaConfig;
  /** Host of the Contact URI we put in our requests and responses. */
  contactHost: string;
  /** What a dialled string reaches (routing/dialplan.ts), the dial policy included. */
  dialplan: Dialplan;
  /**
   * How long a plain RTP device in an answered call may send nothing (RTP or RTCP) while it should be
   * sending before it counts as gone and the call is hung up (media-timeout.ts); 0 or left out: never.
   * WebRTC devices are not watched: a muted browser may send no RTP at all, and a browser that vanishes
   * closes its WebSocket, which ends its calls.
   */
  mediaTimeoutMs?: number;
  /** Plays music on hold; one for the process, shared with the features that play prompts. A new one when left out. */
  player?: MediaPlayer;
  /** What a held party hears: the shipped music when left out (media/player/hold-music.ts), null for silence. */
  holdMusic?: Sound | null;
  /** How long an app whose connection went away during a call may take to rejoin it (REJOIN_GRACE_MS by default). */
  rejoinGraceMs?: number;
  /** The services the PBX answers calls for (voicemail, the mailbox menu); without them, calls end as they always did. */
  services?: CallServices;
  /** The answering rules of the users called (routing/answering-planner.ts); without it, a call rings 60 s and ends. */
  planner?: AnsweringPlanner;
  /** The clock the answering rules are read at (epoch ms); Date.now when left out. */
  now?: () => number;
}

/** Takes an INVITE with Replaces (RFC 3891) from an authenticated user: features/pickup. */
export type ReplacingInviteHandler = (tx: ServerTransaction, user: AuthenticatedUser, replaces: string) => Promise<void>;

export class CallEngine extends TypedEmitter<CallEngineEvents> implements CallControl {
  private readonly calls = new Set<Call>();
  /** Every dialog we are part of, by Call-ID (ours are unique; the devices' are unique per call). */
  private readonly dialogs = new Map<string, DialogEntry>();
  private readonly byInvite = new Map<ServerTransaction, Call>();
  /** Our session timer policy (RFC 4028): the smallest interval we accept. */
  readonly sessionTimers: SessionTimerSettings = { minSeconds: RFC_MIN_SE_S };
  /** Where an INVITE with Replaces goes (features/pickup); without one it is refused. */
  replacingInvites: ReplacingInviteHandler | undefined;
  /** Answered calls, their legs and every call's record, group-committed (store/call-journal.ts). */
  private readonly journal: CallJournal;

  private readonly forking: Forking;
  private readonly inDialog: InDialogRequests;
  private readonly holdMusic: HoldMusic;
  /** The media player: music on hold here, prompts in the features that get it from here. */
  readonly player: MediaPlayer;
  /** How long an app that left an answered call may take to rejoin it (REJOIN_GRACE_MS unless set). */
  rejoinGraceMs: number;
  /** See CallEngineDeps: settable, so the composition root (and tests) may hand them in once they exist. */
  services: CallServices | undefined;
  planner: AnsweringPlanner | undefined;
  now: () => number;
  private readonly answering: CallAnswering;
  private readonly answers: CallAnswers;

  constructor(private readonly deps: CallEngineDeps) {
    super();
    this.journal = new CallJournal(deps.db);
    this.inDialog = new InDialogRequests(this);
    this.player = deps.player ?? new MediaPlayer();
    this.rejoinGraceMs = deps.rejoinGraceMs ?? REJOIN_GRACE_MS;
    this.services = deps.services;
    this.planner = deps.planner;
    this.now = deps.now ?? Date.now;
    this.answering = new CallAnswering(this);
    this.answers = new CallAnswers(this, this.journal);
    this.holdMusic = new HoldMusic(this.player, deps.holdMusic, (call, line) => this.emit('callStateChanged', lineChange(call, line)));
    this.forking = new Forking({
      endpoint: deps.endpoint,
      media: deps.media,
      registrar: deps.registrar,
      contact: (connection) => this.contact(connection),
      setLine: (call, line, state, remote) => this.setLine(call, line, state, remote),
      sendBye: (dialog) => this.sendBye(dialog),
      trackFork: (call, fork) => this.dialogs.set(fork.dialog.callId, { call, fork }),
      forgetFork: (fork) => {
        const entry = this.dialogs.get(fork.dialog.callId);
        if (entry?.fork === fork && !entry.party) this.dialogs.delete(fork.dialog.callId);
      },
    });
  }

  /** How long an answer waits for others to share its transaction before the caller's 200 (store/call-journal.ts). */
  set answerCommitMs(ms: number) {
    this.journal.answerCommitMs = ms;
  }

  /** Resolves once every call record written so far is in the database (before it closes). */
  flushRecords(): Promise<void> {
    return this.journal.flush();
  }

  get endpoint(): SipEndpoint {
    return this.deps.endpoint;
  }

  get media(): MediaConfig {
    return this.deps.media;
  }

  get registrar(): Registrar {
    return this.deps.registrar;
  }

  get dialplan(): Dialplan {
    return this.deps.dialplan;
  }

  get activeCallCount(): number {
    return this.calls.size;
  }

  async handleInvite(tx: ServerTransaction): Promise<void> {
    const request = tx.request;
    if (tx.toTagged) {
      await this.inDialog.handleModify(tx);
      return;
    }
    // No 100 Trying here: the challenge, a refusal or the callee's 180 usually goes out within a millisecond,
    // and the transaction sends 100 itself if nothing has after 200 ms (RFC 3261 §17.2.1, AUTO_TRYING_MS).
    const caller = await this.deps.authenticator.authenticate(tx, 'From');
    if (!caller || !tx.pending) return;
    log.debug('new call', { caller: caller.extension, uri: request.uri });

    const replaces = request.headers.get('Replaces');
    if (replaces !== undefined) {
      if (this.replacingInvites) await this.replacingInvites(tx, caller, replaces);
      else tx.reply(420, 'Bad Extension', { headers: [['Unsupported', 'replaces']] });
      return;
    }

    const target = parseUri(request.uri).user ?? '';
    const destination = await this.deps.dialplan.route(caller, target);
    if (!tx.pending) return;
    if (destination.kind === 'refused') {
      tx.reply(destination.status, destination.reason);
      return;
    }
    if (destination.kind === 'mailbox-menu' && !this.services) {
      // Nothing serves the mailbox menu here (no CallServices handed in): as any code nobody serves.
      tx.reply(404, 'Not Found');
      return;
    }
    const timer = negotiateSessionTimer(request, this.sessionTimers);
    if (timer.kind === 'reject') {
      tx.reply(422, 'Session Interval Too Small', { headers: [['Min-SE', `${timer.minSe}`]] });
      return;
    }
    if (destination.kind === 'mailbox-menu') await this.answering.mailboxMenu(tx, caller, destination.user, timer);
    else await this.answering.callUser(tx, caller, destination, timer);
  }

  /**
   * The caller's party and the call, once its leg is made (answering.ts): tracked, its line trying, its record
   * begun (a call to `calleeExtension`, shown as `calleeName`).
   */
  startCall(tx: ServerTransaction, caller: AuthenticatedUser, callerLeg: { leg: MediaLeg; sdp: string }, calleeExtension: string, calleeName: string, timer: SessionTimerNegotiation, delayedOffer: boolean): Call {
    const request = tx.request;
    const callerLine: Line = { identity: { extension: caller.extension, displayName: caller.displayName }, direction: 'initiator', state: undefined, remote: undefined };
    const callerDialog = Dialog.fromRequest(request, generateTag(), tx.connection);
    const origin = this.newParty(callerDialog, callerLeg.leg, callerLine);
    const call = new Call(caller.organizationId, caller.domain, calleeExtension, tx, origin, callerLeg.sdp, timer, delayedOffer);
    this.calls.add(call);
    this.dialogs.set(callerDialog.callId, { call, party: origin });
    this.byInvite.set(tx, call);
    this.setLine(call, callerLine, 'trying', { extension: calleeExtension, displayName: calleeName });
    call.record = callRecord(caller, calleeExtension, calleeName, request);
    return call;
  }

  /** The record of a call refused before it began (no device, busy): the caller's INVITE is answered by the caller. */
  recordRefused(caller: AuthenticatedUser, calleeExtension: string, calleeName: string, request: SipRequest, disposition: CallDisposition, why: string): void {
    this.writeRecord({ ...callRecord(caller, calleeExtension, calleeName, request), disposition, ended_at: new Date().toISOString(), end_reason: why });
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
    this.inDialog.handleAck(request);
  }

  /** Whether an in-dialog request names a dialog of a call here (RFC 3261 §12.2.2: else 481). */
  knowsDialog(request: SipRequest): boolean {
    return this.lookup(request) !== undefined;
  }

  /** UPDATE (RFC 3311): a session refresh or a new offer, within an early or confirmed dialog. */
  async handleUpdate(tx: ServerTransaction): Promise<void> {
    await this.inDialog.handleModify(tx);
  }

  /** INFO (RFC 6086) is relayed to the other party and its answer relayed back (in-dialog.ts). */
  handleInfo(tx: ServerTransaction): void {
    this.inDialog.handleInfo(tx);
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

  // ── The first call: caller, ringing, answer ─────────────────────────────────────────────────────────

  /** The caller's INVITE is answered: `party` joins it, stored first (answers.ts). */
  connect(call: Call, party: Party, bridged = false): void {
    this.answers.connect(call, party, bridged);
  }

  /** `party` joins a call whose caller the PBX answered already (a screened call the user accepted; answers.ts). */
  joinAnswered(call: Call, party: Party): void {
    this.answers.joinAnswered(call, party);
  }

  hangUpUnlessAcknowledged(tx: ServerTransaction, party: Party): void {
    this.inDialog.hangUpUnlessAcknowledged(tx, party);
  }

  partyFromFork(fork: Fork): Party {
    const party = this.newParty(fork.dialog, fork.media, fork.attempt.line);
    this.dialogs.set(fork.dialog.callId, { call: fork.attempt.call, party, fork });
    const granted = fork.sessionExpires;
    if (granted && granted.seconds > 0) this.inDialog.startAnsweredTimer(party, granted);
    return party;
  }

  newParty(dialog: Dialog, media: MediaLeg, line: Line): Party {
    const party: Party = { dialog, media, line, timer: undefined, cleanups: [], gone: false };
    line.dialog = dialog;
    party.cleanups.push(
      dialog.connection.on('closed', () => this.onConnectionLost(party)),
      media.on('stateChanged', (state) => {
        // An app away reloading has lost its media too; the grace decides (onConnectionLost).
        if (state === 'failed' && !party.away) this.onPartyGoneByDialog(party, 'media failed');
      }),
      () => clearTimeout(party.away?.timer),
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

  /** A device's connection closed: an app may be reloading and come back (rejoin-grace.ts); anything else is gone. */
  private onConnectionLost(party: Party): void {
    const entry = this.dialogs.get(party.dialog.callId);
    if (entry?.party !== party) return;
    const call = entry.call;
    if (awaitRejoin(call, party, this.rejoinGraceMs, (why) => this.onPartyGone(call, party, why, false))) this.holdMusic.refresh(call);
    else this.onPartyGone(call, party, 'device disconnected', false);
  }

  /** A party's device put the call on hold or took it off (in-dialog.ts): music and the lines follow. */
  holdChanged(call: Call): void {
    this.holdMusic.refresh(call);
  }

  partyFailed(call: Call, party: Party, why: string): void {
    this.onPartyGone(call, party, why, false);
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
    if (call.screening?.party === party) {
      // The user hung up while hearing who calls: the caller goes on (screening.ts sends the call on).
      log.info('the user left while a screened call was offered', { call: call.id, why });
      if (!sentBye) this.sendBye(party.dialog);
      this.dropParty(call, party);
      return;
    }
    if (call.state !== 'answered') {
      if (party === call.origin) this.finish(call, 487, 'Request Terminated', 'cancelled', why);
      return;
    }
    if (call.conference && call.parties.filter((p) => p !== party && !p.gone).length >= 2) {
      // A conference goes on while two remain, whoever left (its builder too).
      log.info('a party left the conference', { call: call.id, extension: party.line.identity.extension, why });
      if (!sentBye) this.sendBye(party.dialog);
      this.dropParty(call, party);
      return;
    }
    this.hangUp(call, 'answered', why, sentBye ? party : undefined);
  }

  /** Ends a call that was never answered, answering the caller's INVITE with `status`. */
  finish(call: Call, status: number, reason: string | undefined, disposition: CallDisposition, why: string): void {
    if (call.ended) return;
    if (call.inviteTx.state === 'proceeding') call.inviteTx.reply(status, reason, { toTag: call.origin.dialog.localTag });
    this.endCall(call, disposition, why);
  }

  /** Ends an answered call: BYE to every party that did not hang up itself. */
  hangUp(call: Call, disposition: CallDisposition, why: string, hungUp?: Party): void {
    if (call.ended) return;
    if (call.state !== 'answered') {
      this.finish(call, 480, 'Temporarily Unavailable', disposition === 'answered' ? 'failed' : disposition, why);
      return;
    }
    for (const party of call.parties) if (party !== hungUp && !party.gone) this.sendBye(party.dialog);
    this.endCall(call, disposition, why);
  }

  endCall(call: Call, disposition: CallDisposition, why: string): void {
    if (call.ended) return;
    call.transition('ended');
    if (call.ringTimer) clearTimeout(call.ringTimer);
    const transfer = call.transfer;
    call.transfer = undefined;
    transfer?.callEnded();
    for (const party of [...call.parties]) this.dropParty(call, party);
    const answering = call.answering;
    if (answering) {
      // Its answer was being stored and never reached the caller.
      call.answering = undefined;
      this.sendBye(answering.dialog);
      this.dropParty(call, answering);
    }
    const screening = call.screening;
    if (screening) {
      // The user was hearing who called when the caller hung up.
      call.screening = undefined;
      if (!screening.party.gone) this.sendBye(screening.party.dialog);
      this.dropParty(call, screening.party);
    }
    for (const attempt of call.attempts) {
      attempt.done = true;
      for (const fork of attempt.forks) {
        this.cancelFork(fork);
        if (fork.state !== 'answered') this.dropFork(fork);
      }
      // A line whose party now talks in another call (moved there by a merge or a transfer) goes on there.
      const movedTo = attempt.line.dialog && this.dialogs.get(attempt.line.dialog.callId)?.call;
      if (movedTo && movedTo !== call) continue;
      this.setLine(call, attempt.line, 'terminated', attempt.line.remote);
    }
    call.conference?.close();
    for (const bridge of call.bridges) bridge.close();
    this.byInvite.delete(call.inviteTx);
    this.calls.delete(call);
    log.info('call ended', { call: call.id, disposition, why });
    if (call.record) {
      // An answered call's row in active_calls goes in the transaction that writes its record.
      this.writeRecord({ ...call.record, ended_at: new Date().toISOString(), end_reason: call.serviceEndReason ?? why, ...(disposition === 'answered' ? {} : { disposition }) }, call.storedLegs ? call.id : undefined);
    }
    for (const listener of [...call.endListeners]) {
      try {
        listener(why);
      } catch (error) {
        log.error('a listener to a call\'s end failed', { call: call.id, error });
      }
    }
    call.endListeners.clear();
  }

  /** A party leaves the call: its timer, listeners, media and dialog go with it; the call goes on. */
  dropParty(call: Call, party: Party): void {
    if (party.gone) return;
    party.gone = true;
    call.conference?.partyLeft(party);
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

  // ── Plumbing ───────────────────────────────────────────────────────────────────────────────────────

  ring(call: Call, target: LineIdentity, from: LineIdentity, bindings: Binding[], codecs: readonly Codec[], handlers: AttemptHandlers, referredBy?: string): Attempt {
    return this.forking.ring(call, target, from, bindings, codecs, handlers, referredBy);
  }

  cancelFork(fork: Fork): void {
    this.forking.cancelFork(fork);
  }

  dropFork(fork: Fork): void {
    this.forking.dropFork(fork);
  }

  /** A fork still ringing is cancelled (with an RFC 3326 Reason when given) and let go of. */
  forkCancelled(fork: Fork, reason?: string): void {
    this.forking.cancelFork(fork, reason);
    this.forking.dropFork(fork);
  }

  applySessionTimer(party: Party, negotiation: SessionTimerNegotiation): void {
    this.inDialog.applySessionTimer(party, negotiation);
  }

  findReplaced(replaces: ReplacesTarget): DialogEntry | undefined {
    const entry = this.dialogs.get(replaces.callId);
    const dialog = entry?.party?.dialog ?? entry?.fork?.dialog;
    if (!entry || !dialog || !dialog.isNamedBy(replaces.callId, replaces.toTag, replaces.fromTag)) return undefined;
    return entry;
  }

  findDialog(sipCallId: string): DialogEntry | undefined {
    return this.dialogs.get(sipCallId);
  }

  trackDialog(call: Call, party: Party): void {
    this.dialogs.set(party.dialog.callId, { call, party });
  }

  /** The dialog an in-dialog request belongs to, if its tags match (RFC 3261 §12.2.2). */
  lookup(request: SipRequest): DialogEntry | undefined {
    const entry = this.dialogs.get(request.headers.get('Call-ID') ?? '');
    const dialog = entry?.party?.dialog ?? entry?.fork?.dialog;
    return entry && dialog?.matches(request) ? entry : undefined;
  }

  setLine(call: Call, line: Line, state: LineState, remote: LineIdentity | undefined): void {
    if (line.state !== 'terminated' && (line.state !== state || line.remote?.extension !== remote?.extension)) {
      line.state = state;
      line.remote = remote;
      this.emit('callStateChanged', lineChange(call, line));
    }
    // Whoever a line talks to now may hold the call, or no longer: a transfer, a device that took over, a party gone.
    this.holdMusic.refresh(call);
  }

  /** RFC 3311 UPDATE with RFC 3325 P-Asserted-Identity: whom the party now talks to (in-dialog.ts). */
  updateIdentity(call: Call, party: Party, identity: LineIdentity): void {
    this.inDialog.updateIdentity(call, party, identity);
  }

  announce(call: Call, party: Party, reason: string): void {
    if (party.gone || !party.line.state) return;
    this.emit('callNotice', { ...lineChange(call, party.line), reason });
  }

  /** 488 for an offer we cannot take, saying why in a Warning (RFC 3261 §13.3.1.3, §20.43: 305). */
  refuseOffer(tx: ServerTransaction): void {
    tx.reply(488, 'Not Acceptable Here', { headers: [['Warning', `305 ${this.deps.contactHost} "Incompatible media format"`]] });
  }

  sendBye(dialog: Dialog): void {
    if (!dialog.connection.isOpen || dialog.state === 'terminated') return;
    this.deps.endpoint.sendRequest(dialog.createRequest('BYE'), dialog.connection, () => undefined);
  }

  contact(connection: SipConnection): string {
    return this.deps.endpoint.contactFor(connection);
  }

  /** Queues the record of a call that has ended (and the deletion of its active_calls row); a failed write is logged and costs no call. */
  private writeRecord(record: NewCallRecord, activeId?: string): void {
    this.journal.ended(record, activeId).catch((error: unknown) => log.error('could not write call record', { error }));
  }

  /** Stores an answered call's legs anew when they changed since: a transfer, another device, requests sent. */
  storeLegs(call: Call): void {
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
