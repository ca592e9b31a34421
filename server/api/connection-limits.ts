/**
 * What one HTTP or HTTPS connection may hold of the PBX: a place in a quota (in all and per source address,
 * counted from the TCP accept, WebSockets included, shared by the HTTP and HTTPS servers), a request that
 * must arrive whole within a time, a connection that must not sit idle for long, and for HTTPS a handshake
 * that must end in time. Node's defaults leave an idle connection that never sends a byte open forever,
 * so one address could hold sockets until none were left.
 */
import type { Server } from 'node:net';
import { createLogger } from '../log';
import { ConnectionQuota } from '../util/connection-quota';

const log = createLogger('http-limits');

export interface HttpLimits {
  /** Connections at once, HTTP and HTTPS together. */
  maxConnections: number;
  maxConnectionsPerAddress: number;
  /** Time to receive a whole request, headers and body (Node's requestTimeout and headersTimeout). */
  requestTimeoutMs: number;
  /** Time a connection may go without a byte either way before it is closed (a WebSocket keeps its own watch). */
  idleTimeoutMs: number;
  /** HTTPS: time to finish the TLS handshake. */
  handshakeTimeoutMs: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  maxConnections: 1_000,
  // As the SIP WebSocket flows per address (ws-transport.ts): an office's web phones behind one NAT.
  maxConnectionsPerAddress: 256,
  requestTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  handshakeTimeoutMs: 10_000,
};

/** The quota the HTTP and HTTPS servers of one PBX share. */
export function httpConnectionQuota(limits: HttpLimits): ConnectionQuota {
  return new ConnectionQuota('HTTP', { max: limits.maxConnections, maxPerAddress: limits.maxConnectionsPerAddress });
}

/** The timeouts, as Fastify's options name them (it sets them on the server it makes). */
export function fastifyTimeouts(limits: HttpLimits): { connectionTimeout: number; requestTimeout: number } {
  return { connectionTimeout: limits.idleTimeoutMs, requestTimeout: limits.requestTimeoutMs };
}

/**
 * Applies what Fastify has no option for to its server: the headers timeout, and the quota, counting each
 * accepted connection until it closes and closing at once those beyond it.
 */
export function limitConnections(server: Server & { headersTimeout?: number }, limits: HttpLimits, quota: ConnectionQuota): void {
  server.headersTimeout = limits.requestTimeoutMs;
  server.on('connection', (socket) => {
    const address = normalizeAddress(socket.remoteAddress ?? '');
    if (!quota.admits(address)) {
      log.debug('connection refused', { address });
      socket.destroy();
      return;
    }
    socket.once('close', quota.take(address));
  });
}

function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
