/**
 * A hosted speech-to-text service, configured by URL and key: the message is POSTed as a mono 16-bit WAV
 * (`Content-Type: audio/wav`, `Authorization: Bearer <key>`) and the service answers JSON `{ "text": "…" }`.
 *
 * Narrowband messages are sent as they are, at 8 kHz: services of this kind have telephone models, and
 * upsampling adds nothing they could use. A request that times out, cannot connect, or gets 408, 429 or 5xx
 * is tried again after a growing pause (or the service's Retry-After, up to a limit); a refused key or
 * another 4xx is not, since the same request would get the same answer.
 */
import { z } from 'zod';
import { createLogger } from '../../log';
import { TranscriptionError } from './engine';
import type { SpeechAudio, TranscriptionEngine } from './engine';
import { encodeWav } from '../../media/audio-file';

const log = createLogger('transcription');

export interface HostedOptions {
  url: string;
  key: string;
  /** For one request, upload and answer. */
  timeoutMs?: number;
  /** Requests in all, the first included. */
  attempts?: number;
  /** The pause before the second request; it doubles for each further one. */
  backoffMs?: number;
}

export const HOSTED_DEFAULTS = { timeoutMs: 60_000, attempts: 3, backoffMs: 2_000 };
/** The longest a Retry-After is honoured for; a longer one fails the attempt, and the transcriber may try later. */
const MAX_RETRY_AFTER_MS = 60_000;
const EXCERPT_CHARS = 200;

const HostedAnswer = z.object({ text: z.string() });

export class HostedEngine implements TranscriptionEngine {
  readonly name = 'hosted';
  readonly rates = { wideband: 16_000, narrowband: 8_000 };
  private readonly timeoutMs: number;
  private readonly attempts: number;
  private readonly backoffMs: number;

  constructor(private readonly options: HostedOptions) {
    this.timeoutMs = options.timeoutMs ?? HOSTED_DEFAULTS.timeoutMs;
    this.attempts = Math.max(1, options.attempts ?? HOSTED_DEFAULTS.attempts);
    this.backoffMs = options.backoffMs ?? HOSTED_DEFAULTS.backoffMs;
  }

  async transcribe(audio: SpeechAudio, signal: AbortSignal): Promise<string> {
    const body = encodeWav(audio.samples, audio.rate);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.request(body, signal);
      } catch (error) {
        if (!(error instanceof HostedFailure) || !error.retryable || attempt >= this.attempts || signal.aborted) throw asTranscriptionError(error);
        const pause = error.retryAfterMs ?? this.backoffMs * 2 ** (attempt - 1);
        if (pause > MAX_RETRY_AFTER_MS) throw asTranscriptionError(error);
        log.info('transcription service failed; trying again', { attempt, pauseMs: pause, reason: error.message });
        await sleep(pause, signal);
      }
    }
  }

  private async request(body: Buffer, signal: AbortSignal): Promise<string> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const both = AbortSignal.any([signal, timeout]);
    const failed = (error: unknown): HostedFailure => {
      if (signal.aborted) return new HostedFailure('transcription stopped: the PBX is shutting down', true);
      if (timeout.aborted) return new HostedFailure(`the transcription service did not answer within ${this.timeoutMs / 1000} s`, true);
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      return new HostedFailure(`the transcription service at ${origin(this.options.url)} could not be reached: ${cause}`, true);
    };
    let response: Response;
    let text: string;
    try {
      response = await fetch(this.options.url, {
        method: 'POST',
        headers: { Authorization: `Bearer ${this.options.key}`, 'Content-Type': 'audio/wav', Accept: 'application/json' },
        body: new Uint8Array(body),
        signal: both,
      });
      text = await response.text();
    } catch (error) {
      throw failed(error);
    }
    const status = response.status;
    if (status === 401 || status === 403) {
      throw new HostedFailure(`the transcription service refused the key (HTTP ${status}); check --transcription-key`, false);
    }
    if (status === 408 || status === 429 || status >= 500) {
      throw new HostedFailure(`the transcription service failed (HTTP ${status})${excerpt(text)}`, true, retryAfterMs(response.headers.get('retry-after')));
    }
    if (status < 200 || status >= 300) throw new HostedFailure(`the transcription service rejected the audio (HTTP ${status})${excerpt(text)}`, false);
    let answer: unknown;
    try {
      answer = JSON.parse(text);
    } catch {
      answer = undefined;
    }
    const parsed = HostedAnswer.safeParse(answer);
    if (!parsed.success) throw new HostedFailure(`the transcription service answered without text: expected JSON {"text": "..."}${excerpt(text)}`, false);
    return parsed.data.text.trim();
  }
}

class HostedFailure extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

function asTranscriptionError(error: unknown): TranscriptionError {
  if (error instanceof HostedFailure) return new TranscriptionError(error.message, error.retryable);
  if (error instanceof TranscriptionError) return error;
  return new TranscriptionError(`the transcription service failed: ${String(error)}`, true, { cause: error });
}

/** Only the scheme, host and port: a URL's path or query may hold a token. */
function origin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'the configured URL';
  }
}

function excerpt(text: string): string {
  const clean = text.replace(/\s+/g, ' ').trim();
  if (clean === '') return '';
  return `: ${clean.length > EXCERPT_CHARS ? `${clean.slice(0, EXCERPT_CHARS)}…` : clean}`;
}

/** RFC 9110 §10.2.3: delay-seconds or an HTTP date. */
export function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = /[A-Za-z]/.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const stop = () => {
      clearTimeout(timer);
      reject(new HostedFailure('transcription stopped: the PBX is shutting down', true));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', stop);
      resolve();
    }, ms);
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
  });
}
