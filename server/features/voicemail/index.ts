/**
 * Voicemail: taking messages for users who do not answer (deposit.ts, the `voicemail` half of the calls layer's
 * `CallServices`), the mailbox as its owner uses it from the app or a phone (mailboxes.ts), the message files
 * (storage.ts), and the seams the composition root fills: message-waiting, transcription, greetings, prompts
 * and the audio encoder (ports.ts).
 */
export { VoicemailDeposits, DEFAULT_VOICEMAIL_LIMITS } from './deposit';
export type { DepositOptions, DepositOutcome, VoicemailLimits } from './deposit';
export { Mailboxes } from './mailboxes';
export type { MailboxesOptions, MailboxUser } from './mailboxes';
export { removeOrphanMessageFiles, writeMessageFile, VOICEMAIL_FOLDER } from './storage';
export type { GreetingSource, MailboxWatchers, MessageEncoder, MessageEncoding, StoredMessage, TranscriptionHook, TranscriptReader, VoicemailPrompts } from './ports';
export { oggOpusEncoder } from './encoding';
export { playSequence, prompts, Prompts } from './prompts';
export { MessageRecorder } from './recorder';
export type { AudioSink, RecordingEnd } from './recorder';
export { VoiceMeter } from './audio-level';
export { recordTone } from './tone';
export type { PromptName, SequencePlayback } from './prompts';
export { MailboxMenuService, StoredMailbox } from './menu';
export type { MailboxMenuDeps, MenuTiming } from './menu';
