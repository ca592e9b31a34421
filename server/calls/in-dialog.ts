/**
 * Requests within a call's dialogs that change or keep up the session: re-INVITE and UPDATE (hold, resume,
 * new media, RFC 3261 §14 and RFC 3311), session timers (RFC 4028) in both directions, and INFO relayed to the
 * other party (RFC 6086). Glare and crossing offers are answered as the RFCs say (491, 500 with Retry-After).
 */
import { randomInt } from 'node:crypto';
import { createLogger } from '../log';
import type { MediaLeg } from '../media/legs/media-leg';
import { SdpError } from '../media/sdp/sdp';
import { answerKeepingSession, isHold, sdpDirection } from '../media/sdp/sdp-direction';
import type { Dialog } from '../sip/dialog/dialog';
import { negotiateSessionTimer, parseSessionExpires, SessionTimer, sessionTimerResponseHeaders } from '../sip/dialog/session-timer';
import type { SessionTimerNegotiation } from '../sip/dialog/session-timer';
import { formatNameAddr, parseCSeq, parseUri } from '../sip/syntax/message';
import type { SipRequest } from '../sip/syntax/message';
import type { ServerTransaction } from '../sip/transaction/transactions';
import { ownUtf8 } from '../util/unshared';
import type { Call, LineIdentity, Party } from './call';
import { ALLOW, isSdp, SUPPORTED } from './call-messages';
import type { CallControl } from './control';
import { keyFromInfo } from './info-keys';

const log = createLogger('calls');

export class InDialogRequests {
  constructor(private readonly calls: CallControl) {}

  async handleModify(tx: ServerTransaction): Promise<void> {
    const request = tx.request;
    const entry = this.calls.lookup(request);
    const use = entry?.party ?? entry?.fork;
    if (!entry || !use) {
      tx.reply(481, 'Call/Transaction Does Not Exist');
      return;
    }
    if (entry.party?.away) {
      // An app whose connection closed checks its call over a new one (a network blip, not a reload): the dialog
      // is tied to the flow that is gone (RFC 5626 §5.3), so it is not kept; the app hears 481 and ends it, and the
      // other party is hung up now rather than after the grace. A reloaded app rejoins with Replaces instead.
      tx.reply(481, 'Call/Transaction Does Not Exist');
      this.calls.partyFailed(entry.call, entry.party, 'device disconnected');
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
    const timer = negotiateSessionTimer(request, this.calls.sessionTimers);
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
        if (tx.pending) this.calls.refuseOffer(tx);
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
        ['Contact', this.calls.contact(dialog.connection)],
        ['Allow', ALLOW],
        ['Supported', SUPPORTED],
        ...sessionTimerResponseHeaders(timer),
      ],
      ...(body !== undefined ? { contentType: 'application/sdp', body: Buffer.from(body, 'utf8') } : {}),
    });
    if (isInvite && entry.party) this.calls.hangUpUnlessAcknowledged(tx, entry.party);
    if (hasOffer && entry.party) this.calls.holdChanged(entry.call);
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

  applySessionTimer(party: Party, negotiation: SessionTimerNegotiation): void {
    if (negotiation.kind !== 'use') {
      party.timer?.restart();
      return;
    }
    party.timer ??= new SessionTimer(() => this.refreshSession(party), () => this.onSessionExpired(party));
    // `refresher` names the UAC or UAS of the request just answered; we were its UAS.
    party.timer.start(negotiation.seconds, negotiation.refresher === 'uas');
    log.debug('session timer', { seconds: negotiation.seconds, refresher: negotiation.refresher, dialog: party.dialog.callId });
  }

  onSessionExpired(party: Party): void {
    const entry = this.calls.findDialog(party.dialog.callId);
    if (!entry || entry.party !== party) return;
    log.info('session expired without refresh', { call: entry.call.id, dialog: party.dialog.callId });
    // RFC 4028 §10: the session is over; both sides get a BYE (in a conference, this party leaves it).
    this.calls.partyFailed(entry.call, party, 'session expired');
  }

  /** We are the refresher: a re-INVITE with the session as it stands (RFC 4028 §7.4). */
  refreshSession(party: Party): void {
    const dialog = party.dialog;
    const timer = party.timer;
    if (party.gone || !timer || !dialog.connection.isOpen) return;
    if (dialog.localOfferPending || dialog.remoteOfferPending) {
      timer.retryRefresh(1_000);
      return;
    }
    const invite = dialog.createRequest('INVITE');
    invite.headers.set('Contact', this.calls.contact(dialog.connection));
    invite.headers.set('Allow', ALLOW);
    invite.headers.set('Supported', SUPPORTED);
    invite.headers.set('Session-Expires', `${timer.seconds};refresher=uac`);
    invite.headers.set('Content-Type', 'application/sdp');
    invite.body = ownUtf8(dialog.localSdp);
    dialog.localOfferPending = true;
    log.debug('refreshing session', { dialog: dialog.callId });
    this.calls.endpoint.sendRequest(invite, dialog.connection, (response) => {
      if (response.status < 200) return;
      dialog.localOfferPending = false;
      if (response.status < 300) {
        this.calls.endpoint.sendStateless(dialog.createAck(parseCSeq(response.headers.get('CSeq') ?? '0 INVITE').seq), dialog.connection);
        const granted = parseSessionExpires(response.headers.get('Session-Expires'));
        if (granted && !party.gone) timer.start(Math.max(granted.seconds, this.calls.sessionTimers.minSeconds), granted.refresher !== 'uas');
        else timer.restart();
        return;
      }
      if (response.status === 491) {
        // RFC 3261 §14.1: retry after a random wait, longer when we own the Call-ID.
        const ours = this.calls.findDialog(dialog.callId)?.call.origin.dialog !== dialog;
        timer.retryRefresh(ours ? randomInt(2_100, 4_001) : randomInt(0, 2_001));
        return;
      }
      if (response.status === 408 || response.status === 481) {
        const entry = this.calls.findDialog(dialog.callId);
        // RFC 4028 §10: a refresh that times out or finds no dialog ends the session.
        if (entry?.party === party) this.calls.partyFailed(entry.call, party, `session refresh failed (${response.status})`);
      }
    });
  }

  /**
   * RFC 3311 UPDATE without an offer, carrying whom the party now talks to as RFC 3325 P-Asserted-Identity (the
   * PBX vouches for its own users), so that its phone or app shows the new name and number after a transfer.
   * Skipped while an offer is open in the dialog; a phone that refuses UPDATE keeps the old name.
   */
  updateIdentity(call: Call, party: Party, identity: LineIdentity): void {
    const dialog = party.dialog;
    if (party.gone || !dialog.connection.isOpen || dialog.localOfferPending || dialog.remoteOfferPending) return;
    const update = dialog.createRequest('UPDATE');
    update.headers.set('Contact', this.calls.contact(dialog.connection));
    update.headers.set('P-Asserted-Identity', formatNameAddr({ displayName: identity.displayName, uri: parseUri(`sip:${identity.extension}@${call.domain}`), params: {} }));
    this.calls.endpoint.sendRequest(update, dialog.connection, (response) => {
      if (response.status >= 300) log.debug('the new identity was not taken', { call: call.id, status: response.status });
    });
  }

  /** INFO (RFC 6086) is relayed to the other party and its answer relayed back; with nobody to relay to we consume it. */
  handleInfo(tx: ServerTransaction): void {
    const entry = this.calls.lookup(tx.request);
    if (!entry) {
      tx.reply(481, 'Call/Transaction Does Not Exist');
      return;
    }
    const use = entry.party ?? entry.fork;
    if (use && !use.dialog.acceptRemoteCseq(tx.request)) {
      tx.reply(500, 'Server Internal Error - CSeq out of order');
      return;
    }
    const screening = entry.call.screening;
    if (screening && entry.party === screening.party) {
      // The user hearing who calls (screening.ts): a key press is their choice.
      const key = keyFromInfo(tx.request.headers.get('Content-Type'), tx.request.body.toString('utf8'));
      tx.reply(200, 'OK');
      if (key) for (const listener of [...screening.keys]) listener(key);
      return;
    }
    const other = entry.party ? entry.call.other(entry.party) : undefined;
    if (!other && entry.call.state === 'answered' && entry.call.infoKeyListeners.size > 0) {
      // A call the PBX answered for a service: a key press is the service's (info-keys.ts).
      const key = keyFromInfo(tx.request.headers.get('Content-Type'), tx.request.body.toString('utf8'));
      tx.reply(200, 'OK');
      if (key) for (const listener of [...entry.call.infoKeyListeners]) listener(key);
      return;
    }
    if (!other || !other.dialog.connection.isOpen || entry.call.state !== 'answered') {
      tx.reply(200, 'OK');
      return;
    }
    const info = other.dialog.createRequest('INFO');
    for (const name of ['Content-Type', 'Content-Disposition', 'Info-Package']) {
      const value = tx.request.headers.get(name);
      if (value !== undefined) info.headers.set(name, value);
    }
    info.headers.set('Contact', this.calls.contact(other.dialog.connection));
    info.body = tx.request.body;
    log.debug('relaying INFO', { call: entry.call.id, type: tx.request.headers.get('Content-Type') });
    this.calls.endpoint.sendRequest(info, other.dialog.connection, (response) => {
      if (response.status < 200 || !tx.pending) return;
      const contentType = response.headers.get('Content-Type');
      tx.reply(response.status, response.reason, { body: response.body, ...(contentType ? { contentType } : {}) });
    });
  }


  /**
   * RFC 4028 §7.2: a device that answered our INVITE with Session-Expires puts the timer on the dialog; we were
   * the UAC, so refresher=uac (or none named) makes us refresh it, and refresher=uas has the device refresh.
   */
  startAnsweredTimer(party: Party, granted: { seconds: number; refresher?: 'uac' | 'uas' }): void {
    party.timer = new SessionTimer(() => this.refreshSession(party), () => this.onSessionExpired(party));
    party.timer.start(granted.seconds, granted.refresher !== 'uas');
    log.debug('session timer', { seconds: granted.seconds, refresher: granted.refresher ?? 'uac', dialog: party.dialog.callId });
  }

  handleAck(request: SipRequest): void {
    // The ACK for our 2xx confirms the dialog; reliable flows need no 2xx retransmission to stop.
    const entry = this.calls.lookup(request);
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
      const party = entry.party;
      const giveUp = (why: string) => {
        log.info('no acceptable answer in the ACK; hanging up', { call: call.id, why });
        if (party) this.calls.partyFailed(call, party, 'no acceptable answer in the ACK');
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

  /**
   * RFC 3261 §13.3.1.4: a 2xx to an INVITE that is never acknowledged (64·T1) confirms the dialog, but the
   * session is over: every party still in the call gets a BYE, the silent one included.
   */
  hangUpUnlessAcknowledged(tx: ServerTransaction, party: Party): void {
    // The listener lives as long as the transaction (64·T1 at most) and checks that the party is still here.
    tx.once('ackTimedOut', () => {
      const entry = this.calls.findDialog(party.dialog.callId);
      if (party.gone || entry?.party !== party) return;
      log.info('answer never acknowledged; hanging up', { call: entry.call.id, extension: party.line.identity.extension });
      this.calls.partyFailed(entry.call, party, 'answer never acknowledged');
    });
  }
}
