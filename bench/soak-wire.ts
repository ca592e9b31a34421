/**
 * The soak's sockets: SIP "wires" over UDP, TCP and WebSocket, each bound to a chosen loopback source
 * address, so that traffic comes from many addresses (Linux routes all of 127.0.0.0/8 to lo). Every socket
 * the soak opens is registered with a `SocketRegistry`, so that a run that must end (the PBX died, the time
 * is up) can close them all at once and nothing is left waiting on a dead peer.
 */
import { createSocket } from 'node:dgram';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import WebSocket from 'ws';
import { splitStream } from '../tests/support/sip-text';

/** Where the PBX listens: every port on one loopback host. */
export interface PbxAddress {
  host: string;
  udp: number;
  tcp: number;
  tls: number;
  http: number;
}

/**
 * The `index`-th address of a block, 127.<block>.x.y: each kind of traffic has its own block, so that what
 * happens to one source (a ban, a limit) is seen apart from the others.
 */
export function sourceAddress(block: number, index: number): string {
  return `127.${block}.${Math.floor(index / 250)}.${(index % 250) + 1}`;
}

/** Source address blocks by what they carry. */
export const BLOCKS = { udpPhones: 1, tcpUsers: 2, wsUsers: 3, guessing: 4, malformed: 5, large: 6, idle: 7, victim: 9 } as const;

export class SocketRegistry {
  private readonly open = new Set<{ close(): void }>();
  closed = false;

  add<T extends { close(): void }>(socket: T): T {
    if (this.closed) socket.close();
    else this.open.add(socket);
    return socket;
  }

  forget(socket: { close(): void }): void {
    this.open.delete(socket);
  }

  get size(): number {
    return this.open.size;
  }

  closeAll(): void {
    this.closed = true;
    for (const socket of [...this.open]) {
      try {
        socket.close();
      } catch {
        // already gone
      }
    }
    this.open.clear();
  }
}

export type WireTransport = 'UDP' | 'TCP' | 'WS';

export interface Wire {
  readonly transport: WireTransport;
  readonly localAddress: string;
  readonly localPort: number;
  readonly isOpen: boolean;
  send(data: string | Buffer): void;
  /** Each whole SIP message received, as text. */
  onMessage: (text: string) => void;
  /** Called once when the wire closes, from either side. */
  onClose: () => void;
  close(): void;
}

const CONNECT_TIMEOUT_MS = 5_000;

export async function udpWire(registry: SocketRegistry, localAddress: string, pbx: PbxAddress): Promise<Wire> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, localAddress, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  let open = true;
  const wire: Wire = {
    transport: 'UDP',
    localAddress,
    localPort: socket.address().port,
    get isOpen() {
      return open;
    },
    send: (data) => {
      if (open) socket.send(data, pbx.udp, pbx.host);
    },
    onMessage: () => undefined,
    onClose: () => undefined,
    close: () => {
      if (!open) return;
      open = false;
      registry.forget(wire);
      socket.close();
      wire.onClose();
    },
  };
  socket.on('message', (data) => wire.onMessage(data.toString('utf8')));
  // A send that fails (a full buffer) is a lost datagram, as on a real network; retransmission covers it.
  socket.on('error', () => undefined);
  return registry.add(wire);
}

/** A TCP connection from `localAddress` to `port` (the SIP TCP port unless given), opened or rejected within 5 s. */
export async function tcpSocket(localAddress: string, host: string, port: number): Promise<Socket> {
  const socket = connect({ host, port, localAddress });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error('connect timed out'));
    }, CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
  return socket;
}

export async function tcpWire(registry: SocketRegistry, localAddress: string, pbx: PbxAddress): Promise<Wire> {
  const socket = await tcpSocket(localAddress, pbx.host, pbx.tcp);
  let open = true;
  let buffered = '';
  const wire: Wire = {
    transport: 'TCP',
    localAddress,
    localPort: socket.localPort ?? 0,
    get isOpen() {
      return open;
    },
    send: (data) => {
      if (open) socket.write(data);
    },
    onMessage: () => undefined,
    onClose: () => undefined,
    close: () => socket.destroy(),
  };
  socket.on('data', (chunk: Buffer) => {
    const { messages, rest } = splitStream(buffered + chunk.toString('utf8'));
    buffered = rest;
    for (const message of messages) wire.onMessage(message);
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => {
    if (!open) return;
    open = false;
    registry.forget(wire);
    wire.onClose();
  });
  return registry.add(wire);
}

export async function wsWire(registry: SocketRegistry, localAddress: string, pbx: PbxAddress): Promise<Wire> {
  const socket = new WebSocket(`ws://${pbx.host}:${pbx.http}/sip`, 'sip', { localAddress, handshakeTimeout: CONNECT_TIMEOUT_MS });
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
    socket.once('close', (code) => reject(new Error(`closed with ${code} before opening`)));
  });
  let open = true;
  const wire: Wire = {
    transport: 'WS',
    localAddress,
    localPort: 0,
    get isOpen() {
      return open;
    },
    send: (data) => {
      if (open) socket.send(typeof data === 'string' ? data : data.toString('utf8'));
    },
    onMessage: () => undefined,
    onClose: () => undefined,
    close: () => socket.terminate(),
  };
  socket.on('message', (data) => wire.onMessage(String(data)));
  socket.on('error', () => socket.terminate());
  socket.on('close', () => {
    if (!open) return;
    open = false;
    registry.forget(wire);
    wire.onClose();
  });
  return registry.add(wire);
}
