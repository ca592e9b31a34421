/**
 * One SIP dialog as the PBX holds it (RFC 3261 §12): the identifiers and sequence numbers that in-dialog
 * requests carry, the flow they travel on, and the offer/answer bookkeeping that re-INVITE and UPDATE
 * need to detect glare (RFC 3261 §14.1, RFC 3311 §5.2).
 *
 * Dialog states:   early ──► confirmed ──► terminated
 *                    └─────────────────────────┘
 * Illegal moves throw.
 */
import type { SipConnection } from '../transport/connection';
import { formatNameAddr, formatUri, parseCSeq, parseNameAddr, SipHeaders } from '../syntax/message';
import type { SipRequest } from '../syntax/message';

export type DialogState = 'early' | 'confirmed' | 'terminated';

const TRANSITIONS: Record<DialogState, readonly DialogState[]> = {
  early: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  terminated: [],
};

export interface DialogInit {
  callId: string;
  localTag: string;
  remoteTag: string | undefined;
  /** Header values as we send them: From is ours, To is theirs (RFC 3261 §12.2.1.1). */
  localUri: string;
  remoteUri: string;
  remoteTarget: string;
  localCseq: number;
  /** The CSeq of the request that created the dialog, when the remote side created it. */
  remoteCseq?: number;
  /** Route header values every request of ours carries, nearest hop first (RFC 3261 §12.1, RFC 3327 §5.2). */
  routeSet?: string[];
  connection: SipConnection;
  state?: DialogState;
}

export class Dialog {
  readonly callId: string;
  readonly localTag: string;
  remoteTag: string | undefined;
  readonly localUri: string;
  readonly remoteUri: string;
  remoteTarget: string;
  localCseq: number;
  remoteCseq: number | undefined;
  /**
   * RFC 3261 §12.1: the Record-Route of the request (as UAS) or of the response (as UAC, reversed). Before a
   * response names one, a UAC dialog's set is the pre-loaded route it was sent with, e.g. a binding's Path.
   */
  routeSet: string[];
  readonly connection: SipConnection;
  private stateValue: DialogState;

  /** The SDP we last sent on this dialog (offer or answer): what our next answer or offer starts from. */
  localSdp = '';
  /** We sent an offer (re-INVITE, UPDATE, or a 2xx to an offerless re-INVITE) and await its answer. */
  localOfferPending = false;
  /** The remote side's re-INVITE or UPDATE is being answered. */
  remoteOfferPending = false;

  constructor(init: DialogInit) {
    this.callId = init.callId;
    this.localTag = init.localTag;
    this.remoteTag = init.remoteTag;
    this.localUri = init.localUri;
    this.remoteUri = init.remoteUri;
    this.remoteTarget = init.remoteTarget;
    this.localCseq = init.localCseq;
    this.remoteCseq = init.remoteCseq;
    this.routeSet = init.routeSet ?? [];
    this.connection = init.connection;
    this.stateValue = init.state ?? 'early';
  }

  /** Builds the dialog that an incoming dialog-creating request (INVITE) sets up on our side as UAS. */
  static fromRequest(request: SipRequest, localTag: string, connection: SipConnection): Dialog {
    const from = parseNameAddr(request.headers.get('From') ?? '');
    const to = parseNameAddr(request.headers.get('To') ?? '');
    const contact = request.headers.get('Contact');
    return new Dialog({
      callId: request.headers.get('Call-ID') ?? '',
      localTag,
      remoteTag: from.params.tag ?? undefined,
      localUri: formatNameAddr({ ...to, params: { ...to.params, tag: localTag } }),
      remoteUri: request.headers.get('From') ?? '',
      remoteTarget: contact ? formatTarget(contact) : formatTarget(request.headers.get('From') ?? ''),
      localCseq: 0,
      remoteCseq: parseCSeq(request.headers.get('CSeq') ?? '0 INVITE').seq,
      // RFC 3261 §12.1.1: the UAS's route set is the Record-Route of the request, in order.
      routeSet: request.headers.getAll('Record-Route'),
      connection,
    });
  }

  get state(): DialogState {
    return this.stateValue;
  }

  transition(to: DialogState): void {
    if (this.stateValue === to) return;
    if (!TRANSITIONS[this.stateValue].includes(to)) {
      throw new Error(`dialog ${this.callId}: illegal transition ${this.stateValue} → ${to}`);
    }
    this.stateValue = to;
  }

  /** RFC 3261 §12.2.2: an in-dialog request carries our tag in To and the remote tag in From. */
  matches(request: SipRequest): boolean {
    const toTag = parseNameAddr(request.headers.get('To') ?? '').params.tag;
    const fromTag = parseNameAddr(request.headers.get('From') ?? '').params.tag;
    return toTag === this.localTag && (this.remoteTag === undefined || fromTag === this.remoteTag);
  }

  /** RFC 3891 §3: Replaces names a dialog by Call-ID and both tags; accept them in either order. */
  isNamedBy(callId: string, tagA: string, tagB: string): boolean {
    if (callId !== this.callId) return false;
    return (tagA === this.localTag && tagB === this.remoteTag) || (tagA === this.remoteTag && tagB === this.localTag);
  }

  /**
   * RFC 3261 §12.2.2: a request with a CSeq lower than the last one is out of order and gets 500.
   * Returns false for such a request; otherwise records its CSeq.
   */
  acceptRemoteCseq(request: SipRequest): boolean {
    const seq = parseCSeq(request.headers.get('CSeq') ?? '0 X').seq;
    if (this.remoteCseq !== undefined && seq <= this.remoteCseq && request.method !== 'ACK') return false;
    this.remoteCseq = seq;
    return true;
  }

  /** A new in-dialog request with the next CSeq (RFC 3261 §12.2.1.1), routed by the dialog's route set. */
  createRequest(method: string): SipRequest {
    this.localCseq += 1;
    return this.buildRequest(method, this.localCseq);
  }

  /** The ACK for a 2xx to our INVITE carries that INVITE's CSeq number (RFC 3261 §13.2.2.4). */
  createAck(inviteCseq: number): SipRequest {
    return this.buildRequest('ACK', inviteCseq);
  }

  private buildRequest(method: string, cseq: number): SipRequest {
    const headers = new SipHeaders();
    headers.set('From', this.localUri);
    const to = parseNameAddr(this.remoteUri);
    headers.set('To', formatNameAddr(this.remoteTag ? { ...to, params: { ...to.params, tag: this.remoteTag } } : to));
    headers.set('Call-ID', this.callId);
    headers.set('CSeq', `${cseq} ${method}`);
    // Loose routing (RFC 3261 §12.2.1.1): the Request-URI stays the remote target and every hop is a Route.
    for (const hop of this.routeSet) headers.append('Route', hop);
    return { kind: 'request', method, uri: this.remoteTarget, headers, body: Buffer.alloc(0) };
  }
}

/** The URI of a Contact (or From) header, which becomes the remote target (RFC 3261 §12.1.1). */
export function formatTarget(nameAddr: string): string {
  // Headers in a Contact URI do not travel into a Request-URI (RFC 3261 §19.1.5).
  return formatUri({ ...parseNameAddr(nameAddr).uri, headers: {} });
}
