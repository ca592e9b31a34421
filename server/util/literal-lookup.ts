/**
 * The address lookup for UDP sockets that mostly send to IP literals (SIP flows, RTP legs). Node's dgram
 * resolves every destination through dns.lookup, which answers a literal on the next tick: a queued tick
 * and a closure for each datagram. This answers a literal at once, and hands a name to dns.lookup.
 */
import { lookup } from 'node:dns';
import type { LookupOneOptions } from 'node:dns';
import { isIP } from 'node:net';

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string, family: number) => void;

export function literalFirstLookup(hostname: string, options: LookupOneOptions | number, callback: LookupCallback): void {
  const family = isIP(hostname);
  if (family !== 0) {
    callback(null, hostname, family);
    return;
  }
  lookup(hostname, typeof options === 'number' ? { family: options } : options, callback);
}
