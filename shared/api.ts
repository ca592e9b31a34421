/**
 * The REST contract between the PBX (`server/api`) and the app (`renderer/`), written once.
 * Each schema validates at runtime on the server and gives the static type to both sides.
 */
import { z } from 'zod';

export const API_PREFIX = '/api/v1';

/** Path of SIP over WebSocket (RFC 7118) on the PBX's HTTP port. */
export const SIP_WS_PATH = '/sip';

/**
 * What a person signs in as: their extension, or their SIP address `extension@domain` (it reads like an email
 * address), optionally written as a SIP URI with `sip:` in front. The domain names the organization.
 */
const SIGN_IN_NAME = /^(?:sips?:)?(\d{2,10})(?:@([^\s@]{1,253}))?$/i;

export interface SignInName {
  extension: string;
  /** The organization's SIP domain, when the person gave their SIP address. */
  domain?: string;
}

/** The extension and domain in what a person typed as their sign-in name; undefined when it is neither form. */
export function splitSignInName(text: string): SignInName | undefined {
  const match = SIGN_IN_NAME.exec(text.trim());
  if (!match?.[1]) return undefined;
  return match[2] ? { extension: match[1], domain: match[2] } : { extension: match[1] };
}

export const SessionRequest = z.object({
  /** The extension, or the SIP address `extension@domain` (splitSignInName). */
  extension: z
    .string({ error: 'extension is required' })
    .trim()
    .regex(SIGN_IN_NAME, { error: 'extension must be 2 to 10 digits, or a SIP address such as 101@example.com' }),
  password: z.string({ error: 'password is required' }).min(1, { error: 'password is required' }).max(1024),
  /**
   * The organization's SIP domain; may be left out on a PBX that hosts a single organization, or when `extension`
   * is a SIP address (if both are given they must name the same organization).
   */
  organization: z.string().trim().min(1).max(253).optional(),
});
export type SessionRequest = z.infer<typeof SessionRequest>;

/** An organization a person may choose when signing in. */
export const OrganizationChoice = z.object({
  name: z.string(),
  domain: z.string(),
});
export type OrganizationChoice = z.infer<typeof OrganizationChoice>;

export const ORGANIZATION_REQUIRED = 'organization_required';

/**
 * 400 `organization_required` to `POST /session`: the PBX hosts several organizations and the request named none
 * (no SIP address, no `organization`). It is the same whatever the extension, so it tells nothing about which
 * extensions exist where. `organizations` lists every organization on the PBX (name order) when the PBX is set
 * to list them at sign-in, and is absent otherwise; `field` is the field to fix: `organization` with a list,
 * else `extension` (give the SIP address).
 */
export const OrganizationRequiredError = z.object({
  error: z.object({
    code: z.literal(ORGANIZATION_REQUIRED),
    message: z.string(),
    field: z.string().optional(),
    organizations: z.array(OrganizationChoice).optional(),
  }),
});
export type OrganizationRequiredError = z.infer<typeof OrganizationRequiredError>;

export const Organization = z.object({
  id: z.number().int(),
  name: z.string(),
  domain: z.string(),
});
export type Organization = z.infer<typeof Organization>;

export const UserProfile = z.object({
  id: z.number().int(),
  extension: z.string(),
  displayName: z.string(),
  role: z.enum(['user', 'admin']),
  organization: Organization,
});
export type UserProfile = z.infer<typeof UserProfile>;

/** What the app needs to register its device: RFC 3261 digest credentials that live as long as the session. */
export const SipCredentials = z.object({
  uri: z.string(),
  wsUrl: z.string(),
  authorizationUser: z.string(),
  password: z.string(),
  realm: z.string(),
  displayName: z.string(),
});
export type SipCredentials = z.infer<typeof SipCredentials>;

/**
 * `POST` with the bearer token: the session again, for an app that kept only its token across a reload or a
 * restart, or one that stays open for days. It answers a SessionResponse with the same token and the same SIP
 * password (derived from the token) and a later end, 401 once the session has ended (signed out, expired, or at
 * its maximum lifetime).
 */
export const SESSION_RENEW_PATH = '/session/renew';

export const SessionResponse = z.object({
  token: z.string(),
  expiresAt: z.string(),
  user: UserProfile,
  sip: SipCredentials,
});
export type SessionResponse = z.infer<typeof SessionResponse>;

export const ApiError = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
  }),
});
export type ApiError = z.infer<typeof ApiError>;

export const HealthResponse = z.object({
  status: z.literal('ok'),
  version: z.string(),
});
export type HealthResponse = z.infer<typeof HealthResponse>;

/** How a call looks from the reader's side: they placed it, took it, or missed it. */
export const CallDirection = z.enum(['outbound', 'inbound', 'missed']);
export type CallDirection = z.infer<typeof CallDirection>;

export const CallHistoryEntry = z.object({
  id: z.number().int(),
  direction: CallDirection,
  /** How the call ended, as the PBX recorded it. */
  disposition: z.enum(['answered', 'missed', 'declined', 'cancelled', 'failed', 'busy']),
  /** The other party. */
  party: z.object({ name: z.string(), number: z.string() }),
  startedAt: z.string(),
  answeredAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  /** Talk time in whole seconds; 0 for calls that were never answered. */
  durationSeconds: z.number().int().nonnegative(),
});
export type CallHistoryEntry = z.infer<typeof CallHistoryEntry>;

export const CallHistoryQuery = z.object({
  limit: z.coerce.number({ error: 'limit must be a number' }).int().min(1, { error: 'limit must be at least 1' }).max(1000, { error: 'limit must be at most 1000' }).default(200),
  /** Entries with an id below this one (the next page); leave out for the newest. */
  before: z.coerce.number({ error: 'before must be a number' }).int().positive().optional(),
  /** Entries with an id above this one (what is new since the last sync). */
  after: z.coerce.number({ error: 'after must be a number' }).int().nonnegative().optional(),
});
export type CallHistoryQuery = z.infer<typeof CallHistoryQuery>;

export const CallHistoryPage = z.object({
  calls: z.array(CallHistoryEntry),
  /** Pass as `before` for the next page; absent on the last page. */
  nextBefore: z.number().int().optional(),
});
export type CallHistoryPage = z.infer<typeof CallHistoryPage>;

/** A person in the caller's organization, as the directory lists them. */
export const DirectoryEntry = z.object({
  extension: z.string(),
  displayName: z.string(),
});
export type DirectoryEntry = z.infer<typeof DirectoryEntry>;

export const DirectoryQuery = z.object({
  /** Part of a name (any case) or the start of an extension; leave out for everyone. */
  q: z.string({ error: 'q must be text' }).trim().max(100, { error: 'q must be at most 100 characters' }).default(''),
  limit: z.coerce.number({ error: 'limit must be a number' }).int({ error: 'limit must be a whole number' }).min(1, { error: 'limit must be at least 1' }).max(200, { error: 'limit must be at most 200' }).default(20),
});
export type DirectoryQuery = z.infer<typeof DirectoryQuery>;

export const DirectoryPage = z.object({
  /** Best matches first: the extension itself, extensions that start with the query, names that start with it, names with a word that does, the rest. */
  entries: z.array(DirectoryEntry),
  /** More people match than `limit` let through. */
  more: z.boolean(),
});
export type DirectoryPage = z.infer<typeof DirectoryPage>;

/**
 * A call transfer the app asks for, on the user's own leg of a call (`POST /calls/:sipCallId/transfer`, the
 * SIP Call-ID of the app's session): blind to a dialled string, or attended onto the user's other call (the
 * consult call), named by its SIP Call-ID. The PBX answers 202 once the transfer is under way (the target
 * rings; the user's session then ends with a BYE from the PBX) and otherwise a status with a sentence (ApiError).
 */
export const TransferRequest = z.discriminatedUnion(
  'kind',
  [
    z.object({
      kind: z.literal('blind'),
      /** An extension or number, as the dialer sends it: digits, * and #, with an optional leading +. */
      target: z
        .string({ error: 'target is required' })
        .trim()
        .regex(/^\+?[0-9*#]{1,32}$/, { error: 'target must be an extension or number: digits, * and #, with an optional leading +' }),
    }),
    z.object({
      kind: z.literal('attended'),
      withSipCallId: z.string({ error: 'withSipCallId is required' }).min(1, { error: 'withSipCallId is required' }).max(256),
    }),
  ],
  { error: "kind must be 'blind' or 'attended'" },
);
export type TransferRequest = z.infer<typeof TransferRequest>;

/** The path of the transfer command on a call, under API_PREFIX. */
export function transferPath(sipCallId: string): string {
  return `/calls/${encodeURIComponent(sipCallId)}/transfer`;
}

/**
 * Merging two of the user's calls into a conference mixed at the PBX (`POST /calls/:sipCallId/merge`): the call
 * named in the path (the app session's SIP Call-ID) carries the conference, and the user's call `withSipCallId`
 * is joined into it; the PBX then ends the user's session of that call with a BYE. 202 once merged, otherwise a
 * status with a sentence (ApiError).
 */
export const MergeRequest = z.object({
  withSipCallId: z.string({ error: 'withSipCallId is required' }).min(1, { error: 'withSipCallId is required' }).max(256, { error: 'withSipCallId is too long' }),
});
export type MergeRequest = z.infer<typeof MergeRequest>;

/** The path of the merge command on a call, under API_PREFIX. */
export function mergePath(sipCallId: string): string {
  return `/calls/${encodeURIComponent(sipCallId)}/merge`;
}

/**
 * The path of one participant of a conference, under API_PREFIX: `DELETE` takes them out of it (only its builder
 * may), answered 202 once the PBX has hung them up. A participant is named by their extension (or number), as
 * the PBX knows them.
 */
export function participantPath(sipCallId: string, extension: string): string {
  return `/calls/${encodeURIComponent(sipCallId)}/participants/${encodeURIComponent(extension)}`;
}

/** An extension or number naming a conference's participant: digits, * and #, with an optional leading +. */
export const ParticipantNumber = z
  .string({ error: 'the participant is missing' })
  .regex(/^\+?[0-9*#]{1,32}$/, { error: 'the participant must be an extension or number: digits, * and #, with an optional leading +' });
