import { describe, expect, it } from 'vitest';
import { DIAL_PAD_KEYS, isDialPadKey, parseDialString } from './dial-string';

describe('parseDialString', () => {
  it.each([
    ['102', '102'],
    [' 102 ', '102'],
    ['(555) 010-0199', '5550100199'],
    ['+1 555.010.0199', '+15550100199'],
    ['*97', '*97'],
    ['#1', '#1'],
  ])('dials %j as %s', (input, target) => {
    expect(parseDialString(input)).toEqual({ ok: true, target });
  });

  it('asks for a number when there is none', () => {
    expect(parseDialString('  ')).toEqual({ ok: false, message: 'Enter a number to call.' });
  });

  it.each(['abc', '1+2', '++1', '10 2a', 'sip:102@example.org'])('refuses %j', (input) => {
    expect(parseDialString(input)).toEqual({
      ok: false,
      message: 'A number can hold only digits, *, # and a leading +.',
    });
  });

  it('refuses a string too long to be a number', () => {
    expect(parseDialString('1'.repeat(33)).ok).toBe(false);
  });
});

describe('dial pad keys', () => {
  it('are the twelve keys of a phone, in phone order', () => {
    expect(DIAL_PAD_KEYS.join('')).toBe('123456789*0#');
  });

  it('recognises only those keys', () => {
    expect(isDialPadKey('5')).toBe(true);
    expect(isDialPadKey('#')).toBe(true);
    expect(isDialPadKey('A')).toBe(false);
    expect(isDialPadKey('12')).toBe(false);
  });
});
