/**
 * Greetings as stored (migration 008). Every function is scoped by organization and user: a greeting of another
 * organization or another user is, to the caller, one that does not exist. The audio files are the feature's
 * (features/greetings); the row only names its file.
 */
import type { Kysely, Transaction } from 'kysely';
import { createLogger } from '../log';
import type { Database } from './schema';

const log = createLogger('store');

type Db = Kysely<Database> | Transaction<Database>;

/** Whose greetings: a user of an organization. */
export interface GreetingOwner {
  organizationId: number;
  userId: number;
}

export interface StoredGreeting {
  id: number;
  name: string;
  /** Relative to the data folder. */
  file: string;
  durationMs: number;
  createdAt: string;
  active: boolean;
}

const COLUMNS = ['id', 'name', 'file', 'duration_ms', 'created_at', 'active'] as const;

interface GreetingRow {
  id: number;
  name: string;
  file: string;
  duration_ms: number;
  created_at: string;
  active: number;
}

function toGreeting(row: GreetingRow): StoredGreeting {
  return { id: row.id, name: row.name, file: row.file, durationMs: row.duration_ms, createdAt: row.created_at, active: row.active === 1 };
}

function owned(db: Db, owner: GreetingOwner) {
  return db.selectFrom('greetings').select(COLUMNS).where('organization_id', '=', owner.organizationId).where('user_id', '=', owner.userId);
}

/** Newest first. */
export async function listGreetings(db: Db, owner: GreetingOwner): Promise<StoredGreeting[]> {
  const rows = await owned(db, owner).orderBy('created_at', 'desc').orderBy('id', 'desc').execute();
  return rows.map(toGreeting);
}

export async function countGreetings(db: Db, owner: GreetingOwner): Promise<number> {
  const row = await db
    .selectFrom('greetings')
    .select((eb) => eb.fn.countAll<number>().as('count'))
    .where('organization_id', '=', owner.organizationId)
    .where('user_id', '=', owner.userId)
    .executeTakeFirstOrThrow();
  return Number(row.count);
}

export async function findGreeting(db: Db, owner: GreetingOwner, id: number): Promise<StoredGreeting | undefined> {
  const row = await owned(db, owner).where('id', '=', id).executeTakeFirst();
  return row ? toGreeting(row) : undefined;
}

/** The greeting callers hear, when the user has made one active. */
export async function findActiveGreeting(db: Db, userId: number): Promise<StoredGreeting | undefined> {
  const row = await db.selectFrom('greetings').select(COLUMNS).where('user_id', '=', userId).where('active', '=', 1).executeTakeFirst();
  return row ? toGreeting(row) : undefined;
}

export async function insertGreeting(
  db: Db,
  owner: GreetingOwner,
  greeting: { name: string; file: string; durationMs: number; createdAt: string },
): Promise<StoredGreeting> {
  log.debug('adding greeting', { userId: owner.userId, durationMs: greeting.durationMs });
  const row = await db
    .insertInto('greetings')
    .values({
      organization_id: owner.organizationId,
      user_id: owner.userId,
      name: greeting.name,
      file: greeting.file,
      duration_ms: greeting.durationMs,
      created_at: greeting.createdAt,
      active: 0,
    })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
  return toGreeting(row);
}

export async function renameGreeting(db: Db, owner: GreetingOwner, id: number, name: string): Promise<boolean> {
  const result = await db
    .updateTable('greetings')
    .set({ name })
    .where('id', '=', id)
    .where('organization_id', '=', owner.organizationId)
    .where('user_id', '=', owner.userId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Makes greeting `id` the user's active one, or with `active` false stops it being active. Making one active
 * clears the others first, in the caller's transaction, so the one-active index never sees two.
 */
export async function setGreetingActive(db: Transaction<Database>, owner: GreetingOwner, id: number, active: boolean): Promise<boolean> {
  const existing = await findGreeting(db, owner, id);
  if (!existing) return false;
  if (active) {
    await db.updateTable('greetings').set({ active: 0 }).where('user_id', '=', owner.userId).where('organization_id', '=', owner.organizationId).where('active', '=', 1).execute();
  }
  await db.updateTable('greetings').set({ active: active ? 1 : 0 }).where('id', '=', id).execute();
  return true;
}

/** Removes the row and returns it (the caller removes the file), or undefined when there was none. */
export async function deleteGreeting(db: Db, owner: GreetingOwner, id: number): Promise<StoredGreeting | undefined> {
  const row = await db
    .deleteFrom('greetings')
    .where('id', '=', id)
    .where('organization_id', '=', owner.organizationId)
    .where('user_id', '=', owner.userId)
    .returning(COLUMNS)
    .executeTakeFirst();
  return row ? toGreeting(row) : undefined;
}

/** Every greeting file a row names, across organizations: what the start-up sweep keeps. */
export async function listGreetingFiles(db: Db): Promise<Set<string>> {
  const rows = await db.selectFrom('greetings').select('file').execute();
  return new Set(rows.map((row) => row.file));
}
