/**
 * The live event stream between the PBX and a signed-in app (`GET /api/v1/events`, a WebSocket), written once.
 * Each schema validates at runtime (the PBX before it stores an event, the app on every message) and gives the
 * static type to both sides.
 *
 * Every event is addressed to one user and numbered in that user's stream: `seq` starts at 1 and grows by one
 * with each event, with no gaps, and survives a restart of the PBX. An app remembers the last `seq` it handled
 * and reconnects with `after=<seq>`; the PBX sends what came after, in order, then live events. When what the app
 * asks for is no longer kept (or was never written), the PBX sends a `resync` instead, and the app reloads state.
 */
import { z } from 'zod';
import { AnsweringRulesEvent } from './answering-rules';
import { API_PREFIX } from './api';
import { DoNotDisturbEvent } from './do-not-disturb';
import { VoicemailEvent } from './voicemail';

export const EVENTS_PATH = `${API_PREFIX}/events`;

/**
 * The WebSocket subprotocol of the stream. A browser cannot set an Authorization header on a WebSocket, so it
 * offers the bearer token as a second subprotocol, `EVENTS_TOKEN_PROTOCOL_PREFIX + token`; the PBX answers with
 * EVENTS_PROTOCOL alone, so the token is never echoed. Programs that can set headers send `Authorization: Bearer`.
 */
export const EVENTS_PROTOCOL = 'offhook-events.v1';
export const EVENTS_TOKEN_PROTOCOL_PREFIX = 'offhook-bearer.';

/** Close codes the PBX uses (RFC 6455 §7.4.2: 4000-4999 are for applications). */
export const EVENTS_CLOSE = {
  /** The session ended (signed out, expired, password changed): sign in again, do not reconnect. */
  signedOut: 4401,
  /** The app read too slowly and its queue filled up; reconnecting resumes where it left off. */
  tooSlow: 4008,
  /** The PBX is shutting down; reconnecting later resumes. */
  goingAway: 1001,
} as const;

/** Seconds between the PBX's heartbeats; an app that hears nothing for a few of them reconnects. */
export const EVENTS_HEARTBEAT_S = 20;

/**
 * How a call looks to one of its parties. `held` is the user's own call put on hold, by either side: `heldBy`
 * says by whom (the user, or the other party, who then hears music on hold).
 */
export const CallEventState = z.enum(['ringing', 'answered', 'held', 'ended']);
export type CallEventState = z.infer<typeof CallEventState>;

/** Who a party is in the call: who placed it, who it was placed to, or anyone joined later (conference, transfer). */
export const CallPartyRole = z.enum(['caller', 'callee', 'participant']);
export type CallPartyRole = z.infer<typeof CallPartyRole>;

export const CallParty = z.object({
  extension: z.string(),
  name: z.string(),
  role: CallPartyRole,
});
export type CallParty = z.infer<typeof CallParty>;

/** A call the user takes part in changed state. */
export const CallEvent = z.object({
  type: z.literal('call'),
  /** The PBX's id of the call; REST commands on the call name it. */
  callId: z.string().min(1),
  state: CallEventState,
  parties: z.array(CallParty),
  /**
   * The user's own leg of the call: the PBX's leg id and the SIP Call-ID of that leg's dialog, which is the
   * Call-ID of the app's JsSIP session when the leg is this app's. Null while the user has no leg yet (ringing
   * elsewhere) or no longer has one.
   */
  leg: z.object({ id: z.string(), sipCallId: z.string() }).nullable(),
  /** Why the call ended, in words, on `ended`. */
  reason: z.string().optional(),
  /** On `held`: who put the call on hold (the user themself or the other party). */
  heldBy: z.object({ extension: z.string(), name: z.string() }).optional(),
});
export type CallEvent = z.infer<typeof CallEvent>;

export const DeviceTransport = z.enum(['UDP', 'TCP', 'TLS', 'WS', 'WSS']);

/** One place the user's calls ring: a registration binding. */
export const RegisteredDevice = z.object({
  /** Stable while the binding lasts: the device's instance id or Contact (RFC 5626 §6). */
  key: z.string(),
  userAgent: z.string().nullable(),
  transport: DeviceTransport,
  expiresAt: z.string(),
});
export type RegisteredDevice = z.infer<typeof RegisteredDevice>;

/** The user's registered devices changed; `devices` is all of them now, not the change. */
export const RegistrationEvent = z.object({
  type: z.literal('registration'),
  devices: z.array(RegisteredDevice),
});
export type RegistrationEvent = z.infer<typeof RegistrationEvent>;

/**
 * The app cannot be brought up to date event by event: it asked to resume from a point older than what the PBX
 * keeps (`expired`), or from one the PBX never reached (`unknown_position`: another PBX, or a database started
 * afresh). It reloads what it shows from the REST API and carries on from this event's `seq`.
 * The PBX sends it; it is never stored.
 */
export const ResyncEvent = z.object({
  type: z.literal('resync'),
  reason: z.enum(['expired', 'unknown_position']),
});
export type ResyncEvent = z.infer<typeof ResyncEvent>;

/** What the PBX stores and publishes (a resync is only ever sent). */
export const PublishedEvent = z.discriminatedUnion('type', [CallEvent, RegistrationEvent, VoicemailEvent, DoNotDisturbEvent, AnsweringRulesEvent]);
export type PublishedEvent = z.infer<typeof PublishedEvent>;

export const AppEvent = z.discriminatedUnion('type', [CallEvent, RegistrationEvent, VoicemailEvent, DoNotDisturbEvent, AnsweringRulesEvent, ResyncEvent]);
export type AppEvent = z.infer<typeof AppEvent>;
export type AppEventType = AppEvent['type'];

/** Where an `after` or `seq` stands in a user's stream: 0 is before the first event. */
const Seq = z.number().int().nonnegative();

/** Messages from the PBX to the app, one JSON text frame each. */
export const EventMessage = z.object({
  kind: z.literal('event'),
  seq: Seq,
  /** When the PBX published it (ISO 8601, UTC). */
  at: z.string(),
  event: AppEvent,
});
export type EventMessage = z.infer<typeof EventMessage>;

/** Everything stored after `after` has been sent; live events follow. `seq` is where the stream stands. */
export const ReadyMessage = z.object({ kind: z.literal('ready'), seq: Seq });
export type ReadyMessage = z.infer<typeof ReadyMessage>;

/** Sent every EVENTS_HEARTBEAT_S so that an app can tell a quiet stream from a dead one. */
export const HeartbeatMessage = z.object({ kind: z.literal('heartbeat') });

export const ServerMessage = z.discriminatedUnion('kind', [EventMessage, ReadyMessage, HeartbeatMessage]);
export type ServerMessage = z.infer<typeof ServerMessage>;

export const EventsQuery = z.object({
  /**
   * The last `seq` the app handled: the PBX sends what came after it. Leave out for live events only (an app
   * that has just loaded its state: `ready` says where the stream stands); 0 for everything kept.
   */
  after: z.coerce.number({ error: 'after must be a number' }).int({ error: 'after must be a whole number' }).nonnegative({ error: 'after must be 0 or more' }).optional(),
  /**
   * The id of the user whose stream `after` counts in. A session of anyone else is refused (403
   * `wrong_account`), so a number remembered for one account is never applied to another's stream.
   */
  user: z.coerce.number({ error: 'user must be a number' }).int().positive().optional(),
});
export type EventsQuery = z.infer<typeof EventsQuery>;

/** Reads one message from the PBX; undefined when it is not JSON or not in the contract. */
export function parseServerMessage(text: string): ServerMessage | undefined {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return undefined;
  }
  const parsed = ServerMessage.safeParse(json);
  return parsed.success ? parsed.data : undefined;
}
