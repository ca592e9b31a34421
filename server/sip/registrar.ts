/**
 * Registrar and location service (RFC 3261 §10): which devices each user has registered, reached through
 * which flow. A user may register several devices; each binding expires on its own and dies with the flow
 * that carried it.
 *
 * Bindings are keyed (RFC 5626 §6) by +sip.instance and reg-id when the device uses outbound (one binding,
 * and so one flow, per reg-id), by +sip.instance alone when it sends no reg-id, else by the Contact URI.
 * A device with several outbound flows is still one device: `lookup` returns the flow it refreshed last.
 * The Path vector of a REGISTER that came through edge proxies (RFC 3327) is stored with its bindings, so
 * requests to the device can be routed back through them (several PBX nodes behind an edge proxy).
 */
import { isIP } from 'node:net';
import { createLogger } from '../log';
import type { SipAuthenticator } from './authenticator';
import type { SipConnection } from './connection';
import { formatNameAddr, parseNameAddr, parseNameAddrUnshared } from './message';
import type { NameAddr } from './message';
import type { ServerTransaction } from './transactions';
import { uriEquals } from './uri';
import { TypedEmitter } from '../util/typed-emitter';
import { detached } from '../util/unshared';

const log = createLogger('registrar');

export const DEFAULT_EXPIRES_S = 600;
export const MIN_EXPIRES_S = 60;
export const MAX_EXPIRES_S = 3600;
export const MAX_BINDINGS_PER_USER = 10;
/**
 * RFC 5626 §4.4.1 / §5.4: seconds between keep-alives we ask of outbound clients in Flow-Timer. Below
 * typical NAT and WebSocket idle timeouts, close to the RFC's suggested 95 to 120 s for reliable flows.
 */
export const FLOW_TIMER_S = 90;

export interface Binding {
  /** `organizationId:extension` */
  aor: string;
  contact: NameAddr;
  /** RFC 5626 +sip.instance, when the device sent one. */
  instance?: string;
  /** RFC 5626 reg-id: which of the device's flows this is; only with an instance and outbound. */
  regId?: number;
  /** RFC 3327 Path of the REGISTER, first proxy (nearest us) first; empty when the device reached us directly. */
  path: string[];
  connection: SipConnection;
  callId: string;
  cseq: number;
  expiresAt: number;
  userAgent?: string;
}

interface RegistrarEvents {
  bindingsChanged: [aor: string];
}

/** Opens a new stream connection to a device (the PBX's TCP or TLS transport). */
export type StreamConnector = (transport: 'TCP' | 'TLS', host: string, port: number, timeoutMs?: number) => Promise<SipConnection>;

/**
 * Whether a binding outlives the connection it was registered over. RFC 5626 §5.2: a binding made through an
 * outbound flow (reg-id) — and any WebSocket binding, whose contact is a placeholder — is reachable only
 * through that flow and dies with it. A TCP/TLS device registered without outbound names an address where it
 * listens (RFC 3261 §18.1.1), so a new connection can be opened to it, unless that address is an IP other
 * than the one the device registered from: then a NAT stands between (RFC 5626 §3), and its private address
 * would reach nothing, or the wrong host.
 */
function survivesConnection(binding: Binding): boolean {
  const transport = binding.connection.transport;
  if (transport !== 'TCP' && transport !== 'TLS') return false;
  const host = binding.contact.uri.host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (binding.regId !== undefined || host.endsWith('.invalid')) return false;
  return isIP(host) === 0 || host === binding.connection.remoteAddress.toLowerCase();
}

function usable(binding: Binding): boolean {
  return binding.connection.isOpen || survivesConnection(binding);
}

export function aorKey(organizationId: number, extension: string): string {
  return `${organizationId}:${extension}`;
}

export class Registrar extends TypedEmitter<RegistrarEvents> {
  private readonly bindings = new Map<string, Binding[]>();
  /** The addresses of record registered over each flow, so that a flow closing touches only its own. */
  private readonly aorsByFlow = new WeakMap<SipConnection, Set<string>>();
  private readonly sweeper: NodeJS.Timeout;

  private connector: StreamConnector | undefined;

  constructor(
    private readonly authenticator: Pick<SipAuthenticator, 'authenticate'>,
    private readonly now: () => number = Date.now,
  ) {
    super();
    this.sweeper = setInterval(() => this.sweep(), 5_000);
    this.sweeper.unref();
  }

  /** Live bindings of a user, most recent registration first, one per device (RFC 5626 §5.3). */
  lookup(aor: string): Binding[] {
    const now = this.now();
    const seen = new Set<string>();
    return (this.bindings.get(aor) ?? []).filter((b) => {
      if (b.expiresAt <= now || !usable(b)) return false;
      if (b.instance === undefined) return true;
      if (seen.has(b.instance)) return false;
      seen.add(b.instance);
      return true;
    });
  }

  /** Every live binding of a user, each outbound flow on its own. */
  flows(aor: string): Binding[] {
    const now = this.now();
    return (this.bindings.get(aor) ?? []).filter((b) => b.expiresAt > now && usable(b));
  }

  /** Lets the registrar reach TCP/TLS devices whose registration connection has closed. */
  setStreamConnector(connector: StreamConnector): void {
    this.connector = connector;
  }

  /** A live connection to the device of a binding, opening a new one if the device allows it. */
  async connectionFor(binding: Binding): Promise<SipConnection> {
    if (binding.connection.isOpen || !survivesConnection(binding) || !this.connector) return binding.connection;
    const transport = binding.connection.transport as 'TCP' | 'TLS';
    const uri = binding.contact.uri;
    const port = uri.port ?? (transport === 'TLS' ? 5061 : 5060);
    const connection = await this.connector(transport, uri.host.replace(/^\[(.*)\]$/, '$1'), port);
    binding.connection = connection;
    return connection;
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
    const aor = detached(aorKey(user.organizationId, user.extension));
    const callId = detached(request.headers.get('Call-ID') ?? '');
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

    // RFC 3327 §5.3: the Path vector is stored as it came, and returned to a UA that supports it.
    const path = request.headers.getAll('Path').map(detached);
    const supported = new Set(request.headers.getAll('Supported').map((token) => token.trim().toLowerCase()));
    let parsed: Array<{ contact: NameAddr; requested: number; instance?: string; regId?: number }>;
    try {
      parsed = contacts.map((value) => {
        const contact = parseNameAddrUnshared(detached(value));
        const requested = Number.parseInt(contact.params.expires ?? headerExpires ?? `${DEFAULT_EXPIRES_S}`, 10);
        const instance = contact.params['+sip.instance'] ?? undefined;
        const regIdText = contact.params['reg-id'] ?? undefined;
        // RFC 5626 §6: reg-id counts only with an instance and a UA that says it supports outbound.
        const regId = instance && regIdText !== undefined && supported.has('outbound') ? Number(regIdText) : undefined;
        return { contact, requested, ...(instance ? { instance } : {}), ...(regId !== undefined ? { regId } : {}) };
      });
    } catch {
      tx.reply(400, 'Bad Request - Invalid Contact');
      return;
    }
    const outbound = parsed.filter((c) => c.regId !== undefined);
    if (outbound.some((c) => !Number.isInteger(c.regId) || (c.regId ?? 0) < 1 || (c.regId ?? 0) > 2 ** 31 - 1)) {
      tx.reply(400, 'Bad Request - Invalid reg-id');
      return;
    }
    if (outbound.length > 1) {
      // RFC 5626 §6: one REGISTER registers one flow.
      tx.reply(400, 'Bad Request - More than one Contact with reg-id');
      return;
    }
    if (outbound.length === 1 && request.headers.getAll('Via').length > 1 && !firstHopSupportsOutbound(path)) {
      // RFC 5626 §6: through a proxy, the flow is only usable if that edge proxy does outbound (";ob" in Path).
      tx.reply(439, 'First Hop Lacks Outbound Support');
      return;
    }

    const userAgent = request.headers.get('User-Agent');
    let list = this.bindings.get(aor) ?? [];
    for (const { contact, requested, instance, regId } of parsed) {
      if (!Number.isFinite(requested) || requested < 0) {
        tx.reply(400, 'Bad Request - Invalid expires');
        return;
      }
      if (requested > 0 && requested < MIN_EXPIRES_S) {
        tx.reply(423, 'Interval Too Brief', { headers: [['Min-Expires', `${MIN_EXPIRES_S}`]] });
        return;
      }
      // RFC 3261 §10.3 step 7: a binding is replaced when its Contact URI equals the new one (§19.1.4), port
      // and transport included, so two devices on one host stay two; with an instance ID, RFC 5626 §6 asks
      // for the same instance and reg-id instead.
      const same = (b: Binding) => (instance ? b.instance === instance && b.regId === regId : b.instance === undefined && uriEquals(b.contact.uri, contact.uri));
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
        ...(instance ? { instance } : {}),
        ...(regId !== undefined ? { regId } : {}),
        path,
        connection: tx.connection,
        callId,
        cseq,
        expiresAt: this.now() + Math.min(requested, MAX_EXPIRES_S) * 1000,
        userAgent: userAgent === undefined ? undefined : detached(userAgent),
      };
      list.unshift(binding);
    }
    this.watch(tx.connection, aor);
    this.store(aor, list);
    log.debug('registered', { aor, bindings: list.length, outbound: outbound.length > 0 });

    const now = this.now();
    const headers: Array<[string, string]> = this.flows(aor).map((b) => [
      'Contact',
      `${formatNameAddr({ ...b.contact, params: { ...b.contact.params, expires: `${Math.max(0, Math.round((b.expiresAt - now) / 1000))}` } })}`,
    ]);
    if (path.length > 0 && supported.has('path')) for (const hop of path) headers.push(['Path', hop]);
    if (outbound.length > 0) {
      // RFC 5626 §6: tell the UA its flow is registered with outbound, and how often to keep it alive (§5.4).
      headers.push(['Require', 'outbound'], ['Flow-Timer', `${FLOW_TIMER_S}`]);
    }
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

  /**
   * One listener per flow, not per binding (a flow from an edge proxy or a load generator carries thousands):
   * when the flow closes, the bindings registered over it that cannot outlive it go.
   */
  private watch(connection: SipConnection, aor: string): void {
    const known = this.aorsByFlow.get(connection);
    if (known) {
      known.add(aor);
      return;
    }
    const aors = new Set([aor]);
    this.aorsByFlow.set(connection, aors);
    connection.once('closed', () => {
      this.aorsByFlow.delete(connection);
      for (const each of aors) this.removeWhere(each, (b) => b.connection === connection && !survivesConnection(b));
    });
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
    for (const aor of [...this.bindings.keys()]) this.removeWhere(aor, (b) => b.expiresAt <= now || !usable(b));
  }
}

/** RFC 5626 §5.1: an edge proxy that does outbound puts ";ob" on the URI it adds to Path. */
function firstHopSupportsOutbound(path: readonly string[]): boolean {
  const first = path[0];
  if (first === undefined) return false;
  try {
    return 'ob' in parseNameAddr(first).uri.params;
  } catch {
    return false;
  }
}
