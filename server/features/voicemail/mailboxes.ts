/**
 * A mailbox as its owner uses it, from the app (REST) or a phone (the *97 menu): list, play, mark new or saved,
 * delete, set the PIN. Every change is announced the two ways a user hears of voicemail: the `voicemail` event
 * with the mailbox's counts to the owner's apps, and fresh counts to the desk phones watching the mailbox's
 * message-waiting lamp (RFC 3842). The deposit (deposit.ts) announces new messages through the same door.
 */
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import type { Transcript, Voicemail, VoicemailCounts, VoicemailEvent, VoicemailList, VoicemailQuery } from '../../../shared/voicemail';
import { hashPassword, verifyPassword } from '../../auth/password';
import type { EventPublisher } from '../../events/event-hub';
import { createLogger } from '../../log';
import { syncCommitted } from '../../store/db';
import type { Database, VoicemailStatus } from '../../store/schema';
import {
  countVoicemails,
  deleteVoicemail,
  getMailboxPinHash,
  getVoicemail,
  listVoicemails,
  setMailboxPinHash,
  setVoicemailStatus,
} from '../../store/voicemails';
import type { StoredVoicemail } from '../../store/voicemails';
import { searchVoicemailIds, transcriptsFor } from '../../store/transcripts';
import type { MailboxWatchers, TranscriptReader } from './ports';
import { getUserById } from '../../store/users';

const log = createLogger('voicemail');

/** Whose mailbox: the owner as the session or the call names them. */
export interface MailboxUser {
  organizationId: number;
  userId: number;
  extension: string;
}

/** Where a message's transcription stands when transcription never saw it (none was wired in). */
const NO_TRANSCRIPT: Transcript = { status: 'off' };

export interface MailboxesOptions {
  db: Kysely<Database>;
  /** The PBX's data folder, under which each message's file lies. */
  dataDir: string;
  events: EventPublisher;
  watchers: MailboxWatchers;
  /**
   * The transcripts of messages (features/transcription `Transcriber`, which knows whether an engine runs); the
   * stored ones when left out, and `off` for a message with none.
   */
  transcripts?: TranscriptReader;
}

export class Mailboxes {
  private readonly db: Kysely<Database>;
  readonly dataDir: string;

  constructor(private readonly options: MailboxesOptions) {
    this.db = options.db;
    this.dataDir = options.dataDir;
  }

  async counts(user: MailboxUser): Promise<VoicemailCounts> {
    return countVoicemails(this.db, user.userId);
  }

  /** The owner's messages, newest first, with their transcripts, and the mailbox's counts; `q` searches callers and transcripts. */
  async list(user: MailboxUser, query: VoicemailQuery): Promise<VoicemailList> {
    const q = query.q?.trim();
    const inTranscripts = q ? await searchVoicemailIds(this.db, user.userId, q) : [];
    const rows = await listVoicemails(this.db, user, { box: query.box, q, alsoMatching: inTranscripts, limit: query.limit });
    const transcripts = rows.length > 0 ? await this.transcripts(rows.map((row) => row.id)) : new Map<number, Transcript>();
    return { items: rows.map((row) => toVoicemail(row, transcripts.get(row.id) ?? NO_TRANSCRIPT)), counts: await this.counts(user) };
  }

  async get(user: MailboxUser, id: number): Promise<StoredVoicemail | undefined> {
    return getVoicemail(this.db, user, id);
  }

  /** One message as the app shows it, with its transcript; undefined when the owner has no such message. */
  async item(user: MailboxUser, id: number): Promise<Voicemail | undefined> {
    const row = await getVoicemail(this.db, user, id);
    if (!row) return undefined;
    const transcripts = await this.transcripts([id]);
    return toVoicemail(row, transcripts.get(id) ?? NO_TRANSCRIPT);
  }

  /** The message and the absolute path of its audio; undefined when the owner has no such message. */
  async audio(user: MailboxUser, id: number): Promise<{ message: StoredVoicemail; path: string } | undefined> {
    const message = await getVoicemail(this.db, user, id);
    return message && { message, path: join(this.dataDir, message.file) };
  }

  /** Moves a message to new or saved; false when the owner has no such message. Setting what it already is changes nothing. */
  async mark(user: MailboxUser, id: number, status: VoicemailStatus): Promise<boolean> {
    const message = await getVoicemail(this.db, user, id);
    if (!message) return false;
    if (message.status === status) return true;
    if (!(await setVoicemailStatus(this.db, user, id, status))) return false;
    await this.announce(user, 'updated', id);
    return true;
  }

  /** Deletes a message and its audio; false when the owner has no such message. */
  async remove(user: MailboxUser, id: number): Promise<boolean> {
    if (!(await deleteVoicemail(this.db, this.dataDir, user, id))) return false;
    await this.announce(user, 'deleted', id);
    return true;
  }

  /** A message's transcript changed (transcription is done): its owner's apps are told, found by the owner's id. */
  async announceTranscribed(voicemailId: number, owner: { organizationId: number; userId: number }): Promise<void> {
    const user = await getUserById(this.db, owner.userId);
    if (!user || user.organization_id !== owner.organizationId) return;
    // The counts did not change: the desk phones' lamps are left alone.
    await this.announce({ organizationId: owner.organizationId, userId: owner.userId, extension: user.extension }, 'updated', voicemailId, { lamps: false });
  }

  async setPin(user: MailboxUser, pin: string): Promise<void> {
    await setMailboxPinHash(this.db, user.userId, await hashPassword(pin));
    // The owner is told it is set: a power cut must not bring back the old PIN (or none).
    await syncCommitted(this.db);
  }

  /** Whether `pin` opens the user's mailbox: false when it does not or no PIN is set. */
  async checkPin(user: MailboxUser, pin: string): Promise<boolean> {
    const hash = await getMailboxPinHash(this.db, user.userId);
    return hash !== undefined && (await verifyPassword(pin, hash));
  }

  /**
   * Tells the owner's apps (the `voicemail` event, with the counts after the change) and, unless `lamps` is false
   * (nothing they show changed), the desk phones watching the mailbox. For changes made here, by the deposit, and
   * by transcription (`updated` when a text is written). Never throws: the change is stored already, and an app
   * that missed the event catches up from the list.
   */
  async announce(user: MailboxUser, change: VoicemailEvent['change'], id: number, options: { lamps?: boolean } = {}): Promise<void> {
    try {
      if (options.lamps !== false) this.options.watchers.mailboxChanged(user.organizationId, user.extension);
      const event: VoicemailEvent = { type: 'voicemail', change, id, counts: await this.counts(user) };
      await this.options.events.publish(user.organizationId, [user.userId], event);
    } catch (error) {
      log.warn('could not announce a mailbox change', { userId: user.userId, change, id, error });
    }
  }

  private transcripts(ids: readonly number[]): Promise<ReadonlyMap<number, Transcript>> {
    return this.options.transcripts ? this.options.transcripts.transcripts(ids) : transcriptsFor(this.db, ids);
  }
}

function toVoicemail(row: StoredVoicemail, transcript: Transcript): Voicemail {
  return {
    id: row.id,
    callerName: row.callerName,
    callerNumber: row.callerNumber,
    receivedAt: row.receivedAt,
    durationMs: row.durationMs,
    status: row.status,
    transcript,
  };
}
