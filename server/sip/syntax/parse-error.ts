/**
 * The one error the SIP parsers throw. It carries what a UAS needs to answer a malformed request
 * (RFC 3261 §8.2, RFC 4475 §3.1.2): a reason phrase for the 400 and whatever headers could still be read.
 */
import type { SipHeaders } from './headers';

export class SipParseError extends Error {
  override readonly name = 'SipParseError';

  constructor(
    /** A short reason phrase for the response, e.g. 'Bad Request - Missing Call-ID'. */
    readonly reason: string,
    /** The headers that parsed, so the caller can still address a 400 (Via, From, To, Call-ID, CSeq). */
    readonly partial?: SipHeaders,
    /** The status to answer with: 400, 505 for a SIP version we do not speak (RFC 3261 §21.5.6), 513 for an oversize message. */
    readonly status: number = 400,
    /** What the start line said the message was, once one was read: only a request is ever answered. */
    readonly kind?: 'request' | 'response',
  ) {
    super(reason);
  }
}
