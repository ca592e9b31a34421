/**
 * Tags, branches and Call-IDs. RFC 3261 §19.3 asks for at least 32 random bits in a tag and global
 * uniqueness for Call-ID and branch; we use 64 to 96 bits from the CSPRNG (see random-pool.ts).
 */
import { randomHex } from '../../util/random-pool';

/** RFC 3261 §8.1.1.7: every branch we create starts with the magic cookie. */
export const BRANCH_MAGIC_COOKIE = 'z9hG4bK';

export function generateTag(): string {
  return randomHex(8);
}

export function generateBranch(): string {
  return `${BRANCH_MAGIC_COOKIE}${randomHex(10)}`;
}

export function generateCallId(host?: string): string {
  const id = randomHex(12);
  return host ? `${id}@${host}` : id;
}
