/**
 * Transfer: the other party of a call is handed to someone else, and the user who transferred leaves.
 *
 * Two front doors, one feature: a desk phone's REFER (RFC 3515, `handleRefer`) and the app's REST command
 * (`transfer`, api/routes/calls.ts). Either way the PBX does the work, since media is anchored here:
 * - blind: the target's devices ring on the transferee's behalf; the one that answers takes the transferor's
 *   place in the call and the transferor gets a BYE. If nobody answers, the call carries on as it was; a target
 *   with do not disturb on is not rung, unavailable (480) as with no device.
 * - attended: the transferor talks to the transferee in one call and to the target in another; the two remote
 *   parties are joined in the first call, and both of the transferor's dialogs end.
 * A REFER's transferor hears of the progress in NOTIFYs (RFC 3515 §2.4.4); the app's in the outcome and in its
 * call ending. Those who remain are told whom they now talk to (an UPDATE with P-Asserted-Identity).
 */
import type { Kysely } from 'kysely';
import type { Attempt, Call, CallControl, Destination, Dialplan, DialogEntry, Fork, LineIdentity, Party, PendingTransfer } from '../../calls';
import { RING_TIMEOUT_MS, sameCodec } from '../../calls';
import { createLogger } from '../../log';
import { MediaBridge } from '../../media/joins/bridge';
import { aorKey } from '../../presence/registrar';
import type { Registrar } from '../../presence/registrar';
import { parseReferTo, REFER_SUBSCRIPTION_S, sipfrag, SIPFRAG_CONTENT_TYPE } from '../../sip/dialog/refer';
import type { ReplacesTarget } from '../../sip/dialog/refer';
import type { AuthenticatedUser } from '../../sip/edge/authenticator';
import { formatNameAddr, formatUri, parseCSeq, parseUri } from '../../sip/syntax/message';
import type { ServerTransaction } from '../../sip/transaction/transactions';
import { getDoNotDisturb } from '../../store/do-not-disturb';
import type { Database } from '../../store/schema';
import { findUserByExtension } from '../../store/users';
import { isExtension } from '../../../shared/extensions';

const log = createLogger('transfer');

/** What the app asks for: a blind transfer to a dialled string, or an attended one onto its consult call. */
export type TransferRequest = { kind: 'blind'; target: string } | { kind: 'attended'; withSipCallId: string };
export type TransferOutcome = { ok: true } | { ok: false; status: number; reason: string };

/** The user the app's session belongs to. */
export interface TransferringUser {
  userId: number;
  organizationId: number;
  extension: string;
}

/** The REST front door's view of this feature (api/routes/calls.ts). */
export interface TransferCommands {
  /** Transfers the call whose leg for `user` has this SIP Call-ID (the app's own session's). */
  transfer(user: TransferringUser, sipCallId: string, request: TransferRequest): Promise<TransferOutcome>;
}

export interface TransferDeps {
  calls: CallControl;
  db: Kysely<Database>;
  registrar: Registrar;
  /** What the target reaches: the transferor places the new call, so their dial policy applies to it. */
  dialplan: Dialplan;
}

/** How the transferor hears of the transfer's progress: NOTIFYs for a REFER, nothing for the app. */
type Progress = (status: number, reason: string, final: boolean) => void;

class Transfer implements PendingTransfer {
  attempt: Attempt | undefined;
  /** A blind transfer's target rings this long at most, as a first call does. */
  ringTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly call: Call,
    readonly transferor: Party,
    readonly transferee: Party,
    readonly progress: Progress,
  ) {}

  callEnded(): void {
    clearTimeout(this.ringTimer);
    this.progress(487, 'Request Terminated', true);
  }
}

export class TransferService implements TransferCommands {
  /** How long a blind transfer's target may ring (RING_TIMEOUT_MS, as a first call); tests shorten it. */
  ringMs = RING_TIMEOUT_MS;

  constructor(private readonly deps: TransferDeps) {}

  /** REFER (RFC 3515): blind transfer to a target, or attended transfer when Refer-To carries Replaces. */
  async handleRefer(tx: ServerTransaction): Promise<void> {
    const request = tx.request;
    // RFC 3515 §2.4.2 lets a REFER start a dialog of its own; the PBX transfers only calls it holds, and says
    // so with 403 rather than 481 (which would claim a dialog it should have known).
    if (!tx.toTagged) {
      tx.reply(403, 'Forbidden - REFER outside a call is not accepted');
      return;
    }
    const entry = this.deps.calls.lookup(request);
    if (!entry) {
      tx.reply(481, 'Call/Transaction Does Not Exist');
      return;
    }
    const { call, party } = entry;
    // A screened call whose user is still choosing (calls/screening.ts) is not answered yet.
    if (!party || call.state !== 'answered' || party.gone || call.screening) {
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
    if (call.conference) {
      tx.reply(403, 'Forbidden - A conference cannot be transferred');
      return;
    }
    const transferee = call.other(party);
    if (!transferee) {
      tx.reply(481, 'Call/Transaction Does Not Exist');
      return;
    }
    let destination: Destination | undefined;
    if (!target.replaces) {
      destination = await this.route(call, party, target.uri.user ?? '');
      if (!tx.pending) return;
      // Refused outright (the dial policy); a target nobody has is reported in the NOTIFYs, as a failed call is.
      if (destination.kind === 'refused' && destination.status !== 404) {
        log.info('transfer target refused by the dial policy', { call: call.id, by: party.line.identity.extension, status: destination.status });
        tx.reply(destination.status, destination.reason);
        return;
      }
      if (call.ended || call.transfer || party.gone) {
        tx.reply(call.transfer ? 491 : 481);
        return;
      }
    }
    // RFC 4488: a transferor that asks for no implicit subscription gets no NOTIFYs, and is told so in the 202.
    const quiet = request.headers.get('Refer-Sub')?.trim().toLowerCase() === 'false';
    tx.reply(202, 'Accepted', { headers: [['Contact', this.deps.calls.contact(party.dialog.connection)], ...(quiet ? [['Refer-Sub', 'false'] as [string, string]] : [])] });
    const progress = quiet ? () => undefined : this.notifier(party, parseCSeq(request.headers.get('CSeq') ?? '0 REFER').seq);
    const transfer = new Transfer(call, party, transferee, progress);
    call.transfer = transfer;
    progress(100, 'Trying', false);
    log.info('transfer requested', { call: call.id, by: party.line.identity.extension, to: formatUri(target.uri), attended: Boolean(target.replaces) });
    if (target.replaces) this.attended(transfer, this.replaced(target.replaces));
    else await this.blind(transfer, destination ?? { kind: 'refused', status: 404, reason: 'Not Found' });
  }

  async transfer(user: TransferringUser, sipCallId: string, request: TransferRequest): Promise<TransferOutcome> {
    const entry = this.deps.calls.findDialog(sipCallId);
    const party = entry?.party;
    if (!entry || !party || party.gone || entry.call.organizationId !== user.organizationId || party.line.identity.extension !== user.extension) {
      return { ok: false, status: 404, reason: 'That call is not one of yours' };
    }
    const call = entry.call;
    if (call.state !== 'answered' || call.screening) return { ok: false, status: 409, reason: 'Only an answered call can be transferred' };
    if (call.transfer) return { ok: false, status: 409, reason: 'A transfer of this call is already under way' };
    if (call.conference) return { ok: false, status: 409, reason: 'A conference cannot be transferred' };
    const transferee = call.other(party);
    if (!transferee) return { ok: false, status: 409, reason: 'Nobody else is on this call' };

    if (request.kind === 'attended') {
      const consult = this.deps.calls.findDialog(request.withSipCallId);
      if (!consult?.party || consult.party.line.identity.extension !== user.extension) return { ok: false, status: 404, reason: 'The consult call is not one of yours' };
      let outcome: TransferOutcome = { ok: true };
      const transfer = new Transfer(call, party, transferee, (status, reason, final) => {
        if (final && status >= 300) outcome = { ok: false, status, reason: attendedFailure(status, reason) };
      });
      call.transfer = transfer;
      log.info('transfer requested by the app', { call: call.id, by: user.extension, attended: true });
      this.attended(transfer, consult);
      return outcome;
    }

    const dialled = request.target.trim();
    // An extension nobody has is said as such, before the dial policy would call it an outside number.
    if (isExtension(dialled) && !(await findUserByExtension(this.deps.db, call.organizationId, dialled))) {
      return { ok: false, status: 404, reason: blindFailure(404, dialled) };
    }
    const destination = await this.route(call, party, dialled);
    if (destination.kind === 'refused') {
      const reason = destination.status === 403 ? `You may not transfer calls to ${dialled}` : destination.status === 404 ? blindFailure(404, dialled) : destination.reason;
      return { ok: false, status: destination.status, reason };
    }
    if (call.ended || call.transfer || party.gone || transferee.gone) return { ok: false, status: 409, reason: 'The call changed meanwhile' };
    return new Promise<TransferOutcome>((resolve) => {
      let answered = false;
      const transfer = new Transfer(call, party, transferee, (status, reason, final) => {
        if (!answered && ((status >= 180 && status < 300) || final)) {
          answered = true;
          resolve(status < 300 ? { ok: true } : { ok: false, status, reason: blindFailure(status, dialled) });
        } else if (final && status >= 300 && !party.gone) {
          // The app heard 202 already; its user learns of the failure on the event stream, the call still theirs.
          this.deps.calls.announce(call, party, blindFailure(status, dialled));
        }
      });
      call.transfer = transfer;
      log.info('transfer requested by the app', { call: call.id, by: user.extension, to: dialled, attended: false });
      void this.blind(transfer, destination).catch((error: unknown) => {
        log.error('blind transfer failed', { call: call.id, error });
        resolve({ ok: false, status: 500, reason: 'The transfer could not be carried out' });
      });
    });
  }

  /** Blind transfer: ring the target on the transferee's behalf; when it answers, it takes the transferor's place. */
  private async blind(transfer: Transfer, destination: Destination): Promise<void> {
    const { call, calls } = { call: transfer.call, calls: this.deps.calls };
    if (call.ended || call.transfer !== transfer) return;
    const fail = (status: number, reason: string) => {
      clearTimeout(transfer.ringTimer);
      call.transfer = undefined;
      transfer.progress(status, reason, true);
      // With the transferor gone there is nobody to return the transferee to.
      if (transfer.transferor.gone) calls.hangUp(call, 'answered', `transfer failed (${status})`);
    };
    if (destination.kind !== 'user') {
      // Only a user can take a transferred call (not the mailbox menu, which is its caller's own).
      if (destination.kind === 'refused') fail(destination.status, destination.reason);
      else fail(404, 'Not Found');
      return;
    }
    const extension = destination.extension;
    // A target with do not disturb on is not rung: unavailable, as with no device.
    let doNotDisturb: boolean;
    try {
      doNotDisturb = await getDoNotDisturb(this.deps.db, { organizationId: call.organizationId, userId: destination.userId });
    } catch (error) {
      log.error('could not read the transfer target\'s do not disturb', { call: call.id, error });
      doNotDisturb = true;
    }
    if (call.ended || call.transfer !== transfer) return;
    if (doNotDisturb) {
      log.info('transfer target has do not disturb on', { call: call.id, to: extension });
      fail(480, 'Temporarily Unavailable');
      return;
    }
    const bindings = this.deps.registrar.lookup(aorKey(call.organizationId, extension));
    if (bindings.length === 0) {
      fail(480, 'Temporarily Unavailable');
      return;
    }
    const codec = transfer.transferee.media.codec;
    const targetIdentity: LineIdentity = { extension, displayName: destination.displayName };
    // RFC 3892: the target's phone learns who transferred the call. The transferor's own identity, as the PBX
    // authenticated it, rather than a Referred-By the REFER may carry, which nobody vouches for.
    const transferor = transfer.transferor.line.identity;
    const referredBy = formatNameAddr({ displayName: transferor.displayName, uri: parseUri(`sip:${transferor.extension}@${call.domain}`), params: {} });
    const transferee = transfer.transferee.line.identity;
    transfer.attempt = calls.ring(
      call,
      targetIdentity,
      transferee,
      bindings,
      codec ? [codec] : [],
      {
        ringing: (fork) => {
          calls.setLine(call, fork.attempt.line, 'early', transferee);
          transfer.progress(180, 'Ringing', false);
        },
        earlyMedia: (fork) => {
          calls.setLine(call, fork.attempt.line, 'early', transferee);
          transfer.progress(183, 'Session Progress', false);
        },
        answered: (fork) => this.completeBlind(transfer, fork),
        failed: (status, reason) => {
          if (transfer.attempt) calls.setLine(call, transfer.attempt.line, 'terminated', transferee);
          fail(status, reason);
        },
      },
      referredBy,
    );
    // Nobody answers: the target's devices are let go, and the transferor hears so in the final NOTIFY
    // (RFC 3515 §2.4.5); a transferee whose transferor has left is hung up rather than left in silence.
    transfer.ringTimer = setTimeout(() => {
      const attempt = transfer.attempt;
      if (call.ended || call.transfer !== transfer || !attempt || attempt.done) return;
      attempt.done = true;
      for (const fork of attempt.forks) {
        calls.cancelFork(fork);
        calls.dropFork(fork);
      }
      calls.setLine(call, attempt.line, 'terminated', transferee);
      log.info('transfer target did not answer', { call: call.id, target: extension });
      fail(480, 'Temporarily Unavailable');
    }, this.ringMs);
  }

  private completeBlind(transfer: Transfer, fork: Fork): void {
    const { call, transferor, transferee } = transfer;
    const calls = this.deps.calls;
    clearTimeout(transfer.ringTimer);
    if (call.ended || transferee.gone) {
      calls.sendBye(fork.dialog);
      calls.dropFork(fork);
      return;
    }
    const party = calls.partyFromFork(fork);
    call.parties.push(party);
    call.bridges.push(new MediaBridge(transferee.media, party.media));
    call.transfer = undefined;
    transfer.progress(200, 'OK', true);
    if (!transferor.gone) {
      calls.sendBye(transferor.dialog);
      calls.dropParty(call, transferor);
    }
    calls.setLine(call, party.line, 'confirmed', transferee.line.identity);
    calls.setLine(call, transferee.line, 'confirmed', party.line.identity);
    calls.updateIdentity(call, transferee, party.line.identity);
    log.info('blind transfer completed', { call: call.id, transferee: transferee.line.identity.extension, target: party.line.identity.extension });
    calls.storeLegs(call);
  }

  /** The dialog a REFER's Replaces names (RFC 3891), as a desk phone points at its other call. */
  private replaced(replaces: ReplacesTarget): DialogEntry | undefined {
    return this.deps.calls.findReplaced(replaces);
  }

  /**
   * Attended transfer: the transferor talks to the transferee in the transfer's call and to the target in the
   * call `entry` names (the transferor's own dialog there). The two remote parties are bridged together in the
   * first call; both of the transferor's dialogs end.
   */
  private attended(transfer: Transfer, entry: DialogEntry | undefined): void {
    const { call, transferor, transferee } = transfer;
    const calls = this.deps.calls;
    const fail = (status: number, reason: string) => {
      clearTimeout(transfer.ringTimer);
      call.transfer = undefined;
      transfer.progress(status, reason, true);
    };
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
    // A conference is not handed over whole: its other members would be dropped from it.
    if (other.conference || other.parties.filter((p) => !p.gone).length > 2) {
      fail(403, 'Forbidden');
      return;
    }
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
    calls.trackDialog(call, target);
    // The other call's bridges still hold the target's leg; they now end with this call.
    call.bridges.push(...other.bridges.splice(0), new MediaBridge(transferee.media, target.media));
    call.transfer = undefined;
    transfer.progress(200, 'OK', true);
    calls.sendBye(transferor.dialog);
    calls.dropParty(call, transferor);
    calls.sendBye(held.dialog);
    calls.dropParty(other, held);
    calls.endCall(other, 'answered', 'transferred');
    calls.setLine(call, transferee.line, 'confirmed', target.line.identity);
    calls.setLine(call, target.line, 'confirmed', transferee.line.identity);
    calls.updateIdentity(call, transferee, target.line.identity);
    calls.updateIdentity(call, target, transferee.line.identity);
    log.info('attended transfer completed', { call: call.id, joined: other.id });
    calls.storeLegs(call);
  }

  /** What `dialled` reaches for a party of a call (the dialplan), as the user who authenticated for that party. */
  private async route(call: Call, party: Party, dialled: string): Promise<Destination> {
    const user = await findUserByExtension(this.deps.db, call.organizationId, party.line.identity.extension);
    if (!user) return { kind: 'refused', status: 403, reason: 'Forbidden' };
    const caller: AuthenticatedUser = {
      userId: user.id,
      organizationId: call.organizationId,
      extension: user.extension,
      displayName: user.display_name,
      domain: call.domain,
    };
    return this.deps.dialplan.route(caller, dialled);
  }

  /** RFC 3515 §2.4.4: each NOTIFY reports the referred call's progress as a sipfrag status line. */
  private notifier(party: Party, referId: number): Progress {
    let done = false;
    const calls = this.deps.calls;
    return (status, reason, final) => {
      if (done) return;
      if (final) done = true;
      if (party.gone || !party.dialog.connection.isOpen) return;
      const notify = party.dialog.createRequest('NOTIFY');
      notify.headers.set('Event', `refer;id=${referId}`);
      notify.headers.set('Subscription-State', final ? 'terminated;reason=noresource' : `active;expires=${REFER_SUBSCRIPTION_S}`);
      notify.headers.set('Contact', calls.contact(party.dialog.connection));
      notify.headers.set('Content-Type', SIPFRAG_CONTENT_TYPE);
      notify.body = sipfrag(status, reason);
      calls.endpoint.sendRequest(notify, party.dialog.connection, () => undefined);
    };
  }
}

/** A blind transfer's failure, in a sentence the app can show. */
function blindFailure(status: number, dialled: string): string {
  if (status === 404) return `No one has the number ${dialled}`;
  if (status === 480 || status === 408) return `${dialled} did not answer or is not available`;
  if (status === 486 || status === 600) return `${dialled} is busy`;
  if (status === 603) return `${dialled} declined the call`;
  if (status === 487) return 'The call ended before the transfer was done';
  if (status === 488) return `${dialled}'s phone has no audio format in common with this call`;
  return `The transfer to ${dialled} failed (${status})`;
}

function attendedFailure(status: number, reason: string): string {
  if (status === 481) return 'The consult call has ended';
  if (status === 488) return 'The two calls use different audio formats and cannot be joined';
  if (status === 403) return 'Only your own calls can be joined';
  return `The transfer failed (${status} ${reason})`;
}
