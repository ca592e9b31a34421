/**
 * Which music a held caller hears. The PBX ships a 20 s excerpt of "Morning Coffee" by Manolo Camp (from
 * Debian's asterisk-moh-opsound-wav, CC BY-SA 3.0, credited in the README) in resources/sounds, so a fresh
 * clone plays music with no package installed; a file of one's own can be named instead. Where neither can be
 * read, a held caller hears silence and the log says why: a missing file never stops the PBX.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../../log';
import { loadSound } from './sound';
import type { Sound } from './sound';

const log = createLogger('player');

export const SHIPPED_HOLD_MUSIC = join('resources', 'sounds', 'hold-music.wav');

/** The shipped excerpt, found in the project folder above this module (source or bundle). */
export function shippedHoldMusicPath(): string | undefined {
  let folder = dirname(fileURLToPath(import.meta.url));
  for (let up = 0; up < 5; up++, folder = dirname(folder)) {
    const file = join(folder, SHIPPED_HOLD_MUSIC);
    if (existsSync(file)) return file;
  }
  return undefined;
}

let shipped: Sound | null | undefined;

/** `path`'s sound, or the shipped music when no path is given; undefined (logged) when it cannot be read. */
export function holdMusic(path?: string): Sound | undefined {
  if (path === undefined && shipped !== undefined) return shipped ?? undefined;
  const file = path ?? shippedHoldMusicPath();
  let sound: Sound | undefined;
  try {
    if (!file) throw new Error(`${SHIPPED_HOLD_MUSIC} is not in the project folder`);
    sound = loadSound(file);
  } catch (error) {
    log.warn('no music on hold: held callers hear silence', { file, error: error instanceof Error ? error.message : String(error) });
  }
  if (path === undefined) shipped = sound ?? null;
  return sound;
}
