/**
 * What calls ask of the layers above them, as interfaces the composition root fills in: the dialplan, which
 * says what a dialled string reaches (routing/dialplan.ts), and the policy for who may dial what
 * (routing/dial-policy.ts). Calls never import those layers.
 */
import type { MediaLeg } from '../media/legs/media-leg';
import type { AuthenticatedUser } from '../sip/edge/authenticator';

/** A dial policy's answer: go ahead, or the status and reason phrase to refuse the call with. */
export type DialDecision = 'allow' | { deny: number; reason: string };

/** Whether `caller` may call `dialled` (the user part of the Request-URI: an extension, a feature code, a number). */
export interface DialPolicy {
  check(caller: AuthenticatedUser, dialled: string): Promise<DialDecision>;
}

/** Where a dialled string goes, as the dialplan decides it; later also feature codes, park spots, queues, voicemail. */
export type Destination =
  | { kind: 'user'; userId: number; extension: string; displayName: string }
  /** The caller's own mailbox menu (the feature code *97), answered by CallServices.mailboxMenu. */
  | { kind: 'mailbox-menu'; user: ServiceUser }
  /** Not reachable: the SIP status and reason phrase the caller is answered with. */
  | { kind: 'refused'; status: number; reason: string };

/** What a dialled string means for a caller: the one place that decides it. */
export interface Dialplan {
  route(caller: AuthenticatedUser, dialled: string): Promise<Destination>;
}

/**
 * A call the PBX answered itself to serve the caller (take a message, the mailbox menu): the caller's media leg,
 * which the service plays into (media/player) and listens to (its `rtp` and `dtmf` events), and how to end it.
 * The engine answers the caller's INVITE with this leg's SDP, writes the call's record, and tells the service
 * when the caller hangs up; the service hangs up when it is done.
 */
export interface ServiceCall {
  /** The call's id, as in its record and logs. */
  readonly id: string;
  /** The caller's leg, answered by the PBX; it may still be connecting when the service starts (the player waits). */
  readonly leg: MediaLeg;
  readonly caller: ServiceCaller;
  readonly ended: boolean;
  /** Ends the call: BYE to the caller. Safe to call again. */
  hangUp(why: string): void;
  /** Told once when the call ends, by either side; returns a remover. */
  onEnded(listener: (why: string) => void): () => void;
}

export interface ServiceCaller {
  organizationId: number;
  /** The caller's extension when a user of the organization called, else undefined. */
  extension: string | undefined;
  /** The caller's user id when a user of the organization called. */
  userId: number | undefined;
  /** The caller as call history would show them (name, or number). */
  displayName: string;
  /** What to dial to call back (extension or E.164 number); undefined when withheld. */
  number: string | undefined;
}

/** A user of the organization as a service sees them (the mailbox owner, the caller of *97). */
export interface ServiceUser {
  organizationId: number;
  userId: number;
  extension: string;
  displayName: string;
}

/** Why a call went to voicemail. */
export type VoicemailReason = 'no-answer' | 'busy' | 'unreachable' | 'forwarded' | 'do-not-disturb';

/**
 * The services the PBX answers calls for, implemented above calls (features/voicemail) and handed to the engine
 * by the composition root. Each takes charge of the call until it hangs up or the caller does.
 */
export interface CallServices {
  /** Take a message for `mailbox` (greeting, tone, recording). */
  voicemail(call: ServiceCall, mailbox: ServiceUser, reason: VoicemailReason): void;
  /** The caller's own mailbox menu (the feature code *97): PIN, then play, save, delete, next by key presses. */
  mailboxMenu(call: ServiceCall, user: ServiceUser): void;
  /**
   * Call screening, for a user whose rule asks callers their name first: asks the caller of `call` (answered by
   * the PBX) to say their name and records it; undefined when the call ended meanwhile. The engine then rings the
   * user's devices and lets the one who answers hear the name and choose (ScreenedCaller).
   */
  screen(call: ServiceCall): Promise<ScreenedCaller | undefined>;
}

/** A caller who has said their name, while the user's devices ring for them. */
export interface ScreenedCaller {
  /**
   * Ringback to the caller while the devices ring, after "Thank you. Please hold…" unless `thanks` is false (a
   * second round of ringing, to another user); the function returned stops it.
   */
  ringback(options?: { thanks?: boolean }): () => void;
  /**
   * Says to the user who answered on `leg` who is calling ("I have a caller waiting, who introduces themselves
   * as" and the name), then "press 1 to accept this call, or 2 to reject it", and waits for the key: 'accept' on 1;
   * 'decline' on 2, on no key in time, or when the leg closes. The leg's `dtmf` events carry the user's key
   * presses whether their phone sends them in RFC 4733 or in SIP INFO.
   */
  offerTo(leg: MediaLeg): Promise<'accept' | 'decline'>;
}

/**
 * Where a call to a user goes when the user's devices are not to ring, or did not take it: the user's voicemail,
 * busy (486), unavailable (what the devices answered, else 480: the PBX without rules), or a dialled string (another
 * user, an outside number) routed through the dialplan as the user would dial it, so the dial policy holds.
 */
export type Diversion = { kind: 'voicemail' } | { kind: 'busy' } | { kind: 'unavailable' } | { kind: 'dial'; dialled: string };

/**
 * What to do with a call to a user, from the user's active answering rule (routing/answering-planner.ts):
 * ring the user's devices (and others' at the same time) for `ringMs`, then divert by what happened; or divert at
 * once (forward always, do not disturb). `ringMs` is also how long a user a call is diverted to may ring.
 */
export type AnsweringPlan =
  | {
      kind: 'ring';
      ringMs: number;
      /** Dialled strings rung at the same time as the user's own devices (other users; outside numbers). */
      alsoRing: readonly string[];
      whenBusy: Diversion;
      whenNotAnswered: Diversion;
      whenUnreachable: Diversion;
      /** Ask callers their name first, and let the user who answers accept the call or send it on (CallServices.screen). */
      screen: boolean;
    }
  | { kind: 'divert'; ringMs: number; to: Diversion; reason: VoicemailReason };

/** Turns the rules of the user called into a plan for the call, at a moment (epoch ms). */
export interface AnsweringPlanner {
  plan(user: ServiceUser, at: number): Promise<AnsweringPlan>;
  /**
   * Whether the user has do not disturb on. A call that reaches them other than dialled (diverted to them, or
   * rung with another) does not ring their devices then: they are unavailable.
   */
  doNotDisturb(user: { organizationId: number; userId: number }): Promise<boolean>;
}
