/**
 * What a transcription engine is to the transcriber: audio in, text out. Two engines exist, the offline
 * pocketsphinx (pocketsphinx.ts) and a hosted speech-to-text service (hosted.ts); the transcriber
 * (transcriber.ts) picks the audio rate each wants and decides what a failure means.
 */

/** Mono 16-bit samples at `rate` Hz. */
export interface SpeechAudio {
  samples: Int16Array;
  rate: number;
}

export interface TranscriptionEngine {
  /** Stored with each transcript (`pocketsphinx`, `hosted`). */
  readonly name: string;
  /**
   * The rate the engine is to be handed a wideband (Opus) message at, and a narrowband (G.711) one at;
   * undefined for narrowband means the engine cannot transcribe it well, and such messages are marked
   * `narrowband` instead of getting a poor guess.
   */
  readonly rates: { wideband: number; narrowband: number | undefined };
  /** The text heard, '' for none; rejects with TranscriptionError. Stops (and rejects) when `signal` aborts. */
  transcribe(audio: SpeechAudio, signal: AbortSignal): Promise<string>;
}

/** A transcription that failed, with a sentence a person can act on, and whether trying again may help. */
export class TranscriptionError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'TranscriptionError';
  }
}
