/**
 * What calls ask of the layers above them, as interfaces the composition root fills in: the dialplan, which
 * says what a dialled string reaches (routing/dialplan.ts), and the policy for who may dial what
 * (routing/dial-policy.ts). Calls never import those layers.
 */
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
  /** Not reachable: the SIP status and reason phrase the caller is answered with. */
  | { kind: 'refused'; status: number; reason: string };

/** What a dialled string means for a caller: the one place that decides it. */
export interface Dialplan {
  route(caller: AuthenticatedUser, dialled: string): Promise<Destination>;
}
