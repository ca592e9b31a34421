/**
 * The call engine: a back-to-back user agent. Every call is a caller leg (the INVITE we received) and one
 * callee leg per device of the called user (parallel forking, RFC 3261 §16.7 done as a B2BUA); the first
 * device to answer wins and the others are cancelled. Media is anchored: each leg terminates at the PBX
 * (`server/media`) and a bridge relays audio between the caller's leg and the answering device's leg.
 *
 * Call states:   routing ──► ringing ──► answered ──► ended
 *                   └───────────┴────────────────────────┘   (cancel, decline, failure, hang-up)
 * A call owns its legs, forks, media and record; ending it releases all of them, once.
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { createLogger } from '../log';
import { MediaBridge } from '../media/bridge';
import { WebRtcLeg } from '../media/webrtc-leg';
import type { MediaConfig } from '../media/webrtc-leg';
import { insertCallRecord, updateCallRecord } from '../store/call-records';
import type { Database } from '../store/schema';
import { findUserByExtension } from '../store/users';
import type { AuthenticatedUser, SipAuthenticator } from './authenticator';
import type { SipConnection } from './connection';
import type { SipEndpoint } from './endpoint';
import { formatNameAddr, formatUri, generateCallId, generateTag, parseCSeq, parseNameAddr, parseUri, SipHeaders } from './message';
import type { SipRequest, SipResponse } from './message';
import { aorKey } from './registrar';
import type { Binding, Registrar } from './registrar';
import type { ClientTransaction, ServerTransaction } from './transactions';

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

const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS';

/** Our side of one SIP dialog: what we need to send in-dialog requests (RFC 3261 §12.2.1.1). */
interface DialogSide {
  callId: string;
  localTag: string;
  remoteTag: string | undefined;
  /** Header values as we send them: From is ours, To is theirs. */
  localUri: string;
  remoteUri: string;
  remoteTarget: string;
  localCseq: number;
  connection: SipConnection;
}

interface Fork {
  binding: Binding;
  dialog: DialogSide;
  media: WebRtcLeg;
  tx: ClientTransaction | undefined;
  state: 'calling' | 'early' | 'answered' | 'failed' | 'cancelled';
}

class Call {
  readonly id = randomUUID();
  private stateValue: CallState = 'routing';
  readonly forks: Fork[] = [];
  answeredFork: Fork | undefined;
  bridge: MediaBridge | undefined;
  recordId: number | undefined;
  ringTimer: NodeJS.Timeout | undefined;
  sentRinging = false;
  readonly cleanups: Array<() => void> = [];

  constructor(
    readonly caller: AuthenticatedUser,
    readonly calleeExtension: string,
    readonly inviteTx: ServerTransaction,
    readonly callerDialog: DialogSide,
    readonly callerMedia: WebRtcLeg,
    readonly callerAnswerSdp: string,
  ) {}

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
}

export interface CallEngineDeps {
  db: Kysely<Database>;
  endpoint: SipEndpoint;
  registrar: Registrar;
  authenticator: SipAuthenticator;
  media: MediaConfig;
  /** Host of the Contact URI we put in our requests and responses. */
  contactHost: string;
}

export class CallEngine {
  private readonly calls = new Set<Call>();
  /** Every dialog we are part of, by Call-ID (ours are unique; the callers' are unique per call). */
  private readonly dialogs = new Map<string, { call: Call; fork?: Fork }>();
  private readonly byInvite = new Map<ServerTransaction, Call>();

  constructor(private readonly deps: CallEngineDeps) {}

  get activeCallCount(): number {
    return this.calls.size;
  }

  async handleInvite(tx: ServerTransaction): Promise<void> {
    const request = tx.request;
    const toTag = parseNameAddr(request.headers.get('To') ?? '').params.tag;
    if (toTag) {
      this.handleReInvite(tx);
      return;
    }
    tx.reply(100, 'Trying');
    const caller = await this.deps.authenticator.authenticate(tx, 'From');
    if (!caller || !isPending(tx)) return;

    const target = parseUri(request.uri).user ?? '';
    const callee = /^[0-9]{2,10}$/.test(target) ? await findUserByExtension(this.deps.db, caller.organizationId, target) : undefined;
    if (!isPending(tx)) return;
    if (!callee) {
      tx.reply(404, 'Not Found');
      return;
    }
    if (!isSdp(request)) {
      tx.reply(488, 'Not Acceptable Here - An SDP offer is required');
      return;
    }
    const bindings = this.deps.registrar.lookup(aorKey(caller.organizationId, target));
    if (bindings.length === 0) {
      tx.reply(480, 'Temporarily Unavailable');
      await this.writeRecord(caller, target, callee.display_name, request, 'missed', 'unavailable');
      return;
    }

    const callId = request.headers.get('Call-ID') ?? '';
    let answer;
    try {
      answer = await WebRtcLeg.answer(`${callId}:caller`, request.body.toString('utf8'), this.deps.media);
    } catch (error) {
      log.info('caller offer not acceptable', { error });
      tx.reply(488, 'Not Acceptable Here');
      return;
    }
    if (!isPending(tx)) {
      answer.leg.close();
      return;
    }

    const from = parseNameAddr(request.headers.get('From') ?? '');
    const to = parseNameAddr(request.headers.get('To') ?? '');
    const localTag = generateTag();
    const contact = request.headers.get('Contact');
    const callerDialog: DialogSide = {
      callId,
      localTag,
      remoteTag: from.params.tag ?? undefined,
      localUri: formatNameAddr({ ...to, params: { ...to.params, tag: localTag } }),
      remoteUri: request.headers.get('From') ?? '',
      remoteTarget: contact ? formatUri(parseNameAddr(contact).uri) : formatUri(from.uri),
      localCseq: 0,
      connection: tx.connection,
    };
    const call = new Call(caller, target, tx, callerDialog, answer.leg, answer.answerSdp);
    this.calls.add(call);
    this.dialogs.set(callId, { call });
    this.byInvite.set(tx, call);
    call.cleanups.push(tx.connection.on('closed', () => this.onCallerGone(call)));
    answer.leg.on('stateChanged', (state) => {
      if (state === 'failed') this.hangUp(call, 'failed', 'media failed');
    });
    call.recordId = await this.writeRecord(caller, target, callee.display_name, request, 'missed', undefined);
    if (call.ended) return;

    call.ringTimer = setTimeout(() => this.onNoAnswer(call), RING_TIMEOUT_MS);
    const codec = answer.leg.codec;
    await Promise.all(bindings.map((binding) => this.fork(call, binding, codec ? [codec] : [])));
    if (call.forks.length === 0 && !call.ended) {
      this.finish(call, 480, 'Temporarily Unavailable', 'failed', 'no device could be offered the call');
    }
  }

  handleCancel(tx: ServerTransaction): void {
    const invite = this.deps.endpoint.findInviteTransaction(tx.request);
    if (!invite) {
      tx.reply(481, 'Call/Transaction Does Not Exist');
      return;
    }
    tx.reply(200, 'OK');
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
    const entry = this.dialogs.get(tx.request.headers.get('Call-ID') ?? '');
    if (!entry || !this.matchesDialog(tx.request, entry)) {
      tx.reply(481, 'Call/Transaction Does Not Exist');
      return;
    }
    tx.reply(200, 'OK');
    const { call, fork } = entry;
    if (fork && fork !== call.answeredFork) {
      fork.state = 'failed';
      fork.media.close();
      return;
    }
    this.hangUp(call, 'answered', fork ? 'callee hung up' : 'caller hung up', fork ? 'callee' : 'caller');
  }

  handleAck(request: SipRequest): void {
    // The caller's ACK for our 2xx confirms the dialog; reliable flows need no 2xx retransmission to stop.
    const entry = this.dialogs.get(request.headers.get('Call-ID') ?? '');
    if (entry) log.debug('dialog confirmed', { call: entry.call.id });
  }

  /** Ends every call (BYE to answered ones, 503 or CANCEL to the rest), e.g. when the PBX shuts down. */
  shutdown(): void {
    for (const call of [...this.calls]) {
      if (call.state === 'answered') this.hangUp(call, 'answered', 'server shutting down');
      else this.finish(call, 503, 'Service Unavailable', 'failed', 'server shutting down');
    }
  }

  private handleReInvite(tx: ServerTransaction): void {
    const entry = this.dialogs.get(tx.request.headers.get('Call-ID') ?? '');
    if (!entry || !this.matchesDialog(tx.request, entry)) {
      tx.reply(481, 'Call/Transaction Does Not Exist');
      return;
    }
    // Mid-call renegotiation (hold, codec change) is not offered yet; RFC 3261 §14.2 lets us refuse it and
    // the call carries on as it was.
    tx.reply(488, 'Not Acceptable Here - Session modification is not supported yet');
  }

  private matchesDialog(request: SipRequest, entry: { call: Call; fork?: Fork }): boolean {
    const toTag = parseNameAddr(request.headers.get('To') ?? '').params.tag;
    const dialog = entry.fork ? entry.fork.dialog : entry.call.callerDialog;
    return toTag === dialog.localTag;
  }

  private async fork(call: Call, binding: Binding, codecs: NonNullable<WebRtcLeg['codec']>[]): Promise<void> {
    let offer;
    try {
      offer = await WebRtcLeg.offer(`${call.id}:${call.forks.length}`, this.deps.media, codecs);
    } catch (error) {
      log.warn('could not create an offer for a device', { error });
      return;
    }
    if (call.ended) {
      offer.leg.close();
      return;
    }
    const calleeUri = `sip:${call.calleeExtension}@${call.caller.domain}`;
    const localTag = generateTag();
    const dialog: DialogSide = {
      callId: generateCallId(),
      localTag,
      remoteTag: undefined,
      localUri: formatNameAddr({
        displayName: call.caller.displayName,
        uri: parseUri(`sip:${call.caller.extension}@${call.caller.domain}`),
        params: { tag: localTag },
      }),
      remoteUri: `<${calleeUri}>`,
      remoteTarget: formatUri(binding.contact.uri),
      localCseq: 1,
      connection: binding.connection,
    };
    const fork: Fork = { binding, dialog, media: offer.leg, tx: undefined, state: 'calling' };
    call.forks.push(fork);
    this.dialogs.set(dialog.callId, { call, fork });
    offer.leg.on('stateChanged', (state) => {
      if (state === 'failed' && fork === call.answeredFork) this.hangUp(call, 'failed', 'media failed');
    });
    call.cleanups.push(binding.connection.on('closed', () => {
      if (fork === call.answeredFork) this.hangUp(call, 'answered', 'callee device disconnected', 'callee');
    }));

    const invite = this.buildRequest('INVITE', dialog, dialog.localCseq);
    invite.headers.set('Contact', this.contact(binding.connection));
    invite.headers.set('Allow', ALLOW);
    invite.headers.set('Content-Type', 'application/sdp');
    invite.body = Buffer.from(offer.offerSdp, 'utf8');
    fork.tx = this.deps.endpoint.sendRequest(invite, binding.connection, (response) => this.onForkResponse(call, fork, response));
  }

  private onForkResponse(call: Call, fork: Fork, response: SipResponse): void {
    const status = response.status;
    if (status === 100) return;
    const toTag = parseNameAddr(response.headers.get('To') ?? '').params.tag ?? undefined;
    if (status < 200) {
      if (fork.state !== 'calling' && fork.state !== 'early') return;
      fork.state = 'early';
      fork.dialog.remoteTag = toTag;
      if (call.state === 'routing') call.transition('ringing');
      if (!call.sentRinging && call.state === 'ringing') {
        call.sentRinging = true;
        call.inviteTx.reply(180, 'Ringing', { toTag: call.callerDialog.localTag, headers: [['Contact', this.contact(call.callerDialog.connection)]] });
      }
      return;
    }
    if (status < 300) {
      void this.onForkAnswered(call, fork, response, toTag);
      return;
    }
    if (fork.state === 'cancelled' || call.state === 'ended') return;
    fork.state = 'failed';
    fork.media.close();
    const pending = call.forks.filter((f) => f.state === 'calling' || f.state === 'early');
    if (pending.length > 0 || call.state === 'answered') return;
    const disposition: CallDisposition = status === 603 ? 'declined' : status === 486 || status === 600 ? 'busy' : status === 408 ? 'missed' : 'failed';
    // The caller hears the callee's answer as it was given (busy, declined, unavailable).
    this.finish(call, status, response.reason, disposition, `callee answered ${status}`);
  }

  private async onForkAnswered(call: Call, fork: Fork, response: SipResponse, toTag: string | undefined): Promise<void> {
    fork.dialog.remoteTag = toTag;
    const contact = response.headers.get('Contact');
    if (contact) fork.dialog.remoteTarget = formatUri(parseNameAddr(contact).uri);
    // RFC 3261 §13.2.2.4: the UAC acknowledges every 2xx, even one it no longer wants, then hangs up.
    const cseq = parseCSeq(response.headers.get('CSeq') ?? '1 INVITE').seq;
    this.deps.endpoint.sendStateless(this.buildRequest('ACK', fork.dialog, cseq), fork.dialog.connection);
    if (call.state === 'ended' || call.answeredFork || fork.state === 'cancelled') {
      this.sendBye(fork.dialog);
      fork.media.close();
      return;
    }
    fork.state = 'answered';
    call.answeredFork = fork;
    call.transition('answered');
    if (call.ringTimer) clearTimeout(call.ringTimer);
    for (const other of call.forks) if (other !== fork) this.cancelFork(other);
    try {
      await fork.media.acceptAnswer(response.body.toString('utf8'));
    } catch (error) {
      log.warn('callee answer not acceptable', { error });
      this.sendBye(fork.dialog);
      call.answeredFork = undefined;
      this.endCall(call, 'failed', 'callee answer not acceptable');
      if (call.inviteTx.state === 'proceeding') call.inviteTx.reply(488, 'Not Acceptable Here', { toTag: call.callerDialog.localTag });
      return;
    }
    if (call.state !== 'answered') return;
    call.bridge = new MediaBridge(call.callerMedia, fork.media);
    call.inviteTx.reply(200, 'OK', {
      toTag: call.callerDialog.localTag,
      headers: [
        ['Contact', this.contact(call.callerDialog.connection)],
        ['Allow', ALLOW],
      ],
      contentType: 'application/sdp',
      body: Buffer.from(call.callerAnswerSdp, 'utf8'),
    });
    if (call.recordId !== undefined) {
      await updateCallRecord(this.deps.db, call.recordId, { answered_at: new Date().toISOString(), disposition: 'answered' });
    }
    log.info('call answered', { call: call.id, caller: call.caller.extension, callee: call.calleeExtension });
  }

  private cancelFork(fork: Fork): void {
    if (fork.state !== 'calling' && fork.state !== 'early') return;
    fork.state = 'cancelled';
    fork.media.close();
    if (fork.tx && fork.dialog.connection.isOpen) {
      this.deps.endpoint.sendRequest(fork.tx.buildCancel(), fork.dialog.connection, () => undefined);
    }
  }

  /** Ends a call that was never answered, answering the caller's INVITE with `status`. */
  private finish(call: Call, status: number, reason: string | undefined, disposition: CallDisposition, why: string): void {
    if (call.state === 'ended') return;
    if (call.inviteTx.state === 'proceeding') call.inviteTx.reply(status, reason, { toTag: call.callerDialog.localTag });
    for (const fork of call.forks) this.cancelFork(fork);
    this.endCall(call, disposition, why);
  }

  /** Ends an answered call: BYE to whichever side did not hang up. */
  private hangUp(call: Call, disposition: CallDisposition, why: string, hungUpBy?: 'caller' | 'callee'): void {
    if (call.state === 'ended') return;
    if (call.state !== 'answered') {
      this.finish(call, 480, 'Temporarily Unavailable', disposition === 'answered' ? 'failed' : disposition, why);
      return;
    }
    if (hungUpBy !== 'caller') this.sendBye(call.callerDialog);
    if (hungUpBy !== 'callee' && call.answeredFork) this.sendBye(call.answeredFork.dialog);
    this.endCall(call, disposition, why);
  }

  private onCallerGone(call: Call): void {
    if (call.state === 'answered') this.hangUp(call, 'answered', 'caller device disconnected', 'caller');
    else this.finish(call, 487, 'Request Terminated', 'cancelled', 'caller device disconnected');
  }

  private onNoAnswer(call: Call): void {
    if (call.state === 'routing' || call.state === 'ringing') this.finish(call, 480, 'Temporarily Unavailable', 'missed', 'no answer');
  }

  private endCall(call: Call, disposition: CallDisposition, why: string): void {
    if (call.state === 'ended') return;
    call.transition('ended');
    if (call.ringTimer) clearTimeout(call.ringTimer);
    for (const cleanup of call.cleanups) cleanup();
    call.bridge?.close();
    call.callerMedia.close();
    for (const fork of call.forks) {
      fork.media.close();
      this.dialogs.delete(fork.dialog.callId);
    }
    this.dialogs.delete(call.callerDialog.callId);
    this.byInvite.delete(call.inviteTx);
    this.calls.delete(call);
    log.info('call ended', { call: call.id, disposition, why });
    if (call.recordId !== undefined) {
      const patch = { ended_at: new Date().toISOString(), end_reason: why, ...(disposition === 'answered' ? {} : { disposition }) };
      updateCallRecord(this.deps.db, call.recordId, patch).catch((error: unknown) => log.error('could not update call record', { error }));
    }
  }

  private sendBye(dialog: DialogSide): void {
    if (!dialog.connection.isOpen) return;
    dialog.localCseq += 1;
    const bye = this.buildRequest('BYE', dialog, dialog.localCseq);
    this.deps.endpoint.sendRequest(bye, dialog.connection, () => undefined);
  }

  /** A request within (or establishing) a dialog, per RFC 3261 §12.2.1.1. No route set: we never Record-Route. */
  private buildRequest(method: string, dialog: DialogSide, cseq: number): SipRequest {
    const headers = new SipHeaders();
    headers.set('From', dialog.localUri);
    const to = parseNameAddr(dialog.remoteUri);
    if (dialog.remoteTag) to.params = { ...to.params, tag: dialog.remoteTag };
    headers.set('To', formatNameAddr(to));
    headers.set('Call-ID', dialog.callId);
    headers.set('CSeq', `${cseq} ${method}`);
    return { kind: 'request', method, uri: dialog.remoteTarget, headers, body: Buffer.alloc(0) };
  }

  private contact(connection: SipConnection): string {
    return `<sip:pbx@${this.deps.contactHost};transport=${connection.transport.toLowerCase()}>`;
  }

  private async writeRecord(
    caller: AuthenticatedUser,
    calleeExtension: string,
    calleeName: string,
    request: SipRequest,
    disposition: CallDisposition,
    endReason: string | undefined,
  ): Promise<number | undefined> {
    try {
      const now = new Date().toISOString();
      return await insertCallRecord(this.deps.db, {
        organization_id: caller.organizationId,
        call_id: request.headers.get('Call-ID') ?? '',
        caller_extension: caller.extension,
        caller_name: caller.displayName,
        callee: calleeName,
        callee_extension: calleeExtension,
        started_at: now,
        answered_at: null,
        ended_at: endReason ? now : null,
        disposition,
        end_reason: endReason ?? null,
      });
    } catch (error) {
      log.error('could not write call record', { error });
      return undefined;
    }
  }
}

/** A CANCEL may have answered the INVITE while we were waiting on the database or the media stack. */
function isPending(tx: ServerTransaction): boolean {
  return tx.state === 'trying' || tx.state === 'proceeding';
}

function isSdp(request: SipRequest): boolean {
  const type = request.headers.get('Content-Type')?.split(';')[0]?.trim().toLowerCase();
  return request.body.length > 0 && type === 'application/sdp';
}
