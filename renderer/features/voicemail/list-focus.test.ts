import { describe, expect, it } from 'vitest';
import { neighbourOf } from './list-focus';

describe('where focus goes when a message leaves the list', () => {
  it('goes to the next message, to the one before when it was the last, and nowhere when none is left', () => {
    expect(neighbourOf([7, 5, 3], 7)).toBe(5);
    expect(neighbourOf([7, 5, 3], 5)).toBe(3);
    expect(neighbourOf([7, 5, 3], 3)).toBe(5);
    expect(neighbourOf([7], 7)).toBeUndefined();
    expect(neighbourOf([7, 5], 9)).toBeUndefined();
  });
});
