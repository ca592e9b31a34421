/**
 * Instant messages between users of one organization (RFC 3428 MESSAGE), delivered to every registered
 * device of the recipient at once; the first device to accept (2xx) answers the sender. As for calls, an
 * unknown extension gets 404 and a user with no device online 480.
 *
 * The PBX relays each MESSAGE as a new request of its own (it is a B2BUA, not a proxy): the devices see
 * the sender's identity in From and the PBX's own Call-ID. Bodies are passed on as they are.
 */
import type { Kysely } from 'kysely';
import { createLogger } from '../../log';
import type { Database } from '../../store/schema';
import type { SipAuthenticator } from '../../sip/edge/authenticator';
import type { SipConnection } from '../../sip/transport/connection';
import type { SipEndpoint } from '../../sip/endpoint';
import { authenticateLocalRequest } from '../../routing/local-target';
import { createResponse, formatNameAddr, formatUri, generateCallId, generateTag, hopsLeft, parseUri, SipHeaders } from '../../sip/syntax/message';
import type { SipRequest, SipResponse } from '../../sip/syntax/message';
import type { Binding, Registrar } from '../../presence/registrar';
import { aorKey } from '../../presence/registrar';
import type { ServerTransaction } from '../../sip/transaction/transactions';

const log = createLogger('messages');

/**
 * RFC 3428 §8 keeps a MESSAGE under 1300 bytes where it could travel over UDP, and pager mode is for short
 * messages: a longer body is refused here. One that fits, but whose request as relayed would not, goes to a
 * UDP device over TCP where the device takes a connection (SipEndpoint.connectionForSize).
 */
export const MAX_MESSAGE_BODY_BYTES = 1300;

/** The sender's transaction must end before its own Timer F (32 s); a device that has not answered by then never will in time. */
export const DELIVERY_TIMEOUT_MS = 10_000;

/** Statuses that say "this device is not there right now", as opposed to a refusal worth passing on. */
const UNAVAILABLE = new Set([408, 480, 503]);

export interface MessageRouterDeps {
  db: Kysely<Database>;
  endpoint: Pick<SipEndpoint, 'sendRequest' | 'connectionForSize'>;
  registrar: Pick<Registrar, 'lookup'>;
  authenticator: Pick<SipAuthenticator, 'authenticate'>;
}

export class MessageRouter {
  /** The last message relayed to each device's flow: the next one waits for it to go, so that they arrive in order. */
  private readonly lastToFlow = new WeakMap<SipConnection, Promise<void>>();

  constructor(private readonly deps: MessageRouterDeps) {}

  async handleMessage(tx: ServerTransaction): Promise<void> {
    const request = tx.request;
    if (tx.toTagged) {
      // No dialog of ours carries MESSAGE; in-call messages are not offered.
      tx.reply(481, 'Call/Transaction Does Not Exist');
      return;
    }
    if (request.body.length > MAX_MESSAGE_BODY_BYTES) {
      tx.reply(413, 'Request Entity Too Large');
      return;
    }
    if (request.body.length > 0 && !request.headers.has('Content-Type')) {
      tx.reply(400, 'Bad Request - A body needs a Content-Type');
      return;
    }
    const found = await authenticateLocalRequest(tx, this.deps.authenticator, this.deps.db);
    if (!found) return;
    const { caller: sender, user: recipient } = found;
    const bindings = this.deps.registrar.lookup(aorKey(sender.organizationId, recipient.extension));
    if (bindings.length === 0) {
      tx.reply(480, 'Temporarily Unavailable');
      return;
    }
    log.debug('relaying message', { from: sender.extension, to: recipient.extension, devices: bindings.length });

    const from = formatNameAddr({
      displayName: sender.displayName,
      uri: parseUri(`sip:${sender.extension}@${sender.domain}`),
      params: { tag: generateTag() },
    });
    const to = `<sip:${recipient.extension}@${sender.domain}>`;
    const failures: number[] = [];
    let answered = false;
    const timer = setTimeout(() => settle(480, 'Temporarily Unavailable'), DELIVERY_TIMEOUT_MS);
    const settle = (status: number, reason: string | undefined) => {
      if (answered) return;
      answered = true;
      clearTimeout(timer);
      if (tx.pending) tx.reply(status, reason);
    };
    const onResponse = (response: SipResponse) => {
      if (response.status < 200 || answered) return;
      if (response.status < 300) {
        settle(response.status, response.reason);
        return;
      }
      failures.push(response.status);
      if (failures.length < bindings.length) return;
      // Every device refused: pass on a real refusal (busy, declined, unsupported type); otherwise nobody is there.
      const refusal = failures.find((status) => !UNAVAILABLE.has(status));
      if (refusal === undefined) settle(480, 'Temporarily Unavailable');
      else settle(refusal, undefined);
    };
    for (const binding of bindings) {
      const message = relayedMessage(request, binding, from, to);
      const flow = binding.connection;
      // A message that would not fit a datagram goes to a UDP device over TCP (RFC 3261 §18.1.1), once
      // the connection is open; one sent after it to the same device waits, rather than overtake it.
      const sent = (this.lastToFlow.get(flow) ?? Promise.resolve())
        .then(() => this.deps.endpoint.connectionForSize(message, flow))
        .then((connection) => {
          this.deps.endpoint.sendRequest(message, connection, onResponse);
        })
        .catch((error: unknown) => {
          log.warn('could not relay a message', { error });
          onResponse(createResponse(message, 503, 'Service Unavailable'));
        });
      this.lastToFlow.set(flow, sent);
    }
  }
}

function relayedMessage(original: SipRequest, binding: Binding, from: string, to: string): SipRequest {
  const headers = new SipHeaders();
  // RFC 3327 §5.4: a binding registered through edge proxies is reached through them, in Path order.
  for (const hop of binding.path) headers.append('Route', hop);
  headers.set('From', from);
  headers.set('To', to);
  headers.set('Call-ID', generateCallId());
  headers.set('CSeq', '1 MESSAGE');
  headers.set('Max-Forwards', String(hopsLeft(original) - 1));
  for (const name of ['Content-Type', 'Date', 'Content-Disposition']) {
    const value = original.headers.get(name);
    if (value !== undefined) headers.set(name, value);
  }
  return { kind: 'request', method: 'MESSAGE', uri: formatUri(binding.contact.uri), headers, body: original.body };
}

