import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from './schema';
import { openTestDatabase } from './test-support';
import type { TestDatabase } from './test-support';
import { StoreVoicemailCounter } from './voicemail-counts';

describe('StoreVoicemailCounter', () => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  beforeEach(async () => {
    store = await openTestDatabase('memory');
    db = store.db;
  });
  afterEach(async () => {
    await store.close();
  });

  it('reads an empty mailbox while there is no voicemail table, which is the case today', async () => {
    expect(await new StoreVoicemailCounter(db).count(1)).toEqual({ newMessages: 0, oldMessages: 0 });
  });

  it('counts unheard and heard messages once the voicemail table exists', async () => {
    await sql`create table voicemails (id integer primary key, user_id integer not null, heard_at text)`.execute(db);
    await sql`insert into voicemails (user_id, heard_at) values (1, null), (1, null), (1, '2025-01-01T00:00:00.000Z'), (2, null)`.execute(db);
    const counter = new StoreVoicemailCounter(db);
    expect(await counter.count(1)).toEqual({ newMessages: 2, oldMessages: 1 });
    expect(await counter.count(3)).toEqual({ newMessages: 0, oldMessages: 0 });
  });
});
