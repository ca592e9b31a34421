/**
 * Message files in the data folder: `voicemail/<user id>/<time>-<random>.opus`, one Ogg Opus file a message.
 *
 * A file is written under a temporary name, synced, renamed into place and its folder synced, so that once its
 * row is committed the audio is on disk whatever happens next. At start a temporary file left half-written is
 * removed; a complete file no row names (the PBX stopped between the two, a power cut undid the row's commit, or a
 * delete could not remove it) may be someone's message, so it is moved to `voicemail/unlisted/<user id>/`, not
 * deleted, for an administrator to look at.
 */
import { randomBytes } from 'node:crypto';
import { readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { createLogger } from '../../log';
import type { Database } from '../../store/schema';
import { listVoicemailFiles } from '../../store/voicemails';
import { makeFolder, PARTIAL_SUFFIX, syncFolder, writeFileDurably } from '../../util/durable-file';

const log = createLogger('voicemail');

export const VOICEMAIL_FOLDER = 'voicemail';
/** Under the voicemail folder: complete message files no row named at start. */
export const UNLISTED_FOLDER = 'unlisted';

export interface MessageFile {
  /** Relative to the data folder, as its row names it (always with '/'). */
  relative: string;
  absolute: string;
}

/** Writes a message's audio durably under the data folder; where it lies. */
export async function writeMessageFile(dataDir: string, userId: number, receivedAt: Date, bytes: Buffer): Promise<MessageFile> {
  const folder = join(dataDir, VOICEMAIL_FOLDER, String(userId));
  await makeFolder(folder);
  const name = `${receivedAt.toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.opus`;
  const absolute = join(folder, name);
  await writeFileDurably(absolute, bytes);
  return { relative: `${VOICEMAIL_FOLDER}/${userId}/${name}`, absolute };
}

/**
 * Removes the temporary files left by a write that never finished, and moves the complete message files no row
 * names to `voicemail/unlisted/<user id>/`. Run at start, before any call can be taking a message.
 */
export async function removeOrphanMessageFiles(db: Kysely<Database>, dataDir: string): Promise<{ removed: number; unlisted: number }> {
  const root = join(dataDir, VOICEMAIL_FOLDER);
  const swept = { removed: 0, unlisted: 0 };
  let users: string[];
  try {
    users = await readdir(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return swept;
    throw error;
  }
  const known = await listVoicemailFiles(db);
  for (const user of users) {
    if (user === UNLISTED_FOLDER) continue;
    let names: string[];
    try {
      names = await readdir(join(root, user));
    } catch {
      continue;
    }
    for (const name of names) {
      const relative = `${VOICEMAIL_FOLDER}/${user}/${name}`;
      if (known.has(relative)) continue;
      try {
        if (name.endsWith(PARTIAL_SUFFIX)) {
          await unlink(join(root, user, name));
          swept.removed++;
        } else {
          const aside = join(root, UNLISTED_FOLDER, user);
          await makeFolder(aside);
          await rename(join(root, user, name), join(aside, name));
          await syncFolder(aside);
          swept.unlisted++;
          log.warn('a voicemail file no message names was moved aside', { file: relative, to: `${VOICEMAIL_FOLDER}/${UNLISTED_FOLDER}/${user}/${name}` });
        }
      } catch (error) {
        log.warn('could not sweep a voicemail file no message names', { file: relative, error });
      }
    }
  }
  if (swept.removed > 0) log.info('removed half-written voicemail files', { removed: swept.removed });
  return swept;
}
