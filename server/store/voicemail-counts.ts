/**
 * How many voicemails wait in a user's mailbox, for message-waiting indication (RFC 3842).
 *
 * Voicemail is not built yet, so there is no table to count and every mailbox honestly reads 0 new, 0 old.
 * The counter looks for the table the voicemail store is expected to add (`voicemails`, one row per
 * message with `user_id` and `heard_at`, null while unheard) and counts it once it exists; if that store
 * lands under other names, this file is the one place to change.
 */
import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from './schema';

export interface MailboxCounts {
  newMessages: number;
  oldMessages: number;
}

export interface VoicemailCounter {
  count(userId: number): Promise<MailboxCounts>;
}

export const VOICEMAIL_TABLE = 'voicemails';

export class StoreVoicemailCounter implements VoicemailCounter {
  /** Migrations run before the PBX serves, so whether the table exists is settled once per process. */
  private tablePresent: Promise<boolean> | undefined;

  constructor(private readonly db: Kysely<Database>) {}

  async count(userId: number): Promise<MailboxCounts> {
    this.tablePresent ??= this.db.introspection.getTables().then((tables) => tables.some((table) => table.name === VOICEMAIL_TABLE));
    if (!(await this.tablePresent)) return { newMessages: 0, oldMessages: 0 };
    const { rows } = await sql<{ unheard: number | string | null; heard: number | string | null }>`
      select sum(case when heard_at is null then 1 else 0 end) as unheard,
             sum(case when heard_at is null then 0 else 1 end) as heard
      from ${sql.table(VOICEMAIL_TABLE)} where user_id = ${userId}`.execute(this.db);
    const row = rows[0];
    return { newMessages: Number(row?.unheard ?? 0), oldMessages: Number(row?.heard ?? 0) };
  }
}
