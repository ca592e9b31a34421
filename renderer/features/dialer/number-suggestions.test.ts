import { describe, expect, it } from 'vitest';
import type { CallHistoryEntry, DirectoryEntry } from '../../../shared/api';
import { suggestNumbers, suggestionLabel } from './number-suggestions';

const directory: DirectoryEntry[] = [
  { extension: '102', displayName: 'Bob Brown' },
  { extension: '110', displayName: 'Bonnie Blue' },
];

let nextId = 100;
function call(name: string, number: string, direction: CallHistoryEntry['direction'] = 'outbound'): CallHistoryEntry {
  nextId -= 1;
  return {
    id: nextId,
    direction,
    disposition: 'answered',
    party: { name, number },
    startedAt: '2026-11-24T10:00:00.000Z',
    answeredAt: '2026-11-24T10:00:05.000Z',
    endedAt: '2026-11-24T10:01:00.000Z',
    durationSeconds: 55,
  };
}

const labels = (list: ReturnType<typeof suggestNumbers>) => list.map(suggestionLabel);

describe('suggestNumbers', () => {
  it('suggests nothing for an empty field', () => {
    expect(suggestNumbers('  ', { directory, history: [call('Bob Brown', '102')], region: 'US' })).toEqual([]);
  });

  it('lists the directory first, then the parties of recent calls, each number once', () => {
    const history = [call('Bob Brown', '102'), call('Bob Plumber', '+12125550123', 'inbound'), call('Bob Plumber', '+12125550123')];
    const list = suggestNumbers('bo', { directory, history, region: 'US' });
    expect(labels(list)).toEqual(['Bob Brown 102', 'Bonnie Blue 110', 'Bob Plumber (212) 555-0123']);
    expect(list.map((s) => s.source)).toEqual(['directory', 'directory', 'history']);
    expect(list[2]).toMatchObject({ number: '+12125550123', display: '(212) 555-0123' });
  });

  it('matches digits typed with or without formatting against the digits of numbers', () => {
    const history = [call('Plumber', '+12125550123'), call('Bakery', '+442079460958')];
    expect(labels(suggestNumbers('555-01', { directory: [], history, region: 'US' }))).toEqual(['Plumber (212) 555-0123']);
    expect(labels(suggestNumbers('+44', { directory: [], history, region: 'US' }))).toEqual(['Bakery +44 20 7946 0958']);
  });

  it('drops directory entries that no longer match what is typed (an answer to older text)', () => {
    expect(labels(suggestNumbers('bon', { directory, history: [], region: 'US' }))).toEqual(['Bonnie Blue 110']);
  });

  it('stops at the limit', () => {
    const history = Array.from({ length: 20 }, (_, i) => call(`Bo ${i}`, `${200 + i}`));
    expect(suggestNumbers('bo', { directory: [], history, region: 'US', limit: 5 })).toHaveLength(5);
  });

  it('labels a party without a name by the number alone', () => {
    expect(suggestionLabel({ name: '', display: '102' })).toBe('102');
    expect(suggestionLabel({ name: '102', display: '102' })).toBe('102');
  });
});
