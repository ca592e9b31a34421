/**
 * The PBX's SIP service: endpoint, authenticator, registrar, call engine, subscriptions and messages wired
 * together, with the method dispatch between them. Every new request passes the security guard first.
 * Transports feed it messages; it owns everything learned from them.
 */
import type { Kysely } from 'kysely';
import type { MediaConfig } from './media/legs/webrtc-leg';
import type { Database } from './store/schema';
import { SipAuthenticator } from './sip/edge/authenticator';
import { CallEngine } from './calls';
import { ConferenceService } from './features/conference';
import { ReplacingInvites } from './features/pickup';
import { TransferService } from './features/transfer';
import { SipEndpoint } from './sip/endpoint';
import type { TransactionLimits } from './sip/endpoint';
import { StoreVoicemailCounter } from './store/voicemail-counts';
import { hopsLeft } from './sip/syntax/message';
import { MessageRouter } from './features/messaging';
import { Registrar } from './presence/registrar';
import { SipSecurity } from './sip/edge/security';
import type { SecurityOptions } from './sip/edge/security';
import { OrganizationDialplan } from './routing/dialplan';
import { AnsweringRuleBook } from './routing/answering-rule-book';
import type { RuleChange } from './routing/answering-rule-book';
import { RuleAnsweringPlanner } from './routing/answering-planner';
import type { CallServices } from './calls';
import { OrganizationDialPolicy } from './routing/dial-policy';
import type { DialPolicy } from './routing/dial-policy';
import { digestIdentities } from './store/digest-identity';
import { ALLOW_EVENTS, SubscriptionManager } from './presence/subscriptions';
import type { ServerTransaction } from './sip/transaction/transactions';
import { WebSocketFlows } from './sip/transport/ws-transport';
import type { SipWebSocketFlows } from './api/app';

const ALLOWED = 'INVITE, ACK, CANCEL, BYE, OPTIONS, REGISTER, UPDATE, INFO, REFER, NOTIFY, SUBSCRIBE, MESSAGE';
const SERVED_METHODS = new Set(ALLOWED.split(', '));
/** Option tags (RFC 3261 §19.2) a request may require of us: session timers, Replaces, Path, Outbound and norefersub (RFC 4488). */
const SUPPORTED_EXTENSIONS = new Set(['timer', 'replaces', 'path', 'outbound', 'norefersub']);
/** Request-URI schemes we serve; anything else gets 416 (RFC 3261 §8.2.2.1). */
const SERVED_SCHEMES = new Set(['sip', 'sips', 'tel']);

export interface SipServiceOptions {
  db: Kysely<Database>;
  media: MediaConfig;
  /** Host for our Via and Contact headers. */
  host: string;
  userAgent: string;
  /** Rate limits, bans, scanner list, trusted sources; defaults in DEFAULT_SECURITY_OPTIONS. */
  security?: Partial<SecurityOptions>;
  /** See CallEngineDeps.mediaTimeoutMs; off when left out. */
  mediaTimeoutMs?: number;
  /** The endpoint's transaction limits and byte budget; defaults in DEFAULT_TRANSACTION_LIMITS. */
  limits?: Partial<TransactionLimits>;
  /** The services the PBX answers calls for (features/voicemail); calls end as they always did without them. */
  services?: CallServices;
}

export class SipService {
  readonly endpoint: SipEndpoint;
  readonly registrar: Registrar;
  readonly calls: CallEngine;
  /** Transfer (REFER from desk phones, the app's REST command): features/transfer. */
  readonly transfers: TransferService;
  /** Merging calls into a conference mixed at the PBX, for the app's REST commands: features/conference. */
  readonly conferences: ConferenceService;
  readonly security: SipSecurity;
  readonly subscriptions: SubscriptionManager;
  readonly messages: MessageRouter;
  readonly dialPolicy: DialPolicy;
  /** Every call to a user follows the user's active answering rule; the API tells it when rules change. */
  readonly answeringPlanner: RuleAnsweringPlanner;

  constructor(options: SipServiceOptions) {
    // A ban lets requests in the call engine's dialogs through (security.ts); asked only once requests flow.
    this.security = new SipSecurity(options.security, { knowsDialog: (request) => this.calls.knowsDialog(request) });
    this.endpoint = new SipEndpoint({ viaHost: options.host, userAgent: options.userAgent, sources: this.security, limits: options.limits });
    // The SIP edge checks digests over a credentials interface; the store's implementation is handed in here.
    const authenticator = new SipAuthenticator(digestIdentities(options.db), { gate: this.security });
    this.dialPolicy = new OrganizationDialPolicy(options.db);
    this.registrar = new Registrar(authenticator);
    const dialplan = new OrganizationDialplan(options.db, this.dialPolicy);
    this.answeringPlanner = new RuleAnsweringPlanner(options.db, new AnsweringRuleBook(options.db));
    this.calls = new CallEngine({
      db: options.db,
      endpoint: this.endpoint,
      registrar: this.registrar,
      authenticator,
      media: options.media,
      contactHost: options.host,
      dialplan,
      mediaTimeoutMs: options.mediaTimeoutMs ?? 0,
      planner: this.answeringPlanner,
      services: options.services,
    });
    this.transfers = new TransferService({ calls: this.calls, db: options.db, registrar: this.registrar, dialplan });
    this.conferences = new ConferenceService(this.calls);
    const replacing = new ReplacingInvites(this.calls);
    this.calls.replacingInvites = (tx, user, replaces) => replacing.handleReplacingInvite(tx, user, replaces);
    this.subscriptions = new SubscriptionManager({
      db: options.db,
      endpoint: this.endpoint,
      authenticator,
      voicemail: new StoreVoicemailCounter(options.db),
      dialogStates: this.calls,
      contactHost: options.host,
    });
    this.messages = new MessageRouter({ db: options.db, endpoint: this.endpoint, registrar: this.registrar, authenticator });
    this.endpoint.setApplication({
      onRequest: (tx) => this.dispatch(tx),
      onAck: (request) => this.calls.handleAck(request),
    });
  }

  /** A set of SIP WebSocket flows (RFC 7118) for one HTTP server, each message fed to the endpoint (api/app.ts). */
  openWebSocketFlows(): SipWebSocketFlows {
    const flows = new WebSocketFlows();
    return {
      accept: (socket, secure, remoteAddress, remotePort) =>
        flows.accept(socket, secure ? 'WSS' : 'WS', remoteAddress, remotePort, (data, from) => this.endpoint.receive(data, from))?.id,
      closeAll: () => flows.closeAll(),
    };
  }

  /** A user's answering rules, frames or their organization's time zone changed (the API's rule book says so). */
  answeringRulesChanged(change: RuleChange): void {
    this.answeringPlanner.rulesChanged(change);
  }

  shutdown(): void {
    this.subscriptions.shutdown();
    this.calls.shutdown();
    this.registrar.close();
  }

  private dispatch(tx: ServerTransaction): void {
    // A handler's failure is this request's alone: counted, answered 500 if it can be, and the catch itself
    // never throws, so no rejection is left unhandled (endpoint.requestFailed).
    const run = (work: Promise<void>) => work.catch((error: unknown) => this.endpoint.requestFailed(tx, error));
    if (this.security.guard(tx) !== 'pass') return;
    if (SERVED_METHODS.has(tx.request.method) && refusedByHeaders(tx)) return;
    switch (tx.request.method) {
      case 'REGISTER':
        void run(this.registrar.handleRegister(tx));
        return;
      case 'INVITE':
        void run(this.calls.handleInvite(tx));
        return;
      case 'CANCEL':
        this.calls.handleCancel(tx);
        return;
      case 'BYE':
        this.calls.handleBye(tx);
        return;
      case 'UPDATE':
        void run(this.calls.handleUpdate(tx));
        return;
      case 'INFO':
        this.calls.handleInfo(tx);
        return;
      case 'REFER':
        void run(this.transfers.handleRefer(tx));
        return;
      case 'NOTIFY':
        this.calls.handleNotify(tx);
        return;
      case 'SUBSCRIBE':
        void run(this.subscriptions.handleSubscribe(tx));
        return;
      case 'MESSAGE':
        void run(this.messages.handleMessage(tx));
        return;
      case 'OPTIONS':
        // In a dialog, OPTIONS asks whether the call is still there (RFC 3261 §11, §12.2.2).
        if (tx.toTagged && !this.calls.knowsDialog(tx.request)) {
          tx.reply(481, 'Call/Transaction Does Not Exist');
          return;
        }
        tx.reply(200, 'OK', { headers: [['Allow', ALLOWED], ['Accept', 'application/sdp'], ['Allow-Events', ALLOW_EVENTS]] });
        return;
      default:
        // RFC 3261 §8.2.1: a method we know of but do not serve gets 405 with Allow; 501 for the unknown.
        tx.reply(['PRACK', 'PUBLISH'].includes(tx.request.method) ? 405 : 501, undefined, {
          headers: [['Allow', ALLOWED]],
        });
    }
  }
}

/**
 * RFC 3261 §8.2.2: a Request-URI in a scheme we do not serve gets 416, and a Require naming an extension
 * we lack gets 420 with Unsupported listing it (§8.2.2.3). CANCEL is exempt from Require (§8.2.2.3).
 * A new call or message, which the PBX relays to devices, with no hops left gets 483 (RFC 7332 §3, RFC 3261
 * §16.3): that stops loops through the PBX, a device forwarding its calls back to us, say.
 * True when the request has been answered here.
 */
function refusedByHeaders(tx: ServerTransaction): boolean {
  const request = tx.request;
  const colon = request.uri.indexOf(':');
  const scheme = colon > 0 ? request.uri.slice(0, colon).toLowerCase() : '';
  if (!SERVED_SCHEMES.has(scheme)) {
    tx.reply(416, 'Unsupported URI Scheme');
    return true;
  }
  if ((request.method === 'INVITE' || request.method === 'MESSAGE') && !tx.toTagged && hopsLeft(request) === 0) {
    tx.reply(483, 'Too Many Hops');
    return true;
  }
  if (request.method === 'CANCEL') return false;
  const unsupported: string[] = [];
  for (const value of request.headers.getAll('Require')) {
    for (const tag of value.split(',')) {
      const trimmed = tag.trim();
      if (trimmed && !SUPPORTED_EXTENSIONS.has(trimmed.toLowerCase()) && !unsupported.includes(trimmed)) unsupported.push(trimmed);
    }
  }
  if (unsupported.length === 0) return false;
  tx.reply(420, 'Bad Extension', { headers: [['Unsupported', unsupported.join(', ')]] });
  return true;
}
