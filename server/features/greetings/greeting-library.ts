/**
 * A user's greetings: uploads checked and converted to Ogg Opus in the data folder, renamed, made active,
 * deleted, listened to; and the sound the PBX plays to a caller before a voicemail (`activeGreeting`).
 *
 * An upload is all or nothing: the audio is written to a file of its own name first, synced and renamed into
 * place, new folders synced too (util/durable-file.ts); the row is inserted after, and when anything fails on the
 * way no file and no row is left. Deleting removes the row first, then the file, so a greeting is never listed
 * without its audio.
 */
import { readFile, rm } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Kysely } from 'kysely';
import { GREETING_MAX_MS, greetingLengthProblem, greetingSizeProblem, MAX_GREETINGS_PER_USER } from '../../../shared/greetings';
import type { Greeting, GreetingUpdate } from '../../../shared/greetings';
import { createLogger } from '../../log';
import { AudioFileError, decodeAudioAsync, OggOpusWriter, resampleAsync, soundFromAudio } from '../../media/audio-file';
import type { OggOpusRate } from '../../media/audio-file';
import type { Sound } from '../../media/player';
import { countGreetings, deleteGreeting, findActiveGreeting, findGreeting, insertGreeting, listGreetings, renameGreeting, setGreetingActive } from '../../store/greetings';
import type { GreetingOwner, StoredGreeting } from '../../store/greetings';
import type { Database } from '../../store/schema';
import { makeFolder, writeFileDurably } from '../../util/durable-file';
import { LruMap } from '../../util/lru-map';
import { randomHex } from '../../util/random-pool';

const log = createLogger('greetings');

/** The folder, under the data folder, that holds every greeting's audio. */
export const GREETINGS_FOLDER = 'greetings';

export type GreetingErrorKind = 'not_found' | 'not_audio' | 'bad_length' | 'too_large' | 'too_many';

/** A refusal, with a sentence for the person and what kind it is for the API's status code. */
export class GreetingError extends Error {
  override name = 'GreetingError';

  constructor(
    readonly kind: GreetingErrorKind,
    message: string,
  ) {
    super(message);
  }
}

const NOT_FOUND = 'There is no such greeting.';

/** Rates Opus codes at that the PBX also plays at; other audio is converted to the nearest one above. */
const STORED_RATES: readonly OggOpusRate[] = [8000, 16000, 48000];
/** Frames coded between two turns of the event loop, so a two-minute upload never stalls the calls' media. */
const SAMPLES_PER_TURN_MS = 1000;

function toGreeting(stored: StoredGreeting): Greeting {
  return { id: stored.id, name: stored.name, durationMs: stored.durationMs, createdAt: stored.createdAt, active: stored.active };
}

/** Decoded greetings by file, shared by every library of the process (a file's name is never reused). */
const sounds = new LruMap<string, Promise<Sound | undefined>>(32);

export class GreetingLibrary {
  private readonly root: string;

  constructor(
    private readonly db: Kysely<Database>,
    dataDir: string,
    private readonly now: () => number = Date.now,
  ) {
    this.root = resolve(dataDir);
  }

  async list(owner: GreetingOwner): Promise<Greeting[]> {
    return (await listGreetings(this.db, owner)).map(toGreeting);
  }

  /** Checks an upload (audio, size, length), stores it as Ogg Opus and lists it; inactive until made active. */
  async add(owner: GreetingOwner, name: string, bytes: Buffer): Promise<Greeting> {
    const tooLarge = greetingSizeProblem(bytes.length);
    if (tooLarge) throw new GreetingError('too_large', tooLarge);
    if ((await countGreetings(this.db, owner)) >= MAX_GREETINGS_PER_USER) {
      throw new GreetingError('too_many', `You can keep at most ${MAX_GREETINGS_PER_USER} greetings; delete one first.`);
    }
    let decoded;
    try {
      // Decoded no further than the limit: a few bytes of Opus can claim minutes of sound.
      decoded = await decodeAudioAsync(bytes, 'The file', { maxMs: GREETING_MAX_MS });
    } catch (error) {
      if (error instanceof AudioFileError) throw new GreetingError('not_audio', error.message);
      throw error;
    }
    const badLength = greetingLengthProblem(decoded.durationMs);
    if (badLength) throw new GreetingError('bad_length', badLength);
    const ogg = await this.encode(decoded.samples, decoded.rate);

    const file = [GREETINGS_FOLDER, String(owner.organizationId), String(owner.userId), `${randomHex(12)}.opus`].join('/');
    const path = this.pathOf(file);
    await makeFolder(dirname(path));
    try {
      await writeFileDurably(path, ogg);
      const stored = await this.db.transaction().execute(async (trx) => {
        // Counted again inside the transaction: two uploads at once cannot both take the last place.
        if ((await countGreetings(trx, owner)) >= MAX_GREETINGS_PER_USER) {
          throw new GreetingError('too_many', `You can keep at most ${MAX_GREETINGS_PER_USER} greetings; delete one first.`);
        }
        return insertGreeting(trx, owner, { name, file, durationMs: Math.round(decoded.durationMs), createdAt: new Date(this.now()).toISOString() });
      });
      log.debug('greeting added', { userId: owner.userId, id: stored.id, durationMs: stored.durationMs, bytes: ogg.length });
      return toGreeting(stored);
    } catch (error) {
      await rm(path, { force: true });
      throw error;
    }
  }

  /** Renames it, and/or makes it the active one (the others stop being active) or stops it being active. */
  async update(owner: GreetingOwner, id: number, update: GreetingUpdate): Promise<Greeting> {
    const updated = await this.db.transaction().execute(async (trx) => {
      if (!(await findGreeting(trx, owner, id))) return undefined;
      if (update.name !== undefined) await renameGreeting(trx, owner, id, update.name);
      if (update.active !== undefined) await setGreetingActive(trx, owner, id, update.active);
      return findGreeting(trx, owner, id);
    });
    if (!updated) throw new GreetingError('not_found', NOT_FOUND);
    log.debug('greeting changed', { userId: owner.userId, id, renamed: update.name !== undefined, active: update.active });
    return toGreeting(updated);
  }

  /** Deletes it and its audio; when it was the active one, callers hear the default greeting again. */
  async remove(owner: GreetingOwner, id: number): Promise<void> {
    const deleted = await deleteGreeting(this.db, owner, id);
    if (!deleted) throw new GreetingError('not_found', NOT_FOUND);
    const path = this.pathOf(deleted.file);
    sounds.delete(path);
    try {
      await rm(path, { force: true });
    } catch (error) {
      // The row is gone, so nothing lists the file; a file left over costs only disk.
      log.warn('could not delete a greeting file', { file: deleted.file, error });
    }
    log.debug('greeting deleted', { userId: owner.userId, id, wasActive: deleted.active });
  }

  /** The stored Ogg Opus audio. */
  async audio(owner: GreetingOwner, id: number): Promise<Buffer> {
    const stored = await findGreeting(this.db, owner, id);
    if (!stored) throw new GreetingError('not_found', NOT_FOUND);
    try {
      return await readFile(this.pathOf(stored.file));
    } catch (error) {
      log.warn('greeting audio missing', { id, file: stored.file, error });
      throw new GreetingError('not_found', "This greeting's audio is missing on the server; delete it and record it again.");
    }
  }

  /**
   * The sound callers of `userId` hear before leaving a voicemail, or undefined for the PBX's default greeting:
   * when none is active, or its file cannot be read (which is logged, and never keeps the caller from the mailbox).
   */
  async activeSound(userId: number): Promise<Sound | undefined> {
    const active = await findActiveGreeting(this.db, userId);
    if (!active) return undefined;
    const path = this.pathOf(active.file);
    let sound = sounds.get(path);
    if (!sound) {
      sound = this.load(path, `greeting ${active.id}`);
      sounds.set(path, sound);
    }
    const loaded = await sound;
    // A file that could not be read is tried again next time (it may have been put back).
    if (!loaded) sounds.delete(path);
    return loaded;
  }

  private async load(path: string, name: string): Promise<Sound | undefined> {
    try {
      return soundFromAudio(await decodeAudioAsync(await readFile(path), name, { opusAtInputRate: true }), name);
    } catch (error) {
      log.warn('cannot play a greeting; the default plays instead', { path, error });
      return undefined;
    }
  }

  /**
   * Ogg Opus at the audio's own rate when Opus and the player share it, else converted up to the next one. Every
   * step (decoding above, converting, coding) lets the event loop turn each second of audio: a two-minute upload
   * costs seconds of CPU, which the calls' 20 ms media ticks must not wait for.
   */
  private async encode(samples: Int16Array, rate: number): Promise<Buffer> {
    const target = STORED_RATES.find((candidate) => candidate >= rate) ?? 48000;
    const pcm = target === rate ? samples : await resampleAsync(samples, rate, target);
    const writer = new OggOpusWriter(target);
    const parts: Buffer[] = [];
    const step = (target * SAMPLES_PER_TURN_MS) / 1000;
    for (let at = 0; at < pcm.length; at += step) {
      parts.push(writer.write(pcm.subarray(at, at + step)));
      await nextTurn();
    }
    parts.push(writer.finish());
    return Buffer.concat(parts);
  }

  /** A stored file name as a path, which must lie inside the data folder. */
  private pathOf(file: string): string {
    const path = resolve(this.root, file);
    if (!path.startsWith(this.root + sep)) throw new Error(`greeting file ${file} lies outside the data folder`);
    return path;
  }
}

/**
 * The sound callers of `userId` hear before leaving a voicemail: their active greeting, or undefined when the
 * PBX's default greeting should play. Decoded sounds are kept (up to 32), so a busy mailbox decodes once.
 */
export function activeGreeting(db: Kysely<Database>, dataDir: string, userId: number): Promise<Sound | undefined> {
  return new GreetingLibrary(db, dataDir).activeSound(userId);
}


/**
 * What voicemail's deposit asks for (its `GreetingSource` port, features/voicemail/ports.ts): the active greeting
 * of a mailbox's owner, or undefined for its default greeting. One library for the PBX, so one sound cache.
 */
export function greetingSource(db: Kysely<Database>, dataDir: string): { activeGreeting(mailbox: { userId: number }): Promise<Sound | undefined> } {
  const library = new GreetingLibrary(db, dataDir);
  return { activeGreeting: (mailbox) => library.activeSound(mailbox.userId) };
}
