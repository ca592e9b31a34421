/**
 * For tests of what hangs off a voicemail (transcripts): a message stored through the voicemail repository, its
 * file named after its id (no audio is written).
 */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './schema';
import { insertVoicemail } from './voicemails';

export async function insertTestVoicemail(db: Kysely<Database>, message: { organizationId: number; userId: number; wideband: boolean }): Promise<number> {
  const id = await insertVoicemail(db, {
    ...message,
    callerName: 'Carol',
    callerNumber: '103',
    callerExtension: '103',
    receivedAt: '2026-12-08T10:00:00.000Z',
    durationMs: 4000,
    file: `voicemail/${randomUUID()}.ogg`,
    sizeBytes: 100,
    reason: 'no-answer',
  });
  await db.updateTable('voicemails').set({ file: `voicemail/${id}.ogg` }).where('id', '=', id).execute();
  return id;
}
