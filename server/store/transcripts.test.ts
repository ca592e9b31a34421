import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from './schema';
import { openTestDatabase, TEST_STORAGES } from './test-support';
import type { TestDatabase } from './test-support';
import { seedPeople } from './test-people';
import { finishTranscript, ftsQuery, pendingTranscriptions, putTranscript, searchVoicemailIds, transcriptsFor } from './transcripts';
import { insertTestVoicemail } from './test-voicemails';

describe('ftsQuery', () => {
  it('quotes every word as a prefix, doubling quotes, so operators are only words', () => {
    expect(ftsQuery('call me back')).toBe('"call"* "me"* "back"*');
    expect(ftsQuery('say "hi" NEAR(a b) OR x*')).toBe('"say"* """hi"""* "NEAR(a"* "b)"* "OR"* "x*"*');
    expect(ftsQuery('café')).toBe('"café"*');
  });

  it('leaves nothing to search in blank or punctuation-only text', () => {
    expect(ftsQuery('')).toBeUndefined();
    expect(ftsQuery('   ')).toBeUndefined();
    expect(ftsQuery('" * ( ) -')).toBeUndefined();
  });

  it('takes at most 16 words', () => {
    expect(ftsQuery(Array.from({ length: 40 }, (_, i) => `w${i}`).join(' '))?.split(' ')).toHaveLength(16);
  });
});

describe.each(TEST_STORAGES)('transcripts (%s)', (storage) => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let alice: number;
  let bob: number;
  let organizationId: number;

  beforeEach(async () => {
    store = await openTestDatabase(storage);
    db = store.db;
    const people = await seedPeople(db, 'demo.offhook.test', ['101', '102']);
    organizationId = people.organizationId;
    [alice, bob] = people.userIds as [number, number];
  });
  afterEach(async () => {
    await store.close();
  });

  const voicemail = (userId: number, wideband = true) => insertTestVoicemail(db, { organizationId, userId, wideband });

  it('writes, reads back and finishes transcripts, only for messages that exist', async () => {
    const one = await voicemail(alice);
    const two = await voicemail(alice, false);
    await putTranscript(db, one, { status: 'pending' });
    await putTranscript(db, two, { status: 'narrowband' });
    expect(await finishTranscript(db, one, { status: 'done', engine: 'pocketsphinx', text: 'call me back' })).toBe(true);
    expect(await transcriptsFor(db, [one, two, 999])).toEqual(
      new Map([
        [one, { status: 'done', engine: 'pocketsphinx', text: 'call me back' }],
        [two, { status: 'narrowband' }],
      ]),
    );
    await expect(putTranscript(db, 999, { status: 'pending' })).rejects.toThrow(/FOREIGN KEY/);
    // A message deleted while being transcribed: its row went with it, and the result is dropped.
    await db.deleteFrom('voicemail_transcripts').where('voicemail_id', '=', two).execute();
    expect(await finishTranscript(db, two, { status: 'done', engine: 'hosted', text: 'late' })).toBe(false);
    expect((await transcriptsFor(db, [two])).size).toBe(0);
  });

  it('reads many ids at once', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 1200; i++) ids.push(await voicemail(alice));
    await Promise.all(ids.map((id) => putTranscript(db, id, { status: 'off' })));
    expect((await transcriptsFor(db, ids)).size).toBe(1200);
  });

  it('lists the pending ones and those never noted, with their file and band, oldest first', async () => {
    const one = await voicemail(alice, false);
    const two = await voicemail(bob, true);
    const three = await voicemail(alice);
    const four = await voicemail(alice);
    await putTranscript(db, two, { status: 'pending' });
    await putTranscript(db, one, { status: 'pending' });
    await putTranscript(db, three, { status: 'done', text: 'x', engine: 'hosted' });
    expect(await pendingTranscriptions(db)).toEqual([
      { voicemailId: one, organizationId, userId: alice, file: `voicemail/${one}.ogg`, wideband: false, noted: true },
      { voicemailId: two, organizationId, userId: bob, file: `voicemail/${two}.ogg`, wideband: true, noted: true },
      { voicemailId: four, organizationId, userId: alice, file: `voicemail/${four}.ogg`, wideband: true, noted: false },
    ]);
  });

  it("searches the owner's transcripts only, by word prefix, and the index follows updates and deletes", async () => {
    const one = await voicemail(alice);
    const two = await voicemail(alice);
    const bobs = await voicemail(bob);
    await putTranscript(db, one, { status: 'pending' });
    await finishTranscript(db, one, { status: 'done', engine: 'pocketsphinx', text: 'Hello, this is Bob about the meeting tomorrow' });
    await putTranscript(db, two, { status: 'done', engine: 'hosted', text: 'Please call me back about the Café order' });
    await putTranscript(db, bobs, { status: 'done', engine: 'hosted', text: 'the meeting moved' });

    expect(await searchVoicemailIds(db, alice, 'meeting')).toEqual([one]);
    expect(await searchVoicemailIds(db, alice, 'MEET tomorr')).toEqual([one]);
    expect(await searchVoicemailIds(db, alice, 'about the')).toEqual([two, one]);
    expect(await searchVoicemailIds(db, alice, 'cafe')).toEqual([two]);
    expect(await searchVoicemailIds(db, bob, 'meeting')).toEqual([bobs]);
    expect(await searchVoicemailIds(db, alice, 'meeting', 1)).toEqual([one]);
    // Input that would be FTS5 syntax errors unescaped.
    for (const nasty of ['"', 'meeting"', 'AND', 'NEAR(', '*', 'a OR', '(meeting', 'text:meeting', '^', '-meeting', '\u0000']) {
      await expect(searchVoicemailIds(db, alice, nasty)).resolves.toBeInstanceOf(Array);
    }
    expect(await searchVoicemailIds(db, alice, '(meeting')).toEqual([one]);

    await finishTranscript(db, one, { status: 'done', engine: 'pocketsphinx', text: 'something else entirely' });
    expect(await searchVoicemailIds(db, alice, 'meeting')).toEqual([]);
    expect(await searchVoicemailIds(db, alice, 'entirely')).toEqual([one]);
    await sql`DELETE FROM voicemails WHERE id = ${two}`.execute(db);
    expect(await searchVoicemailIds(db, alice, 'call')).toEqual([]);
    expect(await transcriptsFor(db, [two])).toEqual(new Map());
    await sql`INSERT INTO voicemail_transcripts_fts(voicemail_transcripts_fts, rank) VALUES ('integrity-check', 1)`.execute(db);
  });
});
