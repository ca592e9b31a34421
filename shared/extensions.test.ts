import { describe, expect, it } from 'vitest';
import { isExtension } from './extensions';

describe('isExtension', () => {
  it('is 2 to 10 digits and nothing else', () => {
    for (const yes of ['10', '101', '1234567890']) expect(isExtension(yes)).toBe(true);
    for (const no of ['', '1', '12345678901', '*97', '+15551234567', '10 1', '1a', '١٠١']) expect(isExtension(no)).toBe(false);
  });
});
