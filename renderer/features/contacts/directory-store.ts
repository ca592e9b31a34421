/**
 * The organization's directory as the number field searches it: a search waits until typing pauses, only the
 * answer to the latest text is kept, and a search overtaken by newer text is abandoned.
 */
import { defineStore } from 'pinia';
import { computed, ref, shallowRef } from 'vue';
import type { DirectoryEntry } from '../../../shared/api';
import { RequestError, searchDirectory } from '../../api/client';
import { createLogger } from '../../log';
import { useSessionStore } from '../sign-in';

const log = createLogger('directory');

export const DIRECTORY_DEBOUNCE_MS = 150;
export const DIRECTORY_LIMIT = 8;

/** Texts the directory cannot match: outside numbers and feature codes. */
const NOT_IN_DIRECTORY = /^[+*#]/;
/** The longest text the PBX searches for (shared/api.ts DirectoryQuery). */
const MAX_QUERY = 100;

export const useDirectoryStore = defineStore('directory', () => {
  const found = shallowRef<{ account: string; entries: readonly DirectoryEntry[] }>();
  /** People matching `query`, best first; never another account's, after signing in as someone else. */
  const entries = computed<readonly DirectoryEntry[]>(() => (found.value && found.value.account === accountKey() ? found.value.entries : []));
  /** The text `entries` answer. */
  const query = ref('');
  const error = ref('');
  let timer: ReturnType<typeof setTimeout> | undefined;
  let inFlight: AbortController | undefined;

  function clear(): void {
    clearTimeout(timer);
    inFlight?.abort();
    inFlight = undefined;
    found.value = undefined;
    query.value = '';
    error.value = '';
  }

  /** Searches for `text` once typing pauses; an empty text (or a number the directory can't hold) clears. */
  function search(text: string): void {
    const q = text.trim();
    clearTimeout(timer);
    if (q === '' || q.length > MAX_QUERY || NOT_IN_DIRECTORY.test(q)) {
      clear();
      return;
    }
    timer = setTimeout(() => void run(q), DIRECTORY_DEBOUNCE_MS);
  }

  function accountKey(): string | undefined {
    const session = useSessionStore();
    return session.user ? `${session.serverUrl}|${session.user.extension}` : undefined;
  }

  async function run(q: string): Promise<void> {
    const session = useSessionStore();
    const token = session.session?.token;
    const account = accountKey();
    if (!token || !account) return;
    inFlight?.abort();
    const controller = new AbortController();
    inFlight = controller;
    log.debug('search', { length: q.length });
    try {
      const page = await searchDirectory(session.serverUrl, token, { q, limit: DIRECTORY_LIMIT }, { signal: controller.signal });
      if (controller.signal.aborted) return;
      found.value = { account, entries: page.entries };
      query.value = q;
      error.value = '';
    } catch (failure) {
      if (controller.signal.aborted) return;
      error.value = failure instanceof RequestError ? failure.message : 'Searching the directory did not work.';
      log.warn('directory search failed', { error: failure instanceof Error ? failure.message : String(failure) });
      if (failure instanceof RequestError && failure.signedOut) session.signOut();
    } finally {
      if (inFlight === controller) inFlight = undefined;
    }
  }

  return { entries, query, error, search, clear };
});
