/**
 * Transcribes voicemails in the background, after they are stored: a queue in front of one engine, a few
 * messages at a time, its state in the database so that a restart loses nothing.
 *
 * It is both the voicemail feature's transcription hook (`transcribe`) and its transcript reader (`transcripts`).
 *
 * A message's transcript row says where it stands (shared/voicemail.ts TranscriptStatus). The hook
 * (`transcribe`) writes `pending` and queues the message, or at once `off` (no engine) or `narrowband` (an
 * engine that cannot transcribe telephone audio, given a G.711 message). The result replaces `pending` with
 * `done` or `failed`; `start()` queues again whatever a stop or crash left `pending`, and any message that
 * has no transcript at all (stored just before a crash, or before transcription existed). The hook is called
 * before the message is announced, so the state it writes first needs no telling; every later one is told to
 * `onTranscribed`, which the composition root turns into the `voicemail` `updated` event.
 *
 * A failure the engine calls retryable (a timeout, a service that is down) is tried again later, a few times,
 * with doubling pauses; any other fails the message with the engine's sentence. Shutting down stops the
 * engines' work and leaves those messages `pending` for the next start.
 */
import { availableParallelism } from 'node:os';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { Kysely } from 'kysely';
import type { Transcript } from '../../../shared/voicemail';
import { createLogger } from '../../log';
import type { Database } from '../../store/schema';
import { finishTranscript, pendingTranscriptions, putTranscript, transcriptsFor } from '../../store/transcripts';
import { TranscriptionError } from './engine';
import type { SpeechAudio, TranscriptionEngine } from './engine';

const log = createLogger('transcription');

/** What the voicemail feature hands over once a message is stored. */
export interface TranscriptionJob {
  voicemailId: number;
  /** The mailbox's owner, handed back to `onTranscribed`. */
  organizationId: number;
  userId: number;
  /** The recording: relative to the data folder, or an absolute path inside it. */
  file: string;
  /** Recorded from an Opus leg (16 kHz or more); false for G.711 (8 kHz). */
  wideband: boolean;
}

export interface TranscriberOptions {
  db: Kysely<Database>;
  dataDir: string;
  /** Undefined when transcription is off. */
  engine: TranscriptionEngine | undefined;
  /** Reads and decodes a stored recording: mono samples at the rate the file holds. */
  readAudio(path: string): Promise<SpeechAudio>;
  /** Converts between rates; may take its time (the media layer's resampleAsync lets the event loop turn). */
  resample(samples: Int16Array, fromRate: number, toRate: number): Int16Array | Promise<Int16Array>;
  /** Messages transcribed at once (default: one per core but one, at least one). */
  concurrency?: number;
  /** Tries of a message whose failures are retryable, the first included (default 3). */
  attempts?: number;
  /** The pause before the second try; doubles after (default 30 s). */
  retryDelayMs?: number;
  /** A message's transcript changed (to anything but the first `pending`). */
  onTranscribed?(voicemailId: number, owner: { organizationId: number; userId: number }): void;
}

const DEFAULT_ATTEMPTS = 3;
const DEFAULT_RETRY_DELAY_MS = 30_000;

export class Transcriber {
  private readonly queue: { job: TranscriptionJob; attempt: number }[] = [];
  /** Queued, running or waiting to be retried: a message is never worked on twice at once. */
  private readonly known = new Set<number>();
  private readonly running = new Set<Promise<void>>();
  private readonly retries = new Set<NodeJS.Timeout>();
  private readonly stopping = new AbortController();
  private readonly concurrency: number;
  private readonly attempts: number;
  private readonly retryDelayMs: number;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly options: TranscriberOptions) {
    this.concurrency = Math.max(1, options.concurrency ?? availableParallelism() - 1);
    this.attempts = Math.max(1, options.attempts ?? DEFAULT_ATTEMPTS);
    this.retryDelayMs = options.retryDelayMs ?? DEFAULT_RETRY_DELAY_MS;
  }

  /** Takes up what a stop or a crash left `pending`. */
  async start(): Promise<void> {
    const pending = await pendingTranscriptions(this.options.db);
    if (pending.length > 0) log.info('taking up pending transcriptions', { count: pending.length });
    // These messages were announced long ago: a status they get now is news.
    for (const { noted, ...job } of pending) await this.admit(job, { notePending: !noted, tellImmediate: true });
  }

  /**
   * The hook: called once a message is stored, before it is announced; settles once its first state is written
   * (which is therefore not told to `onTranscribed`: the announcement carries it). Never throws; a failure to
   * note the message is logged. Once closed, the message is only noted `pending`, for the next start.
   */
  async transcribe(job: TranscriptionJob): Promise<void> {
    log.debug('transcription asked', { voicemailId: job.voicemailId, wideband: job.wideband });
    await this.admit(job, { notePending: true, tellImmediate: false });
  }

  /**
   * The transcripts of these messages for the list the app shows. A message the hook has not noted yet (it is
   * told just after the message is announced) reads `pending`, or `off` when there is no engine.
   */
  async transcripts(voicemailIds: readonly number[]): Promise<Map<number, Transcript>> {
    const found = await transcriptsFor(this.options.db, voicemailIds);
    const unnoted: Transcript = this.options.engine ? { status: 'pending' } : { status: 'off' };
    for (const id of voicemailIds) if (!found.has(id)) found.set(id, unnoted);
    return found;
  }

  /** Resolves once nothing is queued, running or waiting to be tried again. */
  idle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.settle();
    });
  }

  /** Stops the engines' work; what was not finished stays `pending` for the next start. */
  async close(): Promise<void> {
    this.stopping.abort();
    for (const timer of this.retries) clearTimeout(timer);
    this.retries.clear();
    this.queue.length = 0;
    await Promise.allSettled([...this.running]);
    this.known.clear();
    this.settle();
  }

  /** What a message gets before any engine runs: `off`, `narrowband`, or undefined to be transcribed. */
  private immediate(job: TranscriptionJob): Transcript | undefined {
    const engine = this.options.engine;
    if (!engine) return { status: 'off' };
    if (!job.wideband && engine.rates.narrowband === undefined) return { status: 'narrowband', engine: engine.name };
    return undefined;
  }

  private async admit(job: TranscriptionJob, { notePending, tellImmediate }: { notePending: boolean; tellImmediate: boolean }): Promise<void> {
    if (this.known.has(job.voicemailId)) return;
    const now = this.stopping.signal.aborted ? { status: 'pending' as const } : this.immediate(job);
    if (!now) this.known.add(job.voicemailId);
    try {
      if (now) {
        await putTranscript(this.options.db, job.voicemailId, now);
        if (now.status !== 'pending' && tellImmediate) this.tell(job);
        return;
      }
      if (notePending) await putTranscript(this.options.db, job.voicemailId, { status: 'pending' });
    } catch (error) {
      this.known.delete(job.voicemailId);
      log.warn('could not note a transcription', { voicemailId: job.voicemailId, reason: error instanceof Error ? error.message : String(error) });
      return;
    }
    this.queue.push({ job, attempt: 1 });
    this.pump();
  }

  private pump(): void {
    while (this.running.size < this.concurrency && this.queue.length > 0 && !this.stopping.signal.aborted) {
      const next = this.queue.shift()!;
      const work = this.work(next.job, next.attempt).finally(() => {
        this.running.delete(work);
        this.pump();
        this.settle();
      });
      this.running.add(work);
    }
  }

  private async work(job: TranscriptionJob, attempt: number): Promise<void> {
    const engine = this.options.engine!;
    const signal = this.stopping.signal;
    let result: Transcript;
    try {
      const started = performance.now();
      const audio = await this.audioFor(job, engine);
      // Closed while the audio was read: leave the message pending rather than start an engine now.
      if (signal.aborted) return;
      const text = await engine.transcribe(audio, signal);
      log.info('transcribed', { voicemailId: job.voicemailId, engine: engine.name, ms: Math.round(performance.now() - started), words: text === '' ? 0 : text.split(' ').length });
      result = { status: 'done', engine: engine.name, text };
    } catch (error) {
      if (signal.aborted) return;
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof TranscriptionError && error.retryable && attempt < this.attempts) {
        const pause = this.retryDelayMs * 2 ** (attempt - 1);
        log.warn('transcription failed; trying again later', { voicemailId: job.voicemailId, attempt, pauseMs: pause, reason: message });
        const timer = setTimeout(() => {
          this.retries.delete(timer);
          this.queue.push({ job, attempt: attempt + 1 });
          this.pump();
        }, pause);
        this.retries.add(timer);
        return;
      }
      log.warn('transcription failed', { voicemailId: job.voicemailId, attempt, reason: message });
      result = { status: 'failed', engine: engine.name, error: message };
    }
    try {
      if (await finishTranscript(this.options.db, job.voicemailId, result)) this.tell(job);
    } catch (error) {
      log.error('could not store a transcript', { voicemailId: job.voicemailId, reason: error instanceof Error ? error.message : String(error) });
    } finally {
      this.known.delete(job.voicemailId);
    }
  }

  /** The message's audio at the rate the engine wants for its band. */
  private async audioFor(job: TranscriptionJob, engine: TranscriptionEngine): Promise<SpeechAudio> {
    const rate = job.wideband ? engine.rates.wideband : engine.rates.narrowband;
    if (rate === undefined) throw new TranscriptionError('narrowband audio cannot be transcribed by this engine', false);
    const path = resolve(this.options.dataDir, job.file);
    const inside = relative(resolve(this.options.dataDir), path);
    if (inside.startsWith('..') || isAbsolute(inside)) throw new TranscriptionError('the recording is not in the data folder', false);
    let audio: SpeechAudio;
    try {
      audio = await this.options.readAudio(join(this.options.dataDir, inside));
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === 'ENOENT';
      throw new TranscriptionError(missing ? 'the recording is missing' : `the recording could not be read: ${error instanceof Error ? error.message : String(error)}`, false, { cause: error });
    }
    const samples = audio.rate === rate ? audio.samples : await this.options.resample(audio.samples, audio.rate, rate);
    return { samples, rate };
  }

  private tell({ voicemailId, organizationId, userId }: TranscriptionJob): void {
    try {
      this.options.onTranscribed?.(voicemailId, { organizationId, userId });
    } catch (error) {
      log.error('a transcription listener failed', { voicemailId, reason: error instanceof Error ? error.message : String(error) });
    }
  }

  private settle(): void {
    if (this.running.size > 0 || this.queue.length > 0 || this.retries.size > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
