/**
 * A file written so that once something names it (a row committed after), it is on disk whatever happens next:
 * written under a temporary name, synced, renamed into place, and its folder synced so the rename lasts too. A
 * crash on the way leaves at most the temporary file, which the owner's start-up sweep removes.
 */
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';

/** What the temporary file's name adds to the final one. */
export const PARTIAL_SUFFIX = '.part';

/** Syncs a folder's entries (a file created, renamed or moved in it) to disk. */
export async function syncFolder(path: string): Promise<void> {
  const handle = await open(path, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Makes `path` and any folder above it that is missing; syncs the folder holding each new one, so that a
 * file synced in `path` cannot be lost with a folder entry that never reached the disk.
 */
export async function makeFolder(path: string): Promise<void> {
  const first = await mkdir(path, { recursive: true });
  if (first === undefined) return;
  for (let made = path; made.length >= first.length; made = dirname(made)) await syncFolder(dirname(made));
}

/** Writes `bytes` to `path` durably; refuses (EEXIST) when its temporary file is already there. */
export async function writeFileDurably(path: string, bytes: Uint8Array): Promise<void> {
  const partial = path + PARTIAL_SUFFIX;
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
  await rename(partial, path);
  await syncFolder(dirname(path));
}
