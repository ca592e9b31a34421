/**
 * Greetings (issue #17): what a caller hears before leaving a voicemail. The contract between the PBX (REST under
 * `/api/v1/greetings`) and the app, written once: zod schemas that validate at runtime and give both sides their
 * types, and the limits both check.
 *
 * - `GET /greetings` lists the user's greetings, the active one marked; none active means the PBX's default
 *   greeting plays.
 * - `POST /greetings?name=…` takes the audio as the raw body (`audio/wav` or `audio/ogg`; the PBX tells the kind
 *   by the bytes) and stores it as Ogg Opus; 1 second to 2 minutes, at most 10 MB.
 * - `PATCH /greetings/:id` renames it, or with `active: true` makes it the one that plays (the others stop);
 *   `active: false` goes back to the default greeting.
 * - `DELETE /greetings/:id` removes it and its audio; deleting the active one goes back to the default.
 * - `GET /greetings/:id/audio` is the stored audio, `audio/ogg`, with byte ranges.
 *
 * Pure TypeScript: no Node, no DOM.
 */
import { z } from 'zod';
import { API_PREFIX } from './api';

export const GREETINGS_PATH = `${API_PREFIX}/greetings`;

export const GREETING_MAX_BYTES = 10 * 1024 * 1024;
export const GREETING_MIN_MS = 1000;
export const GREETING_MAX_MS = 2 * 60 * 1000;
export const GREETING_NAME_MAX = 60;
export const MAX_GREETINGS_PER_USER = 20;

/** What the stored audio is served as. */
export const GREETING_AUDIO_TYPE = 'audio/ogg';
/** What an upload may be sent as; the PBX reads the bytes, not the label, to tell which. */
export const GREETING_UPLOAD_TYPES = ['audio/wav', 'audio/ogg'] as const;

export const GreetingName = z
  .string({ error: 'Give the greeting a name.' })
  .trim()
  .min(1, { error: 'Give the greeting a name.' })
  .max(GREETING_NAME_MAX, { error: `A greeting's name can be at most ${GREETING_NAME_MAX} characters.` });

export const Greeting = z.object({
  id: z.number().int().positive(),
  name: z.string(),
  durationMs: z.number().int().nonnegative(),
  createdAt: z.string(),
  /** The one callers hear; at most one of a user's greetings is. */
  active: z.boolean(),
});
export type Greeting = z.infer<typeof Greeting>;

/** Newest first. */
export const GreetingList = z.object({ greetings: z.array(Greeting) });
export type GreetingList = z.infer<typeof GreetingList>;

/** The query of `POST /greetings`. */
export const GreetingUploadQuery = z.object({ name: GreetingName });
export type GreetingUploadQuery = z.infer<typeof GreetingUploadQuery>;

export const GreetingUpdate = z
  .object({ name: GreetingName.optional(), active: z.boolean({ error: 'active must be true or false.' }).optional() })
  .refine((update) => update.name !== undefined || update.active !== undefined, { error: 'Send a new name, or active: true or false.' });
export type GreetingUpdate = z.infer<typeof GreetingUpdate>;

/**
 * A length as people say it: "45 s", "2 min", "3 min 5 s"; under ten seconds with a tenth ("0.4 s"). `round`
 * says which way to round, so that a length just past a limit never reads as the limit itself.
 */
export function describeLength(ms: number, round: 'down' | 'up' | 'nearest' = 'nearest'): string {
  const to = round === 'down' ? Math.floor : round === 'up' ? Math.ceil : Math.round;
  const tenths = to(ms / 100);
  if (tenths < 100) return `${tenths % 10 === 0 ? tenths / 10 : (tenths / 10).toFixed(1)} s`;
  const seconds = to(ms / 1000);
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  if (minutes === 0) return `${rest} s`;
  return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
}

/** Why audio of `ms` cannot be a greeting, or undefined when its length is fine. */
export function greetingLengthProblem(ms: number): string | undefined {
  if (ms < GREETING_MIN_MS) return `A greeting must be at least 1 second long; this one is ${describeLength(ms, 'down')}.`;
  if (ms > GREETING_MAX_MS) return `A greeting can be at most 2 minutes; this one is ${describeLength(ms, 'up')}.`;
  return undefined;
}

/** "10 MB", "12.3 MB": a size as the size limit message says it. */
export function describeSize(bytes: number): string {
  const mb = bytes / (1024 * 1024);
  return `${Number.isInteger(Math.round(mb * 10) / 10) ? Math.round(mb) : mb.toFixed(1)} MB`;
}

export function greetingSizeProblem(bytes: number): string | undefined {
  if (bytes <= GREETING_MAX_BYTES) return undefined;
  return `A greeting file can be at most ${describeSize(GREETING_MAX_BYTES)}; this one is ${describeSize(bytes)}.`;
}
