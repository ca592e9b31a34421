/**
 * Call history as the PBX records it. Loaded a page at a time (newest first), synced with `after` when a
 * call ends or the view opens again, filtered and searched here so typing never waits on the network.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { CallDirection, CallHistoryEntry } from '../../shared/api';
import { fetchCallHistory, RequestError } from '../api/client';
import { createLogger } from '../log';
import { useSessionStore } from './session';

const log = createLogger('history');

export const PAGE_SIZE = 200;
export type HistoryFilter = 'all' | CallDirection;

export const useHistoryStore = defineStore('history', () => {
  /** Newest first, unique by id. */
  const entries = shallowRef<readonly CallHistoryEntry[]>([]);
  const filter = ref<HistoryFilter>('all');
  const search = ref('');
  const loading = ref(false);
  const error = ref('');
  const complete = ref(false);
  let nextBefore: number | undefined;
  let loadedFor: string | undefined;

  const filtered = computed(() => {
    const wanted = filter.value;
    const text = search.value.trim().toLowerCase();
    const digits = text.replace(/[^0-9*#+]/g, '');
    return entries.value.filter((entry) => {
      if (wanted !== 'all' && entry.direction !== wanted) return false;
      if (!text) return true;
      return entry.party.name.toLowerCase().includes(text) || (digits !== '' && entry.party.number.includes(digits));
    });
  });

  function withParty(number: string): CallHistoryEntry[] {
    return entries.value.filter((entry) => entry.party.number === number);
  }

  function credentials() {
    const session = useSessionStore();
    const token = session.session?.token;
    return token ? { server: session.serverUrl, token, who: `${session.serverUrl}|${session.user?.extension}` } : undefined;
  }

  async function run(work: (c: NonNullable<ReturnType<typeof credentials>>) => Promise<void>): Promise<void> {
    const c = credentials();
    if (!c || loading.value) return;
    if (loadedFor !== c.who) reset(c.who);
    loading.value = true;
    error.value = '';
    try {
      await work(c);
    } catch (failure) {
      error.value = failure instanceof RequestError ? failure.message : 'Loading the call history did not work. Try again.';
      log.warn('history load failed', { error: failure instanceof Error ? failure.message : String(failure) });
      if (failure instanceof RequestError && failure.signedOut) useSessionStore().signOut();
    } finally {
      loading.value = false;
    }
  }

  function reset(who: string | undefined): void {
    entries.value = [];
    nextBefore = undefined;
    complete.value = false;
    loadedFor = who;
  }

  /** The newest page on first open; afterwards only what is new. */
  async function refresh(): Promise<void> {
    await run(async ({ server, token }) => {
      const newest = entries.value[0]?.id;
      if (newest === undefined) {
        const page = await fetchCallHistory(server, token, { limit: PAGE_SIZE });
        entries.value = page.calls;
        nextBefore = page.nextBefore;
        complete.value = page.nextBefore === undefined;
        return;
      }
      // Newer calls, plus the recent ones again: a call recorded as ringing may have ended since.
      const page = await fetchCallHistory(server, token, { limit: PAGE_SIZE, after: Math.max(0, newest - 20) });
      const byId = new Map(entries.value.map((e) => [e.id, e]));
      for (const entry of page.calls) byId.set(entry.id, entry);
      entries.value = [...byId.values()].sort((a, b) => b.id - a.id);
    });
  }

  async function loadMore(): Promise<void> {
    if (complete.value || nextBefore === undefined) return;
    await run(async ({ server, token }) => {
      const page = await fetchCallHistory(server, token, { limit: PAGE_SIZE, before: nextBefore });
      entries.value = [...entries.value, ...page.calls];
      nextBefore = page.nextBefore;
      complete.value = page.nextBefore === undefined;
    });
  }

  return { entries, filter, search, loading, error, complete, filtered, withParty, refresh, loadMore };
});
