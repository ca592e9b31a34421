/**
 * Random bytes from the CSPRNG, drawn from a pool refilled 4 KB at a time. Tags, branches, nonces and media
 * SSRCs are needed thousands of times a second; asking the system's generator for each costs a call into
 * OpenSSL and a fresh buffer, while one refill serves hundreds of them. Each byte is handed out once.
 */
import { randomFillSync } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let offset = POOL_SIZE;

/** Where the next `bytes` random bytes lie in the pool, refilling it first when too few are left. */
function take(bytes: number): number {
  if (bytes > POOL_SIZE) throw new RangeError(`at most ${POOL_SIZE} random bytes at a time`);
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  const start = offset;
  offset += bytes;
  return start;
}

export function randomHex(bytes: number): string {
  const start = take(bytes);
  return pool.toString('hex', start, start + bytes);
}

export function randomBase64url(bytes: number): string {
  const start = take(bytes);
  return pool.toString('base64url', start, start + bytes);
}

export function randomUint32(): number {
  return pool.readUInt32BE(take(4));
}

export function randomUint16(): number {
  return pool.readUInt16BE(take(2));
}
