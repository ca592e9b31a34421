/**
 * The top Via of a request as the PBX receives it: stamped with where the request really came from
 * (RFC 3261 §18.2.1, RFC 3581 §4), which is where its responses then go (udp-transport.ts,
 * `responseDestination`), and whether that place can be answered at all.
 */
import type { SipConnection } from './connection';
import { splitList } from '../syntax/grammar';
import { formatVia, parseVia } from '../syntax/message';
import type { SipRequest } from '../syntax/message';

function sameHost(viaHost: string, address: string): boolean {
  const host = viaHost.startsWith('[') ? viaHost.slice(1, -1) : viaHost;
  return host.toLowerCase() === address.toLowerCase();
}

/**
 * Whether a response to this request can go where RFC 3261 §18.2.2 sends it: over a connection always; over
 * UDP to the sent-by port unless it is 0 (a port nothing listens on) and no rport says otherwise.
 */
export function answerableOver(request: SipRequest, connection: SipConnection): boolean {
  if (connection.transport !== 'UDP') return true;
  const top = request.headers.get('Via');
  if (top === undefined) return true;
  const via = parseVia(top);
  return via.port !== 0 || Number(via.params.rport) > 0;
}

/**
 * RFC 3261 §18.2.1 and RFC 3581 §4: the top Via of a request records where it really came from. `received`
 * is added when the sent-by host is not the packet's source address (or when rport was asked for, which
 * requires it), and `rport` is filled with the source port when it was asked for (`symmetric` fills it
 * anyway: for an answer that cannot go to the sent-by port). Responses are then routed by them.
 *
 * Whatever the sender wrote in these two parameters is replaced or removed: a `received` naming another
 * host would otherwise aim our responses at a third party, the reflection §18.2.1 exists to prevent.
 */
export function stampVia(request: SipRequest, connection: SipConnection, symmetric = false): void {
  const lines = request.headers.getRaw('Via');
  const firstLine = lines[0];
  if (firstLine === undefined || !connection.remoteAddress) return;
  const elements = splitList(firstLine);
  const top = elements[0];
  if (top === undefined) return;
  const via = parseVia(top);
  const rport = symmetric || 'rport' in via.params ? `${connection.remotePort}` : undefined;
  const received = rport !== undefined || !sameHost(via.host, connection.remoteAddress) ? connection.remoteAddress : undefined;
  // Already as we would write it (a Via naming its source, say): kept as it came.
  if (via.params.received === received && via.params.rport === rport) return;
  const params: Record<string, string | null> = {};
  for (const [name, value] of Object.entries(via.params)) if (name !== 'received') params[name] = name === 'rport' ? (rport ?? null) : value;
  if (rport !== undefined) params.rport = rport;
  if (received !== undefined) params.received = received;
  elements[0] = formatVia({ ...via, params });
  request.headers.remove('Via');
  const rewritten = [elements.join(', '), ...lines.slice(1)];
  for (let i = rewritten.length - 1; i >= 0; i--) request.headers.prepend('Via', rewritten[i] ?? '');
}
