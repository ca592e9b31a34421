/** The *97 mailbox menu: the state machine (mailbox-menu.ts) and the stored mailbox it works on. */
export { DEFAULT_MENU_TIMING, listeningOrder, MailboxMenu, MailboxMenuService, mailboxPinAccount } from './mailbox-menu';
export type { MailboxMenuDeps, MenuState, MenuTiming } from './mailbox-menu';
export type { MenuMailbox, MenuMessage, MenuOwner } from './mailbox-port';
export { StoredMailbox } from './stored-mailbox';
