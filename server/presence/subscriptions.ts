/**
 * Why past 500 lines: one notifier for two event packages that share the subscription lifecycle (RFC 6665
 * expiry, refresh, termination); the next package (presence, park) is the moment to give each package its
 * file.
 *
 * SIP-specific event notification (RFC 6665): the PBX as notifier for the packages a desk phone asks for.
 *
 * - `message-summary` (RFC 3842): a user's own mailbox, for the message-waiting lamp. Counts come from a
 *   `VoicemailCounter` (server/store/voicemail-counts.ts: new messages as new, saved ones as old);
 *   `mailboxChanged` sends fresh counts when a message lands, is marked or is deleted (features/voicemail).
 * - `dialog` (RFC 4235): the lines of any extension of the subscriber's organization, for busy lamps,
 *   fed by the call engine's `callStateChanged` events (`DialogStateSource`).
 *
 * Each subscription is a dialog of its own; it is refreshed or ended (Expires: 0) by in-dialog SUBSCRIBEs,
 * ends when it expires, and dies with the flow that carried it (no final NOTIFY can reach the device then).
 *
 * Subscription states:   active ──► terminated
 * (an initial SUBSCRIBE with Expires: 0 is a fetch: one NOTIFY, already terminated).
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { createLogger } from '../log';
import type { Database, User } from '../store/schema';
import type { MailboxCounts, VoicemailCounter } from '../store/voicemail-counts';
import type { AuthenticatedUser, SipAuthenticator } from '../sip/edge/authenticator';
import type { SipConnection } from '../sip/transport/connection';
import type { SipEndpoint } from '../sip/endpoint';
import { authenticateLocalRequest } from '../routing/local-target';
import { formatNameAddr, formatUri, generateTag, parseCSeq, parseNameAddr, SipHeaders } from '../sip/syntax/message';
import type { SipRequest, SipResponse } from '../sip/syntax/message';
import type { ServerTransaction } from '../sip/transaction/transactions';

const log = createLogger('subscriptions');

export const MIN_SUBSCRIPTION_EXPIRES_S = 60;
export const MAX_SUBSCRIPTION_EXPIRES_S = 3600;
export const DEFAULT_SUBSCRIPTION_EXPIRES_S = 3600;
/** Bounds on what one user, and everyone together, can make the PBX hold. */
export const MAX_SUBSCRIPTIONS_PER_USER = 100;
export const MAX_SUBSCRIPTIONS = 50_000;
/** Lines remembered per extension for busy lamps; a call that never reports its end can't grow this forever. */
const MAX_LINES_PER_EXTENSION = 32;

/** RFC 4235 §3.7.1 dialog states. */
export type DialogState = 'trying' | 'proceeding' | 'early' | 'confirmed' | 'terminated';

/** One extension's line in a call changed state: the input of the `dialog` package. */
export interface DialogStateChange {
  /** Identifies the call; with `extension`, one line. */
  callId: string;
  organizationId: number;
  /** Whose line this is. */
  extension: string;
  /** RFC 4235: the initiator placed the call, the recipient was called. */
  direction: 'initiator' | 'recipient';
  state: DialogState;
  /** Who the line is talking to (or ringing), when known. */
  remote?: { extension: string; displayName?: string } | undefined;
  /**
   * The SIP dialog between the PBX and the extension's device, as the device sees it, once there is one: what
   * a phone puts in an INVITE with Replaces to pick the call up (RFC 3891) from a busy lamp.
   */
  dialog?: { callId: string; localTag: string | undefined; remoteTag: string } | undefined;
}

/** What feeds busy lamps: the call engine, whose `callStateChanged` event has this shape. */
export interface DialogStateSource {
  on(event: 'callStateChanged', listener: (change: DialogStateChange) => void): unknown;
}

export type EventPackage = 'message-summary' | 'dialog';

const PACKAGES: Record<EventPackage, { contentType: string }> = {
  'message-summary': { contentType: 'application/simple-message-summary' },
  dialog: { contentType: 'application/dialog-info+xml' },
};

export const ALLOW_EVENTS = Object.keys(PACKAGES).join(', ');

export interface SubscriptionManagerDeps {
  db: Kysely<Database>;
  endpoint: Pick<SipEndpoint, 'sendRequest' | 'connectionForSize'>;
  authenticator: Pick<SipAuthenticator, 'authenticate'>;
  voicemail: VoicemailCounter;
  dialogStates?: DialogStateSource;
  /** Host of the Contact URI of our side of each subscription dialog. */
  contactHost: string;
}

type SubscriptionState = 'active' | 'terminated';

interface Subscription {
  readonly id: string;
  readonly event: EventPackage;
  /** The Event header's id parameter, echoed in every NOTIFY (RFC 6665 §8.2.1). */
  readonly eventId: string | undefined;
  readonly subscriber: AuthenticatedUser;
  readonly target: User;
  readonly aor: string;
  readonly entity: string;
  state: SubscriptionState;
  // Our side of the dialog (RFC 3261 §12.1.1): we are its UAS.
  readonly callId: string;
  readonly localTag: string;
  readonly remoteTag: string;
  /** Header values as we send them: From is ours (the SUBSCRIBE's To), To is the subscriber's From. */
  readonly localUri: string;
  readonly remoteUri: string;
  remoteTarget: string;
  readonly routeSet: string[];
  localCseq: number;
  remoteCseq: number;
  connection: SipConnection;
  expiresAt: number;
  timer: NodeJS.Timeout | undefined;
  offClosed: () => void;
  /** RFC 4235 §4.1: dialog-info version of the next NOTIFY, from 0, one more with every NOTIFY of this subscription. */
  version: number;
  // RFC 6665 §4.2.2: one NOTIFY at a time; changes meanwhile are sent (as full state) once it completes.
  notifying: boolean;
  dirty: boolean;
  finalReason: string | undefined;
}

function aorOf(organizationId: number, extension: string): string {
  return `${organizationId}:${extension}`;
}

export class SubscriptionManager {
  private readonly subscriptions = new Map<string, Subscription>();
  private readonly byDialog = new Map<string, Subscription>();
  private readonly byTarget = new Map<string, Set<Subscription>>();
  private readonly perSubscriber = new Map<number, number>();
  /** Current lines per extension (aor → line key → latest change), for busy lamps. */
  private readonly lines = new Map<string, Map<string, DialogStateChange>>();
  private readonly offDialogStates: unknown;

  constructor(
    private readonly deps: SubscriptionManagerDeps,
    private readonly now: () => number = Date.now,
  ) {
    this.offDialogStates = deps.dialogStates?.on('callStateChanged', (change) => this.onDialogStateChange(change));
  }

  get size(): number {
    return this.subscriptions.size;
  }

  async handleSubscribe(tx: ServerTransaction): Promise<void> {
    const request = tx.request;
    const to = parseNameAddr(request.headers.get('To') ?? '');
    if (to.params.tag) {
      this.handleInDialog(tx, to.params.tag);
      return;
    }
    const event = parseEvent(request.headers.get('Event'));
    if (!event) {
      tx.reply(400, 'Bad Request - Missing Event header');
      return;
    }
    if (!(event.name in PACKAGES)) {
      tx.reply(489, 'Bad Event', { headers: [['Allow-Events', ALLOW_EVENTS]] });
      return;
    }
    const eventPackage = event.name as EventPackage;
    const contact = request.headers.get('Contact');
    if (!contact) {
      tx.reply(400, 'Bad Request - Missing Contact');
      return;
    }
    const expires = this.requestedExpires(tx);
    if (expires === undefined) return;
    if (!accepts(request, PACKAGES[eventPackage].contentType)) {
      tx.reply(406, 'Not Acceptable', { headers: [['Accept', PACKAGES[eventPackage].contentType]] });
      return;
    }

    const found = await authenticateLocalRequest(tx, this.deps.authenticator, this.deps.db);
    if (!found) return;
    const { caller: subscriber, user: watched } = found;
    if (eventPackage === 'message-summary' && watched.id !== subscriber.userId) {
      // RFC 3842 §5: a mailbox is watched by its owner only.
      tx.reply(403, 'Forbidden - Not your mailbox');
      return;
    }
    const remoteTarget = formatUri(parseNameAddr(contact).uri);
    if ((this.perSubscriber.get(subscriber.userId) ?? 0) >= MAX_SUBSCRIPTIONS_PER_USER) {
      // A phone that restarted subscribes again, with new dialogs, while its old ones still count: the oldest
      // subscription of the same device (flow or Contact) to the same thing makes room (RFC 6665 §4.2.1.1).
      const superseded = this.oldestOfDevice(subscriber.userId, eventPackage, event.id, watched.id, tx.connection, remoteTarget);
      if (superseded) {
        log.info('a subscription superseded by the same device', { event: eventPackage, subscriber: subscriber.extension, target: watched.extension });
        superseded.state = 'terminated';
        this.untrack(superseded);
      }
    }
    if (this.subscriptions.size >= MAX_SUBSCRIPTIONS || (this.perSubscriber.get(subscriber.userId) ?? 0) >= MAX_SUBSCRIPTIONS_PER_USER) {
      tx.reply(503, 'Service Unavailable - Too many subscriptions', { headers: [['Retry-After', '300']] });
      return;
    }

    const from = parseNameAddr(request.headers.get('From') ?? '');
    const localTag = generateTag();
    const subscription: Subscription = {
      id: randomUUID(),
      event: eventPackage,
      eventId: event.id,
      subscriber,
      target: watched,
      aor: aorOf(subscriber.organizationId, watched.extension),
      entity: `sip:${watched.extension}@${subscriber.domain}`,
      state: 'active',
      callId: request.headers.get('Call-ID') ?? '',
      localTag,
      remoteTag: from.params.tag ?? '',
      localUri: formatNameAddr({ ...to, params: { ...to.params, tag: localTag } }),
      remoteUri: request.headers.get('From') ?? '',
      remoteTarget,
      // RFC 3261 §12.1.1: the UAS's route set is the Record-Route of the request, in order.
      routeSet: request.headers.getAll('Record-Route'),
      localCseq: 0,
      remoteCseq: parseCSeq(request.headers.get('CSeq') ?? '0 SUBSCRIBE').seq,
      connection: tx.connection,
      expiresAt: this.now() + expires * 1000,
      timer: undefined,
      offClosed: () => undefined,
      version: 0,
      notifying: false,
      dirty: false,
      finalReason: undefined,
    };
    // RFC 6665 §4.2.1.1: 200 (202 is deprecated), with the duration we granted.
    tx.reply(200, 'OK', { toTag: localTag, headers: [['Contact', this.contact(tx.connection)], ['Expires', `${expires}`]] });
    log.debug('subscribed', { event: eventPackage, subscriber: subscriber.extension, target: watched.extension, expires });
    if (expires === 0) {
      // RFC 6665 §4.4.3: Expires: 0 on a new subscription fetches the state once.
      subscription.state = 'terminated';
      subscription.finalReason = 'timeout';
      subscription.dirty = true;
      this.pump(subscription);
      return;
    }
    this.track(subscription);
    this.schedule(subscription);
    subscription.dirty = true;
    this.pump(subscription);
  }

  /** Voicemail arrived or was heard: sends the mailbox's watchers fresh counts. */
  mailboxChanged(organizationId: number, extension: string): void {
    for (const subscription of this.byTarget.get(aorOf(organizationId, extension)) ?? []) {
      if (subscription.event !== 'message-summary') continue;
      subscription.dirty = true;
      this.pump(subscription);
    }
  }

  /** Ends every subscription with a final NOTIFY (the PBX is shutting down; RFC 6665 §4.2.2 reason "noresource"). */
  shutdown(): void {
    for (const subscription of [...this.subscriptions.values()]) this.terminate(subscription, 'noresource');
    if (typeof this.offDialogStates === 'function') (this.offDialogStates as () => void)();
  }

  private handleInDialog(tx: ServerTransaction, toTag: string): void {
    const request = tx.request;
    const callId = request.headers.get('Call-ID') ?? '';
    const subscription = this.byDialog.get(`${callId}|${toTag}`);
    const fromTag = parseNameAddr(request.headers.get('From') ?? '').params.tag;
    if (!subscription || subscription.remoteTag !== fromTag) {
      tx.reply(481, 'Subscription Does Not Exist');
      return;
    }
    const cseq = parseCSeq(request.headers.get('CSeq') ?? '0 SUBSCRIBE').seq;
    if (cseq <= subscription.remoteCseq) {
      // RFC 3261 §12.2.2: a lower CSeq within a dialog is out of order.
      tx.reply(500, 'Server Internal Error - Out of order request', { headers: [['Retry-After', '1']] });
      return;
    }
    subscription.remoteCseq = cseq;
    const event = parseEvent(request.headers.get('Event'));
    if (!event || event.name !== subscription.event || event.id !== subscription.eventId) {
      tx.reply(489, 'Bad Event', { headers: [['Allow-Events', ALLOW_EVENTS]] });
      return;
    }
    const expires = this.requestedExpires(tx);
    if (expires === undefined) return;
    const contact = request.headers.get('Contact');
    if (contact) subscription.remoteTarget = formatUri(parseNameAddr(contact).uri);
    if (tx.connection !== subscription.connection) this.moveToFlow(subscription, tx.connection);
    tx.reply(200, 'OK', { headers: [['Contact', this.contact(tx.connection)], ['Expires', `${expires}`]] });
    if (expires === 0) {
      // RFC 6665 §4.2.1.4: unsubscribing is answered, then a final NOTIFY ends the subscription.
      log.debug('unsubscribed', { event: subscription.event, subscriber: subscription.subscriber.extension });
      this.terminate(subscription, 'timeout');
      return;
    }
    // RFC 6665 §4.2.1.2: a refresh is followed by a NOTIFY with the current state.
    subscription.expiresAt = this.now() + expires * 1000;
    this.schedule(subscription);
    subscription.dirty = true;
    this.pump(subscription);
  }

  /** The Expires a SUBSCRIBE asks for, clamped; undefined when the request was answered (400, 423). */
  private requestedExpires(tx: ServerTransaction): number | undefined {
    const header = tx.request.headers.get('Expires');
    const requested = header === undefined ? DEFAULT_SUBSCRIPTION_EXPIRES_S : Number.parseInt(header.trim(), 10);
    if (!Number.isFinite(requested) || requested < 0 || (header !== undefined && !/^\s*\d+\s*$/.test(header))) {
      tx.reply(400, 'Bad Request - Invalid Expires');
      return undefined;
    }
    if (requested > 0 && requested < MIN_SUBSCRIPTION_EXPIRES_S) {
      // RFC 6665 §4.2.1.1: too short a subscription is refused with the shortest we accept.
      tx.reply(423, 'Interval Too Brief', { headers: [['Min-Expires', `${MIN_SUBSCRIPTION_EXPIRES_S}`]] });
      return undefined;
    }
    return Math.min(requested, MAX_SUBSCRIPTION_EXPIRES_S);
  }

  /** The longest-standing subscription one device (same flow, or same Contact) holds to `event` of `targetId`. */
  private oldestOfDevice(userId: number, event: EventPackage, eventId: string | undefined, targetId: number, connection: SipConnection, remoteTarget: string): Subscription | undefined {
    for (const subscription of this.subscriptions.values()) {
      if (subscription.subscriber.userId !== userId || subscription.event !== event || subscription.eventId !== eventId || subscription.target.id !== targetId) continue;
      if (subscription.connection === connection || subscription.remoteTarget === remoteTarget) return subscription;
    }
    return undefined;
  }

  private track(subscription: Subscription): void {
    this.subscriptions.set(subscription.id, subscription);
    this.byDialog.set(`${subscription.callId}|${subscription.localTag}`, subscription);
    let watchers = this.byTarget.get(subscription.aor);
    if (!watchers) {
      watchers = new Set();
      this.byTarget.set(subscription.aor, watchers);
    }
    watchers.add(subscription);
    this.perSubscriber.set(subscription.subscriber.userId, (this.perSubscriber.get(subscription.subscriber.userId) ?? 0) + 1);
    subscription.offClosed = subscription.connection.on('closed', () => this.flowClosed(subscription));
  }

  private untrack(subscription: Subscription): void {
    if (!this.subscriptions.delete(subscription.id)) return;
    if (subscription.timer) clearTimeout(subscription.timer);
    subscription.offClosed();
    this.byDialog.delete(`${subscription.callId}|${subscription.localTag}`);
    const watchers = this.byTarget.get(subscription.aor);
    watchers?.delete(subscription);
    if (watchers?.size === 0) this.byTarget.delete(subscription.aor);
    const count = (this.perSubscriber.get(subscription.subscriber.userId) ?? 1) - 1;
    if (count > 0) this.perSubscriber.set(subscription.subscriber.userId, count);
    else this.perSubscriber.delete(subscription.subscriber.userId);
  }

  private moveToFlow(subscription: Subscription, connection: SipConnection): void {
    subscription.offClosed();
    subscription.connection = connection;
    subscription.offClosed = connection.on('closed', () => this.flowClosed(subscription));
  }

  private schedule(subscription: Subscription): void {
    if (subscription.timer) clearTimeout(subscription.timer);
    subscription.timer = setTimeout(() => this.terminate(subscription, 'timeout'), Math.max(0, subscription.expiresAt - this.now()));
    subscription.timer.unref();
  }

  /** Ends a subscription with a final NOTIFY carrying `reason` (RFC 6665 §4.1.3). */
  private terminate(subscription: Subscription, reason: string): void {
    if (subscription.state === 'terminated') return;
    subscription.state = 'terminated';
    subscription.finalReason = reason;
    this.untrack(subscription);
    subscription.dirty = true;
    this.pump(subscription);
  }

  /** The subscriber's flow is gone, and with it any way to reach it: the subscription ends silently. */
  private flowClosed(subscription: Subscription): void {
    log.debug('subscription ended with its flow', { event: subscription.event, subscriber: subscription.subscriber.extension });
    subscription.state = 'terminated';
    subscription.dirty = false;
    this.untrack(subscription);
  }

  private pump(subscription: Subscription): void {
    if (subscription.notifying || !subscription.dirty) return;
    subscription.dirty = false;
    subscription.notifying = true;
    const final = subscription.state === 'terminated';
    const version = subscription.version;
    if (subscription.event === 'dialog') subscription.version += 1;
    this.body(subscription, version)
      .then(async (body) => {
        if (!subscription.connection.isOpen) {
          subscription.notifying = false;
          return;
        }
        const notify = this.buildNotify(subscription, body);
        // A busy lamp's full state can outgrow a datagram: it then goes over TCP (RFC 3261 §18.1.1). One
        // NOTIFY is in flight at a time, so waiting for the connection keeps them in order.
        const connection = await this.deps.endpoint.connectionForSize(notify, subscription.connection);
        // The subscriber's flow may have closed meanwhile, which ended the subscription with nothing more sent.
        if (!subscription.connection.isOpen) {
          subscription.notifying = false;
          return;
        }
        this.deps.endpoint.sendRequest(notify, connection, (response) => this.onNotifyResponse(subscription, response, final));
      })
      .catch((error: unknown) => {
        subscription.notifying = false;
        log.error('could not send a NOTIFY', { event: subscription.event, error });
      });
  }

  private onNotifyResponse(subscription: Subscription, response: SipResponse, final: boolean): void {
    if (response.status < 200) return;
    subscription.notifying = false;
    if (final) return;
    if (response.status >= 300) {
      // RFC 6665 §4.2.2: a 481 (or a subscriber that can't be reached) ends the subscription; nothing more is sent.
      log.debug('NOTIFY refused, ending the subscription', { status: response.status, event: subscription.event });
      subscription.state = 'terminated';
      this.untrack(subscription);
      return;
    }
    this.pump(subscription);
  }

  private buildNotify(subscription: Subscription, body: string): SipRequest {
    subscription.localCseq += 1;
    const headers = new SipHeaders();
    for (const route of subscription.routeSet) headers.append('Route', route);
    headers.set('From', subscription.localUri);
    const to = parseNameAddr(subscription.remoteUri);
    headers.set('To', formatNameAddr(to));
    headers.set('Call-ID', subscription.callId);
    headers.set('CSeq', `${subscription.localCseq} NOTIFY`);
    headers.set('Contact', this.contact(subscription.connection));
    headers.set('Event', subscription.eventId === undefined ? subscription.event : `${subscription.event};id=${subscription.eventId}`);
    const remaining = Math.max(0, Math.round((subscription.expiresAt - this.now()) / 1000));
    headers.set(
      'Subscription-State',
      subscription.state === 'active' ? `active;expires=${remaining}` : `terminated;reason=${subscription.finalReason ?? 'timeout'}`,
    );
    headers.set('Content-Type', PACKAGES[subscription.event].contentType);
    return { kind: 'request', method: 'NOTIFY', uri: subscription.remoteTarget, headers, body: Buffer.from(body, 'utf8') };
  }

  private async body(subscription: Subscription, version: number): Promise<string> {
    if (subscription.event === 'message-summary') {
      return messageSummaryBody(subscription.entity, await this.deps.voicemail.count(subscription.target.id));
    }
    const lines = [...(this.lines.get(subscription.aor)?.values() ?? [])];
    return dialogInfoBody(subscription.entity, version, lines, subscription.subscriber.domain);
  }

  private onDialogStateChange(change: DialogStateChange): void {
    const aor = aorOf(change.organizationId, change.extension);
    const key = `${change.callId}|${change.direction}`;
    let lines = this.lines.get(aor);
    if (!lines) {
      lines = new Map();
      this.lines.set(aor, lines);
    }
    lines.delete(key);
    lines.set(key, change);
    for (const oldest of lines.keys()) {
      if (lines.size <= MAX_LINES_PER_EXTENSION) break;
      lines.delete(oldest);
    }
    for (const subscription of this.byTarget.get(aor) ?? []) {
      if (subscription.event !== 'dialog') continue;
      subscription.dirty = true;
      this.pump(subscription);
    }
    // A terminated line is reported once (in the NOTIFYs above, whose bodies are built now) and then forgotten.
    if (change.state === 'terminated') {
      queueMicrotask(() => {
        if (lines.get(key) === change) lines.delete(key);
        if (lines.size === 0 && this.lines.get(aor) === lines) this.lines.delete(aor);
      });
    }
  }

  private contact(connection: SipConnection): string {
    return `<sip:pbx@${this.deps.contactHost};transport=${connection.transport.toLowerCase()}>`;
  }
}

/** The package name (lower case) and id parameter of an Event header (RFC 6665 §8.2.1). */
function parseEvent(value: string | undefined): { name: string; id: string | undefined } | undefined {
  if (value === undefined) return undefined;
  const [name = '', ...params] = value.split(';').map((part) => part.trim());
  if (name === '') return undefined;
  let id: string | undefined;
  for (const param of params) {
    const [key, val] = param.split('=', 2).map((part) => part.trim());
    if (key?.toLowerCase() === 'id') id = val;
  }
  return { name: name.toLowerCase(), id };
}

/** Whether the request's Accept (absent means the package's default, RFC 6665 §4.1.1) takes `contentType`. */
function accepts(request: SipRequest, contentType: string): boolean {
  const accept = request.headers.getAll('Accept').map((value) => value.split(';')[0]?.trim().toLowerCase() ?? '');
  if (accept.length === 0) return true;
  const [type] = contentType.split('/');
  return accept.some((range) => range === contentType || range === '*/*' || range === `${type}/*`);
}

/** RFC 3842 §5.2: the message-summary body. */
export function messageSummaryBody(account: string, counts: MailboxCounts): string {
  return [
    `Messages-Waiting: ${counts.newMessages > 0 ? 'yes' : 'no'}`,
    `Message-Account: ${account}`,
    `Voice-Message: ${counts.newMessages}/${counts.oldMessages}`,
    '',
  ].join('\r\n');
}

function xml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** RFC 4235 §4: full dialog state of one extension. */
export function dialogInfoBody(entity: string, version: number, lines: readonly DialogStateChange[], domain: string): string {
  const dialogs = lines.map((line) => {
    const remote = line.remote
      ? `<remote><identity${line.remote.displayName ? ` display="${xml(line.remote.displayName)}"` : ''}>${xml(`sip:${line.remote.extension}@${domain}`)}</identity></remote>`
      : '';
    const id = `${line.callId}-${line.direction}`;
    const sip = line.dialog;
    const names = sip
      ? ` call-id="${xml(sip.callId)}"${sip.localTag ? ` local-tag="${xml(sip.localTag)}"` : ''} remote-tag="${xml(sip.remoteTag)}"`
      : '';
    return `<dialog id="${xml(id)}"${names} direction="${line.direction}"><state>${line.state}</state>${remote}</dialog>`;
  });
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<dialog-info xmlns="urn:ietf:params:xml:ns:dialog-info" version="${version}" state="full" entity="${xml(entity)}">`,
    ...dialogs,
    '</dialog-info>',
    '',
  ].join('\n');
}
