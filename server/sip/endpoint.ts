/**
 * The SIP endpoint: parses what arrives on every flow, matches it to transactions, and hands new requests
 * to the application (registrar, call engine). It is the one place that turns bytes into messages, so a
 * malformed message is answered (400 with a reason) or dropped here and never reaches the layers above.
 */
import { createLogger } from '../log';
import type { SipConnection } from './connection';
import { createResponse, generateBranch, parseMessage, parseVia, SipParseError } from './message';
import type { SipRequest, SipResponse } from './message';
import { ClientTransaction, clientTransactionKey, ServerTransaction, serverTransactionKey } from './transactions';
import type { ClientTransactionHandler } from './transactions';

const log = createLogger('sip');

export interface SipApplication {
  /** A new request in its own server transaction (everything but ACK). */
  onRequest(tx: ServerTransaction): void;
  /** An ACK that matches no INVITE server transaction: it acknowledges a 2xx and belongs to a dialog. */
  onAck(request: SipRequest, connection: SipConnection): void;
}

export interface EndpointOptions {
  /** Host we put in our own Via headers and Contact URIs. */
  viaHost: string;
  userAgent: string;
}

export class SipEndpoint {
  private readonly serverTransactions = new Map<string, ServerTransaction>();
  private readonly clientTransactions = new Map<string, ClientTransaction>();
  private application: SipApplication | undefined;

  constructor(readonly options: EndpointOptions) {}

  setApplication(application: SipApplication): void {
    this.application = application;
  }

  get pendingTransactions(): number {
    return this.serverTransactions.size + this.clientTransactions.size;
  }

  /** Entry point for every transport: one complete message from one flow. */
  receive(data: Buffer, connection: SipConnection): void {
    if (isKeepAlive(data)) return;
    let message;
    try {
      message = parseMessage(data);
    } catch (error) {
      this.rejectMalformed(error, data, connection);
      return;
    }
    try {
      if (message.kind === 'response') this.receiveResponse(message);
      else this.receiveRequest(message, connection);
    } catch (error) {
      log.error('failed to handle message', { connection: connection.id, error });
    }
  }

  /** Sends a request in a new client transaction; the top Via is added here. */
  sendRequest(request: SipRequest, connection: SipConnection, handler: ClientTransactionHandler): ClientTransaction {
    if (!request.headers.has('Via')) {
      request.headers.prepend('Via', `SIP/2.0/${connection.transport} ${this.options.viaHost};branch=${generateBranch()}`);
    }
    if (!request.headers.has('Max-Forwards')) request.headers.set('Max-Forwards', '70');
    if (!request.headers.has('User-Agent')) request.headers.set('User-Agent', this.options.userAgent);
    const tx = new ClientTransaction(request, connection, handler, (done) => this.clientTransactions.delete(done.key));
    this.clientTransactions.set(tx.key, tx);
    tx.start();
    return tx;
  }

  /** Sends a request outside any transaction: an ACK for a 2xx (RFC 3261 §13.2.2.4). */
  sendStateless(request: SipRequest, connection: SipConnection): void {
    if (!request.headers.has('Via')) {
      request.headers.prepend('Via', `SIP/2.0/${connection.transport} ${this.options.viaHost};branch=${generateBranch()}`);
    }
    if (!request.headers.has('Max-Forwards')) request.headers.set('Max-Forwards', '70');
    connection.send(request);
  }

  private receiveRequest(request: SipRequest, connection: SipConnection): void {
    const key = serverTransactionKey(request);
    if (!key) {
      // RFC 3261 §8.1.1.7: we only support RFC 3261 branches; older clients are not served.
      connection.send(createResponse(request, 400, 'Bad Request - Missing branch parameter'));
      return;
    }
    const existing = this.serverTransactions.get(key);
    if (request.method === 'ACK') {
      if (existing) existing.acknowledge();
      else this.application?.onAck(request, connection);
      return;
    }
    if (existing) {
      existing.absorbRetransmission();
      return;
    }
    const tx = new ServerTransaction(key, request, connection, (done) => this.serverTransactions.delete(done.key));
    this.serverTransactions.set(key, tx);
    if (!this.application) {
      tx.reply(503, 'Service Unavailable');
      return;
    }
    try {
      this.application.onRequest(tx);
    } catch (error) {
      log.error('request handler failed', { method: request.method, error });
      if (tx.state === 'trying' || tx.state === 'proceeding') tx.reply(500, 'Server Internal Error');
    }
  }

  /** Finds the INVITE server transaction a CANCEL refers to (RFC 3261 §9.2). */
  findInviteTransaction(cancel: SipRequest): ServerTransaction | undefined {
    const key = serverTransactionKey({ ...cancel, method: 'INVITE' });
    return key ? this.serverTransactions.get(key) : undefined;
  }

  private receiveResponse(response: SipResponse): void {
    const top = response.headers.get('Via');
    const branch = top ? parseVia(top).params.branch : undefined;
    const cseq = response.headers.get('CSeq');
    const method = cseq?.trim().split(/\s+/)[1];
    if (!branch || !method) return;
    const tx = this.clientTransactions.get(clientTransactionKey(branch, method));
    if (!tx) {
      log.debug('stray response', { status: response.status, method });
      return;
    }
    tx.receive(response);
  }

  private rejectMalformed(error: unknown, data: Buffer, connection: SipConnection): void {
    if (!(error instanceof SipParseError)) {
      log.error('parser failed unexpectedly', { connection: connection.id, error });
      return;
    }
    const partial = error.partial;
    const looksLikeRequest = !data.subarray(0, 8).toString('latin1').startsWith('SIP/');
    // RFC 3261 §8.2 / RFC 4475: answer a malformed request with 400 when we can address the response;
    // a malformed response, or a request without the headers to answer it, is dropped.
    if (looksLikeRequest && partial?.has('Via') && partial.has('Call-ID') && partial.has('CSeq') && partial.has('From') && partial.has('To')) {
      const fakeRequest: SipRequest = { kind: 'request', method: 'INVALID', uri: 'sip:invalid', headers: partial, body: Buffer.alloc(0) };
      try {
        connection.send(createResponse(fakeRequest, 400, error.reason));
      } catch (sendError) {
        log.debug('could not answer a malformed request', { error: sendError });
      }
    }
    log.debug('malformed message', { connection: connection.id, reason: error.reason });
  }
}

function isKeepAlive(data: Buffer): boolean {
  // RFC 5626 §4.4.1: a CRLF (or double CRLF) on its own is a keep-alive ping.
  for (const byte of data) if (byte !== 0x0d && byte !== 0x0a) return false;
  return true;
}
