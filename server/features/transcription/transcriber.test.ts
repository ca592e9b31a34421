import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../store/schema';
import { openTestDatabase } from '../../store/test-support';
import type { TestDatabase } from '../../store/test-support';
import { seedPeople } from '../../store/test-people';
import { insertTestVoicemail } from '../../store/test-voicemails';
import { transcriptsFor } from '../../store/transcripts';
import { TranscriptionError } from './engine';
import type { SpeechAudio, TranscriptionEngine } from './engine';
import { Transcriber } from './transcriber';
import type { TranscriberOptions } from './transcriber';

/** An engine whose answers the test scripts: each call takes the next step, or the last one again. */
class ScriptedEngine implements TranscriptionEngine {
  readonly calls: SpeechAudio[] = [];
  running = 0;
  mostAtOnce = 0;
  constructor(
    readonly name: string,
    readonly rates: TranscriptionEngine['rates'],
    private readonly steps: ((audio: SpeechAudio, signal: AbortSignal) => Promise<string>)[],
  ) {}
  async transcribe(audio: SpeechAudio, signal: AbortSignal): Promise<string> {
    const step = this.steps[Math.min(this.calls.length, this.steps.length - 1)]!;
    this.calls.push(audio);
    this.running++;
    this.mostAtOnce = Math.max(this.mostAtOnce, this.running);
    try {
      return await step(audio, signal);
    } finally {
      this.running--;
    }
  }
}

const LOCAL_RATES = { wideband: 16_000, narrowband: undefined };
const HOSTED_RATES = { wideband: 16_000, narrowband: 8_000 };
const says = (text: string) => () => new Promise<string>((resolve) => setTimeout(() => resolve(text), 5));
const fails = (message: string, retryable: boolean) => () => Promise.reject(new TranscriptionError(message, retryable));
/** Runs until stopped, as the real engines do (an engine handed a signal already aborted stops at once). */
const hangs = () => (_audio: SpeechAudio, signal: AbortSignal) =>
  new Promise<string>((_resolve, reject) => {
    const stop = () => reject(new TranscriptionError('stopped', true));
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop);
  });

describe('transcriber', () => {
  let store: TestDatabase;
  let db: Kysely<Database>;
  let organizationId: number;
  let userId: number;
  let told: number[];
  let owners: { organizationId: number; userId: number }[];
  let resampled: [number, number][];
  let transcriber: Transcriber | undefined;

  beforeEach(async () => {
    store = await openTestDatabase('memory');
    db = store.db;
    const people = await seedPeople(db, 'demo.offhook.test', ['101']);
    organizationId = people.organizationId;
    userId = people.userIds[0]!;
    told = [];
    owners = [];
    resampled = [];
    transcriber = undefined;
  });
  afterEach(async () => {
    await transcriber?.close();
    await store.close();
  });

  const message = async (wideband = true) => {
    const voicemailId = await insertTestVoicemail(db, { organizationId, userId, wideband });
    return { voicemailId, organizationId, userId, file: `voicemail/${voicemailId}.ogg`, wideband };
  };
  const make = (engine: TranscriptionEngine | undefined, options: Partial<TranscriberOptions> = {}) => {
    transcriber = new Transcriber({
      db,
      dataDir: '/data',
      engine,
      readAudio: (path) => (path.startsWith('/data/voicemail/') ? Promise.resolve({ samples: new Int16Array(480), rate: 48_000 }) : Promise.reject(Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' }))),
      resample: (samples, from, to) => {
        resampled.push([from, to]);
        return new Int16Array((samples.length * to) / from);
      },
      onTranscribed: (id, owner) => {
        told.push(id);
        owners.push(owner);
      },
      retryDelayMs: 1,
      ...options,
    });
    return transcriber;
  };
  const transcript = async (id: number) => (await transcriptsFor(db, [id])).get(id);

  it('writes pending, then the text at the rate the engine wants, and tells the listener once', async () => {
    const engine = new ScriptedEngine('pocketsphinx', LOCAL_RATES, [says('call me back')]);
    const t = make(engine);
    const stored = await message();
    // As the voicemail feature hands it over: the file's absolute path inside the data folder.
    const job = { ...stored, file: `/data/${stored.file}` };
    await t.transcribe(job);
    expect(await transcript(job.voicemailId)).toEqual({ status: 'pending' });
    expect(told).toEqual([]);
    await t.idle();
    expect(await transcript(job.voicemailId)).toEqual({ status: 'done', engine: 'pocketsphinx', text: 'call me back' });
    expect(told).toEqual([job.voicemailId]);
    expect(owners).toEqual([{ organizationId, userId }]);
    expect(resampled).toEqual([[48_000, 16_000]]);
    expect(engine.calls.map((audio) => [audio.rate, audio.samples.length])).toEqual([[16_000, 160]]);
  });

  it('reads transcripts for the list, a message not yet noted as pending, or off without an engine', async () => {
    const noted = await message();
    const unnoted = await message();
    const t = make(new ScriptedEngine('pocketsphinx', LOCAL_RATES, [hangs()]));
    await t.transcribe(noted);
    expect(await t.transcripts([noted.voicemailId, unnoted.voicemailId])).toEqual(
      new Map([
        [noted.voicemailId, { status: 'pending' }],
        [unnoted.voicemailId, { status: 'pending' }],
      ]),
    );
    await t.close();
    expect((await make(undefined).transcripts([unnoted.voicemailId])).get(unnoted.voicemailId)).toEqual({ status: 'off' });
  });

  it('marks a narrowband message for an engine that cannot take it, without running it', async () => {
    const engine = new ScriptedEngine('pocketsphinx', LOCAL_RATES, [says('garbage')]);
    const t = make(engine);
    const job = await message(false);
    await t.transcribe(job);
    await t.idle();
    expect(await transcript(job.voicemailId)).toEqual({ status: 'narrowband', engine: 'pocketsphinx' });
    expect(engine.calls).toHaveLength(0);
    // Written before the message is announced: the announcement carries it, nothing more to tell.
    expect(told).toEqual([]);
  });

  it('sends a narrowband message at 8 kHz to an engine that takes it', async () => {
    const engine = new ScriptedEngine('hosted', HOSTED_RATES, [says('hello')]);
    const t = make(engine);
    const job = await message(false);
    await t.transcribe(job);
    await t.idle();
    expect(await transcript(job.voicemailId)).toEqual({ status: 'done', engine: 'hosted', text: 'hello' });
    expect(engine.calls[0]?.rate).toBe(8_000);
  });

  it('marks every message off when there is no engine', async () => {
    const t = make(undefined);
    const wide = await message(true);
    const narrow = await message(false);
    await t.transcribe(wide);
    await t.transcribe(narrow);
    expect(await transcript(wide.voicemailId)).toEqual({ status: 'off' });
    expect(await transcript(narrow.voicemailId)).toEqual({ status: 'off' });
    expect(told).toEqual([]);
  });

  it('tries a retryable failure again and keeps the later text', async () => {
    const engine = new ScriptedEngine('hosted', HOSTED_RATES, [fails('the service failed (HTTP 503)', true), says('second time')]);
    const t = make(engine);
    const job = await message();
    await t.transcribe(job);
    await t.idle();
    expect(engine.calls).toHaveLength(2);
    expect(await transcript(job.voicemailId)).toEqual({ status: 'done', engine: 'hosted', text: 'second time' });
    expect(told).toEqual([job.voicemailId]);
  });

  it('fails a message after its last try, or at once when trying again cannot help', async () => {
    const flaky = new ScriptedEngine('hosted', HOSTED_RATES, [fails('the service did not answer within 60 s', true)]);
    let t = make(flaky, { attempts: 3 });
    const one = await message();
    await t.transcribe(one);
    await t.idle();
    expect(flaky.calls).toHaveLength(3);
    expect(await transcript(one.voicemailId)).toEqual({ status: 'failed', engine: 'hosted', error: 'the service did not answer within 60 s' });
    await t.close();

    const refused = new ScriptedEngine('hosted', HOSTED_RATES, [fails('the service refused the key (HTTP 401)', false)]);
    t = make(refused, { attempts: 3 });
    const two = await message();
    await t.transcribe(two);
    await t.idle();
    expect(refused.calls).toHaveLength(1);
    expect(await transcript(two.voicemailId)).toMatchObject({ status: 'failed', error: 'the service refused the key (HTTP 401)' });
  });

  it('fails a message whose recording is missing or outside the data folder', async () => {
    const engine = new ScriptedEngine('hosted', HOSTED_RATES, [says('never')]);
    const t = make(engine);
    const lost = await message();
    await t.transcribe({ ...lost, file: 'elsewhere/gone.ogg' });
    const escaping = await message();
    await t.transcribe({ ...escaping, file: '../etc/passwd' });
    const absolute = await message();
    await t.transcribe({ ...absolute, file: '/etc/passwd' });
    await t.idle();
    expect(await transcript(lost.voicemailId)).toMatchObject({ status: 'failed', error: 'the recording is missing' });
    expect(await transcript(escaping.voicemailId)).toMatchObject({ status: 'failed', error: 'the recording is not in the data folder' });
    expect(await transcript(absolute.voicemailId)).toMatchObject({ status: 'failed', error: 'the recording is not in the data folder' });
    expect(engine.calls).toHaveLength(0);
  });

  it('keeps to its concurrency', async () => {
    const engine = new ScriptedEngine('pocketsphinx', LOCAL_RATES, [says('x')]);
    const t = make(engine, { concurrency: 2 });
    for (let i = 0; i < 6; i++) await t.transcribe(await message());
    await t.idle();
    expect(engine.calls).toHaveLength(6);
    expect(engine.mostAtOnce).toBe(2);
    expect(told).toHaveLength(6);
  });

  it('leaves unfinished messages pending on close, and takes them up at the next start', async () => {
    const stuck = new ScriptedEngine('pocketsphinx', LOCAL_RATES, [hangs()]);
    const first = make(stuck, { concurrency: 1 });
    const running = await message();
    const queued = await message();
    await first.transcribe(running);
    await first.transcribe(queued);
    await expect.poll(() => stuck.calls.length).toBe(1);
    await first.close();
    expect(await transcript(running.voicemailId)).toEqual({ status: 'pending' });
    expect(await transcript(queued.voicemailId)).toEqual({ status: 'pending' });
    expect(told).toEqual([]);

    const engine = new ScriptedEngine('pocketsphinx', LOCAL_RATES, [says('after the restart')]);
    const second = make(engine);
    await second.start();
    await second.idle();
    expect(await transcript(running.voicemailId)).toMatchObject({ status: 'done', text: 'after the restart' });
    expect(await transcript(queued.voicemailId)).toMatchObject({ status: 'done', text: 'after the restart' });
    expect(told.sort()).toEqual([running.voicemailId, queued.voicemailId].sort());
  });

  it('takes up at start a message it was never told of, and notes one told after close for the next start', async () => {
    const never = await message();
    const late = await message();
    const first = make(new ScriptedEngine('pocketsphinx', LOCAL_RATES, [says('unused')]));
    await first.close();
    await first.transcribe(late);
    expect(await transcript(late.voicemailId)).toEqual({ status: 'pending' });
    expect(await transcript(never.voicemailId)).toBeUndefined();
    expect(told).toEqual([]);

    const engine = new ScriptedEngine('pocketsphinx', LOCAL_RATES, [says('found')]);
    const second = make(engine);
    await second.start();
    await second.idle();
    expect(await transcript(never.voicemailId)).toEqual({ status: 'done', engine: 'pocketsphinx', text: 'found' });
    expect(await transcript(late.voicemailId)).toEqual({ status: 'done', engine: 'pocketsphinx', text: 'found' });
    expect(engine.calls).toHaveLength(2);
  });

  it('marks what was pending off when started without an engine', async () => {
    const job = await message();
    const first = make(new ScriptedEngine('pocketsphinx', LOCAL_RATES, [hangs()]));
    await first.transcribe(job);
    await first.close();
    await make(undefined).start();
    expect(await transcript(job.voicemailId)).toEqual({ status: 'off' });
    // Announced long before as pending: the change is told.
    expect(told).toEqual([job.voicemailId]);
  });

  it('drops the result of a message deleted meanwhile, and survives a failing listener', async () => {
    let release: (() => void) | undefined;
    const engine = new ScriptedEngine('pocketsphinx', LOCAL_RATES, [() => new Promise<string>((resolve) => (release = () => resolve('too late')))]);
    const t = make(engine, {
      onTranscribed: () => {
        throw new Error('listener broke');
      },
    });
    const gone = await message();
    await t.transcribe(gone);
    await expect.poll(() => release).toBeDefined();
    await sql`DELETE FROM voicemails WHERE id = ${gone.voicemailId}`.execute(db);
    release!();
    await t.idle();
    expect(await transcript(gone.voicemailId)).toBeUndefined();
    const kept = await message();
    await t.transcribe(kept);
    await expect.poll(() => engine.calls.length).toBe(2);
    release!();
    await t.idle();
    expect(await transcript(kept.voicemailId)).toMatchObject({ status: 'done' });
  });

  it('does not throw from the hook for a message that does not exist', async () => {
    const t = make(new ScriptedEngine('pocketsphinx', LOCAL_RATES, [says('x')]));
    await expect(t.transcribe({ voicemailId: 999, organizationId, userId, file: 'voicemail/999.ogg', wideband: true })).resolves.toBeUndefined();
    await t.idle();
  });
});
