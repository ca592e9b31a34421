/**
 * The desktop app's copy of the call history, in SQLite in the user's data folder, so the Call History pane
 * opens at once and works offline. The PBX stays the source of truth: entries arrive from its API and are
 * stored as they are (an entry seen again replaces the old copy, e.g. once a ringing call has ended).
 *
 * The database object is handed in (better-sqlite3's `Database`), so tests run it under plain Node.
 */
import type { Database } from 'better-sqlite3';
import type { CallHistoryEntry } from '../shared/api';
import type { CachedHistoryQuery } from '../shared/bridge';
import { createLogger } from './log';

const log = createLogger('history-cache');

/** Each step brings a database from version N-1 to N (PRAGMA user_version). */
const MIGRATIONS: readonly string[] = [
  `CREATE TABLE call_history (
     account TEXT NOT NULL,
     id INTEGER NOT NULL,
     direction TEXT NOT NULL,
     party_name TEXT NOT NULL,
     party_number TEXT NOT NULL,
     started_at TEXT NOT NULL,
     entry TEXT NOT NULL,
     PRIMARY KEY (account, id)
   ) WITHOUT ROWID;
   CREATE INDEX call_history_party ON call_history (account, party_number, id);`,
];

export class CallHistoryCache {
  constructor(private readonly db: Database) {
    db.pragma('journal_mode = WAL');
    const version = db.pragma('user_version', { simple: true }) as number;
    for (let next = version; next < MIGRATIONS.length; next++) {
      db.transaction(() => {
        db.exec(MIGRATIONS[next] ?? '');
        db.pragma(`user_version = ${next + 1}`);
      })();
      log.info('migrated the history cache', { version: next + 1 });
    }
  }

  /** Stores entries for an account in one transaction; an entry already there is replaced. */
  put(account: string, entries: readonly CallHistoryEntry[]): void {
    const insert = this.db.prepare(
      `INSERT OR REPLACE INTO call_history (account, id, direction, party_name, party_number, started_at, entry)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.db.transaction(() => {
      for (const e of entries) insert.run(account, e.id, e.direction, e.party.name, e.party.number, e.startedAt, JSON.stringify(e));
    })();
  }

  /** Newest first; `before` pages back; `direction` and `search` (name or number) filter in SQL. */
  list(query: CachedHistoryQuery): CallHistoryEntry[] {
    const where = ['account = @account'];
    const params: Record<string, string | number> = { account: query.account, limit: query.limit };
    if (query.before !== undefined) {
      where.push('id < @before');
      params.before = query.before;
    }
    if (query.direction) {
      where.push('direction = @direction');
      params.direction = query.direction;
    }
    const text = query.search?.trim().toLowerCase();
    if (text) {
      // A number typed with spaces or dashes matches numbers too; words match names only.
      const digits = /^[0-9*#+\s().-]+$/.test(text) ? text.replace(/[^0-9*#+]/g, '') : '';
      params.name = `%${escapeLike(text)}%`;
      if (digits) {
        params.number = `%${escapeLike(digits)}%`;
        where.push(`(lower(party_name) LIKE @name ESCAPE '\\' OR party_number LIKE @number ESCAPE '\\')`);
      } else {
        where.push(`lower(party_name) LIKE @name ESCAPE '\\'`);
      }
    }
    const rows = this.db
      .prepare(`SELECT entry FROM call_history WHERE ${where.join(' AND ')} ORDER BY id DESC LIMIT @limit`)
      .all(params) as Array<{ entry: string }>;
    return rows.map((row) => JSON.parse(row.entry) as CallHistoryEntry);
  }

  count(account: string): number {
    return (this.db.prepare('SELECT count(*) AS n FROM call_history WHERE account = ?').get(account) as { n: number }).n;
  }

  /** Forgets an account's history (signing out for good). */
  clear(account: string): void {
    this.db.prepare('DELETE FROM call_history WHERE account = ?').run(account);
  }
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}
