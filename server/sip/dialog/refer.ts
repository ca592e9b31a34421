/**
 * Call transfer signalling: REFER (RFC 3515) with its implicit subscription reported by NOTIFY bodies of
 * type message/sipfrag (RFC 3420), and the Replaces header (RFC 3891) that names a dialog to take over,
 * whether it arrives in an INVITE or embedded in a Refer-To URI.
 */
import { parseNameAddr, reasonPhrase } from '../syntax/message';
import type { SipUri } from '../syntax/message';

export interface ReplacesTarget {
  callId: string;
  toTag: string;
  fromTag: string;
  /** RFC 3891 §3: only an early dialog may be replaced. */
  earlyOnly: boolean;
}

/** Parses `Replaces: callid;to-tag=a;from-tag=b[;early-only]`; undefined when a part is missing. */
export function parseReplaces(value: string): ReplacesTarget | undefined {
  const [callId = '', ...params] = value.split(';').map((part) => part.trim());
  if (callId === '') return undefined;
  const named = new Map(params.map((param) => {
    const at = param.indexOf('=');
    return at < 0 ? [param.toLowerCase(), ''] as const : [param.slice(0, at).trim().toLowerCase(), param.slice(at + 1).trim()] as const;
  }));
  const toTag = named.get('to-tag');
  const fromTag = named.get('from-tag');
  if (!toTag || !fromTag) return undefined;
  return { callId, toTag, fromTag, earlyOnly: named.has('early-only') };
}

export interface ReferTarget {
  /** The target without the URI headers. */
  uri: SipUri;
  /** RFC 3891 §7.1: a Replaces header carried in the Refer-To URI (attended transfer). */
  replaces?: ReplacesTarget;
}

/** Parses a Refer-To value; throws on a malformed URI, undefined Replaces when the embedded one is bad. */
export function parseReferTo(value: string): ReferTarget {
  const { uri } = parseNameAddr(value);
  const replacesName = Object.keys(uri.headers).find((name) => name.toLowerCase() === 'replaces');
  const replaces = replacesName ? parseReplaces(uri.headers[replacesName] ?? '') : undefined;
  return { uri: { ...uri, headers: {} }, ...(replaces ? { replaces } : {}) };
}

/** RFC 3515 §2.4.5: the body of a NOTIFY is the status line of the referred request's latest response. */
export function sipfrag(status: number, reason?: string): Buffer {
  return Buffer.from(`SIP/2.0 ${status} ${reason ?? reasonPhrase(status)}\r\n`, 'utf8');
}

export const SIPFRAG_CONTENT_TYPE = 'message/sipfrag;version=2.0';

/** How long the implicit subscription of a REFER lasts unless a final NOTIFY ends it sooner. */
export const REFER_SUBSCRIPTION_S = 60;
