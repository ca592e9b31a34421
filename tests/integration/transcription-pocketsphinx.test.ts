/**
 * The offline engine for real: stored voicemails (the speech fixtures, Ogg Opus as the PBX stores them) in a
 * data folder, a real SQLite file, the transcriber with Debian's pocketsphinx. A wideband message comes out
 * as text that is mostly right and can be searched; a narrowband one is marked so, never guessed at.
 *
 * Needs the Debian packages pocketsphinx and pocketsphinx-en-us; without them the tests are skipped, saying why.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTranscriber } from '../../server/features/transcription';
import type { Transcriber } from '../../server/features/transcription';
import { PocketsphinxEngine, pocketsphinxMissing } from '../../server/features/transcription/pocketsphinx';
import { wordErrorRate } from '../../server/features/transcription/word-error-rate';
import { closeDatabase, openDatabase } from '../../server/store/db';
import { migrateToLatest } from '../../server/store/migrate';
import type { Database } from '../../server/store/schema';
import { seedPeople } from '../../server/store/test-people';
import { insertTestVoicemail } from '../../server/store/test-voicemails';
import { searchVoicemailIds, transcriptsFor } from '../../server/store/transcripts';
import { SPEECH_FIXTURES_DIR, speechFixtures } from '../fixtures/speech/manifest';

const missing = pocketsphinxMissing();
if (missing !== undefined) process.stderr.write(`transcription-pocketsphinx: skipped, ${missing}\n`);
const skipped = missing === undefined ? '' : ` (skipped: ${missing})`;

describe('pocketsphinx transcription of stored voicemails', () => {
  let dataDir: string;
  let db: Kysely<Database>;
  let organizationId: number;
  let userId: number;
  let transcriber: Transcriber | undefined;
  const told: number[] = [];

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'offhook-transcription-'));
    mkdirSync(join(dataDir, 'voicemail'));
    db = openDatabase(join(dataDir, 'offhook.db'));
    await migrateToLatest(db);
    const people = await seedPeople(db, 'demo.offhook.test', ['101']);
    organizationId = people.organizationId;
    userId = people.userIds[0]!;
    told.length = 0;
  });
  afterEach(async () => {
    await transcriber?.close();
    await closeDatabase(db);
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A fixture stored as a voicemail of user 101. */
  const store = async (fixtureFile: string) => {
    const fixture = speechFixtures().find((f) => f.file === fixtureFile)!;
    const wideband = fixture.band === 'wideband';
    const voicemailId = await insertTestVoicemail(db, { organizationId, userId, wideband });
    copyFileSync(join(SPEECH_FIXTURES_DIR, fixture.file), join(dataDir, 'voicemail', `${voicemailId}.ogg`));
    return { job: { voicemailId, organizationId, userId, file: join(dataDir, 'voicemail', `${voicemailId}.ogg`), wideband }, fixture };
  };

  it.skipIf(missing !== undefined)(`transcribes a wideband message well enough to read and search${skipped}`, async () => {
    transcriber = createTranscriber({ db, dataDir, engine: new PocketsphinxEngine(), onTranscribed: (id) => told.push(id) });
    const { job, fixture } = await store('wb-6-rms.ogg');
    await transcriber.transcribe(job);
    await transcriber.idle();
    const transcript = (await transcriptsFor(db, [job.voicemailId])).get(job.voicemailId);
    expect(transcript).toMatchObject({ status: 'done', engine: 'pocketsphinx' });
    expect(wordErrorRate(fixture.text, transcript?.text ?? '')).toBeLessThan(0.6);
    expect(told).toEqual([job.voicemailId]);
    expect(await searchVoicemailIds(db, userId, 'front desk')).toEqual([job.voicemailId]);
  }, 60_000);

  it.skipIf(missing !== undefined)(`marks a narrowband message narrowband without running the engine on it${skipped}`, async () => {
    transcriber = createTranscriber({ db, dataDir, engine: new PocketsphinxEngine(), onTranscribed: (id) => told.push(id) });
    const { job } = await store('nb-ss-noservice.ogg');
    await transcriber.transcribe(job);
    expect((await transcriptsFor(db, [job.voicemailId])).get(job.voicemailId)).toEqual({ status: 'narrowband', engine: 'pocketsphinx' });
    // Written when the hook returned, before the message is announced: nothing later to tell.
    expect(told).toEqual([]);
  });

  it.skipIf(missing !== undefined)(`takes up a message left pending by a stop at the next start${skipped}`, async () => {
    const first = createTranscriber({ db, dataDir, engine: new PocketsphinxEngine() });
    const { job } = await store('wb-2-rms.ogg');
    await first.transcribe(job);
    await first.close();
    expect((await transcriptsFor(db, [job.voicemailId])).get(job.voicemailId)).toEqual({ status: 'pending' });
    transcriber = createTranscriber({ db, dataDir, engine: new PocketsphinxEngine(), onTranscribed: (id) => told.push(id) });
    await transcriber.start();
    await transcriber.idle();
    expect((await transcriptsFor(db, [job.voicemailId])).get(job.voicemailId)?.text).toMatch(/conference room/);
  }, 60_000);
});
