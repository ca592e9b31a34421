/**
 * What the caller hears while the call's devices ring: a 180, or with anchored media a 183 whose answer is the
 * caller leg's own, bridged early to the device sending early media (RFC 3261 §13.2.1, RFC 3264).
 */
import { MediaBridge } from '../media/joins/bridge';
import type { SipConnection } from '../sip/transport/connection';
import type { Call, Fork, Line, LineIdentity, LineState } from './call';
import { recordRoute } from './call-messages';

/** What telling the caller needs of the engine. */
export interface ProgressHost {
  contact(connection: SipConnection): string;
  setLine(call: Call, line: Line, state: LineState, remote: LineIdentity | undefined): void;
}

export function ringCaller(call: Call, host: ProgressHost): void {
  if (call.ended || call.state === 'answered') return;
  if (call.state === 'routing') call.transition('ringing');
  const attempt = call.attempt;
  if (attempt) host.setLine(call, attempt.line, 'early', call.origin.line.identity);
  host.setLine(call, call.origin.line, 'early', attempt?.target);
  if (!call.sentRinging && call.inviteTx.state === 'proceeding') {
    call.sentRinging = true;
    call.inviteTx.reply(180, 'Ringing', {
      toTag: call.origin.dialog.localTag,
      headers: [...recordRoute(call.inviteTx.request), ['Contact', host.contact(call.origin.dialog.connection)]],
    });
  }
}

/** With anchored media the caller's leg is ours already: a 183 carries its answer and the bridge starts early. */
export function earlyMediaToCaller(call: Call, fork: Fork, host: ProgressHost): void {
  if (call.ended || call.state === 'answered') return;
  // A caller that sent no offer cannot be given early media: our offer may only go in the 2xx.
  if (call.delayedOffer) {
    ringCaller(call, host);
    return;
  }
  if (call.state === 'routing') call.transition('ringing');
  host.setLine(call, fork.attempt.line, 'early', call.origin.line.identity);
  host.setLine(call, call.origin.line, 'early', fork.attempt.target);
  fork.bridged = true;
  // A bridge closes its legs only when the call ends; a fork that loses later just stops receiving.
  call.bridges.push(new MediaBridge(call.origin.media, fork.media));
  if (!call.sentEarlyMedia && call.inviteTx.state === 'proceeding') {
    call.sentEarlyMedia = true;
    call.origin.dialog.localSdp = call.originSdp;
    call.inviteTx.reply(183, 'Session Progress', {
      toTag: call.origin.dialog.localTag,
      headers: [...recordRoute(call.inviteTx.request), ['Contact', host.contact(call.origin.dialog.connection)]],
      contentType: 'application/sdp',
      body: Buffer.from(call.originSdp, 'utf8'),
    });
  }
}
