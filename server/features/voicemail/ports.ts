/**
 * What the voicemail feature is handed by the composition root (pbx.ts), as interfaces of its own, so that it
 * never reaches into presence or transcription beyond what it needs, and its tests can stand in for each of them.
 */
import type { Transcript } from '../../../shared/voicemail';
import type { Sound } from '../../media/player';
import type { ServiceUser } from '../../calls/ports';

/** Message-waiting indication to desk phones (presence/subscriptions.ts `mailboxChanged`). */
export interface MailboxWatchers {
  mailboxChanged(organizationId: number, extension: string): void;
}

/** A message that was just stored, for transcription to pick up in the background. */
export interface StoredMessage {
  voicemailId: number;
  organizationId: number;
  userId: number;
  /** The Ogg Opus file, relative to the data folder (as its row names it). */
  file: string;
  /** Recorded from an Opus leg (16 kHz); false for G.711 (8 kHz), which the offline engine cannot read well. */
  wideband: boolean;
}

/**
 * Transcription (features/transcription `Transcriber`), told after each message is stored and before it is
 * announced: the promise settles once the message's first transcript state is written (`pending`, or at once
 * `narrowband` or `off`), so the app's first read of the list already shows it. The text itself is written in
 * the background and announced by the composition root (`Mailboxes.announce` with `updated`). A failure is
 * logged, never the deposit's.
 */
export interface TranscriptionHook {
  transcribe(message: StoredMessage): void | Promise<void>;
}

/** The transcripts of messages, for the list the app shows. */
export interface TranscriptReader {
  transcripts(voicemailIds: readonly number[]): Promise<ReadonlyMap<number, Transcript>>;
}

/** The mailbox owner's own greeting (features/greetings), as a sound to play; undefined when none is active. */
export interface GreetingSource {
  activeGreeting(mailbox: ServiceUser): Promise<Sound | undefined>;
}

/** Recorded prompts (prompts.ts `Prompts`): what the deposit says. */
export interface VoicemailPrompts {
  /** "The person at extension 1 0 1 is unavailable" (or "is on the phone" when busy), "please leave your message…". */
  defaultGreeting(extension: string, busy: boolean): Sound[];
  /** "The mailbox is full", before the caller is hung up. */
  readonly mailboxFull: Sound;
}

/** A message being compressed as it is recorded: mono samples in, in order; the whole file's bytes at the end. */
export interface MessageEncoding {
  /** `samples` may be reused by the caller once this returns. */
  write(samples: Int16Array): void;
  finish(): Buffer;
}

/** Starts compressing a recording at `rate` for storage (Ogg Opus: encoding.ts). */
export type MessageEncoder = (rate: 8000 | 16000) => MessageEncoding;
