/**
 * Ringing a user's devices for a call: one fork per registered device, all at once (parallel forking, RFC 3261
 * §16.7, done as a B2BUA: each fork is a dialog and a media leg of ours). The first device to answer wins
 * and the others are cancelled; the best refusal among them is what the caller hears (fork-response.ts). An
 * attempt reports to its handlers (ringing, early media, answered, failed): the first call's, or a transfer's.
 */
import { createLogger } from '../log';
import { createOffer } from '../media/legs/legs';
import type { MediaConfig } from '../media/legs/webrtc-leg';
import type { Binding, Registrar } from '../presence/registrar';
import { Dialog, formatTarget } from '../sip/dialog/dialog';
import { parseSessionExpires } from '../sip/dialog/session-timer';
import type { SipEndpoint } from '../sip/endpoint';
import { formatNameAddr, formatUri, generateCallId, generateTag, hopsLeft, parseCSeq, parseNameAddr, parseUri } from '../sip/syntax/message';
import type { SipResponse } from '../sip/syntax/message';
import type { SipConnection } from '../sip/transport/connection';
import { legKindFor } from './call';
import type { Attempt, AttemptHandlers, Call, Codec, Fork, Line, LineIdentity, LineState } from './call';
import { ALLOW, isSdp, responseRouteSet, SUPPORTED } from './call-messages';
import { betterFailure, forCaller } from './fork-response';
import { ownUtf8 } from '../util/unshared';

const log = createLogger('calls');

/**
 * RFC 3326 §2 on the CANCEL of the forks that lost to the one that answered (RFC 3261 §16.7 step 10): the user's
 * other devices then show the call as answered elsewhere, not as missed.
 */
export const COMPLETED_ELSEWHERE = 'SIP;cause=200;text="Call completed elsewhere"';

/** What forking needs of the engine. */
export interface ForkingHost {
  readonly endpoint: SipEndpoint;
  readonly media: MediaConfig;
  readonly registrar: Registrar;
  contact(connection: SipConnection): string;
  setLine(call: Call, line: Line, state: LineState, remote: LineIdentity | undefined): void;
  sendBye(dialog: Dialog): void;
  /** Requests in the fork's dialog reach the call from now on. */
  trackFork(call: Call, fork: Fork): void;
  /** The fork is gone: its dialog is forgotten unless a party now holds it. */
  forgetFork(fork: Fork): void;
}

export class Forking {
  constructor(private readonly host: ForkingHost) {}

  ring(call: Call, target: LineIdentity, from: LineIdentity, bindings: Binding[], codecs: readonly Codec[], handlers: AttemptHandlers, referredBy?: string): Attempt {
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
    this.host.setLine(call, attempt.line, 'trying', from);
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
      await this.host.registrar.connectionFor(binding);
    } catch (error) {
      log.info('could not reach a device', { error: error instanceof Error ? error.message : String(error) });
      return;
    }
    let offer;
    try {
      offer = await createOffer(`${call.id}:${call.attempts.length}:${attempt.forks.length}`, legKindFor(binding), this.host.media, codecs);
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
    this.host.trackFork(call, fork);

    const invite = dialog.createRequest('INVITE');
    invite.headers.set('Contact', this.host.contact(binding.connection));
    invite.headers.set('Allow', ALLOW);
    invite.headers.set('Supported', SUPPORTED);
    // RFC 7332 §3: the INVITE we send on carries the caller's Max-Forwards, one less.
    invite.headers.set('Max-Forwards', String(hopsLeft(call.inviteTx.request) - 1));
    if (attempt.referredBy) invite.headers.set('Referred-By', attempt.referredBy);
    invite.headers.set('Content-Type', 'application/sdp');
    invite.body = ownUtf8(offer.offerSdp);
    fork.tx = this.host.endpoint.sendRequest(invite, binding.connection, (response) => this.onForkResponse(fork, response));
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
    this.host.endpoint.sendStateless(fork.dialog.createAck(cseq), fork.dialog.connection);
    if (fork.state === 'answered') return;
    if (call.ended || attempt.done || fork.state === 'cancelled' || fork.state === 'failed') {
      this.host.sendBye(fork.dialog);
      this.dropFork(fork);
      return;
    }
    fork.state = 'answered';
    attempt.done = true;
    fork.sessionExpires = parseSessionExpires(response.headers.get('Session-Expires'));
    for (const other of attempt.forks) if (other !== fork) this.cancelFork(other, COMPLETED_ELSEWHERE);
    if (!fork.answerApplied) {
      fork.answerApplied = true;
      try {
        await fork.media.acceptAnswer(response.body.toString('utf8'));
      } catch (error) {
        log.warn('callee answer not acceptable', { error });
        this.host.sendBye(fork.dialog);
        this.dropFork(fork);
        if (!call.ended) attempt.handlers.failed(488, 'Not Acceptable Here');
        return;
      }
    }
    if (call.ended) {
      this.host.sendBye(fork.dialog);
      this.dropFork(fork);
      return;
    }
    fork.dialog.transition('confirmed');
    attempt.handlers.answered(fork);
  }

  /** Cancels a fork still ringing; `reason` is the RFC 3326 Reason header its CANCEL carries, if any. */
  cancelFork(fork: Fork, reason?: string): void {
    if (fork.state !== 'calling' && fork.state !== 'early') return;
    fork.state = 'cancelled';
    fork.media.close();
    const connection = fork.dialog.connection;
    // The transaction sends CANCEL once the device has answered the INVITE with anything (RFC 3261 §9.1).
    fork.tx?.cancel((cancel) => {
      if (reason) cancel.headers.set('Reason', reason);
      if (connection.isOpen) this.host.endpoint.sendRequest(cancel, connection, () => undefined);
    });
  }

  /** A fork that failed, was refused or hung up before it won: release its leg and forget its dialog. */
  dropFork(fork: Fork): void {
    if (fork.state === 'calling' || fork.state === 'early' || fork.state === 'answered') fork.state = 'failed';
    fork.media.close();
    this.host.forgetFork(fork);
  }
}
