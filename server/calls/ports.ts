/**
 * What calls ask of the layers above them, as interfaces the composition root fills in: the dialplan's
 * policy for who may dial what (routing/dial-policy.ts implements it). Calls never import those layers.
 */
import type { AuthenticatedUser } from '../sip/edge/authenticator';

/** A dial policy's answer: go ahead, or the status and reason phrase to refuse the call with. */
export type DialDecision = 'allow' | { deny: number; reason: string };

/** Whether `caller` may call `dialled` (the user part of the Request-URI: an extension, a feature code, a number). */
export interface DialPolicy {
  check(caller: AuthenticatedUser, dialled: string): Promise<DialDecision>;
}
