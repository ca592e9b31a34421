/**
 * Reads the PBX makes for every call (who a digest response may come from, which user an extension names),
 * kept in memory for as long as the database has not changed since they were read.
 *
 * "Changed" is told by `storeVersion` (db.ts): it moves with every write through the PBX's own connection
 * (call records aside, which no cached read looks at) and with every commit another connection makes to the
 * same file, such as `offhook-pbx user sip-password` run beside the server (seen from the next turn of the event
 * loop on). A read is kept only if the version
 * did not move while it ran, and served only while the version is the one it was read at, so a cached answer
 * is never older than the last write. Answers that depend on the clock (a session's SIP password lasts as long
 * as the session) carry their own end. Each cache holds a bounded number of answers, least recently used
 * first out; a miss costs only the query it would have cost anyway. Answers are frozen, being shared.
 */
import type { Kysely } from 'kysely';
import { deepFreeze } from '../util/deep-freeze';
import { storeVersion } from './db';
import type { Database } from './schema';

/** Enough for every user active at once on a large site; under a kilobyte each. */
export const READ_CACHE_ENTRIES = 2_000;

interface Entry<V> {
  version: string;
  value: V;
  /** Milliseconds since the epoch after which the answer is no longer true; undefined: until a write. */
  expiresAt: number | undefined;
}

export class ReadCache<V extends object> {
  private readonly entries = new Map<string, Entry<V>>();

  constructor(private readonly capacity = READ_CACHE_ENTRIES) {}

  /**
   * The answer for `key`, from memory when still true, else from `load` (kept unless undefined). `expiresAt`
   * tells when a loaded answer stops being true by the clock alone.
   */
  async get(db: Kysely<Database>, key: string, load: () => Promise<V | undefined>, expiresAt?: (value: V) => number | undefined): Promise<V | undefined> {
    const version = storeVersion(db);
    if (version === undefined) return load();
    const cached = this.entries.get(key);
    if (cached) {
      this.entries.delete(key);
      if (cached.version === version && (cached.expiresAt === undefined || Date.now() < cached.expiresAt)) {
        this.entries.set(key, cached);
        return cached.value;
      }
    }
    const value = await load();
    if (value === undefined || storeVersion(db) !== version) return value;
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value ?? '');
    this.entries.set(key, { version, value: deepFreeze(value), expiresAt: expiresAt?.(value) });
    return value;
  }

  /** The answer for `key` if memory holds one still true, without loading; undefined otherwise. */
  peek(db: Kysely<Database>, key: string): V | undefined {
    const cached = this.entries.get(key);
    if (!cached || cached.version !== storeVersion(db) || (cached.expiresAt !== undefined && Date.now() >= cached.expiresAt)) return undefined;
    return cached.value;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** One cache per database, so that tests with a database each never see one another's answers. */
export function perDatabase<V extends object>(): (db: Kysely<Database>) => ReadCache<V> {
  const caches = new WeakMap<Kysely<Database>, ReadCache<V>>();
  return (db) => {
    let cache = caches.get(db);
    if (!cache) {
      cache = new ReadCache<V>();
      caches.set(db, cache);
    }
    return cache;
  };
}
