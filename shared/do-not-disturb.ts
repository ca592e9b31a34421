/**
 * Do not disturb as a PBX setting (`GET`/`PUT /api/v1/me/do-not-disturb`, the `do-not-disturb` live event): while
 * it is on, no device of the user rings; callers go where the active answering rule's do-not-disturb says, or to
 * voicemail. Every device follows it, desk phones included, and every signed-in app shows it.
 */
import { z } from 'zod';
import { API_PREFIX } from './api';

export const DO_NOT_DISTURB_PATH = `${API_PREFIX}/me/do-not-disturb`;

export const DoNotDisturb = z.object({ enabled: z.boolean() });
export type DoNotDisturb = z.infer<typeof DoNotDisturb>;

export const DoNotDisturbEvent = z.object({ type: z.literal('do-not-disturb'), enabled: z.boolean() });
export type DoNotDisturbEvent = z.infer<typeof DoNotDisturbEvent>;
