/** The small pieces of SIP every part of a call writes alike: what we allow and support, routes, SDP bodies, records. */
import type { NewCallRecord } from '../store/call-records';
import type { AuthenticatedUser } from '../sip/edge/authenticator';
import type { SipMessage, SipRequest, SipResponse } from '../sip/syntax/message';
import type { Codec } from './call';

/** Methods we accept within a call's dialogs (RFC 3261 §20.5), sent in Allow. */
export const ALLOW = 'INVITE, ACK, CANCEL, BYE, OPTIONS, UPDATE, INFO, REFER, NOTIFY';
/** Extensions we support (RFC 3261 §20.37): session timers (RFC 4028) and Replaces (RFC 3891). */
export const SUPPORTED = 'timer, replaces';

/** A new call's record: missed until it is answered, and not yet ended. */
export function callRecord(caller: AuthenticatedUser, calleeExtension: string, calleeName: string, request: SipRequest): NewCallRecord {
  return {
    organization_id: caller.organizationId,
    call_id: request.headers.get('Call-ID') ?? '',
    caller_extension: caller.extension,
    caller_name: caller.displayName,
    callee: calleeName,
    callee_extension: calleeExtension,
    started_at: new Date().toISOString(),
    answered_at: null,
    ended_at: null,
    disposition: 'missed',
    end_reason: null,
  };
}

export function isSdp(message: SipMessage): boolean {
  const type = message.headers.get('Content-Type')?.split(';')[0]?.trim().toLowerCase();
  return message.body.length > 0 && type === 'application/sdp';
}

/** RFC 3261 §12.1.2: a UAC's route set is the response's Record-Route in reverse order. */
export function responseRouteSet(response: SipResponse): string[] {
  return response.headers.getAll('Record-Route').reverse();
}

/** RFC 3261 §12.1.1: a UAS copies the request's Record-Route into every response that creates a dialog. */
export function recordRoute(request: SipRequest): Array<[string, string]> {
  return request.headers.getAll('Record-Route').map((value): [string, string] => ['Record-Route', value]);
}

export function sameCodec(a: Codec | undefined, b: Codec | undefined): boolean {
  if (!a || !b) return true;
  return a.mimeType.toLowerCase() === b.mimeType.toLowerCase() && a.clockRate === b.clockRate;
}
