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
 *
 * Bindings that can outlive the PBX's process (outlivesProcess) are stored before their REGISTER is answered
 * and deleted when they end (server/store/registrations.ts, group-committed), and put back at start with what
 * is left of their expiry (`restore`), so a restart leaves desk phones reachable.
 */
import { isIP } from 'node:net';
import { createLogger } from '../log';
import type { RegistrationKey } from '../store/registrations';
import type { StoredRegistration } from '../store/schema';
import type { SipAuthenticator } from '../sip/edge/authenticator';
import type { SipConnection, StreamConnector } from '../sip/transport/connection';
import { formatNameAddr, parseNameAddr, parseNameAddrUnshared } from '../sip/syntax/message';
import type { NameAddr, SipUri } from '../sip/syntax/message';
import { bindingFromRow, bindingKey, FormerStreamFlow, registrationKey, registrationRow } from './stored-bindings';
import type { ServerTransaction } from '../sip/transaction/transactions';
import { uriEquals } from '../sip/syntax/uri';
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

/** The transport's connector (sip/transport/connection.ts), named here too for the registrar's callers. */
export type { StreamConnector } from '../sip/transport/connection';

/** Where the registrar keeps the bindings that outlive the PBX's process (server/store/registrations.ts). */
export interface RegistrationStore {
  save(row: StoredRegistration): Promise<void>;
  remove(key: RegistrationKey): Promise<void>;
}

/**
 * Where a device met over TCP or TLS can be reached by a new connection: the URI it gave (its Contact, or
 * a dialog's remote target) names where it listens (RFC 3261 §18.1.1), unless that is an IP other than the
 * one the device connected from: then a NAT stands between (RFC 5626 §3), and its private address would
 * reach nothing, or the wrong host. Undefined when no new connection can reach it.
 */
export function reconnectTarget(transport: string, uri: SipUri, remoteAddress: string): { host: string; port: number } | undefined {
  if (transport !== 'TCP' && transport !== 'TLS') return undefined;
  const host = uri.host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (host.endsWith('.invalid')) return undefined;
  if (isIP(host) !== 0 && host !== remoteAddress.toLowerCase()) return undefined;
  return { host, port: uri.port ?? (transport === 'TLS' ? 5061 : 5060) };
}

/**
 * Whether a binding outlives the connection it was registered over. RFC 5626 §5.2: a binding made through an
 * outbound flow (reg-id) — and any WebSocket binding, whose contact is a placeholder — is reachable only
 * through that flow and dies with it. A TCP/TLS device registered without outbound can be reached through a
 * new connection (reconnectTarget).
 */
function survivesConnection(binding: Binding): boolean {
  return binding.regId === undefined && reconnectTarget(binding.connection.transport, binding.contact.uri, binding.connection.remoteAddress) !== undefined;
}

/**
 * Whether a binding outlives the PBX's process, and so is stored: a UDP device is reached again where its
 * REGISTER came from, a TCP/TLS one that survives its connection through a new one. WebSocket and outbound
 * (reg-id) bindings die with their flow (RFC 5626 §5.2), and every flow dies with the process.
 */
function outlivesProcess(binding: Binding): boolean {
  return binding.regId === undefined && (binding.connection.transport === 'UDP' || survivesConnection(binding));
}

function usable(binding: Binding): boolean {
  return binding.connection.isOpen || survivesConnection(binding);
}

export function aorKey(organizationId: number, extension: string): string {
  return `${organizationId}:${extension}`;
}

/** The organization and extension of an aorKey. */
function aorParts(aor: string): { organizationId: number; extension: string } {
  const colon = aor.indexOf(':');
  return { organizationId: Number(aor.slice(0, colon)), extension: aor.slice(colon + 1) };
}

export class Registrar extends TypedEmitter<RegistrarEvents> {
  private readonly bindings = new Map<string, Binding[]>();
  /** The addresses of record registered over each flow, so that a flow closing touches only its own. */
  private readonly aorsByFlow = new WeakMap<SipConnection, Set<string>>();
  private readonly sweeper: NodeJS.Timeout;

  private connector: StreamConnector | undefined;
  private durable: RegistrationStore | undefined;

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

  /**
   * From now on every binding that outlives the process (a UDP one, a TCP/TLS one that survives its
   * connection) is stored before its REGISTER is answered, and deleted when it ends.
   */
  setStore(store: RegistrationStore): void {
    this.durable = store;
  }

  /**
   * Puts back the bindings stored before the PBX restarted, each with what is left of its expiry. A UDP device
   * is reached where its REGISTER came from, through `udpFlow` (undefined when UDP is off or at its flow
   * limits); a TCP/TLS device through a new connection to its Contact, when next needed (connectionFor). A
   * binding registered since the start wins over its stored self. Returns how many were put back.
   */
  restore(rows: readonly StoredRegistration[], udpFlow: (address: string, port: number) => SipConnection | undefined): number {
    const now = this.now();
    const changed = new Set<string>();
    let restored = 0;
    for (const row of rows) {
      const aor = aorKey(row.organization_id, row.extension);
      const list = this.bindings.get(aor) ?? [];
      if (list.length >= MAX_BINDINGS_PER_USER || list.some((b) => bindingKey(b) === row.binding_key)) continue;
      const connection = row.transport === 'UDP' ? udpFlow(row.remote_address, row.remote_port) : new FormerStreamFlow(row.transport, row.remote_address, row.remote_port);
      const binding = connection && bindingFromRow(row, aor, connection);
      if (!connection || !binding || binding.expiresAt <= now) continue;
      this.store(aor, [...list, binding]);
      if (connection.isOpen) this.watch(connection, aor);
      changed.add(aor);
      restored++;
    }
    log.info('restored registrations', { bindings: restored, users: changed.size, stored: rows.length });
    for (const aor of changed) this.emit('bindingsChanged', aor);
    return restored;
  }

  /** A live connection to the device of a binding, opening a new one if the device allows it. */
  async connectionFor(binding: Binding): Promise<SipConnection> {
    const target = reconnectTarget(binding.connection.transport, binding.contact.uri, binding.connection.remoteAddress);
    if (binding.connection.isOpen || binding.regId !== undefined || !target || !this.connector) return binding.connection;
    const connection = await this.connector(binding.connection.transport as 'TCP' | 'TLS', target.host, target.port);
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
      await this.removeWhere(aor, () => true);
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
    const before = list;
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
    // What a user would miss after a crash is stored before it is acknowledged.
    await this.persist(aor, before, list);

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

  /** Stops and forgets; the stored bindings stay stored, for the next start. */
  close(): void {
    clearInterval(this.sweeper);
    this.durable = undefined;
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
      for (const each of aors) void this.removeWhere(each, (b) => b.connection === connection && !survivesConnection(b));
    });
  }

  /** Resolves once the removal is stored. */
  private removeWhere(aor: string, predicate: (b: Binding) => boolean): Promise<void> {
    const list = this.bindings.get(aor);
    if (!list) return Promise.resolve();
    const kept = list.filter((b) => !predicate(b));
    if (kept.length === list.length) return Promise.resolve();
    this.store(aor, kept);
    this.emit('bindingsChanged', aor);
    return this.persist(aor, list, kept);
  }

  /**
   * Brings the store in line with a change of an AOR's bindings: new ones saved, gone ones deleted (a refresh
   * is a new binding with its old key: saved, not deleted). Resolves once that is durable; never rejects, as a
   * binding that could not be stored still works until the PBX restarts.
   */
  private persist(aor: string, before: readonly Binding[], after: readonly Binding[]): Promise<void> {
    const durable = this.durable;
    if (!durable) return Promise.resolve();
    const { organizationId, extension } = aorParts(aor);
    const writes: Array<Promise<void>> = [];
    const saved = new Set<string>();
    for (const binding of after) {
      if (before.includes(binding) || !outlivesProcess(binding)) continue;
      const row = registrationRow(binding, organizationId, extension);
      saved.add(row.binding_key);
      writes.push(durable.save(row));
    }
    for (const binding of before) {
      if (after.includes(binding) || !outlivesProcess(binding)) continue;
      const key = registrationKey(binding, organizationId, extension);
      if (!saved.has(key.binding_key)) writes.push(durable.remove(key));
    }
    if (writes.length === 0) return Promise.resolve();
    return Promise.all(writes).then(
      () => undefined,
      (error: unknown) => log.warn('a registration could not be stored; it will not outlive a restart', { aor, error }),
    );
  }

  private sweep(): void {
    const now = this.now();
    for (const aor of [...this.bindings.keys()]) void this.removeWhere(aor, (b) => b.expiresAt <= now || !usable(b));
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
