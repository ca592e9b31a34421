/**
 * Message files in the data folder: `voicemail/<user id>/<time>-<random>.opus`, one Ogg Opus file a message.
 *
 * A file is written under a temporary name, synced, renamed into place and its folder synced, so that once its
 * row is committed the audio is on disk whatever happens next. A file no row names (the PBX stopped between the
 * two, or a delete could not remove it) and a temporary file left half-written are removed at start.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { createLogger } from '../../log';
import type { Database } from '../../store/schema';
import { listVoicemailFiles } from '../../store/voicemails';

const log = createLogger('voicemail');

export const VOICEMAIL_FOLDER = 'voicemail';
const PARTIAL_SUFFIX = '.part';

export interface MessageFile {
  /** Relative to the data folder, as its row names it (always with '/'). */
  relative: string;
  absolute: string;
}

async function syncFolder(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Writes a message's audio durably under the data folder; where it lies. */
export async function writeMessageFile(dataDir: string, userId: number, receivedAt: Date, bytes: Buffer): Promise<MessageFile> {
  const folder = join(dataDir, VOICEMAIL_FOLDER, String(userId));
  await mkdir(folder, { recursive: true });
  const name = `${receivedAt.toISOString().replace(/[:.]/g, '-')}-${randomBytes(4).toString('hex')}.opus`;
  const absolute = join(folder, name);
  const partial = absolute + PARTIAL_SUFFIX;
  const handle = await open(partial, 'wx');
  try {
    await handle.writeFile(bytes);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await unlink(partial).catch(() => undefined);
    throw error;
  }
  await handle.close();
  await rename(partial, absolute);
  await syncFolder(folder);
  return { relative: `${VOICEMAIL_FOLDER}/${userId}/${name}`, absolute };
}

/**
 * Removes the message files no row names and the temporary files left by a write that never finished. Run at
 * start, before any call can be taking a message. The number of files removed.
 */
export async function removeOrphanMessageFiles(db: Kysely<Database>, dataDir: string): Promise<number> {
  const root = join(dataDir, VOICEMAIL_FOLDER);
  let users: string[];
  try {
    users = await readdir(root);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const known = await listVoicemailFiles(db);
  let removed = 0;
  for (const user of users) {
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
        await unlink(join(root, user, name));
        removed++;
      } catch (error) {
        log.warn('could not remove an orphan voicemail file', { file: relative, error });
      }
    }
  }
  if (removed > 0) log.info('removed voicemail files no message names', { removed });
  return removed;
}
