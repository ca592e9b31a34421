import { describe, expect, it } from 'vitest';
import { parseNameAddr, parseNameAddrUnshared } from './header-values';
import { memoizeParser } from './parse-memo';

describe('memoizeParser', () => {
  it('parses a value once while it is recent, and answers with a frozen value', () => {
    let parses = 0;
    const parse = memoizeParser((text: string) => {
      parses++;
      return { text, parts: { length: text.length } };
    }, 2);
    const first = parse('a');
    expect(parse('a')).toBe(first);
    expect(parses).toBe(1);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.parts)).toBe(true);
  });

  it('keeps two generations: a value seen one generation ago is still found, two ago it is parsed again', () => {
    let parses = 0;
    const parse = memoizeParser((text: string) => ({ text, n: ++parses }), 2);
    parse('a');
    parse('b');
    parse('c'); // a and b are now the previous generation
    expect(parse('a').n).toBe(1);
    parse('d');
    parse('e'); // a went to the current generation with c and d; b is gone
    expect(parse('b').n).toBeGreaterThan(3);
  });

  it('keeps no failure and no very long value', () => {
    let parses = 0;
    const parse = memoizeParser((text: string) => {
      parses++;
      if (text === 'bad') throw new Error('bad value');
      return { text };
    });
    expect(() => parse('bad')).toThrow('bad value');
    expect(() => parse('bad')).toThrow('bad value');
    const long = 'x'.repeat(600);
    parse(long);
    parse(long);
    expect(parses).toBe(4);
  });

  it('is what parseNameAddr answers with, so a caller cannot change what others read', () => {
    const to = parseNameAddr('<sip:102@demo.offhook.test>');
    expect(parseNameAddr('<sip:102@demo.offhook.test>')).toBe(to);
    expect(() => {
      (to.params as Record<string, string>).tag = 'x';
    }).toThrow(TypeError);
  });

  it('is left out for a value kept long: an unshared parse shares no part with the memory', () => {
    const text = '<sip:102@192.0.2.10:5062;transport=udp>;expires=3600';
    const shared = parseNameAddr(text);
    const own = parseNameAddrUnshared(text);
    expect(own).toEqual(shared);
    expect(own).not.toBe(shared);
    expect(own.uri).not.toBe(shared.uri);
    expect(Object.isFrozen(own)).toBe(false);
  });
});
