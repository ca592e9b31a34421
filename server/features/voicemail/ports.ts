/**
 * What the voicemail feature is handed by the composition root (pbx.ts), as interfaces of its own, so that it
 * never reaches into presence, transcription or greetings beyond what it needs and its tests can stand in for
 * each of them.
 */
import type { Transcript } from '../../../shared/voicemail';
import type { Sound } from '../../media/player';
import type { ServiceUser, VoicemailReason } from '../../calls/ports';

/** Message-waiting indication to desk phones (presence/subscriptions.ts `mailboxChanged`). */
export interface MailboxWatchers {
  mailboxChanged(organizationId: number, extension: string): void;
}

/** A message that was just stored, for transcription to pick up in the background. */
export interface StoredMessage {
  voicemailId: number;
  organizationId: number;
  userId: number;
  /** Absolute path of the Ogg Opus file. */
  file: string;
  /** Recorded from an Opus leg (16 kHz); false for G.711 (8 kHz), which the offline engine cannot read well. */
  wideband: boolean;
}

/**
 * Transcription (features/transcription), told after each message is stored and announced. It works in the
 * background and must not throw; when it has written the text it asks `Mailboxes.announce(…, 'updated', id)`.
 */
export interface TranscriptionHook {
  transcribe(message: StoredMessage): void;
}

/** The transcripts of messages, for the list the app shows; without one, every message reads `off`. */
export interface TranscriptReader {
  transcripts(voicemailIds: readonly number[]): Promise<ReadonlyMap<number, Transcript>>;
}

/** The mailbox owner's own greeting (features/greetings), as a sound to play; undefined when none is active. */
export interface GreetingSource {
  activeGreeting(mailbox: ServiceUser): Promise<Sound | undefined>;
}

/** Recorded prompts (features/voicemail/prompts.ts). */
export interface VoicemailPrompts {
  /** "The person at extension 1 0 1 is unavailable" (or "is on the phone" when `reason` is busy). */
  defaultGreeting(mailbox: ServiceUser, reason: VoicemailReason): Promise<Sound[]>;
  /** "The mailbox is full", before the caller is hung up; undefined when there is no such prompt. */
  mailboxFull(): Promise<Sound | undefined>;
}

/** A message being compressed as it is recorded: mono samples in, in order; the whole file's bytes at the end. */
export interface MessageEncoding {
  /** `samples` may be reused by the caller once this returns. */
  write(samples: Int16Array): void;
  finish(): Buffer;
}

/** Starts compressing a recording at `rate` for storage (Ogg Opus: encoding.ts). */
export type MessageEncoder = (rate: 8000 | 16000) => MessageEncoding;
