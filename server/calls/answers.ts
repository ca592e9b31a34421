/**
 * How an answer reaches the caller. What a user would miss after a crash is stored before it is acknowledged:
 * the caller hears the 200 once the answered call is in active_calls (group-committed), so a crash from then on
 * leaves its record and its legs to hang up. Meanwhile the call may end (CANCEL, the ring timer, shutdown:
 * endCall hangs the party up) or the party may leave (onPartyGone); the caller then hears that instead.
 *
 * The caller's 200 itself (our SDP, the dialog confirmed, its session timer, the ACK awaited) is one function,
 * `answerInvite`, whether a device answered or the PBX answers for a service (answering.ts).
 */
import { createLogger } from '../log';
import { MediaBridge } from '../media/joins/bridge';
import { narrowOffer } from '../media/legs/legs';
import { sessionTimerResponseHeaders } from '../sip/dialog/session-timer';
import type { CallJournal } from '../store/call-journal';
import type { Call, Party } from './call';
import type { CallEngine } from './call-engine';
import { ALLOW, recordRoute, SUPPORTED } from './call-messages';
import { legOf, markLegs } from './call-recovery';

const log = createLogger('calls');

/** Our 200 to the caller's INVITE, with our SDP (`call.originSdp`): their dialog confirmed, its session timer running, the ACK awaited. */
export function answerInvite(engine: CallEngine, call: Call): void {
  const origin = call.origin;
  origin.dialog.localSdp = call.originSdp;
  call.inviteTx.reply(200, 'OK', {
    toTag: origin.dialog.localTag,
    headers: [
      ...recordRoute(call.inviteTx.request),
      ['Contact', engine.contact(origin.dialog.connection)],
      ['Allow', ALLOW],
      ['Supported', SUPPORTED],
      ...sessionTimerResponseHeaders(call.originTimer),
    ],
    contentType: 'application/sdp',
    body: Buffer.from(call.originSdp, 'utf8'),
  });
  origin.dialog.transition('confirmed');
  engine.hangUpUnlessAcknowledged(call.inviteTx, origin);
  engine.applySessionTimer(origin, call.originTimer);
}

export class CallAnswers {
  constructor(
    private readonly engine: CallEngine,
    private readonly journal: CallJournal,
  ) {}

  /** The caller's INVITE is answered: `party` (a device that answered, or one that picked the call up) joins it. */
  connect(call: Call, party: Party, bridged: boolean): void {
    if (call.ended) return;
    this.stored(call, party, () => {
      if (party.gone) this.engine.finish(call, 480, 'Temporarily Unavailable', 'failed', 'callee left before the answer reached the caller');
      else this.relayAnswer(call, party, bridged);
    });
  }

  /**
   * `party` joins a call whose caller the PBX answered already (a screened call the user accepted): stored as an
   * answer is, then bridged to the caller; no 200 is due. If the party leaves meanwhile, the call ends.
   */
  joinAnswered(call: Call, party: Party): void {
    if (call.ended) {
      this.engine.sendBye(party.dialog);
      this.engine.dropParty(call, party);
      return;
    }
    this.stored(call, party, () => {
      if (call.ended) return;
      if (party.gone) {
        this.engine.hangUp(call, 'missed', 'callee left before the call was joined');
        return;
      }
      call.parties.push(party);
      call.bridges.push(new MediaBridge(call.origin.media, party.media));
      this.joined(call, party, true);
    });
  }

  /** Stores the answered call with `party`'s leg, then `then()`; without a record (no store), at once. */
  private stored(call: Call, party: Party, then: () => void): void {
    if (call.answering) {
      // Another answer holds the call already (the attempt is done once one answers, so not expected): hang this one up.
      this.engine.sendBye(party.dialog);
      this.engine.dropParty(call, party);
      return;
    }
    const record = call.record;
    if (!record) {
      then();
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
        then();
      })
      .catch((error: unknown) => log.error('could not relay an answer', { call: call.id, error }));
  }

  /** Relays a stored answer to the caller: `party` joins the call and the caller gets its 200. */
  private relayAnswer(call: Call, party: Party, bridged: boolean): void {
    if (call.ended) return;
    call.parties.push(party);
    call.transition('answered');
    const origin = call.origin;
    if (call.delayedOffer) {
      // Our offer goes in the 2xx with the one codec the callee answered; the caller answers in its ACK.
      const codec = party.media.codec;
      if (codec) call.originSdp = narrowOffer(origin.media, codec);
      origin.dialog.localOfferPending = true;
      origin.awaitingAnswer = true;
    }
    if (!bridged) call.bridges.push(new MediaBridge(call.origin.media, party.media));
    answerInvite(this.engine, call);
    this.joined(call, party, false);
  }

  /** The lines show who talks to whom; the record says when the call was answered. */
  private joined(call: Call, party: Party, screened: boolean): void {
    if (call.ringTimer) clearTimeout(call.ringTimer);
    const origin = call.origin;
    this.engine.setLine(call, origin.line, 'confirmed', party.line.identity);
    this.engine.setLine(call, party.line, 'confirmed', origin.line.identity);
    if (call.record) {
      call.record.answered_at = new Date().toISOString();
      call.record.disposition = 'answered';
    }
    log.info('call answered', { call: call.id, caller: origin.line.identity.extension, callee: party.line.identity.extension, ...(screened ? { screened } : {}) });
  }
}
