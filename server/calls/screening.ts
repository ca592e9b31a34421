/**
 * Screened calls: a call to a user whose active rule asks callers their name (AnsweringPlan `screen`). The PBX
 * answers the caller, and the screening service (ports.ts CallServices.screen) asks their name; then the user's
 * devices ring, and others' the rule rings with them, while the caller hears ringback. The first device to answer
 * is not joined to the caller at once: its user hears who calls (ScreenedCaller.offerTo) and presses 1 to take the
 * call, which joins them (CallEngine.joinAnswered), or 2 to send it on. The other devices stop ringing as soon as
 * one answers, as for any call.
 *
 * A call not taken goes where the rule says, as any call to the user would: busy devices to `whenBusy`, no device
 * reachable to `whenUnreachable`, the ring time passing, a device declining, or the user pressing 2 (or nothing)
 * to `whenNotAnswered`. The caller has been answered already, so nothing here replies to their INVITE: voicemail
 * takes the answered call; busy and unavailable end it with a BYE; another user or number rings while the caller
 * hears ringback, and whoever answers there is joined straight away (a diversion is never screened again, nor
 * ruled by the rules of whom it reaches).
 */
import { createLogger } from '../log';
import type { Binding } from '../presence/registrar';
import type { AuthenticatedUser } from '../sip/edge/authenticator';
import type { CallAnswering, Routing } from './answering';
import { dispositionFor, serviceCanHear } from './answering';
import type { AttemptHandlers, Call, CallDisposition, Codec, Fork, LineIdentity, Party } from './call';
import type { CallEngine } from './call-engine';
import { COMPLETED_ELSEWHERE } from './forking';
import { legWithInfoKeys } from './info-keys';
import type { AnsweringPlan, Diversion, ScreenedCaller, VoicemailReason } from './ports';
import type { DtmfEvent } from '../media/legs/media-leg';
import { aorKey } from '../presence/registrar';

const log = createLogger('calls');

type RingPlan = Extract<AnsweringPlan, { kind: 'ring' }>;

/** One screened call, from the caller's name on. */
interface Screening {
  call: Call;
  caller: AuthenticatedUser;
  routing: Routing;
  plan: RingPlan;
  /** Undefined when the caller could not be screened (the service failed): their call rings unscreened. */
  screened: ScreenedCaller | undefined;
  stopRingback: () => void;
  /** Set once a device answered (its user is choosing) or the call was sent on: no other device may take it. */
  settled: boolean;
}

const NOTHING = (): void => undefined;

export class CallScreening {
  constructor(
    private readonly engine: CallEngine,
    private readonly answering: CallAnswering,
  ) {}

  /** Answers the caller, asks their name, then rings the owner's devices (and the plan's others). */
  async start(call: Call, caller: AuthenticatedUser, routing: Routing, plan: RingPlan, identity: LineIdentity): Promise<void> {
    const services = this.engine.services;
    if (!services || call.ended) return;
    this.answering.answerCaller(call, identity);
    // A caller who hangs up before the user takes the call cancelled it, as one who hangs up while it rings.
    if (call.record) call.record.disposition = 'cancelled';
    log.info('call answered to screen the caller', { call: call.id, extension: routing.owner.extension });
    let screened: ScreenedCaller | undefined;
    try {
      screened = await services.screen(this.answering.serviceCall(call, caller, 'cancelled'));
    } catch (error) {
      log.error('could not screen the caller; ringing without screening', { call: call.id, error });
    }
    if (call.ended) return;
    if (!screened) log.warn('the caller was not screened; ringing without screening', { call: call.id });
    const screening: Screening = { call, caller, routing, plan, screened, stopRingback: NOTHING, settled: false };
    this.ringback(screening, true);
    // The name took seconds: the devices to ring are the ones registered now.
    const bindings = this.engine.registrar.lookup(aorKey(routing.owner.organizationId, routing.owner.extension));
    if (bindings.length === 0) {
      await this.sendOn(screening, plan.whenUnreachable, 'unreachable');
      return;
    }
    const codec = call.origin.media.codec;
    const codecs: readonly Codec[] = codec ? [codec] : [];
    call.ringTimer = setTimeout(() => void this.sendOn(screening, plan.whenNotAnswered, 'no-answer'), plan.ringMs);
    const handlers = this.handlers(screening);
    call.attempt = this.engine.ring(call, identity, call.origin.line.identity, bindings, codecs, {
      ...handlers,
      failed: (status) => {
        if (status === 486 || status === 600) void this.sendOn(screening, plan.whenBusy, 'busy');
        else if (status === 480 || status === 408) void this.sendOn(screening, plan.whenUnreachable, 'unreachable');
        else void this.sendOn(screening, plan.whenNotAnswered, 'no-answer');
      },
    });
    for (const dialled of plan.alsoRing) {
      this.answering
        .alsoRing(call, routing, dialled, codecs, handlers, () => !screening.settled && !call.ended)
        .catch((error: unknown) => log.error('could not look up an also-ring target; skipped', { call: call.id, extension: routing.owner.extension, error }));
    }
  }

  /** Ringback to the caller (after "please hold" when `thanks`); a screener that fails to play it costs no call. */
  private ringback(screening: Screening, thanks: boolean): void {
    try {
      screening.stopRingback = screening.screened?.ringback({ thanks }) ?? NOTHING;
    } catch (error) {
      log.error('could not play ringback to a screened caller', { call: screening.call.id, error });
      screening.stopRingback = NOTHING;
    }
  }

  /** The caller hears ringback; a device that answers hears who calls (or, unscreened, is joined at once). */
  private handlers(screening: Screening): Omit<AttemptHandlers, 'failed'> {
    return {
      ringing: () => undefined,
      earlyMedia: () => undefined,
      answered: (fork) => {
        if (screening.screened) void this.offer(screening, screening.screened, fork);
        else this.joinAtOnce(screening, fork, () => this.answering.stopAttempts(screening.call, fork.attempt, COMPLETED_ELSEWHERE));
      },
    };
  }

  /**
   * The first device to answer takes the call (the others stop ringing through `stopOthers`) and becomes a party;
   * one that answers later is hung up, and undefined returned.
   */
  private take(screening: Screening, fork: Fork, stopOthers: () => void): Party | undefined {
    const { call } = screening;
    if (screening.settled || call.ended) {
      this.engine.sendBye(fork.dialog);
      this.engine.dropFork(fork);
      return undefined;
    }
    screening.settled = true;
    if (call.ringTimer) clearTimeout(call.ringTimer);
    stopOthers();
    call.attempt = fork.attempt;
    return this.engine.partyFromFork(fork);
  }

  /** A device answered: its user hears who calls and chooses. */
  private async offer(screening: Screening, screened: ScreenedCaller, fork: Fork): Promise<void> {
    const { call } = screening;
    const party = this.take(screening, fork, () => this.answering.stopAttempts(call, fork.attempt, COMPLETED_ELSEWHERE));
    if (!party) return;
    const keys = new Set<(event: DtmfEvent) => void>();
    call.screening = { party, keys };
    this.engine.setLine(call, party.line, 'confirmed', call.origin.line.identity);
    log.info('screened call offered to the user', { call: call.id, callee: party.line.identity.extension });
    let choice: 'accept' | 'decline' = 'decline';
    try {
      choice = await screened.offerTo(legWithInfoKeys(party.media, keys));
    } catch (error) {
      log.error('could not offer a screened call; sending it on', { call: call.id, error });
    }
    if (call.screening?.party === party) call.screening = undefined;
    if (call.ended) return;
    if (choice === 'accept' && !party.gone) {
      screening.stopRingback();
      log.info('screened call accepted', { call: call.id, callee: party.line.identity.extension });
      this.engine.joinAnswered(call, party);
      return;
    }
    log.info('screened call not taken', { call: call.id, callee: party.line.identity.extension, left: party.gone });
    if (!party.gone) this.engine.sendBye(party.dialog);
    this.engine.dropParty(call, party);
    await this.sendOn(screening, screening.plan.whenNotAnswered, 'no-answer', true);
  }

  /** A device answered a call that is not offered first (unscreened, or diverted): joined to the caller at once. */
  private joinAtOnce(screening: Screening, fork: Fork, stopOthers: () => void): void {
    const party = this.take(screening, fork, stopOthers);
    if (!party) return;
    screening.stopRingback();
    this.engine.joinAnswered(screening.call, party);
  }

  /** The user did not take the call: where their rule sends it, the caller being answered already. */
  private async sendOn(screening: Screening, to: Diversion, reason: VoicemailReason, offered = false): Promise<void> {
    const { call, caller, routing } = screening;
    if (call.ended || (screening.settled && !offered)) return;
    screening.settled = true;
    if (call.ringTimer) clearTimeout(call.ringTimer);
    this.answering.stopAttempts(call, undefined);
    screening.stopRingback();
    log.info('screened call sent on', { call: call.id, extension: routing.owner.extension, reason, to: to.kind });
    const why = reason === 'no-answer' ? 'no answer' : reason;
    if (to.kind === 'voicemail') {
      if (this.engine.services && serviceCanHear(call)) this.answering.startService(call, caller, 'voicemail', routing.owner, reason);
      else this.engine.hangUp(call, 'missed', why);
      return;
    }
    if (to.kind === 'busy' || to.kind === 'unavailable') {
      this.engine.hangUp(call, to.kind === 'busy' ? 'busy' : 'missed', why);
      return;
    }
    let target;
    try {
      target = await this.answering.divertedTo(caller, routing, to.dialled);
    } catch (error) {
      log.error('could not look up where the call is diverted; ending it', { call: call.id, extension: routing.owner.extension, error });
    }
    if (call.ended) return;
    if (!target) {
      this.engine.hangUp(call, 'missed', 'diversion failed');
      return;
    }
    this.ringDiverted(screening, target.identity, target.bindings);
  }

  /** The user a screened call is diverted to: their devices ring while the caller hears ringback; who answers is joined. */
  private ringDiverted(screening: Screening, identity: LineIdentity, bindings: Binding[]): void {
    const { call, plan } = screening;
    // A round of ringing of its own: settled again once someone answers or it gives up.
    screening.settled = false;
    this.ringback(screening, false);
    const codec = call.origin.media.codec;
    const giveUp = (disposition: CallDisposition, why: string) => {
      if (screening.settled || call.ended) return;
      screening.settled = true;
      screening.stopRingback();
      this.answering.stopAttempts(call, undefined);
      this.engine.hangUp(call, disposition, why);
    };
    call.ringTimer = setTimeout(() => giveUp('missed', 'no answer'), plan.ringMs);
    call.attempt = this.engine.ring(call, identity, call.origin.line.identity, bindings, codec ? [codec] : [], {
      ringing: () => undefined,
      earlyMedia: () => undefined,
      answered: (fork) => this.joinAtOnce(screening, fork, () => undefined),
      failed: (status) => giveUp(dispositionFor(status), `callee answered ${status}`),
    });
  }
}
