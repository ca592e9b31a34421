import { describe, expect, it } from 'vitest';
import { hashPassword, setHashingCostForTests, verifyPassword } from './password';
import { TEST_HASHING_COST } from '../../tests/hashing-cost.setup';

describe('hashPassword', () => {
  it('encodes scrypt parameters, a 16-byte salt and a 32-byte key: the real cost, N = 2^15', async () => {
    setHashingCostForTests(2 ** 15);
    const encoded = await hashPassword('alice-101').finally(() => setHashingCostForTests(TEST_HASHING_COST));
    const parts = encoded.split('$');
    expect(parts.slice(0, 4)).toEqual(['scrypt', '32768', '8', '1']);
    expect(Buffer.from(parts[4] ?? '', 'base64')).toHaveLength(16);
    expect(Buffer.from(parts[5] ?? '', 'base64')).toHaveLength(32);
  });

  it('salts every hash differently', async () => {
    const [first, second] = await Promise.all([hashPassword('same'), hashPassword('same')]);
    expect(first).not.toBe(second);
  });
});

describe('verifyPassword', () => {
  it('accepts the right password and refuses a wrong one', async () => {
    const encoded = await hashPassword('carol-103');
    expect(await verifyPassword('carol-103', encoded)).toBe(true);
    expect(await verifyPassword('carol-104', encoded)).toBe(false);
    expect(await verifyPassword('', encoded)).toBe(false);
  });

  it('treats composed and decomposed accents as the same password', async () => {
    const encoded = await hashPassword('caf\u00e9');
    expect(await verifyPassword('cafe\u0301', encoded)).toBe(true);
  });

  it('verifies a hash made with other stored parameters', async () => {
    // Made with Python hashlib.scrypt, N=2^14, r=8, p=1: an older, cheaper cost must keep verifying after the default rises.
    const encoded = 'scrypt$16384$8$1$AAECAwQFBgcICQoLDA0ODw==$f7rTbTKa0RXQYm+wT9vc15upVvCgoscRCKf3Bg9wQug=';
    expect(await verifyPassword('legacy', encoded)).toBe(true);
    expect(await verifyPassword('Legacy', encoded)).toBe(false);
  });

  it.each([
    ['empty', ''],
    ['another scheme', 'bcrypt$32768$8$1$AAECAwQFBgcICQoLDA0ODw==$AAECAwQFBgcICQoLDA0ODwABAgMEBQYHCAkKCwwNDg8='],
    ['missing field', 'scrypt$32768$8$AAECAwQFBgcICQoLDA0ODw==$AAECAwQFBgcICQoLDA0ODwABAgMEBQYHCAkKCwwNDg8='],
    ['cost not a power of two', 'scrypt$30000$8$1$AAECAwQFBgcICQoLDA0ODw==$AAECAwQFBgcICQoLDA0ODwABAgMEBQYHCAkKCwwNDg8='],
    ['cost beyond the limit', 'scrypt$4194304$8$1$AAECAwQFBgcICQoLDA0ODw==$AAECAwQFBgcICQoLDA0ODwABAgMEBQYHCAkKCwwNDg8='],
    ['cost and block size needing over 256 MiB', 'scrypt$1048576$16$1$AAECAwQFBgcICQoLDA0ODw==$AAECAwQFBgcICQoLDA0ODwABAgMEBQYHCAkKCwwNDg8='],
    ['non-numeric block size', 'scrypt$32768$x$1$AAECAwQFBgcICQoLDA0ODw==$AAECAwQFBgcICQoLDA0ODwABAgMEBQYHCAkKCwwNDg8='],
    ['salt not base64', 'scrypt$32768$8$1$not*base64$AAECAwQFBgcICQoLDA0ODwABAgMEBQYHCAkKCwwNDg8='],
    ['key too short', 'scrypt$32768$8$1$AAECAwQFBgcICQoLDA0ODw==$AAEC'],
  ])('returns false for a malformed hash (%s)', async (_name, encoded) => {
    await expect(verifyPassword('anything', encoded)).resolves.toBe(false);
  });
});
