/**
 * The start-up sweep of the greetings folder: an upload cut off by a crash can leave its `.part` file, or its
 * finished file without the row that was to name it (the file is renamed into place before the row is written,
 * so a greeting is never listed without its audio). Neither is anyone's greeting; both go.
 */
import { readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { createLogger } from '../../log';
import { listGreetingFiles } from '../../store/greetings';
import type { Database } from '../../store/schema';
import { GREETINGS_FOLDER } from './greeting-library';

const log = createLogger('greetings');

/** Removes the files under the greetings folder that no greeting names. Run at start, before the API listens. The number removed. */
export async function removeOrphanGreetingFiles(db: Kysely<Database>, dataDir: string): Promise<number> {
  const root = join(dataDir, GREETINGS_FOLDER);
  let entries;
  try {
    entries = await readdir(root, { recursive: true, withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const known = await listGreetingFiles(db);
  let removed = 0;
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const absolute = join(entry.parentPath, entry.name);
    const relative = `${GREETINGS_FOLDER}/${absolute.slice(root.length + 1).split('\\').join('/')}`;
    if (known.has(relative)) continue;
    try {
      await unlink(absolute);
      removed++;
    } catch (error) {
      log.warn('could not remove an orphan greeting file', { file: relative, error });
    }
  }
  if (removed > 0) log.info('removed greeting files no greeting names', { removed });
  return removed;
}
