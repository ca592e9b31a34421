/**
 * The tables, written once for Kysely. Every query in server/store is typed by this interface; the
 * migrations in ./migrations create what it describes.
 *
 * Timestamps are ISO 8601 strings in UTC from `Date.toISOString()` (always 24 characters), so they sort
 * and compare correctly as text on SQLite and PostgreSQL alike.
 */
import type { Generated, Insertable, Selectable } from 'kysely';

export type UserRole = 'user' | 'admin';

export const USER_ROLES: readonly UserRole[] = ['user', 'admin'];

export type CallDisposition = 'answered' | 'missed' | 'declined' | 'cancelled' | 'failed' | 'busy';

export const CALL_DISPOSITIONS: readonly CallDisposition[] = ['answered', 'missed', 'declined', 'cancelled', 'failed', 'busy'];

export interface OrganizationTable {
  id: Generated<number>;
  name: string;
  /** Lower case; also the SIP domain and the digest realm. Unique. */
  domain: string;
  created_at: string;
  /** IANA time zone in which time frames are read (shared/answering-rules.ts); 'UTC' by default. */
  time_zone: Generated<string>;
}

export interface UserTable {
  id: Generated<number>;
  organization_id: number;
  /** Unique within the organization; the user part of the user's SIP address. */
  extension: string;
  display_name: string;
  role: UserRole;
  /** server/auth/password.ts encoding. */
  password_hash: string;
  created_at: string;
  updated_at: string;
  /** 1 when the dial policy lets the user call outside numbers (server/sip/edge/security.ts); 0 by default. */
  can_call_external: Generated<number>;
}

export interface SessionTable {
  id: Generated<number>;
  user_id: number;
  /** sha256 hex of the bearer token; the token itself is never stored. */
  token_hash: string;
  /** HA1 of the session's SIP password for each digest algorithm; the password itself is never stored. */
  sip_ha1_md5: string;
  sip_ha1_sha256: string;
  created_at: string;
  expires_at: string;
}

/** A long-lived SIP password for a desk phone or SIP app, stored as digest HA1s only. */
export interface DeviceCredentialTable {
  id: Generated<number>;
  user_id: number;
  /** Unique per user: setting a password for a label replaces that label's password. */
  label: string;
  ha1_md5: string;
  ha1_sha256: string;
  created_at: string;
}

/** One call as its parties see it: no direction column, the reader's extension tells in or out. */
export interface CallRecordTable {
  id: Generated<number>;
  organization_id: number;
  /** Call-ID of the caller's leg. */
  call_id: string;
  caller_extension: string;
  caller_name: string;
  /** What was dialled. */
  callee: string;
  /** The extension that the call reached, when it reached one. */
  callee_extension: string | null;
  started_at: string;
  answered_at: string | null;
  ended_at: string | null;
  disposition: CallDisposition;
  end_reason: string | null;
}

/** The transports over which a device can be reached again after a restart of the PBX (registrations). */
export type StoredTransport = 'UDP' | 'TCP' | 'TLS';

/** A registration binding that outlives the PBX's process (registrations.ts). */
export interface RegistrationTable {
  organization_id: number;
  extension: string;
  /** Which of the user's bindings: the device's +sip.instance, else its Contact URI (RFC 3261 §10.3, RFC 5626 §6). */
  binding_key: string;
  /** The Contact as the device registered it (name-addr). */
  contact: string;
  /** JSON array: the REGISTER's Path (RFC 3327), nearest proxy first. */
  path: string;
  transport: StoredTransport;
  /** Where the REGISTER came from: a UDP device is reached there again. */
  remote_address: string;
  remote_port: number;
  call_id: string;
  cseq: number;
  expires_at: string;
  user_agent: string | null;
}

/** An answered call while it lasts (active-calls.ts): its record-to-be, and what a BYE to each leg needs. */
export interface ActiveCallTable {
  /** The call engine's id of the call. */
  id: string;
  organization_id: number;
  call_id: string;
  caller_extension: string;
  caller_name: string;
  callee: string;
  callee_extension: string | null;
  started_at: string;
  answered_at: string;
  /** JSON array of active-calls.ts StoredLeg. */
  legs: string;
}

/** One row (id 1): when the PBX last said it was alive (heartbeat.ts). */
export interface HeartbeatTable {
  id: number;
  alive_at: string;
}

/** The last sequence number given out in a user's event stream (events.ts); never goes back. */
export interface EventStreamTable {
  user_id: number;
  organization_id: number;
  last_seq: number;
}

/** One event addressed to one user, numbered in that user's stream (shared/events.ts). */
export interface EventTable {
  user_id: number;
  seq: number;
  organization_id: number;
  /** The event's `type`, for reading the table by hand. */
  type: string;
  /** The event as JSON (shared/events.ts PublishedEvent). */
  body: string;
  published_at: string;
}

/** A time frame (shared/answering-rules.ts TimeFrameSpec); `user_id` null for the organization's own. */
export interface TimeFrameTable {
  id: Generated<number>;
  organization_id: number;
  user_id: number | null;
  name: string;
  /** TimeFrameSpec as JSON. */
  spec: string;
  created_at: string;
  updated_at: string;
}

/** A user's answering rule (shared/answering-rules.ts); priority 1 is the highest. */
export interface AnsweringRuleTable {
  id: Generated<number>;
  organization_id: number;
  user_id: number;
  name: string;
  priority: number;
  /** 0 or 1. */
  enabled: number;
  time_frame_id: number;
  /** RuleAction as JSON. */
  action: string;
  created_at: string;
  updated_at: string;
}

/** A user's greeting (migration 008, shared/greetings.ts); at most one of a user's is active. */
export interface GreetingTable {
  id: Generated<number>;
  organization_id: number;
  user_id: number;
  name: string;
  /** The Ogg Opus file, relative to the data folder. */
  file: string;
  duration_ms: number;
  created_at: string;
  /** 0 or 1. */
  active: Generated<number>;
}

/** Where a voicemail is: not yet heard (`new`) or kept (`saved`). */
export type VoicemailStatus = 'new' | 'saved';

/** One message left in a user's mailbox (store/voicemails.ts); its audio is `file` under the data folder. */
export interface VoicemailTable {
  id: Generated<number>;
  organization_id: number;
  /** The mailbox's owner. */
  user_id: number;
  caller_name: string;
  /** What to dial to call back (extension or E.164); null when withheld. */
  caller_number: string | null;
  /** The caller's extension when a user of the organization called. */
  caller_extension: string | null;
  received_at: string;
  duration_ms: number;
  status: Generated<VoicemailStatus>;
  /** Path of the Ogg Opus file relative to the data folder; unique. */
  file: string;
  size_bytes: number;
  /** 1 when recorded from an Opus leg (wideband), 0 from G.711. */
  wideband: Generated<number>;
  /** Why the call went to voicemail (calls/ports.ts VoicemailReason). */
  reason: string;
}

/** A user's mailbox settings: the PIN of the phone menu (*97), as a scrypt hash. */
export interface MailboxTable {
  user_id: number;
  pin_hash: string | null;
  updated_at: string;
}

/** A voicemail's transcription (migration 007); `text` is indexed by the FTS5 table voicemail_transcripts_fts. */
export interface VoicemailTranscriptTable {
  voicemail_id: number;
  /** shared/voicemail.ts TranscriptStatus. */
  status: 'pending' | 'done' | 'failed' | 'narrowband' | 'off';
  /** Which engine wrote it (`pocketsphinx`, `hosted`); null while pending. */
  engine: string | null;
  text: string | null;
  error: string | null;
  updated_at: string;
}

/** Do not disturb as a PBX setting (migration 009): a user without a row has it off. */
export interface DoNotDisturbTable {
  user_id: number;
  organization_id: number;
  /** 0 or 1. */
  enabled: number;
  updated_at: string;
}

export interface Database {
  organizations: OrganizationTable;
  users: UserTable;
  sessions: SessionTable;
  call_records: CallRecordTable;
  device_credentials: DeviceCredentialTable;
  registrations: RegistrationTable;
  active_calls: ActiveCallTable;
  heartbeat: HeartbeatTable;
  event_streams: EventStreamTable;
  events: EventTable;
  time_frames: TimeFrameTable;
  answering_rules: AnsweringRuleTable;
  greetings: GreetingTable;
  voicemails: VoicemailTable;
  mailboxes: MailboxTable;
  voicemail_transcripts: VoicemailTranscriptTable;
  do_not_disturb: DoNotDisturbTable;
}

export type Organization = Selectable<OrganizationTable>;
export type UserRow = Selectable<UserTable>;
/**
 * A user as the store hands it out: never with the password hash. Policy flags are not part of it either;
 * they are read where the policy is applied (server/store/dial-permissions.ts).
 */
export type User = Omit<UserRow, 'password_hash' | 'can_call_external'>;
export type Session = Selectable<SessionTable>;
export type CallRecord = Selectable<CallRecordTable>;
export type DeviceCredential = Selectable<DeviceCredentialTable>;
export type NewCallRecordRow = Insertable<CallRecordTable>;
export type StoredRegistration = Selectable<RegistrationTable>;
export type ActiveCallRow = Selectable<ActiveCallTable>;
export type StoredEvent = Selectable<EventTable>;
