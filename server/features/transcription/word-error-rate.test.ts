import { describe, expect, it } from 'vitest';
import { normalizeWords, wordErrorRate, wordErrors } from './word-error-rate';

describe('word error rate', () => {
  it('ignores case and punctuation but keeps apostrophes inside words', () => {
    expect(normalizeWords("Hello, it's Bob -- 'call' me back!")).toEqual(['hello', "it's", 'bob', 'call', 'me', 'back']);
  });

  it('counts substitutions, deletions and insertions against the reference length', () => {
    expect(wordErrorRate('please call me back', 'please call me back')).toBe(0);
    expect(wordErrors('please call me back', 'please fall me back')).toEqual({ errors: 1, words: 4 });
    expect(wordErrors('please call me back', 'please me back')).toEqual({ errors: 1, words: 4 });
    expect(wordErrors('please call me back', 'oh please call me right back')).toEqual({ errors: 2, words: 4 });
    expect(wordErrorRate('please call me back', '')).toBe(1);
    // More insertions than words: above 1, as the measure is defined.
    expect(wordErrorRate('yes', 'no no no')).toBe(3);
  });

  it('scores an empty reference', () => {
    expect(wordErrorRate('', '')).toBe(0);
    expect(wordErrorRate('...', 'hello')).toBe(1);
  });
});
