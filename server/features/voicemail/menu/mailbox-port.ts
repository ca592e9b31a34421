/**
 * What the mailbox menu needs of the mailbox: its PIN hash, its messages, a message's audio as a sound, and the
 * two changes a caller can make by key press. The production side (stored-mailbox.ts) reads the voicemail
 * store and tells the owner's phones and apps of each change, as the REST routes do; tests hand in their own.
 */
import type { Sound } from '../../../media/player';

/** Whose mailbox: a user of an organization (and the extension its message-waiting lamps watch). Every call below is scoped to it. */
export interface MenuOwner {
  organizationId: number;
  userId: number;
  extension: string;
}

export interface MenuMessage {
  id: number;
  status: 'new' | 'saved';
  /** ISO time, for the order messages are heard in. */
  receivedAt: string;
}

export interface MenuMailbox {
  /** The mailbox's PIN hash (auth/password.ts), or undefined when its owner has not set a PIN. */
  pinHash(owner: MenuOwner): Promise<string | undefined>;
  /** The owner's messages, new and saved, in any order. */
  messages(owner: MenuOwner): Promise<MenuMessage[]>;
  /** A message's recording as a sound the player can play; rejects when it cannot be read. */
  sound(owner: MenuOwner, message: MenuMessage): Promise<Sound>;
  /** Marks a message saved and tells the owner's devices; false when the owner has no such message (any more). */
  markSaved(owner: MenuOwner, id: number): Promise<boolean>;
  /** Deletes a message and its audio and tells the owner's devices; false when there was no such message. */
  remove(owner: MenuOwner, id: number): Promise<boolean>;
}
