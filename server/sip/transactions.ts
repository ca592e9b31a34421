/**
 * RFC 3261 §17 transactions, as they apply to reliable flows (WebSocket now; TCP/TLS and UDP retransmission
 * timers build on the same states).
 *
 * Server transaction states (INVITE):   proceeding → completed (non-2xx sent, awaiting ACK) → terminated
 *                                        proceeding → terminated (2xx sent; the ACK belongs to the dialog)
 * Server transaction states (non-INVITE): trying → proceeding → completed → terminated
 * Client transaction states:             calling/trying → proceeding → completed/terminated
 *
 * Illegal moves throw: a transaction that sent its final response cannot send another.
 */
import { createLogger } from '../log';
import type { SipConnection } from './connection';
import { createResponse, generateBranch, parseCSeq, parseVia } from './message';
import type { SipRequest, SipResponse } from './message';

const log = createLogger('sip-transaction');

/** RFC 3261 §17.1.1.1: T1 is the round-trip estimate; Timer B and Timer F are 64·T1. */
export const T1_MS = 500;
export const TIMER_B_MS = 64 * T1_MS;

export type ServerTransactionState = 'trying' | 'proceeding' | 'completed' | 'terminated';
export type ClientTransactionState = 'calling' | 'proceeding' | 'completed' | 'terminated';

/** RFC 3261 §17.2.3: server transactions are matched by the top Via branch, sent-by and method. */
export function serverTransactionKey(request: SipRequest): string | undefined {
  const top = request.headers.get('Via');
  if (!top) return undefined;
  const via = parseVia(top);
  const branch = via.params.branch;
  if (!branch || !branch.startsWith('z9hG4bK')) return undefined;
  const method = request.method === 'ACK' ? 'INVITE' : request.method;
  return `${branch}|${via.host}:${via.port ?? ''}|${method}`;
}

/** RFC 3261 §17.1.3: responses match a client transaction by the top Via branch and the CSeq method. */
export function clientTransactionKey(branch: string, method: string): string {
  return `${branch}|${method === 'ACK' ? 'INVITE' : method}`;
}

export class ServerTransaction {
  private stateValue: ServerTransactionState;
  private lastResponse: SipResponse | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    readonly key: string,
    readonly request: SipRequest,
    readonly connection: SipConnection,
    private readonly onTerminated: (tx: ServerTransaction) => void,
  ) {
    this.stateValue = request.method === 'INVITE' ? 'proceeding' : 'trying';
  }

  get state(): ServerTransactionState {
    return this.stateValue;
  }

  get finalStatus(): number | undefined {
    return this.lastResponse && this.lastResponse.status >= 200 ? this.lastResponse.status : undefined;
  }

  /** Sends a response built from the request (RFC 3261 §8.2.6). */
  reply(status: number, reason?: string, options?: Parameters<typeof createResponse>[3]): SipResponse {
    const response = createResponse(this.request, status, reason, options);
    this.send(response);
    return response;
  }

  send(response: SipResponse): void {
    if (this.stateValue === 'completed' || this.stateValue === 'terminated') {
      throw new Error(`transaction ${this.key} already sent a final response (${this.lastResponse?.status})`);
    }
    this.lastResponse = response;
    this.connection.send(response);
    if (response.status < 200) {
      this.stateValue = 'proceeding';
      return;
    }
    if (this.request.method === 'INVITE' && response.status < 300) {
      // RFC 6026 §7.1 would keep an "accepted" state for 2xx retransmissions; on reliable flows the
      // transaction can end here and the dialog takes the ACK.
      this.terminate();
      return;
    }
    this.stateValue = 'completed';
    // RFC 3261 §17.2.1 Timer H (INVITE, waiting for ACK) / §17.2.2 Timer J (0 on reliable transports, but
    // kept briefly so a late retransmission over a new flow is still absorbed).
    this.timer = setTimeout(() => this.terminate(), this.request.method === 'INVITE' ? TIMER_B_MS : T1_MS);
  }

  /** A retransmitted request: answer with the last response (RFC 3261 §17.2.1, §17.2.2). */
  absorbRetransmission(): void {
    if (this.lastResponse) this.connection.send(this.lastResponse);
  }

  /** The ACK for a non-2xx final response ends an INVITE server transaction (§17.2.1, state "confirmed"). */
  acknowledge(): void {
    if (this.request.method === 'INVITE' && this.stateValue === 'completed') this.terminate();
  }

  terminate(): void {
    if (this.stateValue === 'terminated') return;
    this.stateValue = 'terminated';
    if (this.timer) clearTimeout(this.timer);
    this.onTerminated(this);
  }
}

export interface ClientTransactionHandler {
  (response: SipResponse, tx: ClientTransaction): void;
}

export class ClientTransaction {
  private stateValue: ClientTransactionState;
  private timer: NodeJS.Timeout | undefined;
  readonly branch: string;
  readonly method: string;

  constructor(
    readonly request: SipRequest,
    readonly connection: SipConnection,
    private readonly handler: ClientTransactionHandler,
    private readonly onTerminated: (tx: ClientTransaction) => void,
  ) {
    const top = request.headers.get('Via');
    const branch = top ? parseVia(top).params.branch : undefined;
    if (!branch) throw new Error('a client request needs a top Via with a branch');
    this.branch = branch;
    this.method = request.method;
    this.stateValue = 'calling';
  }

  get key(): string {
    return clientTransactionKey(this.branch, this.method);
  }

  get state(): ClientTransactionState {
    return this.stateValue;
  }

  start(): void {
    this.connection.send(this.request);
    // Timer B / Timer F: no final response within 64·T1 means the far end is gone (§17.1.1.2, §17.1.2.2).
    this.timer = setTimeout(() => this.timeout(), TIMER_B_MS);
    // A flow that closes under a pending request will never carry its response.
    this.connection.once('closed', () => {
      if (this.stateValue === 'calling' || this.stateValue === 'proceeding') this.synthesize(503, 'Service Unavailable');
    });
  }

  receive(response: SipResponse): void {
    if (this.stateValue === 'terminated' || this.stateValue === 'completed') {
      // A 2xx retransmission for INVITE goes to the dialog layer; for us the transaction is done.
      if (this.method === 'INVITE' && response.status >= 200 && response.status < 300) this.handler(response, this);
      return;
    }
    if (response.status < 200) {
      this.stateValue = 'proceeding';
      this.handler(response, this);
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    if (this.method === 'INVITE' && response.status >= 300) {
      // RFC 3261 §17.1.1.3: the client transaction itself acknowledges a non-2xx final response.
      this.connection.send(this.buildAckForFailure(response));
    }
    this.stateValue = 'completed';
    this.handler(response, this);
    this.terminate();
  }

  /** RFC 3261 §9.1: CANCEL copies Request-URI, Call-ID, To, From, the CSeq number and the top Via. */
  buildCancel(): SipRequest {
    const headers = this.request.headers.clone();
    for (const name of headers.entries().map(([n]) => n)) {
      if (!['Via', 'From', 'To', 'Call-ID', 'Route', 'Max-Forwards'].includes(name)) headers.remove(name);
    }
    const top = this.request.headers.get('Via');
    headers.remove('Via');
    if (top) headers.append('Via', top);
    headers.set('CSeq', `${parseCSeq(this.request.headers.get('CSeq') ?? '1 INVITE').seq} CANCEL`);
    return { kind: 'request', method: 'CANCEL', uri: this.request.uri, headers, body: Buffer.alloc(0) };
  }

  terminate(): void {
    if (this.stateValue === 'terminated') return;
    this.stateValue = 'terminated';
    if (this.timer) clearTimeout(this.timer);
    this.onTerminated(this);
  }

  private timeout(): void {
    log.debug('timed out', { method: this.method, branch: this.branch });
    this.synthesize(408, 'Request Timeout');
  }

  private synthesize(status: number, reason: string): void {
    const response = createResponse(this.request, status, reason);
    this.stateValue = 'completed';
    this.handler(response, this);
    this.terminate();
  }

  private buildAckForFailure(response: SipResponse): SipRequest {
    const headers = this.request.headers.clone();
    for (const name of headers.entries().map(([n]) => n)) {
      if (!['Via', 'From', 'Call-ID', 'Route', 'Max-Forwards'].includes(name)) headers.remove(name);
    }
    const top = this.request.headers.get('Via');
    headers.remove('Via');
    if (top) headers.append('Via', top);
    headers.set('To', response.headers.get('To') ?? this.request.headers.get('To') ?? '');
    headers.set('CSeq', `${parseCSeq(this.request.headers.get('CSeq') ?? '1 INVITE').seq} ACK`);
    return { kind: 'request', method: 'ACK', uri: this.request.uri, headers, body: Buffer.alloc(0) };
  }
}

export { generateBranch };
