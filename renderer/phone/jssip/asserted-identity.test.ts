import { describe, expect, it } from 'vitest';
import { assertedParty } from './asserted-identity';

describe('assertedParty', () => {
  it('reads the name and number the PBX asserts', () => {
    expect(assertedParty('"Carol Clark" <sip:103@demo.offhook.test>')).toEqual({ name: 'Carol Clark', number: '103' });
    expect(assertedParty('<sip:103@demo.offhook.test>')).toEqual({ name: '', number: '103' });
  });

  it('takes the first of several identities', () => {
    expect(assertedParty('"Carol Clark" <sip:103@demo.offhook.test>, <tel:+15550103>')).toEqual({ name: 'Carol Clark', number: '103' });
  });

  it('gives nothing for no header or one that does not parse', () => {
    expect(assertedParty(undefined)).toBeUndefined();
    expect(assertedParty('')).toBeUndefined();
    expect(assertedParty('not an identity')).toBeUndefined();
  });
});
