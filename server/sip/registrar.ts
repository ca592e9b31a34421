/**
 * Registrar and location service (RFC 3261 §10): which devices each user has registered, reached through
 * which flow. A user may register several devices; each binding is keyed by its instance id (RFC 5626) or
 * its Contact URI, expires on its own, and dies with the flow that carried it.
 */
import { createLogger } from '../log';
import type { SipAuthenticator } from './authenticator';
import type { SipConnection } from './connection';
import { formatNameAddr, parseNameAddr } from './message';
import type { NameAddr } from './message';
import type { ServerTransaction } from './transactions';
import { TypedEmitter } from '../util/typed-emitter';

const log = createLogger('registrar');

export const DEFAULT_EXPIRES_S = 600;
export const MIN_EXPIRES_S = 60;
export const MAX_EXPIRES_S = 3600;
export const MAX_BINDINGS_PER_USER = 10;

export interface Binding {
  /** `organizationId:extension` */
  aor: string;
  contact: NameAddr;
  /** RFC 5626 +sip.instance, when the device sent one. */
  instance?: string;
  connection: SipConnection;
  callId: string;
  cseq: number;
  expiresAt: number;
  userAgent?: string;
}

interface RegistrarEvents {
  bindingsChanged: [aor: string];
}

export function aorKey(organizationId: number, extension: string): string {
  return `${organizationId}:${extension}`;
}

export class Registrar extends TypedEmitter<RegistrarEvents> {
  private readonly bindings = new Map<string, Binding[]>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly authenticator: SipAuthenticator,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.sweeper = setInterval(() => this.sweep(), 5_000);
    this.sweeper.unref();
  }

  /** Live bindings of a user, most recent registration first. */
  lookup(aor: string): Binding[] {
    const now = this.now();
    return (this.bindings.get(aor) ?? []).filter((b) => b.expiresAt > now && b.connection.isOpen);
  }

  get bindingCount(): number {
    let count = 0;
    for (const list of this.bindings.values()) count += list.length;
    return count;
  }

  async handleRegister(tx: ServerTransaction): Promise<void> {
    const user = await this.authenticator.authenticate(tx, 'To');
    if (!user) return;
    const request = tx.request;
    const aor = aorKey(user.organizationId, user.extension);
    const callId = request.headers.get('Call-ID') ?? '';
    const cseq = Number.parseInt(request.headers.get('CSeq') ?? '0', 10);
    const headerExpires = request.headers.get('Expires');
    const contacts = request.headers.getAll('Contact');

    if (contacts.length === 1 && contacts[0]?.trim() === '*') {
      // RFC 3261 §10.3 step 6: "*" with Expires: 0 removes every binding of the AOR.
      if (headerExpires?.trim() !== '0') {
        tx.reply(400, 'Bad Request - Wildcard Contact needs Expires: 0');
        return;
      }
      this.removeWhere(aor, () => true);
      tx.reply(200, 'OK', { headers: [['Date', new Date(this.now()).toUTCString()]] });
      return;
    }

    let list = this.bindings.get(aor) ?? [];
    for (const value of contacts) {
      let contact: NameAddr;
      try {
        contact = parseNameAddr(value);
      } catch {
        tx.reply(400, 'Bad Request - Invalid Contact');
        return;
      }
      const requested = Number.parseInt(contact.params.expires ?? headerExpires ?? `${DEFAULT_EXPIRES_S}`, 10);
      if (!Number.isFinite(requested) || requested < 0) {
        tx.reply(400, 'Bad Request - Invalid expires');
        return;
      }
      if (requested > 0 && requested < MIN_EXPIRES_S) {
        tx.reply(423, 'Interval Too Brief', { headers: [['Min-Expires', `${MIN_EXPIRES_S}`]] });
        return;
      }
      const instance = contact.params['+sip.instance'] ?? undefined;
      const same = (b: Binding) => (instance ? b.instance === instance : b.contact.uri.host === contact.uri.host && b.contact.uri.user === contact.uri.user);
      const previous = list.find(same);
      // RFC 3261 §10.3 step 7: an older CSeq for the same Call-ID is out of order.
      if (previous && previous.callId === callId && previous.cseq >= cseq) {
        tx.reply(500, 'Server Internal Error - Out of order REGISTER', { headers: [['Retry-After', '1']] });
        return;
      }
      list = list.filter((b) => !same(b));
      if (requested === 0) continue;
      if (list.length >= MAX_BINDINGS_PER_USER) list.pop();
      const binding: Binding = {
        aor,
        contact,
        instance: instance ?? undefined,
        connection: tx.connection,
        callId,
        cseq,
        expiresAt: this.now() + Math.min(requested, MAX_EXPIRES_S) * 1000,
        userAgent: request.headers.get('User-Agent'),
      };
      list.unshift(binding);
      tx.connection.once('closed', () => this.removeWhere(aor, (b) => b === binding));
    }
    this.store(aor, list);
    log.debug('registered', { aor, bindings: list.length });

    const now = this.now();
    const headers: Array<[string, string]> = this.lookup(aor).map((b) => [
      'Contact',
      `${formatNameAddr({ ...b.contact, params: { ...b.contact.params, expires: `${Math.max(0, Math.round((b.expiresAt - now) / 1000))}` } })}`,
    ]);
    headers.push(['Date', new Date(now).toUTCString()]);
    tx.reply(200, 'OK', { headers });
    this.emit('bindingsChanged', aor);
  }

  close(): void {
    clearInterval(this.sweeper);
    this.bindings.clear();
  }

  private store(aor: string, list: Binding[]): void {
    if (list.length === 0) this.bindings.delete(aor);
    else this.bindings.set(aor, list);
  }

  private removeWhere(aor: string, predicate: (b: Binding) => boolean): void {
    const list = this.bindings.get(aor);
    if (!list) return;
    const kept = list.filter((b) => !predicate(b));
    if (kept.length === list.length) return;
    this.store(aor, kept);
    this.emit('bindingsChanged', aor);
  }

  private sweep(): void {
    const now = this.now();
    for (const aor of [...this.bindings.keys()]) this.removeWhere(aor, (b) => b.expiresAt <= now || !b.connection.isOpen);
  }
}
