/**
 * Voicemail transcription: the one entry point of this feature.
 *
 * The composition root chooses the engine from the settings (`chooseEngine`), makes one transcriber
 * (`createTranscriber`), calls `start()` once the database is open (pending messages are taken up again), hands
 * `transcribe` to the voicemail feature as its hook, turns `onTranscribed` into the `voicemail` `updated` event,
 * and `close()`s it at shutdown. The REST list reads transcripts and searches them through
 * server/store/transcripts.ts (a message without a transcript row yet is `pending`).
 */
import { resampleAsync } from '../../media/audio-file';
import { readStoredAudio } from './stored-audio';
import { Transcriber } from './transcriber';
import type { TranscriberOptions } from './transcriber';

export type { SpeechAudio, TranscriptionEngine } from './engine';
export { TranscriptionError } from './engine';
export { chooseEngine } from './engine-choice';
export type { EngineChoice, TranscriptionSettings } from './engine-choice';
export { Transcriber } from './transcriber';
export type { TranscriberOptions, TranscriptionJob } from './transcriber';

/** A transcriber that reads the stored recordings (Ogg Opus or WAV) and converts their rate with the media layer. */
export function createTranscriber(options: Omit<TranscriberOptions, 'readAudio' | 'resample'>): Transcriber {
  return new Transcriber({ readAudio: readStoredAudio, resample: resampleAsync, ...options });
}
