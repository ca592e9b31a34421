import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPinia, setActivePinia } from 'pinia';
import type { CallHistoryEntry } from '../../../shared/api';
import { useHistoryStore } from './history-store';

function entry(id: number, number: string, direction: CallHistoryEntry['direction']): CallHistoryEntry {
  return {
    id,
    direction,
    disposition: direction === 'missed' ? 'missed' : 'answered',
    party: { name: `Party ${number}`, number },
    startedAt: new Date(Date.UTC(2026, 11, 7, 10, id)).toISOString(),
    answeredAt: null,
    endedAt: null,
    durationSeconds: direction === 'missed' ? 0 : 30,
  };
}

describe('history store: the current row', () => {
  beforeEach(() => {
    vi.stubGlobal('window', {});
    setActivePinia(createPinia());
  });
  afterEach(() => vi.unstubAllGlobals());

  it('marks only the row chosen as current, though other rows share its party', () => {
    const history = useHistoryStore();
    history.entries = [entry(3, '102', 'inbound'), entry(2, '102', 'missed'), entry(1, '103', 'outbound')];
    history.select(2);
    expect(history.entries.filter((row) => history.isCurrent(row.id)).map((row) => row.id)).toEqual([2]);
    expect(history.selected?.party.number).toBe('102');
    expect(history.withParty('102').map((row) => row.id)).toEqual([3, 2]);
  });

  it('has no current row once the details close', () => {
    const history = useHistoryStore();
    history.entries = [entry(1, '102', 'inbound')];
    history.select(1);
    history.select(undefined);
    expect(history.isCurrent(1)).toBe(false);
    expect(history.selected).toBeUndefined();
  });
});
