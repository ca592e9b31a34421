/**
 * The voicemail contract between the PBX and the app (REST under `/api/v1/voicemails`, the `voicemail` live
 * event), written once: zod schemas that validate at runtime and give both sides their types.
 *
 * A message is `new` until its owner marks it saved (playing it in the app does that, as on a desk phone's
 * menu) and may be marked new again. Its transcription is written in the background after the message is
 * stored, so a message first arrives `pending` and a second `voicemail` event (`updated`) brings the text.
 */
import { z } from 'zod';
import { API_PREFIX } from './api';

export const VOICEMAILS_PATH = `${API_PREFIX}/voicemails`;
/** Where the owner sets the PIN that guards the mailbox menu reached from any phone (*97). */
export const VOICEMAIL_PIN_PATH = `${API_PREFIX}/voicemail/pin`;
/** The feature code that reaches one's own mailbox menu from any phone. */
export const MAILBOX_FEATURE_CODE = '*97';

export const VoicemailBox = z.enum(['new', 'saved']);
export type VoicemailBox = z.infer<typeof VoicemailBox>;

/**
 * Where a transcription stands: being written (`pending`), written (`done`), failed (`failed`, with `error`),
 * not attempted because the call's audio was narrowband (G.711 from a desk phone, which the offline engine cannot
 * transcribe well: the app says so rather than showing a poor guess), or turned off on this PBX (`off`).
 */
export const TranscriptStatus = z.enum(['pending', 'done', 'failed', 'narrowband', 'off']);
export type TranscriptStatus = z.infer<typeof TranscriptStatus>;

export const Transcript = z.object({
  status: TranscriptStatus,
  text: z.string().optional(),
  /** Which engine wrote it (`pocketsphinx`, `hosted`). */
  engine: z.string().optional(),
  error: z.string().optional(),
});
export type Transcript = z.infer<typeof Transcript>;

export const Voicemail = z.object({
  id: z.number().int().positive(),
  /** Who called, as their name or number would be shown in call history. */
  callerName: z.string(),
  /** What to dial to call back: an extension or an E.164 number; null when the caller withheld it. */
  callerNumber: z.string().nullable(),
  receivedAt: z.string(),
  durationMs: z.number().int().nonnegative(),
  status: VoicemailBox,
  transcript: Transcript,
});
export type Voicemail = z.infer<typeof Voicemail>;

export const VoicemailCounts = z.object({ new: z.number().int().nonnegative(), saved: z.number().int().nonnegative() });
export type VoicemailCounts = z.infer<typeof VoicemailCounts>;

/** `GET /api/v1/voicemails?box=new|saved&q=…`: newest first; `q` searches the transcriptions and callers. */
export const VoicemailQuery = z.object({
  box: VoicemailBox.optional(),
  q: z.string().trim().max(200, { error: 'q must be at most 200 characters' }).optional(),
  limit: z.coerce.number({ error: 'limit must be a number' }).int().min(1).max(200).default(100),
});
export type VoicemailQuery = z.infer<typeof VoicemailQuery>;

export const VoicemailList = z.object({ items: z.array(Voicemail), counts: VoicemailCounts });
export type VoicemailList = z.infer<typeof VoicemailList>;

/** `PATCH /api/v1/voicemails/:id`: move a message between new and saved. `DELETE` removes it and its audio. */
export const VoicemailUpdate = z.object({ status: VoicemailBox });
export type VoicemailUpdate = z.infer<typeof VoicemailUpdate>;

/** `GET /api/v1/voicemails/:id/audio`: the recording as `audio/ogg` (Opus), with byte ranges for seeking. */
export const VOICEMAIL_AUDIO_TYPE = 'audio/ogg';

/** `PUT /api/v1/voicemail/pin`: 4 to 10 digits. */
export const VoicemailPin = z.object({
  pin: z.string().regex(/^\d{4,10}$/, { error: 'The PIN must be 4 to 10 digits.' }),
});
export type VoicemailPin = z.infer<typeof VoicemailPin>;

/** The live event: a message arrived, changed (saved, new, transcribed) or was deleted; the mailbox's counts after it. */
export const VoicemailEvent = z.object({
  type: z.literal('voicemail'),
  change: z.enum(['added', 'updated', 'deleted']),
  id: z.number().int().positive(),
  counts: VoicemailCounts,
});
export type VoicemailEvent = z.infer<typeof VoicemailEvent>;
