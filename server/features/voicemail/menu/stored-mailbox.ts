/**
 * The menu's mailbox as stored: the PIN hash and messages from the voicemail store, each message's Ogg Opus file
 * decoded into a sound when the caller reaches it, and changes made through `Mailboxes` (mailboxes.ts), the one
 * door every change goes through, so a message saved or deleted by phone reaches the owner's apps (the
 * `voicemail` event) and desk phones (message-waiting) exactly as one changed in the app does.
 */
import { readFile } from 'node:fs/promises';
import type { Kysely } from 'kysely';
import { decodeAudioAsync, soundFromAudio } from '../../../media/audio-file';
import type { Sound } from '../../../media/player';
import type { Database } from '../../../store/schema';
import { getMailboxPinHash, listVoicemails } from '../../../store/voicemails';
import type { Mailboxes } from '../mailboxes';
import type { MenuMailbox, MenuMessage, MenuOwner } from './mailbox-port';

/** The most messages one call goes through (the REST list's own limit); a mailbox holds fewer (the deposit's limit). */
const MOST_MESSAGES = 200;

export class StoredMailbox implements MenuMailbox {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly mailboxes: Mailboxes,
  ) {}

  pinHash(owner: MenuOwner): Promise<string | undefined> {
    return getMailboxPinHash(this.db, owner.userId);
  }

  async messages(owner: MenuOwner): Promise<MenuMessage[]> {
    const rows = await listVoicemails(this.db, owner, { limit: MOST_MESSAGES });
    return rows.map(({ id, status, receivedAt }) => ({ id, status, receivedAt }));
  }

  /**
   * Decoded at the rate it was recorded at (8 or 16 kHz: a minute of message is 2 MB at 16 kHz), a second at a
   * time with the event loop turning between (a 3-minute message takes some 0.4 s to decode, twenty media ticks
   * every other call would otherwise miss).
   */
  async sound(owner: MenuOwner, message: MenuMessage): Promise<Sound> {
    const found = await this.mailboxes.audio(owner, message.id);
    if (!found) throw new Error(`voicemail ${message.id} is no longer in the mailbox`);
    const bytes = await readFile(found.path);
    return soundFromAudio(await decodeAudioAsync(bytes, found.path, { opusAtInputRate: true }), `voicemail ${message.id}`);
  }

  markSaved(owner: MenuOwner, id: number): Promise<boolean> {
    return this.mailboxes.mark(owner, id, 'saved');
  }

  remove(owner: MenuOwner, id: number): Promise<boolean> {
    return this.mailboxes.remove(owner, id);
  }
}
