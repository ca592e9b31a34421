/**
 * How many voicemails wait in a user's mailbox, for message-waiting indication (RFC 3842): `new` messages are
 * the "new" count a desk phone lights its lamp for, `saved` ones the "old" count.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema';
import { countVoicemails } from './voicemails';

export interface MailboxCounts {
  newMessages: number;
  oldMessages: number;
}

export interface VoicemailCounter {
  count(userId: number): Promise<MailboxCounts>;
}

export class StoreVoicemailCounter implements VoicemailCounter {
  constructor(private readonly db: Kysely<Database>) {}

  async count(userId: number): Promise<MailboxCounts> {
    const counts = await countVoicemails(this.db, userId);
    return { newMessages: counts.new, oldMessages: counts.saved };
  }
}
