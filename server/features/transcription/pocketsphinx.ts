/**
 * The offline engine: CMU pocketsphinx (Debian's `pocketsphinx` and `pocketsphinx-en-us`), run as its
 * `pocketsphinx_continuous` program on a temporary WAV file, one process per message.
 *
 * Its US English acoustic model is trained on 16 kHz speech: fed telephone audio (G.711, 8 kHz, nothing above
 * 4 kHz) it returns confident nonsense, so it is only given wideband messages (`rates.narrowband` undefined).
 * A process rather than a binding: nothing to compile, a crash or a hang costs one message, and the
 * process runs at a lower CPU priority than the PBX's calls.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../log';
import { TranscriptionError } from './engine';
import type { SpeechAudio, TranscriptionEngine } from './engine';
import { encodeWav } from '../../media/audio-file';

const log = createLogger('transcription');

export const POCKETSPHINX_RATE = 16_000;

/** Where Debian's packages put the program and the model. */
export interface PocketsphinxInstall {
  binary: string;
  /** The folder holding the acoustic model (`en-us/`), the language model and the dictionary. */
  model: string;
}

export const DEBIAN_POCKETSPHINX: PocketsphinxInstall = {
  binary: '/usr/bin/pocketsphinx_continuous',
  model: '/usr/share/pocketsphinx/model/en-us',
};

function modelFiles(model: string) {
  return {
    acoustic: join(model, 'en-us'),
    language: join(model, 'en-us.lm.bin'),
    dictionary: join(model, 'cmudict-en-us.dict'),
  };
}

/** Undefined when the program and every model file are there; otherwise why not, as a sentence. */
export function pocketsphinxMissing(install: PocketsphinxInstall = DEBIAN_POCKETSPHINX): string | undefined {
  try {
    accessSync(install.binary, constants.X_OK);
  } catch {
    return `${install.binary} is not installed (Debian package pocketsphinx)`;
  }
  const files = modelFiles(install.model);
  for (const file of [join(files.acoustic, 'mdef'), files.language, files.dictionary]) {
    try {
      accessSync(file, constants.R_OK);
    } catch {
      return `the English model is missing: ${file} (Debian package pocketsphinx-en-us)`;
    }
  }
  return undefined;
}

/**
 * The text in pocketsphinx_continuous's standard output: one line per utterance it heard (blank for an
 * utterance of silence). Filler and noise tokens (`<sil>`, `[NOISE]`, `++BREATH++`) and alternative
 * pronunciation marks (`word(2)`) are dropped should a model's settings let them through.
 */
export function parsePocketsphinxOutput(stdout: string): string {
  return stdout
    .split(/\r?\n/)
    .flatMap((line) => line.trim().split(/\s+/))
    .filter((word) => word !== '' && !/^(<.*>|\[.*\]|\+\+.*\+\+)$/.test(word))
    .map((word) => word.replace(/\(\d+\)$/, ''))
    .join(' ');
}

/** The last error pocketsphinx logged (`ERROR: "file.c", line n: what`), without the source location. */
export function pocketsphinxLogError(logText: string): string | undefined {
  const lines = logText.split(/\r?\n/).filter((line) => /^(ERROR|FATAL(_ERROR)?):/.test(line));
  const last = lines.at(-1);
  return last?.replace(/^(ERROR|FATAL(_ERROR)?):\s*("[^"]*", line \d+:\s*)?/, '').trim();
}

export interface PocketsphinxOptions {
  /** How long a message of this length may take before the process is killed. */
  timeoutMs?: (durationMs: number) => number;
  /** The process's nice value (higher is kinder to the PBX's calls). */
  niceness?: number;
}

/** Generous: pocketsphinx runs at about a third of real time on one core of a modest machine. */
const DEFAULT_TIMEOUT = (durationMs: number) => 30_000 + 2 * durationMs;
const DEFAULT_NICENESS = 10;
/** More output than any voicemail's words; beyond it the process is misbehaving. */
const MAX_STDOUT_BYTES = 1 << 20;

export class PocketsphinxEngine implements TranscriptionEngine {
  readonly name = 'pocketsphinx';
  readonly rates = { wideband: POCKETSPHINX_RATE, narrowband: undefined };
  private readonly timeoutMs: (durationMs: number) => number;
  private readonly niceness: number;

  constructor(
    private readonly install: PocketsphinxInstall = DEBIAN_POCKETSPHINX,
    options: PocketsphinxOptions = {},
  ) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT;
    this.niceness = options.niceness ?? DEFAULT_NICENESS;
  }

  async transcribe(audio: SpeechAudio, signal: AbortSignal): Promise<string> {
    if (audio.rate !== POCKETSPHINX_RATE) throw new TranscriptionError(`pocketsphinx takes ${POCKETSPHINX_RATE} Hz audio, not ${audio.rate} Hz`, false);
    const durationMs = (audio.samples.length / audio.rate) * 1000;
    log.debug('transcribing', { durationMs });
    const dir = await mkdtemp(join(tmpdir(), 'offhook-pocketsphinx-'));
    try {
      const input = join(dir, 'message.wav');
      const logFile = join(dir, 'pocketsphinx.log');
      await writeFile(input, encodeWav(audio.samples, audio.rate));
      const files = modelFiles(this.install.model);
      const args = ['-infile', input, '-hmm', files.acoustic, '-lm', files.language, '-dict', files.dictionary, '-samprate', String(POCKETSPHINX_RATE), '-logfn', logFile];
      const outcome = await this.run(args, this.timeoutMs(durationMs), signal);
      if (outcome.kind === 'exited' && outcome.code === 0) return parsePocketsphinxOutput(outcome.stdout);
      if (outcome.kind === 'aborted') throw new TranscriptionError('transcription stopped: the PBX is shutting down', true);
      if (outcome.kind === 'timeout') throw new TranscriptionError(`pocketsphinx took longer than ${Math.ceil(this.timeoutMs(durationMs) / 1000)} s and was stopped`, true);
      if (outcome.kind === 'failed') throw new TranscriptionError(`pocketsphinx could not be started: ${outcome.error.message}`, false, { cause: outcome.error });
      const logged = pocketsphinxLogError(await readFile(logFile, 'utf8').catch(() => ''));
      throw new TranscriptionError(`pocketsphinx failed (${outcome.code === null ? `killed by ${outcome.signal}` : `exit code ${outcome.code}`})${logged ? `: ${logged}` : ''}`, false);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  private run(args: string[], timeoutMs: number, signal: AbortSignal): Promise<RunOutcome> {
    return new Promise((resolve) => {
      if (signal.aborted) {
        resolve({ kind: 'aborted' });
        return;
      }
      const child = spawn(this.install.binary, args, { stdio: ['ignore', 'pipe', 'ignore'] });
      let stdout = '';
      let ended: 'timeout' | 'aborted' | 'overflow' | undefined;
      const stop = (why: 'timeout' | 'aborted' | 'overflow') => {
        ended ??= why;
        child.kill('SIGKILL');
      };
      const timer = setTimeout(() => stop('timeout'), timeoutMs);
      const onAbort = () => stop('aborted');
      signal.addEventListener('abort', onAbort, { once: true });
      if (child.pid !== undefined) {
        try {
          setPriority(child.pid, this.niceness);
        } catch (error) {
          log.debug('could not lower pocketsphinx priority', { reason: String(error) });
        }
      }
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        stdout += chunk;
        if (stdout.length > MAX_STDOUT_BYTES) stop('overflow');
      });
      const finish = (outcome: RunOutcome) => {
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      child.once('error', (error) => finish({ kind: 'failed', error }));
      child.once('close', (code, killedBy) => {
        if (ended === 'timeout' || ended === 'aborted') finish({ kind: ended });
        else if (ended === 'overflow') finish({ kind: 'failed', error: new Error('it wrote more output than any message could hold') });
        else finish({ kind: 'exited', code, signal: killedBy, stdout });
      });
    });
  }
}

type RunOutcome =
  | { kind: 'exited'; code: number | null; signal: NodeJS.Signals | null; stdout: string }
  | { kind: 'timeout' }
  | { kind: 'aborted' }
  | { kind: 'failed'; error: Error };
