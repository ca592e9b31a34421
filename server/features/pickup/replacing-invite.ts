/**
 * INVITE with Replaces (RFC 3891) from a device of the PBX's own users: it takes over a dialog the PBX holds.
 * - call pickup: a device still ringing for a call is replaced by the device that picks the call up (a busy
 *   lamp's pickup key sends this, naming the ringing dialog from the dialog event package, RFC 4235);
 * - moving a call: the same user's line in an answered call continues on another of their devices.
 * The call engine hands every such INVITE here once the caller is authenticated (CallEngine.replacingInvites).
 */
import type { CallControl, Line, LineIdentity } from '../../calls';
import { G711, createOffer, answerOffer } from '../../media/legs/legs';
import { ALLOW, isSdp, recordRoute, sameCodec, SUPPORTED } from '../../calls';
import { createLogger } from '../../log';
import { MediaBridge } from '../../media/joins/bridge';
import { Dialog } from '../../sip/dialog/dialog';
import { parseReplaces } from '../../sip/dialog/refer';
import { negotiateSessionTimer, sessionTimerResponseHeaders } from '../../sip/dialog/session-timer';
import type { AuthenticatedUser } from '../../sip/edge/authenticator';
import { generateTag } from '../../sip/syntax/message';
import type { ServerTransaction } from '../../sip/transaction/transactions';

const log = createLogger('pickup');

export class ReplacingInvites {
  constructor(private readonly calls: CallControl) {}

  /**
   * INVITE with Replaces (RFC 3891): a device takes over a dialog the PBX holds, either a device still ringing
   * (call pickup) or the same user's line in an answered call (moving a call to another device).
   */
  async handleReplacingInvite(tx: ServerTransaction, user: AuthenticatedUser, value: string): Promise<void> {
    const calls = this.calls;
    const request = tx.request;
    const replaces = parseReplaces(value);
    if (!replaces) {
      tx.reply(400, 'Bad Request - Invalid Replaces');
      return;
    }
    const entry = calls.findReplaced(replaces);
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
    // A screened call (calls/screening.ts) rings for a caller the PBX answered, and its user hears who calls before
    // it is joined: neither can be picked up or moved to another device until then.
    if (call.screening || (pickup && call.state === 'answered')) {
      tx.reply(486, 'Busy Here');
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
        const offer = await createOffer(legId, 'rtp', calls.media, [codec]);
        answer = { leg: offer.leg, answerSdp: offer.offerSdp };
      } else {
        answer = await answerOffer(legId, request.body.toString('utf8'), calls.media, { allowedCodecs: codec ? [codec] : undefined });
      }
    } catch (error) {
      log.info('replacing offer not acceptable', { error });
      calls.refuseOffer(tx);
      return;
    }
    // Re-read after the await: the call may have ended, the replaced party left, or a transfer begun meanwhile.
    const gone = call.ended || (takeover && entry.party?.gone === true);
    if (!tx.pending || gone || (takeover && call.transfer) || (!delayedOffer && !sameCodec(answer.leg.codec, peer.media.codec)) || (pickup && call.state === 'answered')) {
      answer.leg.close();
      if (tx.pending && gone) tx.reply(481);
      else if (tx.pending && takeover && call.transfer) tx.reply(491, 'Request Pending');
      else if (tx.pending) calls.refuseOffer(tx);
      return;
    }
    const dialog = Dialog.fromRequest(request, generateTag(), tx.connection);
    dialog.localSdp = answer.answerSdp;
    const identity: LineIdentity = { extension: user.extension, displayName: user.displayName };
    const line: Line = entry.party ? entry.party.line : { identity, direction: 'recipient', state: undefined, remote: call.origin.line.identity };
    const party = calls.newParty(dialog, answer.leg, line);
    if (delayedOffer) {
      dialog.localOfferPending = true;
      party.awaitingAnswer = true;
    }
    calls.trackDialog(call, party);
    const timer = negotiateSessionTimer(request, calls.sessionTimers);
    tx.reply(200, 'OK', {
      toTag: dialog.localTag,
      headers: [...recordRoute(request), ['Contact', calls.contact(tx.connection)], ['Allow', ALLOW], ['Supported', SUPPORTED], ...sessionTimerResponseHeaders(timer)],
      contentType: 'application/sdp',
      body: Buffer.from(answer.answerSdp, 'utf8'),
    });
    dialog.transition('confirmed');
    calls.hangUpUnlessAcknowledged(tx, party);
    calls.applySessionTimer(party, timer);

    if (pickup && call.attempt) {
      const attempt = call.attempt;
      attempt.done = true;
      for (const fork of attempt.forks) calls.cancelFork(fork);
      if (line !== attempt.line) calls.setLine(call, attempt.line, 'terminated', call.origin.line.identity);
      log.info('call picked up', { call: call.id, by: user.extension });
      calls.connect(call, party);
      return;
    }
    const replaced = entry.party;
    if (!replaced) return;
    // The line carries on with the new device; only the replaced dialog and its leg end, without a lamp change.
    replaced.line = { ...replaced.line, state: 'terminated' };
    call.parties.push(party);
    // In a conference the new leg takes the old one's place in the mix; otherwise it is bridged to the peer.
    if (call.conference) call.conference.partyReplaced(replaced, party);
    else call.bridges.push(new MediaBridge(peer.media, party.media));
    calls.sendBye(replaced.dialog);
    calls.dropParty(call, replaced);
    calls.setLine(call, party.line, 'confirmed', peer.line.identity);
    log.info('call moved to another device', { call: call.id, extension: user.extension });
    calls.storeLegs(call);
  }
}
