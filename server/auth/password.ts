/**
 * Password hashing for sign-in, with scrypt from Node's crypto.
 *
 * A hash is stored self-describing, `scrypt$N$r$p$<salt b64>$<key b64>`, so the cost can be raised later
 * while hashes made with the old cost still verify.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import type { ScryptOptions } from 'node:crypto';
import { createLogger } from '../log';

const log = createLogger('auth');

const SCHEME = 'scrypt';
const COST = 2 ** 15;
/**
 * The cost new hashes are made with: COST, unless tests lowered it (tests/hashing-cost.setup.ts) to spend less
 * CPU on the thousands of hashes their seeding makes. A hash names its own cost, so every hash verifies either way.
 */
let hashingCost = COST;

/** Makes new hashes at `cost` (a power of two); for tests only, whose hashes protect nothing. */
export function setHashingCostForTests(cost: number): void {
  hashingCost = cost;
}
const BLOCK_SIZE = 8;
const PARALLELISM = 1;
const SALT_BYTES = 16;
const KEY_BYTES = 32;

// Bounds on what verifyPassword accepts from a stored hash, so a damaged row can't ask for gigabytes.
const MAX_COST = 2 ** 20;
const MAX_BLOCK_SIZE = 16;
const MAX_MEMORY_BYTES = 256 * 1024 * 1024;
const MAX_PARALLELISM = 4;
const MIN_KEY_BYTES = 16;
const MAX_KEY_BYTES = 64;

function deriveKey(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  // NFC, so a password typed with composed or decomposed accents is the same password (RFC 8265 §4.2.2).
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key)));
  });
}

/** scrypt needs 128·N·r bytes; Node's default limit (32 MiB) is exactly that at N=2^15, r=8, with no headroom. */
function scryptOptions(N: number, r: number, p: number): ScryptOptions {
  return { N, r, p, maxmem: 2 * 128 * N * r + 1024 * 1024 };
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await deriveKey(password, salt, KEY_BYTES, scryptOptions(hashingCost, BLOCK_SIZE, PARALLELISM));
  return [SCHEME, hashingCost, BLOCK_SIZE, PARALLELISM, salt.toString('base64'), key.toString('base64')].join('$');
}

interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

function parseInteger(text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined || !/^[0-9]{1,8}$/.test(text)) return undefined;
  const value = Number(text);
  return value >= min && value <= max ? value : undefined;
}

function parseHash(encoded: string): ParsedHash | undefined {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== SCHEME) return undefined;
  const N = parseInteger(parts[1], 2, MAX_COST);
  const r = parseInteger(parts[2], 1, MAX_BLOCK_SIZE);
  const p = parseInteger(parts[3], 1, MAX_PARALLELISM);
  const saltText = parts[4] ?? '';
  const keyText = parts[5] ?? '';
  if (N === undefined || r === undefined || p === undefined || (N & (N - 1)) !== 0) return undefined;
  if (128 * N * r > MAX_MEMORY_BYTES) return undefined;
  if (!BASE64.test(saltText) || !BASE64.test(keyText)) return undefined;
  const salt = Buffer.from(saltText, 'base64');
  const key = Buffer.from(keyText, 'base64');
  if (salt.length < 8 || key.length < MIN_KEY_BYTES || key.length > MAX_KEY_BYTES) return undefined;
  return { N, r, p, salt, key };
}

/** Checks a password against a stored hash: verifyPassword, or the same queued in the password pool. */
export type PasswordVerifier = (password: string, encoded: string) => Promise<boolean>;

/** False for a wrong password and for a hash this module can't read; never throws on either. */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parseHash(encoded);
  if (!parsed) {
    log.warn('unreadable password hash');
    return false;
  }
  let key: Buffer;
  try {
    key = await deriveKey(password, parsed.salt, parsed.key.length, scryptOptions(parsed.N, parsed.r, parsed.p));
  } catch (error) {
    // A hash whose parameters pass the bounds above but that scrypt still refuses is as unusable as a garbled one.
    log.warn('password hash with unusable scrypt parameters', { error });
    return false;
  }
  return timingSafeEqual(key, parsed.key);
}
