/** Call pickup and moving a call to another device: INVITE with Replaces (RFC 3891). */
export { ReplacingInvites } from './replacing-invite';
