/**
 * Call history as the PBX records it. The desktop app keeps a copy in SQLite (main's cache, through the
 * bridge), so the pane opens at once and offline; the PBX is then asked for what is new and the copy is
 * brought up to date. Older entries load a page at a time as the list scrolls, from the copy first.
 * Filters and search run here over what is loaded, and over the whole copy for search.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef, watch } from 'vue';
import type { CallDirection, CallHistoryEntry } from '../../../shared/api';
import { fetchCallHistory, RequestError } from '../../api/client';
import { getBridge } from '../../bridge';
import { createLogger } from '../../log';
import { useSessionStore } from '../sign-in';

const log = createLogger('history');

export const PAGE_SIZE = 200;
const SEARCH_LIMIT = 5_000;
export type HistoryFilter = 'all' | CallDirection;

/** A number typed with spaces or dashes matches numbers too; words match names only. */
function matcher(text: string): (entry: CallHistoryEntry) => boolean {
  const lower = text.trim().toLowerCase();
  if (!lower) return () => true;
  const digits = /^[0-9*#+\s().-]+$/.test(lower) ? lower.replace(/[^0-9*#+]/g, '') : '';
  return (entry) => entry.party.name.toLowerCase().includes(lower) || (digits !== '' && entry.party.number.includes(digits));
}

function merge(...lists: ReadonlyArray<readonly CallHistoryEntry[]>): CallHistoryEntry[] {
  const byId = new Map<number, CallHistoryEntry>();
  for (const list of lists) for (const entry of list) byId.set(entry.id, entry);
  return [...byId.values()].sort((a, b) => b.id - a.id);
}

export const useHistoryStore = defineStore('history', () => {
  /** Newest first, unique by id. */
  const entries = shallowRef<readonly CallHistoryEntry[]>([]);
  /** Matches for the current search from the whole cached copy (desktop). */
  const cachedMatches = shallowRef<readonly CallHistoryEntry[]>([]);
  const filter = ref<HistoryFilter>('all');
  const search = ref('');
  const loading = ref(false);
  const error = ref('');
  const complete = ref(false);
  /** Missed calls since the person last looked at the history; shown on the app icon and the nav pane. */
  const unseenMissed = ref(0);
  let serverBefore: number | undefined;
  let loadedFor: string | undefined;

  const filtered = computed(() => {
    const wanted = filter.value;
    const matches = matcher(search.value);
    const pool = search.value.trim() ? merge(entries.value, cachedMatches.value) : entries.value;
    return pool.filter((entry) => (wanted === 'all' || entry.direction === wanted) && matches(entry));
  });

  /**
   * The one row whose details are open, by entry id: many rows share a party, and only the row chosen is the
   * current one.
   */
  const selectedId = ref<number>();
  const selected = computed(() =>
    selectedId.value === undefined ? undefined : merge(entries.value, cachedMatches.value).find((entry) => entry.id === selectedId.value),
  );

  function select(id: number | undefined): void {
    selectedId.value = id;
  }

  function isCurrent(id: number): boolean {
    return selectedId.value === id;
  }

  function withParty(number: string): CallHistoryEntry[] {
    return merge(entries.value, cachedMatches.value).filter((entry) => entry.party.number === number);
  }

  function account() {
    const session = useSessionStore();
    const token = session.session?.token;
    const extension = session.user?.extension;
    return token && extension ? { server: session.serverUrl, token, key: `${session.serverUrl}|${extension}` } : undefined;
  }

  async function run(work: (a: NonNullable<ReturnType<typeof account>>) => Promise<void>): Promise<void> {
    const a = account();
    if (!a || loading.value) return;
    if (loadedFor !== a.key) {
      entries.value = [];
      cachedMatches.value = [];
      serverBefore = undefined;
      complete.value = false;
      loadedFor = a.key;
    }
    loading.value = true;
    error.value = '';
    try {
      await work(a);
    } catch (failure) {
      error.value = failure instanceof RequestError ? failure.message : 'Loading the call history did not work. Try again.';
      log.warn('history load failed', { error: failure instanceof Error ? failure.message : String(failure) });
      if (failure instanceof RequestError && failure.signedOut) useSessionStore().signOut();
    } finally {
      loading.value = false;
    }
  }

  async function remember(key: string, fresh: readonly CallHistoryEntry[]): Promise<void> {
    if (fresh.length === 0) return;
    await getBridge()
      .cacheCallHistory({ account: key, entries: [...fresh] })
      .catch((failure: unknown) => log.warn('could not cache the history', { error: String(failure) }));
  }

  /** Shows the cached copy at once, then brings it up to date from the PBX. */
  async function refresh(): Promise<void> {
    await run(async ({ server, token, key }) => {
      if (entries.value.length === 0) {
        entries.value = await getBridge().getCachedCallHistory({ account: key, limit: PAGE_SIZE }).catch(() => []);
      }
      // The PBX writes a call's record once the call has ended, so a record never changes after it is fetched.
      const newest = await fetchCallHistory(server, token, { limit: PAGE_SIZE });
      if (serverBefore === undefined) serverBefore = newest.nextBefore;
      if (newest.nextBefore === undefined) complete.value = true;
      entries.value = merge(entries.value, newest.calls);
      await remember(key, newest.calls);
    });
  }

  /** The next older page: from the cached copy when it has it, else from the PBX. */
  async function loadMore(): Promise<void> {
    if (complete.value) return;
    await run(async ({ server, token, key }) => {
      const oldest = entries.value.at(-1)?.id;
      if (oldest === undefined) return;
      const cached = await getBridge().getCachedCallHistory({ account: key, limit: PAGE_SIZE, before: oldest }).catch(() => []);
      if (cached.length === PAGE_SIZE) {
        entries.value = merge(entries.value, cached);
        return;
      }
      const page = await fetchCallHistory(server, token, { limit: PAGE_SIZE, before: oldest });
      entries.value = merge(entries.value, cached, page.calls);
      complete.value = page.nextBefore === undefined;
      await remember(key, page.calls);
    });
  }

  let searchTimer: ReturnType<typeof setTimeout> | undefined;
  watch(search, (text) => {
    clearTimeout(searchTimer);
    if (!text.trim()) {
      cachedMatches.value = [];
      return;
    }
    searchTimer = setTimeout(() => {
      const a = account();
      if (!a) return;
      void getBridge()
        .getCachedCallHistory({ account: a.key, limit: SEARCH_LIMIT, search: text })
        .then((found) => {
          if (search.value === text) cachedMatches.value = found;
        })
        .catch(() => undefined);
    }, 150);
  });

  function noteMissedCall(): void {
    unseenMissed.value += 1;
  }

  function markSeen(): void {
    unseenMissed.value = 0;
  }

  return {
    entries,
    filter,
    search,
    loading,
    error,
    complete,
    unseenMissed,
    filtered,
    selected,
    select,
    isCurrent,
    withParty,
    refresh,
    loadMore,
    noteMissedCall,
    markSeen,
  };
});
