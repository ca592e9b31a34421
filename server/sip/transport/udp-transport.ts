/**
 * SIP over UDP (RFC 3261 §18): one socket, and one lightweight flow per remote address and port. A flow is
 * what the registrar and the call engine hold on to: requests the PBX originates to a device registered
 * over UDP go back to the address and port its registration came from, which is what keeps a device behind
 * NAT reachable. Responses follow the top Via (§18.2.2, RFC 3581 §4): to `received` and `rport`.
 */
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { createLogger } from '../../log';
import { SipConnection } from './connection';
import { ownBytes } from '../../util/unshared';
import { literalFirstLookup } from '../../util/literal-lookup';
import type { PreparedMessage } from './connection';
import type { SipEndpoint } from '../endpoint';
import { datagramTarget } from './datagram-destination';
import type { DatagramSocketFamily } from './datagram-destination';
import { FlowTable, DEFAULT_HELD_IDLE_MS, DEFAULT_IDLE_MS } from './flow-table';
import type { FlowLimits } from './flow-table';
import { parseVia, serializeMessage } from '../syntax/message';
import type { SipMessage, SipResponse } from '../syntax/message';
import { stunBindingResponse } from './stun';

const log = createLogger('sip-udp');

/** The largest payload a UDP datagram can carry; anything larger is not a message we accept. */
export const MAX_DATAGRAM_BYTES = 65_535;
/** RFC 3261 §18.2.2: without a port in the Via, responses go to the default SIP port. */
const DEFAULT_SIP_PORT = 5060;

export interface UdpTransportOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  endpoint: SipEndpoint;
  limits?: Partial<FlowLimits>;
}

const DEFAULT_LIMITS: FlowLimits = {
  maxFlows: 100_000,
  maxFlowsPerAddress: 1_000,
  idleMs: DEFAULT_IDLE_MS,
  heldIdleMs: DEFAULT_HELD_IDLE_MS,
};

/** One remote address and port as seen by our socket. */
export class UdpFlow extends SipConnection {
  constructor(
    remoteAddress: string,
    remotePort: number,
    private readonly socket: UdpTransport,
  ) {
    super(`udp-${remoteAddress}:${remotePort}`, 'UDP', remoteAddress, remotePort);
    this.reportFaultsTo(socket.faults);
  }

  protected write(message: SipMessage): void {
    const to = this.destination(message);
    this.socket.sendDatagram(serializeMessage(message), to.address, to.port);
  }

  override prepare(message: SipMessage): PreparedMessage {
    const to = this.destination(message);
    return { data: ownBytes(serializeMessage(message)), address: to.address, port: to.port };
  }

  private destination(message: SipMessage): { address: string; port: number } {
    return message.kind === 'response' ? responseDestination(message, this) : { address: this.remoteAddress, port: this.remotePort };
  }

  protected override writePrepared(prepared: PreparedMessage): void {
    if (prepared.data) this.socket.sendDatagram(prepared.data, prepared.address ?? this.remoteAddress, prepared.port ?? this.remotePort);
  }

  override close(): void {
    super.close();
    this.socket.forget(this);
  }
}

/**
 * Socket buffers asked for: the default (about 200 KB on Linux) holds a third of a second of traffic at a
 * few thousand datagrams per second, so a garbage collection pause of that length would drop requests and
 * cost half-second retransmissions. The system caps the size (net.core.rmem_max and wmem_max).
 */
export const UDP_BUFFER_BYTES = 4 * 1024 * 1024;

function enlargeBuffers(socket: Socket): void {
  try {
    socket.setRecvBufferSize(UDP_BUFFER_BYTES);
    socket.setSendBufferSize(UDP_BUFFER_BYTES);
  } catch (error) {
    log.info('could not enlarge the socket buffers; keeping the system default', { error: error instanceof Error ? error.message : String(error) });
  }
}

export class UdpTransport {
  private readonly flows: FlowTable<UdpFlow>;
  private closed = false;
  private readonly family: DatagramSocketFamily;

  private constructor(
    private readonly socket: Socket,
    private readonly endpoint: SipEndpoint,
    limits: FlowLimits,
  ) {
    this.flows = new FlowTable('UDP', limits);
    const bound = socket.address();
    this.family = bound.family === 'IPv6' ? { family: 6, dualStack: /^[0:]+$/.test(bound.address) } : { family: 4, dualStack: false };
    socket.on('message', (data, remote) => this.onDatagram(data, remote));
    socket.on('error', (error) => log.warn('socket error', { error }));
  }

  static async listen(options: UdpTransportOptions): Promise<UdpTransport> {
    const socket = createSocket({ type: isIP(options.host) === 6 ? 'udp6' : 'udp4', lookup: literalFirstLookup });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(options.port, options.host, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    enlargeBuffers(socket);
    const transport = new UdpTransport(socket, options.endpoint, { ...DEFAULT_LIMITS, ...options.limits });
    log.info('listening', { address: options.host, port: transport.port, receiveBuffer: socket.getRecvBufferSize() });
    return transport;
  }

  get port(): number {
    return this.socket.address().port;
  }

  /** As the system reports it (Linux reports twice what it grants, for its own bookkeeping). */
  get receiveBufferBytes(): number {
    return this.socket.getRecvBufferSize();
  }

  get flowCount(): number {
    return this.flows.size;
  }

  /** The flow for a remote address and port, if one is open. */
  flow(address: string, port: number): UdpFlow | undefined {
    return this.flows.get(`${normalizeAddress(address)}|${port}`);
  }

  /**
   * The flow for a remote address and port, opened if none is: how the PBX reaches a device again after a
   * restart, at the address and port its REGISTER or its dialog's requests came from. Undefined beyond the
   * flow limits.
   */
  flowTo(address: string, port: number): UdpFlow | undefined {
    const normalized = normalizeAddress(address);
    const key = `${normalized}|${port}`;
    let flow = this.flows.get(key);
    if (!flow) {
      if (!this.flows.admits(normalized)) return undefined;
      flow = new UdpFlow(normalized, port, this);
      this.flows.add(key, flow);
    }
    return flow;
  }

  /** Where this transport counts what it could not send: the endpoint's faults. */
  get faults(): SipEndpoint['faults'] {
    return this.endpoint.faults;
  }

  /**
   * Sends one datagram, or drops it (counted and logged) when its destination cannot be used: this never
   * throws, since the destination may come from whatever a peer wrote in its Via (datagram-destination.ts).
   */
  sendDatagram(data: Buffer, address: string, port: number): void {
    if (this.closed) return;
    const target = datagramTarget(address, port, this.family);
    if (!target.ok) {
      this.endpoint.faults.record('unusableDestination', { destination: `${address}:${String(port)}`, reason: target.reason });
      return;
    }
    try {
      this.socket.send(data, target.port, target.address, this.onSent);
    } catch (error) {
      this.endpoint.faults.record('sendFailed', { destination: `${target.address}:${target.port}`, error: error instanceof Error ? error.message : String(error) });
    }
  }

  /** One callback for every datagram; the error names the destination (a subnet broadcast, say: EACCES). */
  private readonly onSent = (error: Error | null): void => {
    if (error) this.endpoint.faults.record('sendFailed', { error: error.message });
  };

  /** Called by a flow that closed. */
  forget(flow: UdpFlow): void {
    this.flows.remove(`${flow.remoteAddress}|${flow.remotePort}`, flow);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.flows.closeAll();
    this.closed = true;
    await new Promise<void>((resolve) => this.socket.close(() => resolve()));
  }

  /** Never throws: an exception from a socket's 'message' listener would reach the process. */
  private onDatagram(data: Buffer, remote: RemoteInfo): void {
    if (data.length === 0 || data.length > MAX_DATAGRAM_BYTES) return;
    try {
      const address = normalizeAddress(remote.address);
      // RFC 5626 §4.4.2: devices keep their NAT binding open with STUN Binding requests on the SIP port.
      const stun = stunBindingResponse(data, address, remote.port);
      if (stun) {
        this.sendDatagram(stun, address, remote.port);
        return;
      }
      const flow = this.flowTo(address, remote.port);
      if (!flow) return;
      this.endpoint.receive(data, flow);
    } catch (error) {
      this.endpoint.faults.record('messageFailed', { source: `${remote.address}:${remote.port}`, transport: 'UDP', error: error instanceof Error ? error.message : String(error) });
    }
  }
}

/**
 * RFC 3261 §18.2.2 with RFC 3581 §4: to `received` at `rport`, else at the sent-by port (5060 when none).
 *
 * The address is always the flow's: the endpoint stamps `received` with the packet's source whenever the
 * sent-by is anything else (stampVia), so `received` and a sent-by without it both name the source, and
 * nothing a peer writes can aim a response elsewhere. A sent-by name would need DNS (RFC 3263), and is the
 * same host. `maddr` is ignored, although §18.2.2 would send there: it names any address at all, multicast
 * groups included, and following it would make the PBX a reflector for whoever forges it; the source
 * address is where the request came from, and where RFC 3581 sends responses whenever it can.
 */
export function responseDestination(response: SipResponse, flow: SipConnection): { address: string; port: number } {
  const source = { address: flow.remoteAddress, port: flow.remotePort };
  const top = response.headers.get('Via');
  if (!top) return source;
  let via;
  try {
    via = parseVia(top);
  } catch {
    return source;
  }
  const rport = Number(via.params.rport);
  const port = Number.isInteger(rport) && rport > 0 && rport < 65536 ? rport : (via.port ?? DEFAULT_SIP_PORT);
  return { address: flow.remoteAddress, port };
}

/** An IPv4 peer on a dual-stack IPv6 socket shows up as ::ffff:a.b.c.d; Via `received` wants a.b.c.d. */
function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
