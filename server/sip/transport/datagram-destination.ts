/**
 * Where a UDP datagram may go. A response's destination comes from what the sender wrote in its Via
 * (RFC 3261 §18.2.2), so it may name anything: port 0 or 99999 (which make Node's send throw at once), a host
 * name (which would need DNS, RFC 3263, and which we never look up for a response), a broadcast, multicast or
 * unspecified address (0.0.0.0 reaches this very host on Linux), or an address of the other family than the
 * socket's. Each is refused here with a reason, before the socket sees it; the transport drops the datagram.
 */
import { isIP } from 'node:net';

/** The socket a datagram would leave by. */
export interface DatagramSocketFamily {
  family: 4 | 6;
  /** An IPv6 socket bound to the unspecified address also reaches IPv4 peers, as ::ffff:a.b.c.d. */
  dualStack: boolean;
}

export type DatagramTarget = { ok: true; address: string; port: number } | { ok: false; reason: string };

const IPV4_MAPPED = '::ffff:';

/**
 * The address and port to hand the socket, or why there is none. An IPv4 address on a dual-stack IPv6 socket
 * is written as IPv4-mapped (Node refuses a bare one there with EINVAL); an IPv4-mapped one on an IPv4
 * socket is written plain.
 */
export function datagramTarget(address: string, port: number, socket: DatagramSocketFamily): DatagramTarget {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) return { ok: false, reason: `port ${String(port)}` };
  const family = isIP(address);
  if (family === 0) return { ok: false, reason: 'not an IP address' };
  const v4 = family === 4 ? address : mappedIpv4(address);
  if (v4 !== undefined) {
    const refused = refusedIpv4(v4);
    if (refused) return { ok: false, reason: refused };
    if (socket.family === 4) return { ok: true, address: v4, port };
    if (!socket.dualStack) return { ok: false, reason: 'IPv4 address on an IPv6-only socket' };
    return { ok: true, address: `${IPV4_MAPPED}${v4}`, port };
  }
  if (socket.family === 4) return { ok: false, reason: 'IPv6 address on an IPv4 socket' };
  const refused = refusedIpv6(address);
  return refused ? { ok: false, reason: refused } : { ok: true, address, port };
}

function mappedIpv4(address: string): string | undefined {
  if (address.length <= IPV4_MAPPED.length || address.slice(0, IPV4_MAPPED.length).toLowerCase() !== IPV4_MAPPED) return undefined;
  const tail = address.slice(IPV4_MAPPED.length);
  return isIP(tail) === 4 ? tail : undefined;
}

function refusedIpv4(address: string): string | undefined {
  const first = Number(address.slice(0, address.indexOf('.')));
  // RFC 1122 §3.2.1.3: 0.0.0.0/8 means "this host" or "this network", never a destination.
  if (first === 0) return 'unspecified address';
  // RFC 5771: 224.0.0.0/4 is multicast; 240.0.0.0/4, 255.255.255.255 among it, is reserved or broadcast.
  if (first >= 224 && first <= 239) return 'multicast address';
  if (first >= 240) return 'broadcast or reserved address';
  return undefined;
}

function refusedIpv6(address: string): string | undefined {
  const lower = address.toLowerCase();
  // RFC 4291 §2.5.2: the unspecified address; §2.7: ff00::/8 is multicast.
  if (/^[0:]+$/.test(lower)) return 'unspecified address';
  if (lower.startsWith('ff')) return 'multicast address';
  return undefined;
}
