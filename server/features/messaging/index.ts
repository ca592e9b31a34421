/** Instant messages between users (RFC 3428 MESSAGE), relayed by the PBX. */
export * from './messages';
