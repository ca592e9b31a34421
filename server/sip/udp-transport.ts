/**
 * SIP over UDP (RFC 3261 §18): one socket, and one lightweight flow per remote address and port. A flow is
 * what the registrar and the call engine hold on to: requests the PBX originates to a device registered
 * over UDP go back to the address and port its registration came from, which is what keeps a device behind
 * NAT reachable. Responses follow the top Via (§18.2.2, RFC 3581 §4): to `received` and `rport`.
 */
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { isIP } from 'node:net';
import { createLogger } from '../log';
import { SipConnection } from './connection';
import { ownBytes } from '../util/unshared';
import { literalFirstLookup } from '../util/literal-lookup';
import type { PreparedMessage } from './connection';
import type { SipEndpoint } from './endpoint';
import { FlowTable, DEFAULT_HELD_IDLE_MS, DEFAULT_IDLE_MS } from './flow-table';
import type { FlowLimits } from './flow-table';
import { parseVia, serializeMessage } from './message';
import type { SipMessage, SipResponse } from './message';
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

  private constructor(
    private readonly socket: Socket,
    private readonly endpoint: SipEndpoint,
    limits: FlowLimits,
  ) {
    this.flows = new FlowTable('UDP', limits);
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

  sendDatagram(data: Buffer, address: string, port: number): void {
    if (this.closed) return;
    this.socket.send(data, port, address, this.onSent);
  }

  /** One callback for every datagram; the error names the destination. */
  private readonly onSent = (error: Error | null): void => {
    if (error) log.debug('send failed', { error });
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

  private onDatagram(data: Buffer, remote: RemoteInfo): void {
    if (data.length === 0 || data.length > MAX_DATAGRAM_BYTES) return;
    const address = normalizeAddress(remote.address);
    // RFC 5626 §4.4.2: devices keep their NAT binding open with STUN Binding requests on the SIP port.
    const stun = stunBindingResponse(data, address, remote.port);
    if (stun) {
      this.sendDatagram(stun, address, remote.port);
      return;
    }
    const key = `${address}|${remote.port}`;
    let flow = this.flows.get(key);
    if (!flow) {
      if (!this.flows.admits(address)) return;
      flow = new UdpFlow(address, remote.port, this);
      this.flows.add(key, flow);
    }
    this.endpoint.receive(data, flow);
  }
}

/** RFC 3261 §18.2.2 with RFC 3581 §4: `received` (else the sent-by host), and `rport` (else the sent-by port). */
export function responseDestination(response: SipResponse, flow: SipConnection): { address: string; port: number } {
  const top = response.headers.get('Via');
  if (!top) return { address: flow.remoteAddress, port: flow.remotePort };
  let via;
  try {
    via = parseVia(top);
  } catch {
    return { address: flow.remoteAddress, port: flow.remotePort };
  }
  const received = via.params.received;
  const host = via.host.startsWith('[') ? via.host.slice(1, -1) : via.host;
  // The endpoint adds `received` whenever the sent-by is not the source address, so without it the
  // sent-by host is an address; a name there would need DNS (RFC 3263), and the source is the same host.
  const address = received ?? (isIP(host) ? host : flow.remoteAddress);
  const rport = Number(via.params.rport);
  const port = Number.isInteger(rport) && rport > 0 && rport < 65536 ? rport : (via.port ?? DEFAULT_SIP_PORT);
  return { address, port };
}

/** An IPv4 peer on a dual-stack IPv6 socket shows up as ::ffff:a.b.c.d; Via `received` wants a.b.c.d. */
function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
