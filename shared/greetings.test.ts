import { describe, expect, it } from 'vitest';
import { describeLength, describeSize, GreetingName, greetingLengthProblem, greetingSizeProblem, GreetingUpdate } from './greetings';

describe('greetings contract', () => {
  it('says lengths as people do', () => {
    expect(describeLength(400)).toBe('0.4 s');
    expect(describeLength(1000)).toBe('1 s');
    expect(describeLength(45_200)).toBe('45 s');
    expect(describeLength(120_000)).toBe('2 min');
    expect(describeLength(185_000)).toBe('3 min 5 s');
  });

  it('refuses greetings under a second or over two minutes, saying how long they are', () => {
    expect(greetingLengthProblem(960)).toBe('A greeting must be at least 1 second long; this one is 0.9 s.');
    expect(greetingLengthProblem(120_400)).toBe('A greeting can be at most 2 minutes; this one is 2 min 1 s.');
    expect(greetingLengthProblem(400)).toBe('A greeting must be at least 1 second long; this one is 0.4 s.');
    expect(greetingLengthProblem(1000)).toBeUndefined();
    expect(greetingLengthProblem(120_000)).toBeUndefined();
    expect(greetingLengthProblem(185_000)).toBe('A greeting can be at most 2 minutes; this one is 3 min 5 s.');
  });

  it('refuses files over 10 MB, saying how big they are', () => {
    expect(greetingSizeProblem(10 * 1024 * 1024)).toBeUndefined();
    expect(greetingSizeProblem(12.3 * 1024 * 1024)).toBe('A greeting file can be at most 10 MB; this one is 12.3 MB.');
    expect(describeSize(11 * 1024 * 1024)).toBe('11 MB');
  });

  it('names are 1 to 60 characters, trimmed', () => {
    expect(GreetingName.parse('  Holidays ')).toBe('Holidays');
    expect(GreetingName.safeParse('   ').error?.issues[0]?.message).toBe('Give the greeting a name.');
    expect(GreetingName.safeParse('x'.repeat(61)).error?.issues[0]?.message).toBe("A greeting's name can be at most 60 characters.");
    expect(GreetingName.safeParse('x'.repeat(60)).success).toBe(true);
  });

  it('an update changes something', () => {
    expect(GreetingUpdate.safeParse({}).error?.issues[0]?.message).toBe('Send a new name, or active: true or false.');
    expect(GreetingUpdate.parse({ active: true })).toEqual({ active: true });
    expect(GreetingUpdate.safeParse({ active: 'yes' }).success).toBe(false);
  });
});
