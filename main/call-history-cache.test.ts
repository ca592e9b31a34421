import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallHistoryEntry } from '../shared/api';
import { CallHistoryCache } from './call-history-cache';

const ACCOUNT = 'http://pbx.example|101';

function entry(id: number, overrides: Partial<CallHistoryEntry> = {}): CallHistoryEntry {
  return {
    id,
    direction: (['inbound', 'outbound', 'missed'] as const)[id % 3]!,
    disposition: 'answered',
    party: { name: `Person ${id % 50}`, number: `${200 + (id % 50)}` },
    startedAt: new Date(Date.UTC(2026, 0, 1) + id * 60_000).toISOString(),
    answeredAt: null,
    endedAt: null,
    durationSeconds: 0,
    ...overrides,
  };
}

describe('CallHistoryCache', () => {
  const dirs: string[] = [];
  const open = () => {
    const dir = mkdtempSync(join(tmpdir(), 'offhook-cache-'));
    dirs.push(dir);
    return join(dir, 'cache.db');
  };
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps entries per account, newest first, and survives a restart', () => {
    const file = open();
    const first = new Database(file);
    const cache = new CallHistoryCache(first);
    cache.put(ACCOUNT, [entry(1), entry(2), entry(3)]);
    cache.put('http://other|101', [entry(4)]);
    first.close();

    const reopened = new CallHistoryCache(new Database(file));
    expect(reopened.list({ account: ACCOUNT, limit: 10 }).map((e) => e.id)).toEqual([3, 2, 1]);
    expect(reopened.count('http://other|101')).toBe(1);
  });

  it('replaces an entry seen again (a call that has since ended)', () => {
    const cache = new CallHistoryCache(new Database(open()));
    cache.put(ACCOUNT, [entry(7, { endedAt: null })]);
    cache.put(ACCOUNT, [entry(7, { endedAt: '2026-01-01T00:10:00.000Z', durationSeconds: 42 })]);
    expect(cache.list({ account: ACCOUNT, limit: 10 })).toEqual([entry(7, { endedAt: '2026-01-01T00:10:00.000Z', durationSeconds: 42 })]);
  });

  it('pages, filters by direction and searches names and numbers, treating LIKE characters literally', () => {
    const cache = new CallHistoryCache(new Database(open()));
    cache.put(ACCOUNT, Array.from({ length: 300 }, (_, i) => entry(i + 1)));
    cache.put(ACCOUNT, [entry(1000, { party: { name: '100% Sales_Team', number: '555' } })]);

    const page = cache.list({ account: ACCOUNT, limit: 100 });
    expect(page).toHaveLength(100);
    expect(cache.list({ account: ACCOUNT, limit: 100, before: page.at(-1)!.id })[0]!.id).toBe(page.at(-1)!.id - 1);
    expect(cache.list({ account: ACCOUNT, limit: 1000, direction: 'missed' }).every((e) => e.direction === 'missed')).toBe(true);
    expect(cache.list({ account: ACCOUNT, limit: 1000, search: 'person 7' }).every((e) => e.party.name.startsWith('Person 7'))).toBe(true);
    expect(cache.list({ account: ACCOUNT, limit: 1000, search: '207' }).every((e) => e.party.number === '207')).toBe(true);
    expect(cache.list({ account: ACCOUNT, limit: 1000, search: '100%' }).map((e) => e.id)).toEqual([1000]);
    expect(cache.list({ account: ACCOUNT, limit: 1000, search: 's_t' }).map((e) => e.id)).toEqual([1000]);
  });

  it('holds 100,000 entries and answers a page and a search over all of them', () => {
    const cache = new CallHistoryCache(new Database(open()));
    const all = Array.from({ length: 100_000 }, (_, i) => entry(i + 1));
    for (let i = 0; i < all.length; i += 5_000) cache.put(ACCOUNT, all.slice(i, i + 5_000));
    expect(cache.count(ACCOUNT)).toBe(100_000);
    expect(cache.list({ account: ACCOUNT, limit: 200 })[0]!.id).toBe(100_000);
    const found = cache.list({ account: ACCOUNT, limit: 100_000, search: '249' });
    expect(found).toHaveLength(2_000);
  });
});
