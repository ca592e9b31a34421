/**
 * Why one file past 500 lines: it is the one path from bytes to a handled request (parse, limit, match,
 * answer, contain a failure), and its parts share the flow and transaction tables; parsing, transports,
 * transactions and the edge already live in their folders. Containing failures is the next seam to cut out.
 *
 * The SIP endpoint: parses what arrives on every flow, matches it to transactions, and hands new requests
 * to the application (registrar, call engine). It is the one place that turns bytes into messages, so a
 * malformed message is answered (400 with a reason) or dropped here and never reaches the layers above.
 */
import { createLogger } from '../log';
import { isPing } from './transport/connection';
import type { SipConnection, SipTransportName, StreamConnector } from './transport/connection';
import { Dialog, formatTarget } from './dialog/dialog';
import { SipFaults } from './edge/faults';
import type { LogBurstLimits } from '../util/log-burst';
import { DEFAULT_HELD_BYTES_LIMITS, HeldBytes, messageBytes, preparedBytes } from './transport/held-bytes';
import type { HeldBytesLimits } from './transport/held-bytes';
import { LingerTable } from './transaction/linger-table';
import { LruMap } from '../util/lru-map';
import { answerableOver, stampVia } from './transport/via-stamp';
import { createResponse, generateBranch, parseMessage, parseNameAddr, parseVia, serializeMessage, SipParseError } from './syntax/message';
import type { SipMessage, SipRequest, SipResponse } from './syntax/message';
import {
  ClientTransaction, clientTransactionKey, DEFAULT_CONTEXT, inviteDialogKey, ServerTransaction, serverTransactionKey,
} from './transaction/transactions';
import type { ClientEcho, ClientTransactionHandler, ClientTransactionHooks, ServerEcho, ServerTransactionHooks, TransactionContext } from './transaction/transactions';

const log = createLogger('sip');

export interface SipApplication {
  /** A new request in its own server transaction (everything but ACK). */
  onRequest(tx: ServerTransaction): void;
  /** An ACK that matches no INVITE server transaction: it acknowledges a 2xx and belongs to a dialog. */
  onAck(request: SipRequest, connection: SipConnection): void;
}

/** With the byte budget (held-bytes.ts): what requests a source, and every source, may have us hold. */
export interface TransactionLimits extends HeldBytesLimits {
  /** Server transactions held at once, answered ones that linger for retransmissions included. */
  maxServerTransactions: number;
  /** Requests from one flow still waiting for their final response. */
  maxPendingPerFlow: number;
  /**
   * The same for a flow from a trusted source (an edge proxy carrying many users' requests on one flow, or a
   * load generator): larger, as one such flow is many devices.
   */
  maxPendingPerTrustedFlow: number;
  /** Seconds a client refused for overload is asked to wait (RFC 3261 §21.5.4, Retry-After). */
  retryAfterS: number;
}

export const DEFAULT_TRANSACTION_LIMITS: TransactionLimits = {
  maxServerTransactions: 100_000,
  maxPendingPerFlow: 200,
  maxPendingPerTrustedFlow: 20_000,
  retryAfterS: 5,
  ...DEFAULT_HELD_BYTES_LIMITS,
};

export interface EndpointOptions {
  /** Host we put in our own Via headers and Contact URIs. */
  viaHost: string;
  userAgent: string;
  /** Clock and T1/T2/T4; tests hand in their own. */
  transactions?: TransactionContext;
  limits?: Partial<TransactionLimits>;
  /** What the security layer says of a source (security.ts); every source is welcome when left out. */
  sources?: SourcePolicy;
  /** Log lines per kind of fault and window (faults.ts); DEFAULT_LOG_BURST_LIMITS when left out. */
  faultLog?: LogBurstLimits;
}

/**
 * The endpoint's questions about a source (a flow's remote address), asked before it spends work on what
 * the source sent, and before it answers what never reaches the application's own checks.
 */
export interface SourcePolicy {
  /** Flows from a trusted source get maxPendingPerTrustedFlow. */
  isTrusted(source: string): boolean;
  /**
   * Whether the source address is banned. Even then a flow that something holds (a registration, a dialog) is
   * read as any other; on its other flows only what `passesBan` lets through is read, and nothing is answered.
   */
  isBanned(source: string): boolean;
  /**
   * Whether a message from a banned source, on a flow nothing holds, is read all the same (a response, say);
   * nothing is when the policy leaves this out.
   */
  passesBan?(message: SipMessage, connection: SipConnection): boolean;
  /** Whether a malformed request from the source may be answered now: each answer spends its request allowance. */
  mayAnswer(source: string): boolean;
}

/** How often `settled` looks again. */
const SETTLE_POLL_MS = 20;

/** RFC 3261 §18.1.1: with the path MTU unknown, a request larger than this does not go over UDP. */
export const MAX_UDP_REQUEST_BYTES = 1300;
/** How long a device has to take the TCP connection for a large request before it goes over UDP. */
const LARGE_REQUEST_CONNECT_MS = 2_000;
/** A device that refused is not asked again for this long: its large requests go over UDP at once. */
const LARGE_REQUEST_RETRY_MS = 10 * 60_000;
/** Devices remembered for either: the least recently used is forgotten first. */
const MAX_REMEMBERED_DEVICES = 1_024;

const WELCOME_ALL: SourcePolicy = { isTrusted: () => false, isBanned: () => false, passesBan: () => true, mayAnswer: () => true };

export class SipEndpoint {
  private readonly serverTransactions = new Map<string, ServerTransaction>();
  private readonly clientTransactions = new Map<string, ClientTransaction>();
  /** INVITE server transactions whose 2xx awaits its ACK, by Call-ID, From tag and CSeq number. */
  private readonly acceptedInvites = new Map<string, ServerTransaction>();
  /** Out-of-dialog INVITE server transactions not yet answered, by the same key: merged requests are found here. */
  private readonly openInvites = new Map<string, ServerTransaction>();
  /** INVITE client transactions (or what is left of them) by the same key, so our ACK for a 2xx can be resent with it. */
  private readonly clientInvites = new Map<string, ClientTransaction | ClientEcho>();
  /** What is left of transactions that only linger to absorb retransmissions (linger-table.ts). */
  private readonly lingering: LingerTable<ServerEcho>;
  private readonly clientLingering: LingerTable<ClientEcho>;
  /** Server transactions still waiting for their final response, and how many each flow has. */
  private readonly pending = new Set<ServerTransaction>();
  private readonly pendingByFlow = new Map<SipConnection, number>();
  /** The port each transport listens on, for the sent-by of our Via and our Contact. */
  private readonly ports = new Map<SipTransportName, number>();
  private readonly context: TransactionContext;
  private readonly limits: TransactionLimits;
  private readonly sources: SourcePolicy;
  private application: SipApplication | undefined;
  private connector: StreamConnector | undefined;
  /** TCP connections opened for requests too large for UDP, by the device's address and port. */
  private readonly largeRequestFlows = new LruMap<string, SipConnection>(MAX_REMEMBERED_DEVICES);
  /** Connections being opened for large requests, which other large requests to the device wait for. */
  private readonly largeRequestConnects = new Map<string, Promise<SipConnection>>();
  /** Devices that took no TCP connection for a large request, and when. */
  private readonly refusedLarge = new LruMap<string, number>(MAX_REMEMBERED_DEVICES);

  /** Failures contained at the edge, by kind (faults.ts): what a soak or an operator prints. */
  readonly faults: SipFaults;
  /** The bytes of requests held, per source and in all, against the byte budget (held-bytes.ts). */
  readonly heldBytes: HeldBytes;

  constructor(readonly options: EndpointOptions) {
    this.faults = new SipFaults(options.faultLog);
    this.context = options.transactions ?? DEFAULT_CONTEXT;
    this.lingering = new LingerTable(this.context.clock, (_key, echo) => this.heldBytes.release(echo.connection.remoteAddress, preparedBytes(echo.response)));
    this.clientLingering = new LingerTable(this.context.clock, (_key, echo) => {
      if (echo.invite && this.clientInvites.get(echo.invite.dialogKey) === echo) this.clientInvites.delete(echo.invite.dialogKey);
    });
    this.limits = { ...DEFAULT_TRANSACTION_LIMITS, ...options.limits };
    this.heldBytes = new HeldBytes(this.limits, () => this.context.clock.now());
    this.sources = options.sources ?? WELCOME_ALL;
  }

  /** Lets requests too large for UDP go to the device over TCP instead (`connectionForSize`). */
  setStreamConnector(connector: StreamConnector): void {
    this.connector = connector;
  }

  /**
   * The flow a request should take (RFC 3261 §18.1.1): one headed for a UDP flow that would be larger than
   * 1300 bytes once we have stamped it (the path MTU being unknown) goes over TCP to the same address and
   * port, where a device listens as well (§18.2.1), on a connection kept for the next such request. When
   * the device refuses the connection, the request goes over UDP after all, as §18.1.1 says to retry; so it
   * does when the device has not taken the connection within 2 s (our choice: a phone that drops the
   * attempt must not hold its messages up), and the device is not asked again for a while. Requests to one
   * device that find a connection being opened wait for that one. Any other request keeps its flow.
   */
  async connectionForSize(request: SipRequest, connection: SipConnection): Promise<SipConnection> {
    const connector = this.connector;
    if (connection.transport !== 'UDP' || !connector || !this.ports.has('TCP') || this.udpSize(request, connection) <= MAX_UDP_REQUEST_BYTES) return connection;
    const remote = `${connection.remoteAddress}|${connection.remotePort}`;
    const open = this.largeRequestFlows.get(remote);
    if (open?.isOpen) return open;
    if (open) this.largeRequestFlows.delete(remote);
    const refusedAt = this.refusedLarge.get(remote);
    if (refusedAt !== undefined && this.context.clock.now() - refusedAt < LARGE_REQUEST_RETRY_MS) return connection;
    let opening = this.largeRequestConnects.get(remote);
    if (!opening) {
      opening = this.openLargeRequestFlow(connector, connection, remote).finally(() => this.largeRequestConnects.delete(remote));
      this.largeRequestConnects.set(remote, opening);
    }
    return opening;
  }

  private async openLargeRequestFlow(connector: StreamConnector, udp: SipConnection, remote: string): Promise<SipConnection> {
    try {
      const stream = await connector('TCP', udp.remoteAddress, udp.remotePort, LARGE_REQUEST_CONNECT_MS);
      // Not watched for closing: a watched flow counts as held, and this one should close when idle.
      this.largeRequestFlows.set(remote, stream);
      this.refusedLarge.delete(remote);
      return stream;
    } catch (error) {
      log.info('a large request goes over UDP: the device took no TCP connection', { remote, error: error instanceof Error ? error.message : String(error) });
      this.refusedLarge.set(remote, this.context.clock.now());
      return udp;
    }
  }

  /** The size of a request as sendRequest would put it in a datagram: with our Via, Max-Forwards and User-Agent. */
  private udpSize(request: SipRequest, connection: SipConnection): number {
    let added = 0;
    if (!request.headers.has('Via')) added += `Via: SIP/2.0/UDP ${this.sentBy(connection.transport)};branch=${generateBranch()};rport\r\n`.length;
    if (!request.headers.has('Max-Forwards')) added += 'Max-Forwards: 70\r\n'.length;
    if (!request.headers.has('User-Agent')) added += Buffer.byteLength(`User-Agent: ${this.options.userAgent}\r\n`);
    return serializeMessage(request).length + added;
  }

  /** Tells the endpoint where a transport listens, so that requests we send over it say so. */
  setListeningPort(transport: SipTransportName, port: number): void {
    this.ports.set(transport, port);
  }

  /** The sent-by of our Via on this transport (RFC 3261 §18.1.1): host, and port where one is bound. */
  sentBy(transport: SipTransportName): string {
    const host = bracketed(this.options.viaHost);
    const port = this.ports.get(transport);
    return port === undefined ? host : `${host}:${port}`;
  }

  /** Our Contact for requests and responses on this flow: where the device can reach us on the same transport. */
  contactFor(connection: SipConnection): string {
    return `<sip:pbx@${this.sentBy(connection.transport)};transport=${connection.transport.toLowerCase()}>`;
  }

  setApplication(application: SipApplication): void {
    this.application = application;
  }

  /**
   * Entry point for datagram and WebSocket transports: one complete message from one flow. Never throws:
   * whatever goes wrong with this message is contained to it (counted and logged with its source).
   */
  receive(data: Buffer, connection: SipConnection): void {
    try {
      connection.reportFaultsTo(this.faults);
      // A banned source's flow that nothing holds: parsed only to let its responses and in-dialog requests through.
      const screened = !this.admits(connection);
      if (!screened) connection.touch();
      if (isKeepAlive(data)) {
        if (!screened && isPing(data)) connection.pong();
        return;
      }
      let message;
      try {
        message = parseMessage(data);
      } catch (error) {
        if (!screened) this.rejectMalformed(error, connection);
        return;
      }
      if (screened && !this.sources.passesBan?.(message, connection)) return;
      this.handle(message, connection);
    } catch (error) {
      this.messageFailed(error, connection);
    }
  }

  /**
   * Whether everything from this flow is to be read: not when its source is banned (security.ts), unless the
   * flow holds a registration or a dialog: a ban is for guessing, not for devices that proved their password.
   * Both entry points still read, from a flow that is not admitted, what a ban spares (`passesBan`); a stream
   * connection is closed at the first message that is not such.
   */
  admits(connection: SipConnection): boolean {
    return !this.sources.isBanned(connection.remoteAddress) || connection.isHeld;
  }

  /** Entry point for stream transports, which frame and parse messages themselves. Never throws, as `receive`. */
  receiveMessage(message: SipMessage, connection: SipConnection): void {
    try {
      connection.reportFaultsTo(this.faults);
      if (!this.admits(connection) && !this.sources.passesBan?.(message, connection)) {
        // A banned address's connection that nothing holds, with something a ban does not spare: closed unanswered.
        connection.close();
        return;
      }
      connection.touch();
      this.handle(message, connection);
    } catch (error) {
      this.messageFailed(error, connection, message);
    }
  }

  private handle(message: SipMessage, connection: SipConnection): void {
    if (message.kind === 'response') this.receiveResponse(message);
    else this.receiveRequest(message, connection);
  }

  /** A failure while handling one message: counted and logged with its source; the message is dropped. */
  private messageFailed(error: unknown, connection: SipConnection, message?: SipMessage): void {
    this.faults.record('messageFailed', {
      source: sourceOf(connection),
      transport: connection.transport,
      ...(message ? { message: message.kind === 'request' ? message.method : `${message.status}` } : {}),
      ...describeError(error),
    });
  }

  /**
   * Contains a failure of the application's work on one request (a handler that threw or rejected): counted,
   * logged with the request's source, and the request answered with 500 if nothing final has been sent.
   * Never throws, so it can end any promise chain.
   */
  requestFailed(tx: ServerTransaction, error: unknown): void {
    try {
      this.faults.record('handlerFailed', { source: sourceOf(tx.connection), method: tx.request.method, ...describeError(error) });
      if (tx.pending) tx.reply(500, 'Server Internal Error');
    } catch (replyError) {
      this.faults.record('messageFailed', { source: sourceOf(tx.connection), method: tx.request.method, ...describeError(replyError) });
    }
  }

  /** Sends a request in a new client transaction; the top Via is added here. */
  sendRequest(request: SipRequest, connection: SipConnection, handler: ClientTransactionHandler): ClientTransaction {
    this.addOwnVia(request, connection);
    if (!request.headers.has('User-Agent')) request.headers.set('User-Agent', this.options.userAgent);
    const tx = new ClientTransaction(request, connection, handler, this.clientHooks, this.context);
    this.clientTransactions.set(tx.key, tx);
    if (tx.method === 'INVITE') this.clientInvites.set(tx.dialogKey, tx);
    tx.start();
    return tx;
  }

  /**
   * Resolves once every request we sent has its final response (or has timed out, or lost its flow), or
   * after `maxMs`: what a shutdown waits for, so that the BYEs it sends are retransmitted over UDP
   * (Timer E) and answered before the sockets close.
   */
  async settled(maxMs: number): Promise<void> {
    const until = performance.now() + maxMs;
    const pending = () => {
      for (const tx of this.clientTransactions.values()) if (tx.state === 'calling' || tx.state === 'trying' || tx.state === 'proceeding') return true;
      return false;
    };
    while (pending() && performance.now() < until) await new Promise((resolve) => setTimeout(resolve, SETTLE_POLL_MS));
  }

  /** Sends a request outside any transaction: an ACK for a 2xx (RFC 3261 §13.2.2.4). */
  sendStateless(request: SipRequest, connection: SipConnection): void {
    this.addOwnVia(request, connection);
    // RFC 6026 §8.4: the INVITE transaction resends this ACK if the 2xx it answers comes again.
    if (request.method === 'ACK') this.clientInvites.get(inviteDialogKey(request))?.rememberAck(request);
    connection.send(request);
  }

  /**
   * RFC 3261 §13.2.2.4: a 2xx from a second fork downstream of an INVITE whose first 2xx the TU has taken is
   * acknowledged, then its dialog is ended with BYE. A user agent keeps one dialog per INVITE it sends.
   */
  private hangUpAnotherFork(response: SipResponse, echo: ClientEcho): void {
    const invite = echo.invite;
    if (!invite) return;
    try {
      const to = response.headers.get('To') ?? '';
      const contact = response.headers.get('Contact');
      const recordRoute = response.headers.getAll('Record-Route');
      const dialog = new Dialog({
        callId: invite.callId,
        localTag: parseNameAddr(invite.from).params.tag ?? '',
        remoteTag: parseNameAddr(to).params.tag ?? undefined,
        localUri: invite.from,
        remoteUri: to,
        remoteTarget: contact ? formatTarget(contact) : invite.uri,
        localCseq: invite.cseq,
        // §12.1.2: the route set is the response's Record-Route, reversed; without one, the route the INVITE took.
        routeSet: recordRoute.length > 0 ? recordRoute.reverse() : [...invite.route],
        connection: echo.connection,
        state: 'confirmed',
      });
      log.info('a second fork answered; hanging it up', { callId: dialog.callId });
      this.sendStateless(dialog.createAck(invite.cseq), echo.connection);
      this.sendRequest(dialog.createRequest('BYE'), echo.connection, () => undefined);
    } catch (error) {
      log.debug('could not hang up a second fork', { error });
    }
  }

  private addOwnVia(request: SipRequest, connection: SipConnection): void {
    if (!request.headers.has('Via')) {
      // RFC 3581: over UDP we ask for rport so a device behind NAT answers to the port we sent from.
      const rport = connection.transport === 'UDP' ? ';rport' : '';
      request.headers.prepend('Via', `SIP/2.0/${connection.transport} ${this.sentBy(connection.transport)};branch=${generateBranch()}${rport}`);
    }
    if (!request.headers.has('Max-Forwards')) request.headers.set('Max-Forwards', '70');
  }

  private receiveRequest(request: SipRequest, connection: SipConnection): void {
    stampVia(request, connection);
    if (request.method !== 'ACK' && !answerableOver(request, connection)) {
      // RFC 3261 §18.2.2 would answer the sent-by port, and port 0 is nowhere: the 400 goes where the
      // request came from, as RFC 3581 would have sent it. An ACK is never answered, so its Via is no matter.
      if (this.sources.mayAnswer(connection.remoteAddress)) {
        stampVia(request, connection, true);
        connection.send(createResponse(request, 400, 'Bad Request - Via sent-by port 0'));
      }
      return;
    }
    // Every request has a key: a Via without an RFC 3261 branch is matched the RFC 2543 way (§17.2.3).
    const key = serverTransactionKey(request);
    if (!key) return;
    const existing = this.serverTransactions.get(key);
    if (!existing) {
      const lingering = this.lingering.get(key);
      if (lingering) {
        // A copy of an answered request gets the answer again; a copy of the ACK, nothing (RFC 3261 §17.2).
        if (request.method !== 'ACK' && lingering.response) lingering.connection.sendPrepared(lingering.response);
        return;
      }
    }
    if (request.method === 'ACK') {
      // An ACK matching an INVITE transaction that sent a failure completes it (RFC 3261 §17.2.1). One
      // matching a transaction that sent a 2xx is from an RFC 2543 device, whose ACK reuses the INVITE's Via,
      // and acknowledges that 2xx like any other (§17.2.3: matched by the To tag of our response).
      if (existing && existing.state !== 'accepted') {
        existing.acknowledge();
        return;
      }
      // An ACK with a branch of its own acknowledges a 2xx (RFC 3261 §17.1.1.3): the 2xx stops being resent.
      this.acceptedInvites.get(inviteDialogKey(request))?.acknowledge2xx();
      this.application?.onAck(request, connection);
      return;
    }
    if (existing) {
      existing.absorbRetransmission();
      return;
    }
    const perFlow = this.sources.isTrusted(connection.remoteAddress) ? this.limits.maxPendingPerTrustedFlow : this.limits.maxPendingPerFlow;
    // At the limit, lingering transactions make room for new requests, those that would end first first: new
    // work matters more than a late copy of old work, which at worst is answered afresh. Transactions still
    // waiting for an ACK keep their place.
    while (this.serverTransactions.size + this.lingering.size >= this.limits.maxServerTransactions && this.lingering.evictFirst());
    if (this.serverTransactions.size + this.lingering.size >= this.limits.maxServerTransactions || (this.pendingByFlow.get(connection) ?? 0) >= perFlow) {
      log.warn('overloaded, refusing a request', { connection: connection.id, method: request.method, transactions: this.serverTransactions.size });
      connection.send(createResponse(request, 503, 'Service Unavailable', { headers: [['Retry-After', `${this.limits.retryAfterS}`]] }));
      return;
    }
    const bytes = messageBytes(request);
    if (!this.makeRoomFor(connection, bytes)) {
      this.refuseForBytes(request, connection, bytes);
      return;
    }
    const tx = new ServerTransaction(key, request, connection, this.serverHooks, this.context);
    this.serverTransactions.set(key, tx);
    this.heldBytes.hold(tx, connection.remoteAddress, bytes);
    this.pending.add(tx);
    this.pendingByFlow.set(connection, (this.pendingByFlow.get(connection) ?? 0) + 1);
    if (!this.application) {
      tx.reply(503, 'Service Unavailable');
      return;
    }
    if (tx.isInvite && !tx.toTagged) {
      // RFC 3261 §8.2.2.2: the same INVITE (Call-ID, From tag, CSeq) by another branch is a copy a forking
      // proxy sent us twice; answering it would ring the callee twice.
      const open = this.openInvites.get(tx.dialogKey);
      if (open) {
        tx.reply(482, 'Loop Detected');
        return;
      }
      this.openInvites.set(tx.dialogKey, tx);
    }
    try {
      this.application.onRequest(tx);
    } catch (error) {
      this.requestFailed(tx, error);
    }
  }

  /** One set of hooks for every server transaction: a lingering transaction keeps no closure of its own. */
  private readonly serverHooks: ServerTransactionHooks = {
    answered: (done) => {
      this.release(done);
      if (done.isInvite && this.openInvites.get(done.dialogKey) === done) this.openInvites.delete(done.dialogKey);
      if (done.state === 'accepted') this.acceptedInvites.set(done.dialogKey, done);
    },
    linger: (done, ms) => {
      this.forget(done);
      const echo = done.echo;
      this.lingering.add(done.key, echo, ms);
      // The response kept is counted in place of the request: as large when the request's headers were.
      this.heldBytes.charge(echo.connection.remoteAddress, preparedBytes(echo.response));
    },
    terminated: (done) => this.forget(done),
  };

  private forget(tx: ServerTransaction): void {
    this.release(tx);
    this.heldBytes.drop(tx);
    this.serverTransactions.delete(tx.key);
    if (tx.isInvite && this.acceptedInvites.get(tx.dialogKey) === tx) this.acceptedInvites.delete(tx.dialogKey);
    if (tx.isInvite && this.openInvites.get(tx.dialogKey) === tx) this.openInvites.delete(tx.dialogKey);
  }

  /**
   * Whether a new request of `bytes` fits the byte budget of its source and of all. Beyond the total,
   * lingering transactions make room as they do at the transaction limit; beyond its source's share, the
   * request waits for that source's own transactions to end.
   */
  private makeRoomFor(connection: SipConnection, bytes: number): boolean {
    const trusted = this.sources.isTrusted(connection.remoteAddress);
    while (!this.heldBytes.fitsTotal(bytes) && this.lingering.evictFirst());
    return this.heldBytes.fits(connection.remoteAddress, bytes, trusted);
  }

  /**
   * RFC 3261 §21.5.4: 503 with Retry-After, within the source's allowance of answers (security.ts); beyond
   * it the request is dropped: a flood of large requests would otherwise draw as many large answers.
   */
  private refuseForBytes(request: SipRequest, connection: SipConnection, bytes: number): void {
    this.heldBytes.refused(connection.remoteAddress, bytes);
    if (!this.sources.mayAnswer(connection.remoteAddress)) return;
    connection.send(createResponse(request, 503, 'Service Unavailable', { headers: [['Retry-After', `${this.limits.retryAfterS}`]] }));
  }

  /**
   * A stream transport tells how much more (or, negative, less) a flow holds of a message not yet framed;
   * it counts in the flow's source's byte budget.
   */
  holdInput(connection: SipConnection, delta: number): void {
    if (delta > 0) this.heldBytes.charge(connection.remoteAddress, delta);
    else this.heldBytes.release(connection.remoteAddress, -delta);
  }

  /** Whether a flow's source is within the byte budget: a stream transport stops reading from it while not. */
  inputFits(connection: SipConnection): boolean {
    return !this.heldBytes.over(connection.remoteAddress, this.sources.isTrusted(connection.remoteAddress));
  }

  private readonly clientHooks: ClientTransactionHooks = {
    terminated: (done) => this.forgetClient(done),
    anotherFork: (response, echo) => this.hangUpAnotherFork(response, echo),
    linger: (done, ms) => {
      const echo = done.echo;
      this.forgetClient(done);
      if (!echo) return;
      this.clientLingering.add(done.key, echo, ms);
      // The TU's ACK for the 2xx is remembered by what is left, if it comes only now.
      if (echo.invite) this.clientInvites.set(echo.invite.dialogKey, echo);
    },
  };

  private forgetClient(tx: ClientTransaction): void {
    this.clientTransactions.delete(tx.key);
    if (tx.method === 'INVITE' && this.clientInvites.get(tx.dialogKey) === tx) this.clientInvites.delete(tx.dialogKey);
  }

  /**
   * Finds the INVITE server transaction a CANCEL refers to (RFC 3261 §9.2): 'finished' when it only lingers,
   * having sent its final response and had it acknowledged.
   */
  findInviteTransaction(cancel: SipRequest): ServerTransaction | 'finished' | undefined {
    const key = serverTransactionKey({ ...cancel, method: 'INVITE' });
    if (!key) return undefined;
    return this.serverTransactions.get(key) ?? (this.lingering.get(key) ? 'finished' : undefined);
  }

  private receiveResponse(response: SipResponse): void {
    const top = response.headers.get('Via');
    const branch = top ? parseVia(top).params.branch : undefined;
    const cseq = response.headers.get('CSeq');
    const method = cseq?.trim().split(/\s+/)[1];
    if (!branch || !method) return;
    const key = clientTransactionKey(branch, method);
    const tx = this.clientTransactions.get(key);
    if (tx) {
      tx.receive(response);
      return;
    }
    const lingering = this.clientLingering.get(key);
    if (lingering) lingering.receive(response, this.clientHooks.anotherFork);
    else log.debug('stray response', { status: response.status, method });
  }

  private release(tx: ServerTransaction): void {
    if (!this.pending.delete(tx)) return;
    const left = (this.pendingByFlow.get(tx.connection) ?? 1) - 1;
    if (left <= 0) this.pendingByFlow.delete(tx.connection);
    else this.pendingByFlow.set(tx.connection, left);
  }

  /**
   * Answers a message that could not be parsed, when it is a request and says enough to address a response
   * (RFC 3261 §8.2, RFC 4475): a top Via to send it by, and a CSeq for the client to match it with
   * (§17.1.3); From, To and Call-ID are copied when there (RFC 4475 §3.3.1 asks for a 400 even without them).
   * The answer is 400 with the reason, or 505 or 513 where the parser says so. A response is never answered
   * (§8.2 concerns requests; a malformed response is discarded): whether the message was one is read from
   * its start line, which the parser records in the error; `isRequest` is for a caller that knows better.
   * Never throws. True when an answer went out.
   */
  rejectMalformed(error: unknown, connection: SipConnection, isRequest?: boolean): boolean {
    try {
      if (!(error instanceof SipParseError)) {
        this.faults.record('messageFailed', { source: sourceOf(connection), transport: connection.transport, ...describeError(error) });
        return false;
      }
      this.faults.record('malformed', { source: sourceOf(connection), transport: connection.transport, reason: error.reason });
      const partial = error.partial;
      const request = isRequest ?? error.kind === 'request';
      if (!request || !partial?.has('Via') || !partial.has('CSeq')) return false;
      // Garbage answered without limit would make us a reflector for spoofed sources: each answer counts.
      if (!this.sources.mayAnswer(connection.remoteAddress)) return false;
      const fakeRequest: SipRequest = { kind: 'request', method: 'INVALID', uri: 'sip:invalid', headers: partial, body: Buffer.alloc(0) };
      try {
        // As for a request that parsed, with the source's port in place of a sent-by port we cannot use.
        stampVia(fakeRequest, connection, !answerableOver(fakeRequest, connection));
      } catch {
        // A Via we cannot read is echoed as it came; a UDP flow then answers the packet's source.
      }
      connection.send(createResponse(fakeRequest, error.status, error.reason));
      return true;
    } catch (answerError) {
      this.faults.record('messageFailed', { source: sourceOf(connection), transport: connection.transport, ...describeError(answerError) });
      return false;
    }
  }
}

function bracketed(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

/** A flow's remote address and port, as a fault is logged with it. */
function sourceOf(connection: SipConnection): string {
  return `${connection.remoteAddress}:${connection.remotePort}`;
}

function describeError(error: unknown): { error: string; at?: string } {
  if (!(error instanceof Error)) return { error: String(error) };
  const at = error.stack?.split('\n').slice(1, 4).map((line) => line.trim()).join(' < ');
  return at ? { error: error.message, at } : { error: error.message };
}

function isKeepAlive(data: Buffer): boolean {
  // RFC 5626 §4.4.1: a CRLF (or double CRLF) on its own is a keep-alive ping.
  for (const byte of data) if (byte !== 0x0d && byte !== 0x0a) return false;
  return true;
}
