/* eslint-disable max-lines -- the four §17 state machines share one set of timers, hooks and keys (see below). */
/**
 * Why one file past 500 lines: the four §17 state machines share one set of timers, hooks and keys, and read
 * best side by side; they could go one machine per file in sip/transaction/ once that sharing has a home of its own.
 *
 * RFC 3261 §17 transactions with every timer, for reliable flows (TCP, TLS, WebSocket) and unreliable ones
 * (UDP), plus the RFC 6026 "accepted" states that keep an INVITE transaction alive after a 2xx so that
 * retransmissions on either side are absorbed instead of reaching the call engine as new work.
 *
 * INVITE server transaction (§17.2.1, RFC 6026 §7.1):
 *
 *     proceeding ──1xx──► proceeding
 *       │   │ 2xx                          non-2xx
 *       │   └──► accepted ──Timer L──► terminated      (2xx resent on Timer G until the ACK, over UDP)
 *       └──300-699──► completed ──ACK──► confirmed ──Timer I──► terminated
 *                         └──Timer H (no ACK)──► terminated
 *
 * non-INVITE server transaction (§17.2.2):
 *
 *     trying ──1xx──► proceeding ──final──► completed ──Timer J──► terminated
 *        └───────────── final ──────────────┘
 *
 * INVITE client transaction (§17.1.1, RFC 6026 §8.4):
 *
 *     calling ──Timer A: resend (UDP)      Timer B ──► terminated (408 to the TU)
 *       │ 1xx ──► proceeding
 *       │ 2xx ──► accepted ──Timer M──► terminated  (a 2xx resent by the callee gets our ACK again)
 *       └ 300-699 ──► completed (ACK sent) ──Timer D──► terminated
 *
 * non-INVITE client transaction (§17.1.2):
 *
 *     trying ──Timer E: resend (UDP)       Timer F ──► terminated (408 to the TU)
 *       │ 1xx ──► proceeding ──final──► completed ──Timer K──► terminated
 *       └──────── final ───────────────────┘
 *
 * Illegal moves throw: a transaction that sent its final response cannot send another.
 *
 * Once a transaction only lingers to absorb retransmissions (the last step before "terminated" above, after
 * the ACK for accepted INVITEs), a `linger` hook may take over what that needs (`ServerEcho`, `ClientEcho`),
 * and the transaction is done; the endpoint keeps those in its linger table (linger-table.ts).
 */
import { createHash } from 'node:crypto';
import { createLogger } from '../../log';
import type { PreparedMessage, SipConnection } from '../transport/connection';
import { BRANCH_MAGIC_COOKIE, createResponse, generateBranch, generateTag, parseCSeq, parseNameAddr, parseVia } from '../syntax/message';
import type { SipRequest, SipResponse } from '../syntax/message';
import { DEFAULT_TIMERS, systemClock, timerD, transactionTimeout } from './timers';
import type { Clock, TimerHandle, TimerValues } from './timers';
import { TypedEmitter } from '../../util/typed-emitter';
import { detached } from '../../util/unshared';

const log = createLogger('sip-transaction');

/** RFC 3261 §17.1.1.1: T1 is the round-trip estimate; Timer B and Timer F are 64·T1. */
export const T1_MS = DEFAULT_TIMERS.t1;
export const TIMER_B_MS = 64 * T1_MS;

/** RFC 3261 §17.2.1: a server sends 100 Trying itself when the TU has said nothing within 200 ms. */
export const AUTO_TRYING_MS = 200;

/** How long a finished transaction lingers on a reliable flow, so a late duplicate is still absorbed. */
const RELIABLE_LINGER_MS = T1_MS;

export type ServerTransactionState = 'trying' | 'proceeding' | 'completed' | 'confirmed' | 'accepted' | 'terminated';
export type ClientTransactionState = 'calling' | 'trying' | 'proceeding' | 'completed' | 'accepted' | 'terminated';

const SERVER_MOVES: Record<ServerTransactionState, readonly ServerTransactionState[]> = {
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['proceeding', 'completed', 'accepted', 'terminated'],
  completed: ['confirmed', 'terminated'],
  confirmed: ['terminated'],
  accepted: ['terminated'],
  terminated: [],
};

const CLIENT_MOVES: Record<ClientTransactionState, readonly ClientTransactionState[]> = {
  calling: ['proceeding', 'completed', 'accepted', 'terminated'],
  trying: ['proceeding', 'completed', 'terminated'],
  proceeding: ['proceeding', 'completed', 'accepted', 'terminated'],
  completed: ['terminated'],
  accepted: ['terminated'],
  terminated: [],
};

/** What a transaction needs from its surroundings; tests hand in a manual clock and their own timer values. */
export interface TransactionContext {
  clock: Clock;
  timers: TimerValues;
}

export const DEFAULT_CONTEXT: TransactionContext = { clock: systemClock, timers: DEFAULT_TIMERS };

/**
 * RFC 3261 §17.2.3: server transactions are matched by the top Via branch, sent-by and method (an ACK's
 * method being INVITE's). A branch without the z9hG4bK cookie, or none, comes from an RFC 2543 device (or
 * carries no identifier, RFC 4475 §3.2.1): such a request is matched by Request-URI, To tag, From tag,
 * Call-ID, CSeq and the whole top Via instead. For an INVITE and its ACK the To tag is left out: the INVITE
 * has none and the ACK has the one our response gave, which one transaction never changes (its `reply`).
 * A CANCEL is matched as an INVITE for `findInviteTransaction` (§9.2). Undefined only without a Via.
 */
export function serverTransactionKey(request: SipRequest): string | undefined {
  const top = request.headers.get('Via');
  if (!top) return undefined;
  const via = parseVia(top);
  const branch = via.params.branch;
  const method = request.method === 'ACK' ? 'INVITE' : request.method;
  if (branch && branch.length > BRANCH_MAGIC_COOKIE.length && branch.startsWith(BRANCH_MAGIC_COOKIE)) return `${branch}|${via.host}:${via.port ?? ''}|${method}`;
  const toTag = method === 'INVITE' ? '' : tagOf(request.headers.get('To'));
  const seq = parseCSeq(request.headers.get('CSeq') ?? '').seq;
  // A fixed-size digest: the Request-URI and Via can be tens of kilobytes, and a lingering transaction keeps
  // its key for 32 s while the byte budget (held-bytes.ts) counts only the response it resends.
  const fields = `${method}|${seq}|${request.headers.get('Call-ID') ?? ''}|${tagOf(request.headers.get('From'))}|${toTag}|${request.uri}|${top}`;
  return `2543|${createHash('sha256').update(fields, 'utf8').digest('base64')}`;
}

function tagOf(nameAddr: string | undefined): string {
  try {
    return parseNameAddr(nameAddr ?? '').params.tag ?? '';
  } catch {
    return '';
  }
}

/** RFC 3261 §17.1.3: responses match a client transaction by the top Via branch and the CSeq method. */
export function clientTransactionKey(branch: string, method: string): string {
  return `${branch}|${method === 'ACK' ? 'INVITE' : method}`;
}

/** Call-ID, From tag and CSeq number: what ties an ACK for a 2xx to the INVITE it acknowledges (§13.2.2.4). */
export function inviteDialogKey(request: SipRequest): string {
  let fromTag = '';
  try {
    fromTag = parseNameAddr(request.headers.get('From') ?? '').params.tag ?? '';
  } catch {
    // A From we cannot read matches nothing.
  }
  const seq = parseCSeq(request.headers.get('CSeq') ?? '0 ACK').seq;
  return `${request.headers.get('Call-ID') ?? ''}|${fromTag}|${seq}`;
}

interface ServerTransactionEvents {
  /** §13.3.1.4: our 2xx to an INVITE was never acknowledged within 64·T1; the dialog should be ended with BYE. */
  ackTimedOut: [];
}

/**
 * What is left of a server transaction that only lingers: a copy of its request gets `response` again (an
 * ACK, nothing), on the flow it came from (RFC 3261 §17.2.1, §17.2.2).
 */
export interface ServerEcho {
  readonly connection: SipConnection;
  readonly response: PreparedMessage | undefined;
}

export interface ServerTransactionHooks {
  terminated(tx: ServerTransaction): void;
  /** The first final response went out (the transaction no longer counts as pending work). */
  answered?(tx: ServerTransaction): void;
  /**
   * The transaction only lingers from now on, for `ms`, to absorb copies of its request. Given this hook, it
   * hands that over (see `linger-table.ts`) and is done: no timer, no listener, and nothing calls its
   * terminated hook. Without it, the transaction lingers on its own timer.
   */
  linger?(tx: ServerTransaction, ms: number): void;
}

export class ServerTransaction extends TypedEmitter<ServerTransactionEvents> {
  private stateValue: ServerTransactionState;
  /** The last response sent, as the flow sends it again (retransmissions), and its status. */
  private lastResponse: PreparedMessage | undefined;
  private lastStatus: number | undefined;
  private dialogKeyValue: string | undefined;
  /** The To tag of our responses, once one has been sent with a tag (RFC 3261 §8.2.6.2). */
  private toTag: string | undefined;
  private toTaggedValue: boolean | undefined;
  private retransmitTimer: TimerHandle | undefined;
  private endTimer: TimerHandle | undefined;
  private interval = 0;
  private acked = false;
  private readonly context: TransactionContext;
  private readonly hooks: ServerTransactionHooks;

  constructor(
    readonly key: string,
    readonly request: SipRequest,
    readonly connection: SipConnection,
    hooks: ServerTransactionHooks | ((tx: ServerTransaction) => void),
    context: TransactionContext = DEFAULT_CONTEXT,
  ) {
    super();
    this.hooks = typeof hooks === 'function' ? { terminated: hooks } : hooks;
    this.context = context;
    this.stateValue = request.method === 'INVITE' ? 'proceeding' : 'trying';
    if (request.method === 'INVITE') {
      this.retransmitTimer = context.clock.schedule(AUTO_TRYING_MS, () => {
        this.retransmitTimer = undefined;
        if (!this.lastResponse && this.stateValue === 'proceeding') this.reply(100, 'Trying');
      });
    }
  }

  get state(): ServerTransactionState {
    return this.stateValue;
  }

  /**
   * No final response sent yet, so the request may still be answered. Read after every await: a CANCEL or a
   * timeout may have answered it meanwhile.
   */
  get pending(): boolean {
    return this.stateValue === 'trying' || this.stateValue === 'proceeding';
  }

  get isInvite(): boolean {
    return this.request.method === 'INVITE';
  }

  /** For an INVITE, `inviteDialogKey` of its request, made once: what its ACK for a 2xx is matched by. */
  /** Whether the request's To has a tag already (an in-dialog request): then our responses keep it. */
  get toTagged(): boolean {
    this.toTaggedValue ??= parseNameAddr(this.request.headers.get('To') ?? '').params.tag !== undefined;
    return this.toTaggedValue;
  }

  get dialogKey(): string {
    this.dialogKeyValue ??= inviteDialogKey(this.request);
    return this.dialogKeyValue;
  }

  get finalStatus(): number | undefined {
    return this.lastStatus !== undefined && this.lastStatus >= 200 ? this.lastStatus : undefined;
  }

  /** Sends a response built from the request (RFC 3261 §8.2.6). */
  /**
   * Answers the request. RFC 3261 §8.2.6.2: a response other than 100 to a request without a To tag gets one,
   * the same in every response of the transaction: the tag the TU gave (its dialog's), or one made here.
   * A To that has a tag already (an in-dialog request) keeps it.
   */
  reply(status: number, reason?: string, options: Parameters<typeof createResponse>[3] = {}): SipResponse {
    let given = options;
    if (status > 100 && !this.toTagged) {
      this.toTag ??= options.toTag ?? generateTag();
      if (options.toTag !== this.toTag) given = { ...options, toTag: this.toTag };
    }
    const response = createResponse(this.request, status, reason, given);
    this.send(response);
    return response;
  }

  send(response: SipResponse): void {
    const status = response.status;
    if (this.stateValue === 'accepted' && status >= 200 && status < 300) {
      // RFC 6026 §7.1: a 2xx from the TU in "accepted" goes straight to the transport.
      this.sendAndKeep(response);
      return;
    }
    if (this.stateValue !== 'trying' && this.stateValue !== 'proceeding') {
      throw new Error(`transaction ${this.key} already sent a final response (${this.lastStatus})`);
    }
    this.cancelTimers();
    this.sendAndKeep(response);
    if (status < 200) {
      this.move('proceeding');
      return;
    }
    const unreliable = !this.connection.reliable;
    const timeout = transactionTimeout(this.context.timers);
    if (this.isInvite && status < 300) {
      this.move('accepted');
      // §13.3.1.4: the 2xx is resent from T1, doubling up to T2, until the ACK arrives. Over reliable flows
      // the PBX talks to the device directly, hop-by-hop delivery suffices and only the ACK wait remains.
      if (unreliable) this.scheduleRetransmit(this.context.timers.t1);
      this.endTimer = this.context.clock.schedule(timeout, () => {
        if (!this.acked) {
          log.info('2xx was never acknowledged', { key: this.key });
          this.emit('ackTimedOut');
        }
        this.terminate();
      });
    } else if (this.isInvite) {
      this.move('completed');
      // Timer G resends the final response (UDP only); Timer H gives up waiting for the ACK.
      if (unreliable) this.scheduleRetransmit(this.context.timers.t1);
      this.endTimer = this.context.clock.schedule(timeout, () => {
        log.debug('Timer H: no ACK for a final response', { key: this.key, status });
        this.terminate();
      });
    } else {
      this.move('completed');
      this.hooks.answered?.(this);
      // Timer J: 64·T1 over UDP to absorb retransmitted requests.
      this.linger(unreliable ? timeout : RELIABLE_LINGER_MS);
      return;
    }
    this.hooks.answered?.(this);
  }

  /** A retransmitted request: answer with the last response (RFC 3261 §17.2.1, §17.2.2). */
  absorbRetransmission(): void {
    // In "trying" the request is still being worked on and there is nothing to resend; in "confirmed" the
    // ACK has arrived and a late INVITE copy needs nothing either.
    if (this.stateValue === 'trying' || this.stateValue === 'confirmed' || this.stateValue === 'terminated') return;
    if (this.lastResponse) this.connection.sendPrepared(this.lastResponse);
  }

  /** The ACK for a non-2xx final response, matched to this transaction (§17.2.1: "confirmed"). */
  acknowledge(): void {
    if (!this.isInvite || this.stateValue !== 'completed') return;
    this.cancelTimers();
    this.move('confirmed');
    // Timer I absorbs further ACK retransmissions over UDP; on reliable flows it is zero.
    if (this.connection.reliable) this.terminate();
    else this.linger(this.context.timers.t4);
  }

  /**
   * The ACK for our 2xx, which arrives as a request of the dialog with a branch of its own: stops the 2xx
   * retransmissions (§13.3.1.4). The transaction lingers until Timer L to absorb INVITE copies.
   */
  acknowledge2xx(): void {
    if (this.stateValue !== 'accepted') return;
    this.acked = true;
    this.retransmitTimer?.cancel();
    this.retransmitTimer = undefined;
    // The one event left to report (ackTimedOut) can no longer happen. Its listeners may hold a whole call,
    // which must not outlive its BYE for as long as the transaction lingers.
    this.removeAllListeners();
    // Handed over, Timer L counts afresh from the ACK: a little longer than from the 2xx, never shorter.
    if (this.hooks.linger) {
      this.cancelTimers();
      this.hooks.linger(this, transactionTimeout(this.context.timers));
    }
  }

  /** What is left once the transaction only lingers: its last response to send again, none once confirmed. */
  get echo(): ServerEcho {
    return { connection: this.connection, response: this.stateValue === 'confirmed' ? undefined : this.lastResponse };
  }

  terminate(): void {
    if (this.stateValue === 'terminated') return;
    this.cancelTimers();
    this.stateValue = 'terminated';
    this.hooks.terminated(this);
    this.removeAllListeners();
  }

  /** From here on the transaction only absorbs copies of its request, for `ms`: handed over, or on its own timer. */
  private linger(ms: number): void {
    if (this.hooks.linger) {
      this.cancelTimers();
      this.removeAllListeners();
      this.hooks.linger(this, ms);
      return;
    }
    this.endTimer = this.context.clock.schedule(ms, () => this.terminate());
  }

  private sendAndKeep(response: SipResponse): void {
    this.lastResponse = this.connection.prepare(response);
    this.lastStatus = response.status;
    this.connection.sendPrepared(this.lastResponse);
  }

  private scheduleRetransmit(interval: number): void {
    this.interval = interval;
    this.retransmitTimer = this.context.clock.schedule(interval, () => {
      this.retransmitTimer = undefined;
      if ((this.stateValue !== 'completed' && this.stateValue !== 'accepted') || this.acked || !this.lastResponse) return;
      this.connection.sendPrepared(this.lastResponse);
      this.scheduleRetransmit(Math.min(2 * this.interval, this.context.timers.t2));
    });
  }

  private cancelTimers(): void {
    this.retransmitTimer?.cancel();
    this.retransmitTimer = undefined;
    this.endTimer?.cancel();
    this.endTimer = undefined;
  }

  private move(to: ServerTransactionState): void {
    if (!SERVER_MOVES[this.stateValue].includes(to)) {
      throw new Error(`transaction ${this.key}: illegal transition ${this.stateValue} → ${to}`);
    }
    this.stateValue = to;
  }
}

export interface ClientTransactionHandler {
  (response: SipResponse, tx: ClientTransaction): void;
}

/** What a 2xx from a second fork needs of the INVITE to be acknowledged and hung up. */
export interface InviteSummary {
  readonly uri: string;
  readonly from: string;
  readonly callId: string;
  readonly cseq: number;
  /** The Route headers the INVITE carried (a pre-loaded route, RFC 3261 §12.1.2 when no Record-Route comes back). */
  readonly route: readonly string[];
  /** `inviteDialogKey` of the INVITE: what the TU's ACK is matched by. */
  readonly dialogKey: string;
}

export type AnotherFork = (response: SipResponse, echo: ClientEcho) => void;

/**
 * What is left of a client transaction once its final response has reached the TU: it answers the response's
 * retransmissions. A failure to INVITE gets the transaction's own ACK again (Timer D, RFC 3261 §17.1.1.2); a 2xx
 * gets the ACK the TU sent for it (Timer M, RFC 6026 §8.4), and a 2xx from another fork downstream goes to
 * `anotherFork`; anything else is absorbed (Timer K). Kept by the transaction, or handed to a linger table.
 */
export class ClientEcho {
  private constructor(
    readonly connection: SipConnection,
    private readonly failureAck: PreparedMessage | undefined,
    /** To tags of the 2xx responses passed up, each with the ACK the TU sent for it, as sent. */
    private readonly accepted: Map<string, PreparedMessage | undefined> | undefined,
    readonly invite: InviteSummary | undefined,
  ) {}

  static absorbing(connection: SipConnection): ClientEcho {
    return new ClientEcho(connection, undefined, undefined, undefined);
  }

  static failedInvite(connection: SipConnection, ack: PreparedMessage): ClientEcho {
    return new ClientEcho(connection, ack, undefined, undefined);
  }

  static acceptedInvite(connection: SipConnection, invite: SipRequest, dialogKey: string, toTag: string): ClientEcho {
    const summary: InviteSummary = {
      uri: invite.uri,
      from: invite.headers.get('From') ?? '',
      callId: invite.headers.get('Call-ID') ?? '',
      cseq: parseCSeq(invite.headers.get('CSeq') ?? '1 INVITE').seq,
      route: invite.headers.getAll('Route'),
      dialogKey,
    };
    return new ClientEcho(connection, undefined, new Map([[toTag, undefined]]), summary);
  }

  receive(response: SipResponse, anotherFork: AnotherFork | undefined): void {
    const status = response.status;
    if (this.failureAck) {
      if (status >= 300) this.connection.sendPrepared(this.failureAck);
      return;
    }
    if (!this.accepted || status < 200 || status >= 300) return;
    const tag = toTagOf(response);
    if (this.accepted.has(tag)) {
      const ack = this.accepted.get(tag);
      if (ack) this.connection.sendPrepared(ack);
      return;
    }
    this.accepted.set(tag, undefined);
    if (anotherFork) anotherFork(response, this);
    else log.debug('2xx from another fork dropped', { tag });
  }

  /** The TU's ACK for a 2xx it was given (sent outside the transaction, RFC 3261 §13.2.2.4). */
  rememberAck(ack: SipRequest): void {
    if (!this.accepted) return;
    let tag = '';
    try {
      tag = parseNameAddr(ack.headers.get('To') ?? '').params.tag ?? '';
    } catch {
      return;
    }
    if (this.accepted.has(tag)) this.accepted.set(tag, this.connection.prepare(ack));
  }
}

export interface ClientTransactionHooks {
  terminated(tx: ClientTransaction): void;
  /**
   * A 2xx to an accepted INVITE from another fork downstream (a new To tag). The TU has its dialog already;
   * the one who gets this acknowledges and hangs up the new one (RFC 3261 §13.2.2.4). Dropped when left out.
   */
  anotherFork?: AnotherFork;
  /**
   * The transaction only lingers from now on, for `ms`. Given this hook, it hands its `echo` over and is done:
   * no timer, and nothing calls its terminated hook. Without it, the transaction lingers on its own timer.
   */
  linger?(tx: ClientTransaction, ms: number): void;
}

export class ClientTransaction {
  private stateValue: ClientTransactionState;
  private retransmitTimer: TimerHandle | undefined;
  private endTimer: TimerHandle | undefined;
  private interval = 0;
  /** Set with the final response: what answers its retransmissions from then on. */
  private echoValue: ClientEcho | undefined;
  private stopWatchingFlow: (() => void) | undefined;
  /** The TU's handler, until the final response has reached it. */
  private handler: ClientTransactionHandler | undefined;
  /** The TU asked to cancel this INVITE (see cancel). */
  private cancelRequested = false;
  /** How to send our CANCEL, held until a provisional response allows it. */
  private cancelSender: ((cancel: SipRequest) => void) | undefined;
  private readonly hooks: ClientTransactionHooks;
  readonly branch: string;
  readonly method: string;
  /** For an INVITE, `inviteDialogKey` of the request: what the TU's ACK for its 2xx is matched by; else ''. */
  readonly dialogKey: string;

  constructor(
    readonly request: SipRequest,
    readonly connection: SipConnection,
    handler: ClientTransactionHandler,
    hooks: ClientTransactionHooks | ((tx: ClientTransaction) => void),
    private readonly context: TransactionContext = DEFAULT_CONTEXT,
  ) {
    this.handler = handler;
    this.hooks = typeof hooks === 'function' ? { terminated: hooks } : hooks;
    const top = request.headers.get('Via');
    const branch = top ? parseVia(top).params.branch : undefined;
    if (!branch) throw new Error('a client request needs a top Via with a branch');
    this.branch = branch;
    this.method = request.method;
    this.dialogKey = request.method === 'INVITE' ? inviteDialogKey(request) : '';
    this.stateValue = request.method === 'INVITE' ? 'calling' : 'trying';
  }

  get key(): string {
    return clientTransactionKey(this.branch, this.method);
  }

  get state(): ClientTransactionState {
    return this.stateValue;
  }

  start(): void {
    this.connection.send(this.request);
    const { clock, timers } = this.context;
    // Timer A (INVITE) / Timer E (others) resend the request over UDP.
    if (!this.connection.reliable) this.scheduleRetransmit(timers.t1);
    // Timer B / Timer F: no final response within 64·T1 means the far end is gone (§17.1.1.2, §17.1.2.2).
    this.endTimer = clock.schedule(transactionTimeout(timers), () => {
      this.endTimer = undefined;
      log.debug('timed out', { method: this.method, branch: this.branch });
      this.synthesize(408, 'Request Timeout');
    });
    // A flow that closes under a pending request will never carry its response (§17.1.4).
    this.stopWatchingFlow = this.connection.once('closed', () => {
      if (this.isPending) this.synthesize(503, 'Service Unavailable');
    });
  }

  private get isPending(): boolean {
    return this.stateValue === 'calling' || this.stateValue === 'trying' || this.stateValue === 'proceeding';
  }

  receive(response: SipResponse): void {
    const status = response.status;
    if (this.stateValue === 'terminated') return;
    if (this.echoValue) {
      // Completed or accepted: a retransmitted final response, or a 2xx from another fork.
      this.echoValue.receive(response, this.hooks.anotherFork);
      return;
    }
    if (status < 200) {
      if (this.method === 'INVITE') {
        // §17.1.1.2: Timers A and B cover "calling" only; a ringing INVITE waits for the TU to give up,
        // unless it has (then the 64·T1 that follows its CANCEL runs on).
        this.cancelRetransmit();
        if (!this.cancelRequested) this.cancelEnd();
      }
      this.move('proceeding');
      if (this.cancelSender) this.sendCancel(this.cancelSender);
      this.handler?.(response, this);
      return;
    }
    this.cancelRetransmit();
    this.cancelEnd();
    this.stopWatchingFlow?.();
    // A final response before any provisional one: the INVITE is over, and there is nothing to cancel.
    this.cancelSender = undefined;
    const { timers } = this.context;
    if (this.method === 'INVITE' && status < 300) {
      this.move('accepted');
      this.echoValue = ClientEcho.acceptedInvite(this.connection, this.request, this.dialogKey, toTagOf(response));
      this.passUpFinal(response);
      if ((this.stateValue as ClientTransactionState) === 'accepted') this.linger(transactionTimeout(timers));
      return;
    }
    this.move('completed');
    if (this.method === 'INVITE') {
      // RFC 3261 §17.1.1.3: the client transaction itself acknowledges a non-2xx final response.
      const ack = this.connection.prepare(this.buildAckForFailure(response));
      this.connection.sendPrepared(ack);
      this.echoValue = ClientEcho.failedInvite(this.connection, ack);
    } else {
      this.echoValue = ClientEcho.absorbing(this.connection);
    }
    this.passUpFinal(response);
    // The handler may have ended the transaction already.
    if ((this.stateValue as ClientTransactionState) !== 'completed') return;
    // Timer D (INVITE) / Timer K (others) absorb retransmitted final responses over UDP; zero when reliable.
    if (this.connection.reliable) this.terminate();
    else this.linger(this.method === 'INVITE' ? timerD(timers) : timers.t4);
  }

  /** What answers retransmissions of the final response, once there is one. */
  get echo(): ClientEcho | undefined {
    return this.echoValue;
  }

  /**
   * The TU's ACK for a 2xx of this INVITE (sent outside the transaction, RFC 3261 §13.2.2.4), kept so that
   * a retransmission of that 2xx is acknowledged again without troubling the TU.
   */
  rememberAck(ack: SipRequest): void {
    if (this.stateValue === 'accepted') this.echoValue?.rememberAck(ack);
  }

  /**
   * Cancels this INVITE (RFC 3261 §9.1), by way of `send`, which sends the CANCEL in a transaction of its
   * own. The CANCEL goes out at once if a provisional response has come, else as soon as one comes, never
   * before: a device that has not yet seen the INVITE would answer 481 and then ring for nobody. A final
   * response first makes it needless. With no final response 64·T1 after the CANCEL, the transaction gives
   * up with a 408 of its own.
   */
  cancel(send: (cancel: SipRequest) => void): void {
    if (this.method !== 'INVITE' || this.cancelRequested || !this.isPending) return;
    this.cancelRequested = true;
    if (this.stateValue === 'proceeding') this.sendCancel(send);
    else this.cancelSender = send;
  }

  private sendCancel(send: (cancel: SipRequest) => void): void {
    this.cancelSender = undefined;
    send(this.buildCancel());
    this.cancelEnd();
    this.endTimer = this.context.clock.schedule(transactionTimeout(this.context.timers), () => {
      this.endTimer = undefined;
      log.debug('no final response after CANCEL', { branch: this.branch });
      this.synthesize(408, 'Request Timeout');
    });
  }

  /** RFC 3261 §9.1: CANCEL copies Request-URI, Call-ID, To, From, the CSeq number and the top Via. */
  private buildCancel(): SipRequest {
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
    this.cancelRetransmit();
    this.cancelEnd();
    this.stopWatchingFlow?.();
    this.stateValue = 'terminated';
    this.handler = undefined;
    this.cancelSender = undefined;
    this.hooks.terminated(this);
  }

  /** From here on the transaction only answers retransmissions, for `ms`: handed over, or on its own timer. */
  private linger(ms: number): void {
    if (this.hooks.linger) {
      this.cancelRetransmit();
      this.cancelEnd();
      this.hooks.linger(this, ms);
      return;
    }
    this.endTimer = this.context.clock.schedule(ms, () => this.terminate());
  }

  /**
   * The final response goes to the TU, once. What follows (Timers D, K and M) only absorbs retransmissions,
   * so the handler, which may hold a whole call, is let go rather than kept for up to 64·T1.
   */
  private passUpFinal(response: SipResponse): void {
    const handler = this.handler;
    this.handler = undefined;
    handler?.(response, this);
  }

  private scheduleRetransmit(interval: number): void {
    this.interval = interval;
    this.retransmitTimer = this.context.clock.schedule(interval, () => {
      this.retransmitTimer = undefined;
      if (!this.isPending) return;
      this.connection.send(this.request);
      // Timer A doubles without bound until Timer B fires; Timer E doubles up to T2, and stays at T2 once
      // a provisional response has arrived (§17.1.2.2).
      const next = this.method === 'INVITE' ? 2 * this.interval
        : this.stateValue === 'proceeding' ? this.context.timers.t2
          : Math.min(2 * this.interval, this.context.timers.t2);
      this.scheduleRetransmit(next);
    });
  }

  private cancelRetransmit(): void {
    this.retransmitTimer?.cancel();
    this.retransmitTimer = undefined;
  }

  private cancelEnd(): void {
    this.endTimer?.cancel();
    this.endTimer = undefined;
  }

  private synthesize(status: number, reason: string): void {
    if (!this.isPending) return;
    const response = createResponse(this.request, status, reason);
    this.cancelRetransmit();
    this.cancelEnd();
    this.move('completed');
    this.passUpFinal(response);
    this.terminate();
  }

  private move(to: ClientTransactionState): void {
    if (!CLIENT_MOVES[this.stateValue].includes(to)) {
      throw new Error(`client transaction ${this.key}: illegal transition ${this.stateValue} → ${to}`);
    }
    this.stateValue = to;
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

/** The To tag, copied: it is kept for 64·T1, and a view into the message would keep the message. */
function toTagOf(response: SipResponse): string {
  try {
    return detached(parseNameAddr(response.headers.get('To') ?? '').params.tag ?? '');
  } catch {
    return '';
  }
}

export { generateBranch };
