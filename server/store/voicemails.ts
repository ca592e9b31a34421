/**
 * Voicemail as stored (migration 006): the messages in users' mailboxes and each mailbox's PIN hash. The one
 * place with voicemail SQL, for the deposit (features/voicemail), the REST routes, the phone menu (*97) and
 * transcription alike.
 *
 * Every read and change of a message is scoped by its owner (organization and user): another user's message is,
 * to the caller, one that does not exist. The audio file of a message lives in the data folder under the path
 * its row names; `deleteVoicemail` removes both, the row first, so a failure between the two leaves an orphan
 * file (removed at the next start, `orphanVoicemailFiles`) and never a row without its audio.
 */
import { unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { sql } from 'kysely';
import type { ExpressionBuilder, Kysely, Transaction } from 'kysely';
import { createLogger } from '../log';
import type { Database, VoicemailStatus } from './schema';

const log = createLogger('store');

type Db = Kysely<Database> | Transaction<Database>;

/** Whose mailbox: a user of an organization. */
export interface MailboxOwner {
  organizationId: number;
  userId: number;
}

export interface StoredVoicemail {
  id: number;
  organizationId: number;
  userId: number;
  callerName: string;
  callerNumber: string | null;
  callerExtension: string | null;
  receivedAt: string;
  durationMs: number;
  status: VoicemailStatus;
  /** Relative to the data folder. */
  file: string;
  sizeBytes: number;
  wideband: boolean;
  reason: string;
}

export type NewVoicemail = Omit<StoredVoicemail, 'id' | 'status'>;

export interface MailboxCountsByStatus {
  new: number;
  saved: number;
}

export interface VoicemailListOptions {
  box?: VoicemailStatus;
  /** Words the caller's name, number or extension must contain (case-insensitive)... */
  q?: string;
  /** ...or one of these messages, found by `q` elsewhere (their transcripts: store/transcripts.ts). */
  alsoMatching?: readonly number[];
  limit: number;
}

const COLUMNS = [
  'id',
  'organization_id',
  'user_id',
  'caller_name',
  'caller_number',
  'caller_extension',
  'received_at',
  'duration_ms',
  'status',
  'file',
  'size_bytes',
  'wideband',
  'reason',
] as const;

interface Row {
  id: number;
  organization_id: number;
  user_id: number;
  caller_name: string;
  caller_number: string | null;
  caller_extension: string | null;
  received_at: string;
  duration_ms: number;
  status: VoicemailStatus;
  file: string;
  size_bytes: number;
  wideband: number;
  reason: string;
}

function toVoicemail(row: Row): StoredVoicemail {
  return {
    id: row.id,
    organizationId: row.organization_id,
    userId: row.user_id,
    callerName: row.caller_name,
    callerNumber: row.caller_number,
    callerExtension: row.caller_extension,
    receivedAt: row.received_at,
    durationMs: row.duration_ms,
    status: row.status,
    file: row.file,
    sizeBytes: row.size_bytes,
    wideband: row.wideband === 1,
    reason: row.reason,
  };
}

/** A LIKE pattern that matches `text` anywhere, with LIKE's own characters taken literally (ESCAPE '\'). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** What `q` matches: the caller's name, number and extension, and the messages its transcript search found. */
function searchCondition(eb: ExpressionBuilder<Database, 'voicemails'>, q: string, alsoMatching: readonly number[]) {
  const pattern = containsPattern(q);
  const like = (column: 'caller_name' | 'caller_number' | 'caller_extension') => sql<boolean>`${sql.ref(column)} like ${pattern} escape '\\'`;
  const conditions = [like('caller_name'), like('caller_number'), like('caller_extension')];
  if (alsoMatching.length > 0) conditions.push(sql<boolean>`${sql.ref('id')} in (${sql.join([...alsoMatching])})`);
  return eb.or(conditions);
}

/** Stores a message whose audio is already on disk; its id. */
export async function insertVoicemail(db: Db, message: NewVoicemail): Promise<number> {
  log.debug('storing voicemail', { organizationId: message.organizationId, userId: message.userId, durationMs: message.durationMs });
  const { id } = await db
    .insertInto('voicemails')
    .values({
      organization_id: message.organizationId,
      user_id: message.userId,
      caller_name: message.callerName,
      caller_number: message.callerNumber,
      caller_extension: message.callerExtension,
      received_at: message.receivedAt,
      duration_ms: message.durationMs,
      status: 'new',
      file: message.file,
      size_bytes: message.sizeBytes,
      wideband: message.wideband ? 1 : 0,
      reason: message.reason,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

/** The owner's messages, newest first, in one box or both, matching `q` when given. */
export async function listVoicemails(db: Db, owner: MailboxOwner, options: VoicemailListOptions): Promise<StoredVoicemail[]> {
  let query = db
    .selectFrom('voicemails')
    .select(COLUMNS)
    .where('organization_id', '=', owner.organizationId)
    .where('user_id', '=', owner.userId);
  if (options.box) query = query.where('status', '=', options.box);
  const q = options.q?.trim();
  if (q) query = query.where((eb) => searchCondition(eb, q, options.alsoMatching ?? []));
  const rows = await query.orderBy('received_at', 'desc').orderBy('id', 'desc').limit(options.limit).execute();
  return rows.map(toVoicemail);
}

export async function getVoicemail(db: Db, owner: MailboxOwner, id: number): Promise<StoredVoicemail | undefined> {
  const row = await db
    .selectFrom('voicemails')
    .select(COLUMNS)
    .where('id', '=', id)
    .where('organization_id', '=', owner.organizationId)
    .where('user_id', '=', owner.userId)
    .executeTakeFirst();
  return row && toVoicemail(row);
}

/** Moves a message between new and saved; false when the owner has no such message. */
export async function setVoicemailStatus(db: Db, owner: MailboxOwner, id: number, status: VoicemailStatus): Promise<boolean> {
  log.debug('marking voicemail', { organizationId: owner.organizationId, id, status });
  const result = await db
    .updateTable('voicemails')
    .set({ status })
    .where('id', '=', id)
    .where('organization_id', '=', owner.organizationId)
    .where('user_id', '=', owner.userId)
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Deletes a message and then its audio file under `dataDir`; false when the owner has no such message. A file
 * already gone is fine; one that cannot be removed is logged and left for the cleanup at start.
 */
export async function deleteVoicemail(db: Db, dataDir: string, owner: MailboxOwner, id: number): Promise<boolean> {
  log.debug('deleting voicemail', { organizationId: owner.organizationId, id });
  const row = await db
    .deleteFrom('voicemails')
    .where('id', '=', id)
    .where('organization_id', '=', owner.organizationId)
    .where('user_id', '=', owner.userId)
    .returning('file')
    .executeTakeFirst();
  if (!row) return false;
  try {
    await unlink(join(dataDir, row.file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') log.warn('could not remove a deleted voicemail file', { file: row.file, error });
  }
  return true;
}

/** How many messages the user has in each box. */
export async function countVoicemails(db: Db, userId: number): Promise<MailboxCountsByStatus> {
  const rows = await db
    .selectFrom('voicemails')
    .select((eb) => ['status', eb.fn.countAll<number>().as('n')])
    .where('user_id', '=', userId)
    .groupBy('status')
    .execute();
  const counts: MailboxCountsByStatus = { new: 0, saved: 0 };
  for (const row of rows) counts[row.status] = Number(row.n);
  return counts;
}

/** Every message's file, relative to the data folder (what the cleanup at start keeps). */
export async function listVoicemailFiles(db: Db): Promise<Set<string>> {
  const rows = await db.selectFrom('voicemails').select('file').execute();
  return new Set(rows.map((row) => row.file));
}

/** The PIN hash of the user's mailbox, or undefined when none is set. */
export async function getMailboxPinHash(db: Db, userId: number): Promise<string | undefined> {
  const row = await db.selectFrom('mailboxes').select('pin_hash').where('user_id', '=', userId).executeTakeFirst();
  return row?.pin_hash ?? undefined;
}

export async function setMailboxPinHash(db: Db, userId: number, pinHash: string): Promise<void> {
  log.debug('setting mailbox pin', { userId });
  const updatedAt = new Date().toISOString();
  await db
    .insertInto('mailboxes')
    .values({ user_id: userId, pin_hash: pinHash, updated_at: updatedAt })
    .onConflict((oc) => oc.column('user_id').doUpdateSet({ pin_hash: pinHash, updated_at: updatedAt }))
    .execute();
}
