/**
 * The life of one call in the renderer, as an explicit state machine. The JsSIP adapter is the only code that
 * moves it, mapping the SIP events of one RTCSession onto these states; the store and the views only read it.
 *
 * ```
 *            dial                180/183                 2xx                  ACK
 *   idle ───────────► dialing ─────────► ringing-out ──────────► connecting ──────► active
 *     │                  │                                          ▲                 │
 *     │                  └──────────── 2xx without ringing ─────────┘                 │
 *     │   INVITE            answer                                  │                 │
 *     └────────► ringing-in ────────────────────────────────────────┘                 │
 *                                                                                     │
 *                                                       re-INVITE (a=sendonly) sent    │
 *                                              ┌──────────── holding ◄─────────────────┤
 *                                      refused │                │ 2xx                  │
 *                                              └──────► active  ▼                      │
 *                                                     ▲        held                    │
 *                                          2xx        │         │ re-INVITE (sendrecv) │
 *                                                     └──── resuming ──► held (refused)│
 *                                                                                     │
 *   every state but ended ───────────────────────────────────────────────► ended ◄────┘
 *                                                            (with an EndReason)
 * ```
 *
 * Hold is ours (we placed the call on hold); the far end holding us does not change our state. RFC 3261 §14.1:
 * a refused re-INVITE leaves the session as it was, hence `holding → active` and `resuming → held`.
 * `ended` is final: a call is never revived.
 */

export const CALL_STATES = [
  'idle',
  'dialing',
  'ringing-out',
  'ringing-in',
  'connecting',
  'active',
  'holding',
  'held',
  'resuming',
  'ended',
] as const;
export type CallState = (typeof CALL_STATES)[number];

/** Why a call ended, as the person sees it. */
export const END_REASONS = [
  'hung-up-local',
  'hung-up-remote',
  'declined',
  'cancelled',
  'missed',
  'busy',
  'unavailable',
  'failed',
  'not-found',
  // The phone system turned the call away by its own rule (403: "Outside calls are not allowed…"); nobody declined.
  'refused',
  // A call to us that the user took on another of their devices (RFC 3326: the CANCEL said cause=200).
  'answered-elsewhere',
] as const;
export type EndReason = (typeof END_REASONS)[number];

/** Every legal move; anything not listed here is a bug in whoever asked for it. */
export const CALL_STATE_TRANSITIONS: Readonly<Record<CallState, readonly CallState[]>> = {
  idle: ['dialing', 'ringing-in', 'ended'],
  // A PBX may answer without sending 180 first (voicemail, an auto-answering service), hence dialing → connecting.
  dialing: ['ringing-out', 'connecting', 'ended'],
  'ringing-out': ['connecting', 'ended'],
  'ringing-in': ['connecting', 'ended'],
  connecting: ['active', 'ended'],
  active: ['holding', 'ended'],
  holding: ['held', 'active', 'ended'],
  held: ['resuming', 'ended'],
  resuming: ['active', 'held', 'ended'],
  ended: [],
};

export class IllegalCallTransition extends Error {
  constructor(
    readonly from: CallState,
    readonly to: CallState,
  ) {
    super(`A call cannot go from ${from} to ${to}`);
    this.name = 'IllegalCallTransition';
  }
}

/** A call that has been answered and not ended: on the line, on hold, or between the two. */
export function isEstablished(state: CallState): boolean {
  return state === 'active' || state === 'holding' || state === 'held' || state === 'resuming';
}

export function canTransition(from: CallState, to: CallState): boolean {
  return CALL_STATE_TRANSITIONS[from].includes(to);
}

export class CallStateMachine {
  private current: CallState = 'idle';
  private reason: EndReason | undefined;
  private detail: string | undefined;

  get state(): CallState {
    return this.current;
  }

  /** Set once the call has ended, never before. */
  get endReason(): EndReason | undefined {
    return this.reason;
  }

  /** What the far end said about the end, in its own words (a PBX's refusal), when it said more than a code. */
  get endDetail(): string | undefined {
    return this.detail;
  }

  get isEnded(): boolean {
    return this.current === 'ended';
  }

  can(to: CallState): boolean {
    return canTransition(this.current, to);
  }

  /** Moves the call to `to`, or throws IllegalCallTransition and leaves the state as it was. */
  transition(to: Exclude<CallState, 'ended'>): void;
  transition(to: 'ended', reason: EndReason, detail?: string): void;
  transition(to: CallState, reason?: EndReason, detail?: string): void {
    if (!this.can(to)) throw new IllegalCallTransition(this.current, to);
    if (to === 'ended') {
      if (!reason) throw new TypeError('An ended call needs an end reason');
      this.reason = reason;
      this.detail = detail?.trim() || undefined;
    }
    this.current = to;
  }
}
