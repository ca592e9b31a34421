/**
 * How a call to a user is answered: the user's answering plan (ports.ts AnsweringPlan, from their active rule)
 * says whether their devices ring, for how long, who else rings with them, and where the call goes when they are
 * busy, do not answer or have no device: voicemail, another user, a number, or busy. A call the PBX answers
 * itself for a service (voicemail, the *97 mailbox menu) is answered here too: the caller's leg gets our 200
 * and the service a ServiceCall (ports.ts) over it.
 *
 * A call diverted to another user rings that user's devices only, never by their rules, so two users who
 * forward to each other cannot loop; one diversion per call (MAX_DIVERSIONS) keeps it that way. Their do not
 * disturb does hold: a user with it on is unavailable to a diversion (480) and skipped by also ring.
 */
import { createLogger } from '../log';
import { codecKind } from '../media/joins/frame-codec';
import { answerOffer, chooseBridgeCodecs, createOffer, G711 } from '../media/legs/legs';
import type { MediaLeg } from '../media/legs/media-leg';
import { aorKey } from '../presence/registrar';
import type { Binding } from '../presence/registrar';
import type { AuthenticatedUser } from '../sip/edge/authenticator';
import type { SessionTimerNegotiation } from '../sip/dialog/session-timer';
import type { ServerTransaction } from '../sip/transaction/transactions';
import { legKindFor, RING_TIMEOUT_MS } from './call';
import type { Attempt, AttemptHandlers, Call, CallDisposition, Codec, LineIdentity } from './call';
import type { CallEngine } from './call-engine';
import { isSdp } from './call-messages';
import { earlyMediaToCaller, ringCaller } from './caller-progress';
import { COMPLETED_ELSEWHERE } from './forking';
import { answerInvite } from './answers';
import { legWithInfoKeys } from './info-keys';
import { CallScreening } from './screening';
import type { AnsweringPlan, Destination, Diversion, ServiceCall, ServiceUser, VoicemailReason } from './ports';

const log = createLogger('calls');

/** How many times one call may be diverted to another user or number. */
export const MAX_DIVERSIONS = 1;

/** The end reason of a call that went to voicemail: it stays a missed call in history. */
export const VOICEMAIL_END_REASON = 'voicemail';

/** What the line of a call answered by a service shows as the other side. */
const VOICEMAIL_IDENTITY: LineIdentity = { extension: '*97', displayName: 'Voicemail' };

/** A call's disposition by the final status its callee's devices gave. */
export function dispositionFor(status: number): CallDisposition {
  return status === 603 ? 'declined' : status === 486 || status === 600 ? 'busy' : status === 408 || status === 480 ? 'missed' : 'failed';
}

type UserDestination = Extract<Destination, { kind: 'user' }>;

/** One call to a user: whose rules rule it, and how far it has been diverted. */
export interface Routing {
  owner: ServiceUser;
  plan: AnsweringPlan | undefined;
  diversions: number;
}

/** A user a call is diverted to, with the devices to ring. */
export interface DivertTarget {
  identity: LineIdentity;
  bindings: Binding[];
}

/** What happens first to a call to a user, before any leg is made. */
type FirstStep =
  | { kind: 'ring'; identity: LineIdentity; bindings: Binding[]; own: boolean }
  | { kind: 'voicemail'; reason: VoicemailReason }
  | { kind: 'refuse'; status: number; reason: string; disposition: CallDisposition; why: string };

export class CallAnswering {
  private readonly screening: CallScreening;

  constructor(private readonly engine: CallEngine) {
    this.screening = new CallScreening(engine, this);
  }

  /** A call to a user of the organization, by the user's answering plan. */
  async callUser(tx: ServerTransaction, caller: AuthenticatedUser, user: UserDestination, timer: SessionTimerNegotiation): Promise<void> {
    const request = tx.request;
    const owner: ServiceUser = { organizationId: caller.organizationId, userId: user.userId, extension: user.extension, displayName: user.displayName };
    const routing: Routing = { owner, plan: await this.planFor(owner), diversions: 0 };
    if (!tx.pending) return;
    const first = await this.firstStep(caller, routing);
    if (!tx.pending) return;
    if (first.kind === 'refuse') {
      tx.reply(first.status, first.reason);
      this.engine.recordRefused(caller, user.extension, user.displayName, request, first.disposition, first.why);
      return;
    }
    const kinds = first.kind === 'ring' ? first.bindings.map(legKindFor) : [];
    const callerLeg = await this.callerLeg(tx, kinds);
    if (!callerLeg) return;
    const call = this.engine.startCall(tx, caller, callerLeg, user.extension, user.displayName, timer, callerLeg.delayedOffer);
    if (first.kind === 'voicemail') {
      this.serve(call, caller, 'voicemail', owner, first.reason);
      return;
    }
    const plan = routing.plan;
    if (first.own && plan?.kind === 'ring' && plan.screen && this.engine.services && serviceCanHear(call)) {
      void this.screening.start(call, caller, routing, plan, first.identity);
      return;
    }
    this.ringUser(call, caller, routing, first.identity, first.bindings, callerLeg.codecs, first.own);
  }

  /** *97: the caller's own mailbox menu, answered at once. */
  async mailboxMenu(tx: ServerTransaction, caller: AuthenticatedUser, user: ServiceUser, timer: SessionTimerNegotiation): Promise<void> {
    const callerLeg = await this.callerLeg(tx, []);
    if (!callerLeg) return;
    const call = this.engine.startCall(tx, caller, callerLeg, VOICEMAIL_IDENTITY.extension, VOICEMAIL_IDENTITY.displayName, timer, callerLeg.delayedOffer);
    this.serve(call, caller, 'mailbox-menu', user, undefined);
  }

  private async planFor(owner: ServiceUser): Promise<AnsweringPlan | undefined> {
    const planner = this.engine.planner;
    if (!planner) return undefined;
    try {
      return await planner.plan(owner, this.engine.now());
    } catch (error) {
      // A rule that cannot be read costs the user no call: their devices ring as if they had none.
      log.error('could not read the answering rules; ringing the devices', { extension: owner.extension, error });
      return undefined;
    }
  }

  private async firstStep(caller: AuthenticatedUser, routing: Routing): Promise<FirstStep> {
    const { owner, plan } = routing;
    const identity: LineIdentity = { extension: owner.extension, displayName: owner.displayName };
    if (plan?.kind === 'divert') {
      log.info('call diverted by the answering rule', { extension: owner.extension, reason: plan.reason, to: plan.to.kind });
      return this.divertFirst(caller, routing, plan.to, plan.reason);
    }
    const bindings = this.engine.registrar.lookup(aorKey(owner.organizationId, owner.extension));
    if (bindings.length > 0) return { kind: 'ring', identity, bindings, own: true };
    if (!plan) return unavailable();
    return this.divertFirst(caller, routing, plan.whenUnreachable, 'unreachable');
  }

  private async divertFirst(caller: AuthenticatedUser, routing: Routing, to: Diversion, reason: VoicemailReason): Promise<FirstStep> {
    if (to.kind === 'busy') return { kind: 'refuse', status: 486, reason: 'Busy Here', disposition: 'busy', why: reason };
    if (to.kind === 'unavailable') return unavailable();
    if (to.kind === 'voicemail') return this.engine.services ? { kind: 'voicemail', reason } : unavailable();
    const target = await this.divertedTo(caller, routing, to.dialled);
    if (!target) return unavailable();
    return { kind: 'ring', identity: target.identity, bindings: target.bindings, own: false };
  }

  /** Whether a user a call reaches other than dialled has do not disturb on; never without a planner (no settings). */
  private async doNotDisturb(organizationId: number, userId: number): Promise<boolean> {
    return (await this.engine.planner?.doNotDisturb({ organizationId, userId })) ?? false;
  }

  /** The user a diversion dials, with their devices; undefined when it reaches nobody who can ring. */
  async divertedTo(caller: AuthenticatedUser, routing: Routing, dialled: string): Promise<DivertTarget | undefined> {
    if (routing.diversions >= MAX_DIVERSIONS) {
      log.info('diversion not followed: the call was diverted already', { extension: routing.owner.extension });
      return undefined;
    }
    routing.diversions++;
    const destination = await this.engine.dialplan.route(asCaller(routing.owner, caller.domain), dialled);
    if (destination.kind !== 'user') {
      if (destination.kind === 'refused' && destination.status === 404) log.info('diversion skipped: nothing here reaches that number (no carrier)', { extension: routing.owner.extension });
      else log.info('diversion refused', { extension: routing.owner.extension, destination: destination.kind === 'refused' ? destination.status : destination.kind });
      return undefined;
    }
    if (await this.doNotDisturb(routing.owner.organizationId, destination.userId)) {
      log.info('diversion not followed: the user diverted to has do not disturb on', { extension: routing.owner.extension, to: destination.extension });
      return undefined;
    }
    const bindings = this.engine.registrar.lookup(aorKey(routing.owner.organizationId, destination.extension));
    if (bindings.length === 0) return undefined;
    return { identity: { extension: destination.extension, displayName: destination.displayName }, bindings };
  }

  /**
   * The caller's leg: our answer to its offer, with codecs every device to ring speaks (relayed without
   * transcoding), or, for a service, any the PBX can decode itself (Opus, PCMU, PCMA: all it speaks). An
   * INVITE without an offer gets ours, G.711, in the 2xx (RFC 3261 §13.2.1 / §13.3.1).
   */
  private async callerLeg(tx: ServerTransaction, kinds: ReturnType<typeof legKindFor>[]): Promise<{ leg: MediaLeg; sdp: string; codecs: readonly Codec[]; delayedOffer: boolean } | undefined> {
    const request = tx.request;
    const callId = request.headers.get('Call-ID') ?? '';
    const delayedOffer = !isSdp(request);
    let side: { leg: MediaLeg; sdp: string; codecs: readonly Codec[]; delayedOffer: boolean };
    try {
      if (delayedOffer) {
        const offer = await createOffer(`${callId}:caller`, 'rtp', this.engine.media, G711);
        side = { leg: offer.leg, sdp: offer.offerSdp, codecs: G711, delayedOffer };
      } else {
        const offerSdp = request.body.toString('utf8');
        const codecs = chooseBridgeCodecs(offerSdp, kinds);
        if (codecs.length === 0) throw new Error('no codec both the caller and the called devices speak');
        const answer = await answerOffer(`${callId}:caller`, offerSdp, this.engine.media, { allowedCodecs: codecs });
        const codec = answer.leg.codec;
        side = { leg: answer.leg, sdp: answer.answerSdp, codecs: codec ? [codec] : [], delayedOffer };
      }
    } catch (error) {
      log.info('caller offer not acceptable', { error: error instanceof Error ? error.message : String(error) });
      this.engine.refuseOffer(tx);
      return undefined;
    }
    if (!tx.pending) {
      side.leg.close();
      return undefined;
    }
    return side;
  }

  /** Rings `identity`'s devices; with the owner's own (`own`) by the plan: others at once, then the diversions. */
  private ringUser(call: Call, caller: AuthenticatedUser, routing: Routing, identity: LineIdentity, bindings: Binding[], codecs: readonly Codec[], own: boolean): void {
    const plan = own && routing.plan?.kind === 'ring' ? routing.plan : undefined;
    const ringMs = routing.plan?.ringMs ?? RING_TIMEOUT_MS;
    if (call.ringTimer) clearTimeout(call.ringTimer);
    call.ringTimer = setTimeout(() => {
      if (!ringing(call)) return;
      if (plan) void this.divert(call, caller, routing, plan.whenNotAnswered, 'no-answer');
      else this.engine.finish(call, 480, 'Temporarily Unavailable', 'missed', 'no answer');
    }, ringMs);
    call.attempt = this.engine.ring(call, identity, call.origin.line.identity, bindings, codecs, {
      ...this.handlers(call),
      failed: (status, reason) => {
        if (plan && (status === 486 || status === 600)) {
          void this.divert(call, caller, routing, plan.whenBusy, 'busy', { status, reason });
          return;
        }
        // No device could take it (none reachable, or each said unavailable or timed out): as if none were registered.
        if (plan && (status === 480 || status === 408)) {
          void this.divert(call, caller, routing, plan.whenUnreachable, 'unreachable', { status, reason });
          return;
        }
        // The caller hears the callee's answer as it was given (busy, declined, unavailable).
        this.engine.finish(call, status, reason, dispositionFor(status), `callee answered ${status}`);
      },
    });
    for (const dialled of plan?.alsoRing ?? []) {
      // The owner's devices and the ring timer carry the call on; a target that cannot be looked up is skipped.
      this.alsoRing(call, routing, dialled, codecs, this.handlers(call), () => ringing(call)).catch((error: unknown) => log.error('could not look up an also-ring target; skipped', { call: call.id, extension: routing.owner.extension, error }));
    }
  }

  /** Ringing, early media and the answer, alike for every attempt of a call: the first to answer wins. */
  private handlers(call: Call): Omit<AttemptHandlers, 'failed'> {
    return {
      ringing: () => ringCaller(call, this.engine),
      earlyMedia: (fork) => earlyMediaToCaller(call, fork, this.engine),
      answered: (fork) => {
        this.stopAttempts(call, fork.attempt, COMPLETED_ELSEWHERE);
        call.attempt = fork.attempt;
        this.engine.connect(call, this.engine.partyFromFork(fork), fork.bridged);
      },
    };
  }

  /**
   * Another user rung at the same time as the owner's devices, with `handlers` (the first to answer wins, however
   * the call answers: handlers()); an outside number with nowhere to go is skipped. `stillRinging` is read after
   * every await.
   */
  async alsoRing(call: Call, routing: Routing, dialled: string, codecs: readonly Codec[], handlers: Omit<AttemptHandlers, 'failed'>, stillRinging: () => boolean): Promise<void> {
    const destination = await this.engine.dialplan.route(asCaller(routing.owner, call.domain), dialled);
    if (!stillRinging()) return;
    if (destination.kind !== 'user') {
      const status = destination.kind === 'refused' ? destination.status : undefined;
      log.info(status === 404 ? 'also-ring skipped: nothing here reaches that number (no carrier)' : 'also-ring refused', { extension: routing.owner.extension, status });
      return;
    }
    if (destination.extension === routing.owner.extension) return;
    if (await this.doNotDisturb(routing.owner.organizationId, destination.userId)) {
      log.info('also-ring skipped: that user has do not disturb on', { extension: routing.owner.extension, to: destination.extension });
      return;
    }
    if (!stillRinging()) return;
    const bindings = this.engine.registrar.lookup(aorKey(routing.owner.organizationId, destination.extension));
    if (bindings.length === 0) return;
    this.engine.ring(call, { extension: destination.extension, displayName: destination.displayName }, call.origin.line.identity, bindings, codecs, {
      ...handlers,
      // The owner's devices and the ring timer decide what happens next; one other who cannot take the call does not.
      failed: (status) => log.debug('also-ring target did not take the call', { call: call.id, status }),
    });
  }

  /** Stops every attempt of the call still ringing but `keep`: its forks cancelled, its line ended. */
  stopAttempts(call: Call, keep: Attempt | undefined, reason?: string): void {
    for (const attempt of call.attempts) {
      if (attempt === keep) continue;
      attempt.done = true;
      for (const fork of attempt.forks) {
        if (fork.state !== 'calling' && fork.state !== 'early') continue;
        this.engine.forkCancelled(fork, reason);
      }
      this.engine.setLine(call, attempt.line, 'terminated', attempt.line.remote);
    }
  }

  /** The owner did not take the call (busy, no answer): where their plan sends it now. */
  private async divert(call: Call, caller: AuthenticatedUser, routing: Routing, to: Diversion, reason: VoicemailReason, failure?: { status: number; reason: string }): Promise<void> {
    if (!ringing(call)) return;
    if (call.ringTimer) clearTimeout(call.ringTimer);
    this.stopAttempts(call, undefined);
    const giveUp = () => {
      const status = failure?.status ?? 480;
      this.engine.finish(call, status, failure?.reason ?? 'Temporarily Unavailable', failure ? dispositionFor(status) : 'missed', reason === 'no-answer' ? 'no answer' : `callee answered ${status}`);
    };
    log.info('call diverted', { call: call.id, extension: routing.owner.extension, reason, to: to.kind });
    if (to.kind === 'busy') {
      this.engine.finish(call, 486, 'Busy Here', 'busy', reason);
      return;
    }
    if (to.kind === 'voicemail') {
      if (this.engine.services && serviceCanHear(call)) this.serve(call, caller, 'voicemail', routing.owner, reason);
      else giveUp();
      return;
    }
    if (to.kind === 'unavailable') {
      giveUp();
      return;
    }
    let target: DivertTarget | undefined;
    try {
      target = await this.divertedTo(caller, routing, to.dialled);
    } catch (error) {
      // The ring timer is cleared and the attempts stopped: without this the call would ring on forever.
      log.error('could not look up where the call is diverted; ending it', { call: call.id, extension: routing.owner.extension, error });
      if (ringing(call)) this.engine.finish(call, 480, 'Temporarily Unavailable', 'missed', 'diversion failed');
      return;
    }
    if (!ringing(call)) return;
    if (!target) {
      giveUp();
      return;
    }
    // The caller's leg has its codec already; the diverted-to user's devices are offered that one.
    const codec = call.origin.media.codec;
    this.ringUser(call, caller, routing, target.identity, target.bindings, codec ? [codec] : G711, false);
  }

  /**
   * Answers the caller for a service: a ringing call's forks are cancelled (stopAttempts), early media stops,
   * the caller gets our 200 with its leg's SDP, and the service gets the call until either side hangs up.
   */
  private serve(call: Call, caller: AuthenticatedUser, service: 'voicemail' | 'mailbox-menu', user: ServiceUser, reason: VoicemailReason | undefined): void {
    if (!this.engine.services || call.ended) return;
    this.answerCaller(call, service === 'voicemail' ? voicemailIdentity(user) : VOICEMAIL_IDENTITY);
    this.startService(call, caller, service, user, reason);
  }

  /**
   * The PBX answers the caller itself (a service, or screening): the ring timer and every attempt stop, early
   * media stops, and the caller gets our 200 with its leg's SDP; their line shows `remote`.
   */
  answerCaller(call: Call, remote: LineIdentity): void {
    if (call.ringTimer) clearTimeout(call.ringTimer);
    this.stopAttempts(call, undefined);
    // Early media relayed a device's audio to the caller's leg; the leg is the PBX's now, and stays open.
    for (const bridge of call.bridges.splice(0)) bridge.detach();
    call.transition('answered');
    const origin = call.origin;
    if (call.delayedOffer) {
      origin.dialog.localOfferPending = true;
      origin.awaitingAnswer = true;
    }
    answerInvite(this.engine, call);
    this.engine.setLine(call, origin.line, 'confirmed', remote);
  }

  /** A service takes a call the PBX has answered (answerCaller), until it or the caller hangs up. */
  startService(call: Call, caller: AuthenticatedUser, service: 'voicemail' | 'mailbox-menu', user: ServiceUser, reason: VoicemailReason | undefined): void {
    const services = this.engine.services;
    if (!services || call.ended) return;
    // A call that went to voicemail stays a missed call in history, its end reason saying where it went.
    const disposition: CallDisposition = service === 'voicemail' ? 'missed' : 'answered';
    if (service === 'voicemail') call.serviceEndReason = VOICEMAIL_END_REASON;
    if (call.record) {
      call.record.disposition = disposition;
      if (service === 'mailbox-menu') call.record.answered_at = new Date().toISOString();
    }
    const serviceCall = this.serviceCall(call, caller, disposition);
    log.info('call answered for a service', { call: call.id, service, extension: user.extension, reason });
    try {
      if (service === 'voicemail') services.voicemail(serviceCall, user, reason ?? 'no-answer');
      else services.mailboxMenu(serviceCall, user);
    } catch (error) {
      log.error('a call service failed to start; hanging up', { call: call.id, service, error });
      this.engine.hangUp(call, disposition, 'service failed');
    }
  }

  serviceCall(call: Call, caller: AuthenticatedUser, disposition: CallDisposition): ServiceCall {
    const engine = this.engine;
    return {
      id: call.id,
      leg: legWithInfoKeys(call.origin.media, call.infoKeyListeners),
      caller: { organizationId: caller.organizationId, extension: caller.extension, userId: caller.userId, displayName: caller.displayName, number: caller.extension },
      get ended() {
        return call.ended;
      },
      hangUp: (why) => engine.hangUp(call, disposition, why),
      onEnded: (listener) => {
        if (call.ended) {
          queueMicrotask(() => listener('ended'));
          return () => undefined;
        }
        call.endListeners.add(listener);
        return () => call.endListeners.delete(listener);
      },
    };
  }
}

/**
 * Whether a service can play to and hear the caller's leg: a codec the PBX decodes itself (Opus, PCMU, PCMA; all
 * it offers today), or none yet when our offer went in the 2xx (G.711 only, answered in the ACK).
 */
export function serviceCanHear(call: Call): boolean {
  const codec = call.origin.media.codec;
  return codec === undefined || codecKind(codec) !== undefined;
}

/**
 * Read after every await and in every timer: the call may have been answered or ended meanwhile, or a device's
 * answer may be being stored (the caller hears of it then: CallEngine.connect), which nothing may divert.
 */
function ringing(call: Call): boolean {
  return (call.state === 'routing' || call.state === 'ringing') && !call.answering;
}

/** What the caller's line shows while voicemail takes their message. */
export function voicemailIdentity(user: ServiceUser): LineIdentity {
  return { extension: user.extension, displayName: `Voicemail of ${user.displayName}` };
}

function unavailable(): FirstStep {
  return { kind: 'refuse', status: 480, reason: 'Temporarily Unavailable', disposition: 'missed', why: 'unavailable' };
}

/** The user whose rule diverts a call, as the dialplan sees a caller: a rule reaches only what its user may dial. */
function asCaller(owner: ServiceUser, domain: string): AuthenticatedUser {
  return { userId: owner.userId, organizationId: owner.organizationId, extension: owner.extension, displayName: owner.displayName, domain };
}
